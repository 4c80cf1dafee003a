import { StrataError } from '@strata/policy';

/**
 * Loads an optional peer dependency on first use. When it is not installed, the error names the
 * package to install and what needs it, instead of Node's bare ERR_MODULE_NOT_FOUND.
 */
export async function loadPeer<T>(name: string, neededBy: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(error).includes(`'${name}'`);
    if (!missing) throw error;
    throw missingPeer(name, neededBy, error);
  }
}

/**
 * Fails at configuration time when an optional peer a factory will need is not installed, so a
 * missing client is a startup error naming the package rather than a cache that silently fails
 * open on every request. Where the runtime cannot resolve without importing, the check is left to
 * the first use (`loadPeer`).
 */
export function requirePeer(name: string, neededBy: string): void {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve !== 'function') return;
  try {
    resolve(name);
  } catch (error) {
    throw missingPeer(name, neededBy, error);
  }
}

function missingPeer(name: string, neededBy: string, cause: unknown): StrataError {
  return new StrataError(
    'E_PEER_MISSING',
    `${neededBy} needs the optional peer dependency '${name}', which is not installed: npm install ${name}`,
    { cause },
  );
}
