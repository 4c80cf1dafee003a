/** Whether an error is the storage quota being exceeded (checked by name: it may come from another realm). */
export function isQuotaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'QuotaExceededError';
}

/**
 * `cache.put` that survives a full quota once: on QuotaExceededError it lets `makeRoom` evict the
 * oldest entries of that cache and retries with a spare copy of the response (the first attempt
 * consumed its body). A second failure is thrown to the caller, which keeps serving the page.
 */
export async function putWithRoom(
  cache: Cache,
  request: Request,
  response: Response,
  makeRoom: () => Promise<unknown>,
): Promise<void> {
  const spare = response.clone();
  try {
    await cache.put(request, response);
  } catch (error) {
    if (!isQuotaError(error)) {
      void spare.body?.cancel();
      throw error;
    }
    await makeRoom();
    await cache.put(request, spare);
    return;
  }
  void spare.body?.cancel();
}
