import { StrataError } from './errors.js';

/**
 * Whether `error` says the package `name` itself cannot be found (Node: ERR_MODULE_NOT_FOUND
 * "Cannot find package 'zod'"; bundlers and CommonJS: "Cannot find module 'zod'"). A package that
 * is present but fails to load, or misses one of its own dependencies, is not reported as missing.
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  const named = new RegExp(`Cannot find (?:package|module) ['"]${name.replace(/[/.]/g, '\\$&')}(?:/[^'"]*)?['"]`);
  return (
    (code === undefined || code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && named.test(error.message)
  );
}

/**
 * Imports an optional peer dependency; when it is not installed, throws a StrataError
 * (`E_PEER_MISSING`) whose message is `hint`, instead of a bare module-not-found.
 */
export async function importPeer<T>(name: string, load: () => Promise<T>, hint: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, name)) throw new StrataError('E_PEER_MISSING', hint, { cause: error });
    throw error;
  }
}
