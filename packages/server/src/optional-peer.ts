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
    throw new StrataError(
      'E_PEER_MISSING',
      `${neededBy} needs the optional peer dependency '${name}', which is not installed: npm install ${name}`,
      { cause: error },
    );
  }
}
