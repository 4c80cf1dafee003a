import { manifestSchema } from './schema.js';
import { z } from './zod.js';

/**
 * The JSON Schema of a manifest file, published as `@strata/policy/schema.json` so editors
 * validate `strata.manifest.json`. It covers the structure; `strata check` adds the rules a
 * schema cannot express (shadowed routes, tag params, private with the CDN level).
 */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    title: 'Strata cache policy manifest',
    ...z.toJSONSchema(manifestSchema, { target: 'draft-2020-12' }),
  };
}
