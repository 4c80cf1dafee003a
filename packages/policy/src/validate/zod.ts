import type { z as Zod } from 'zod';
import { importPeer } from '../peer.js';

/**
 * zod, the validator, is an optional peer of @strata/policy: the page and the service worker never
 * validate, so they do not install it. Loaded once, when `@strata/policy/validate` is imported.
 */
export const z: typeof Zod = (
  await importPeer(
    'zod',
    () => import('zod'),
    '@strata/policy/validate needs zod, an optional peer dependency of @strata/policy: install zod (npm install zod)',
  )
).z;
