/** A body read whole, or — when it passed the limit — a stream replaying what was read plus the rest. */
export type ReadBody = { bytes: Uint8Array } | { stream: ReadableStream<Uint8Array> };

/**
 * Reads a response body into memory up to `limit` bytes. Past the limit the body is not
 * storable, but nothing is lost: the caller gets a stream of the chunks already read followed
 * by the rest of the original body.
 */
export async function readBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<ReadBody> {
  if (!body) return { bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      let replay = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (replay < chunks.length) {
            controller.enqueue(chunks[replay++] as Uint8Array);
            return;
          }
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return { stream };
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes };
}
