import { isStrataError } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { importPeer, isMissingPackage } from '../src/peer.js';

const notFound = (message: string, code = 'ERR_MODULE_NOT_FOUND') => Object.assign(new Error(message), { code });

describe('isMissingPackage', () => {
  it.each([
    [
      "Cannot find package 'zod' imported from /app/node_modules/@strata/policy/dist/validate/zod.js",
      'ERR_MODULE_NOT_FOUND',
    ],
    ["Cannot find module 'tsx/esm/api'", 'MODULE_NOT_FOUND'],
    ['Cannot find module "zod"', undefined],
  ])('recognises %s', (message, code) => {
    const error = code ? notFound(message, code) : new Error(message);
    const name = message.includes('tsx') ? 'tsx' : 'zod';
    expect(isMissingPackage(error, name)).toBe(true);
  });

  it.each([
    // Another package, one whose name starts the same, a file missing inside an installed zod.
    ["Cannot find package 'esbuild' imported from /app/node_modules/tsx/dist/index.mjs", 'tsx'],
    ["Cannot find package 'zod-extra' imported from /app/x.js", 'zod'],
    ["Cannot find module '/app/node_modules/zod/index.js' imported from /app/y.js", 'zod'],
  ])('does not blame the peer for %s', (message, name) => {
    expect(isMissingPackage(notFound(message), name)).toBe(false);
  });

  it('does not blame a missing package for another error of the same text', () => {
    expect(isMissingPackage(notFound("Cannot find package 'zod'", 'ERR_INVALID_PACKAGE_CONFIG'), 'zod')).toBe(false);
    expect(isMissingPackage("Cannot find package 'zod'", 'zod')).toBe(false);
  });
});

describe('importPeer', () => {
  it('turns a missing peer into E_PEER_MISSING with the hint, keeping the cause', async () => {
    const cause = notFound("Cannot find package 'zod' imported from /app/a.js");
    const error = await importPeer('zod', () => Promise.reject(cause), 'install zod').catch((e: unknown) => e);
    expect(isStrataError(error) && error.code).toBe('E_PEER_MISSING');
    expect((error as Error).message).toBe('install zod');
    expect((error as Error).cause).toBe(cause);
  });

  it('rethrows any other failure as it is', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(importPeer('zod', () => Promise.reject(broken), 'install zod')).rejects.toBe(broken);
  });
});
