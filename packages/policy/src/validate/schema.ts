import type { z as Zod } from 'zod';
import { LEVELS, METHODS } from '../types.js';
import { z } from './zod.js';

// RFC 9111 §1.2.2: delta-seconds beyond 2^31 are sent as 2147483648 anyway.
export const MAX_SECONDS = 2_147_483_648;

const seconds = (what: string) =>
  z
    .number({ error: `${what} must be a number of seconds` })
    .int({ error: `${what} must be a whole number of seconds` })
    .min(0, { error: `${what} must not be negative` })
    .max(MAX_SECONDS, { error: `${what} must be at most ${MAX_SECONDS} seconds` });

const level = z.enum(LEVELS as [string, ...string[]], {
  error: (issue) => `unknown level ${JSON.stringify(issue.input)}: expected one of ${LEVELS.join(', ')}`,
});

const method = z.enum(METHODS as [string, ...string[]], {
  error: (issue) => `unknown method ${JSON.stringify(issue.input)}: expected one of ${METHODS.join(', ')}`,
});

export const policySchema = z
  .strictObject({
    ttl: seconds('ttl').describe('Seconds fresh: the base TTL of every level.'),
    levels: z.array(level, { error: 'levels must be a list of levels' }).describe('Where the response may be stored.'),
    tags: z
      .array(z.string({ error: 'a tag template must be a string' }))
      .optional()
      .describe("Invalidation tag templates over route params: 'users', 'user:{id}'."),
    vary: z
      .array(z.string({ error: 'a vary entry must be a header name' }))
      .optional()
      .describe('Request headers that split the cache key; also emitted as Vary.'),
    scope: z
      .enum(['public', 'private'], { error: "scope must be 'public' or 'private'" })
      .optional()
      .describe('private: never stored by shared caches; cached per user partition.'),
    staleWhileRevalidate: seconds('staleWhileRevalidate').optional(),
    staleIfError: seconds('staleIfError').optional(),
    browserTtl: seconds('browserTtl').optional(),
    cdnTtl: seconds('cdnTtl').optional(),
    serverTtl: seconds('serverTtl').optional(),
    immutable: z.boolean({ error: 'immutable must be true or false' }).optional(),
    mustRevalidate: z.boolean({ error: 'mustRevalidate must be true or false' }).optional(),
  })
  .describe('How one route is cached. Durations are whole seconds.');

export const routeSchema = z.strictObject({
  match: z
    .string({ error: 'match must be a path pattern string' })
    .describe("Path pattern: literal segments, ':param' segments and an optional trailing '*'."),
  methods: z
    .array(method)
    .min(1, { error: 'methods must not be empty (leave it out for GET and HEAD)' })
    .optional()
    .describe('Methods this route applies to. Default: GET and HEAD.'),
  policy: policySchema,
  invalidates: z
    .array(z.string({ error: 'a tag template must be a string' }))
    .optional()
    .describe(
      "Tag templates over the route's params that a 2xx or 3xx answer to one of its unsafe methods purges at every level: 'users', 'user:{id}'.",
    ),
});

export const manifestSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z
      .union([z.string().min(1), z.number().int().min(0)], {
        error: 'version must be a non-empty string or a whole number',
      })
      .describe('Changing it drops every cache filled under the previous version.'),
    defaults: z
      .strictObject({
        maxUnpurgeableAge: seconds('maxUnpurgeableAge')
          .optional()
          .describe('Longest time a layer no purge reaches may keep a tagged response. Default 60.'),
        staleWhileRevalidate: seconds('staleWhileRevalidate').optional(),
        staleIfError: seconds('staleIfError').optional(),
        credentialHeaders: z
          .array(
            z
              .string({ error: 'a credential header must be a header name' })
              // RFC 9110 §5.6.2 token, but not '*' (Vary: * stores nothing).
              .regex(/^(?!\*$)[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: 'a credential header must be a header name' }),
          )
          .optional()
          .describe(
            "Request headers that carry credentials: every private answer varies on them; [] makes private answers no-cache in the browser. Default ['authorization', 'cookie'].",
          ),
        negativeTtl: seconds('negativeTtl')
          .optional()
          .describe('Longest time any level may keep a 4xx/5xx answer (404, 410), stale windows included. Default 10.'),
      })
      .optional(),
    routes: z.array(routeSchema, { error: 'routes must be a list of routes' }),
  })
  .describe('A Strata cache policy manifest.');

export type ParsedRoute = Zod.infer<typeof routeSchema>;
