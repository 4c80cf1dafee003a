import { isStrataError } from '@strata/policy';
import { z } from 'zod';
import { readBody } from '../cache/body.js';
import { BadRequestError } from '../errors.js';
import { json, jsonError } from '../http.js';
import type { PurgeRequest, PurgeResult } from '../purge-channel.js';
import { type AdminAuth, checkAdmin } from './auth.js';

/** What the admin API reads and changes: the instance's own operations, passed in. */
export interface AdminBackend {
  stats(): Promise<unknown>;
  queryStats(): unknown;
  invalidate(request: PurgeRequest): Promise<PurgeResult>;
  clearAll(): Promise<PurgeResult>;
  /** Runs the named warm jobs (all when none are named); rejects naming an unknown one. */
  warm(jobs: string[] | undefined): Promise<unknown>;
  inspect(key: string): Promise<unknown | undefined>;
  remove(key: string): Promise<boolean>;
  tags(): Promise<unknown>;
  report(): Promise<unknown>;
}

export interface AdminOptions {
  auth: AdminAuth | undefined;
  /** Where the API is mounted. Default `/api/v1/cache`. */
  basePath?: string;
  /** Largest request body accepted, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
}

const tagList = z.array(z.string()).max(1_000);
const invalidateBody = z
  .strictObject({
    tags: tagList.optional(),
    keys: z.array(z.string()).max(1_000).optional(),
    pattern: z.string().min(1).max(1_024).optional(),
    table: z.string().min(1).max(200).optional(),
    partition: z.string().min(1).max(200).optional(),
    mode: z.enum(['hard', 'soft']).optional(),
  })
  .refine((b) => b.tags?.length || b.keys?.length || b.pattern || b.table, {
    message: 'name something to invalidate: tags, keys, pattern or table',
  });
const clearAllBody = z.strictObject({ confirm: z.literal('clear-all', { error: 'send { "confirm": "clear-all" }' }) });
const warmBody = z.strictObject({ jobs: z.array(z.string().min(1).max(200)).max(100).optional() });

type Route = { method: string; path: RegExp; run: (match: RegExpExecArray, request: Request) => Promise<Response> };

function describeZod(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

async function readJson<T>(request: Request, schema: z.ZodType<T>, limit: number): Promise<T> {
  const type = request.headers.get('content-type') ?? '';
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > limit) throw new BadRequestError('E_BODY_TOO_LARGE', `the body may be at most ${limit} bytes`);
  const body = await readBody(request.body, limit);
  if ('stream' in body) {
    await body.stream.cancel();
    throw new BadRequestError('E_BODY_TOO_LARGE', `the body may be at most ${limit} bytes`);
  }
  let value: unknown = {};
  if (body.bytes.byteLength > 0) {
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
      throw new BadRequestError('E_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    }
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.bytes));
    } catch {
      throw new BadRequestError('E_BAD_JSON', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequestError('E_BAD_REQUEST', describeZod(parsed.error));
  return parsed.data;
}

/** The admin API: `{ "error": { code, message } }` with a 4xx for every bad request, JSON in and out. */
export function adminApi(backend: AdminBackend, options: AdminOptions): (request: Request) => Promise<Response> {
  const base = (options.basePath ?? '/api/v1/cache').replace(/\/+$/, '');
  const limit = options.maxBodyBytes ?? 64 * 1024;
  const routes: Route[] = [
    { method: 'GET', path: /^\/stats$/, run: async () => json(200, await backend.stats()) },
    { method: 'GET', path: /^\/query-stats$/, run: async () => json(200, backend.queryStats()) },
    {
      method: 'POST',
      path: /^\/invalidate$/,
      run: async (_m, request) => {
        const body = await readJson(request, invalidateBody, limit);
        const purge: PurgeRequest = {};
        for (const key of ['tags', 'keys', 'pattern', 'table', 'partition', 'mode'] as const) {
          if (body[key] !== undefined) Object.assign(purge, { [key]: body[key] });
        }
        return json(202, await backend.invalidate(purge));
      },
    },
    {
      method: 'POST',
      path: /^\/clear-all$/,
      run: async (_m, request) => {
        await readJson(request, clearAllBody, limit);
        return json(202, await backend.clearAll());
      },
    },
    {
      method: 'POST',
      path: /^\/warm$/,
      run: async (_m, request) => json(200, await backend.warm((await readJson(request, warmBody, limit)).jobs)),
    },
    { method: 'GET', path: /^\/tags$/, run: async () => json(200, await backend.tags()) },
    { method: 'GET', path: /^\/performance-report$/, run: async () => json(200, await backend.report()) },
    {
      method: 'GET',
      path: /^\/key\/(.+)$/,
      run: async (m) => {
        const entry = await backend.inspect(decodeKey(m[1] as string));
        return entry === undefined ? jsonError('E_NOT_FOUND', 'no such entry') : json(200, entry);
      },
    },
    {
      method: 'DELETE',
      path: /^\/key\/(.+)$/,
      run: async (m) =>
        (await backend.remove(decodeKey(m[1] as string)))
          ? json(200, { deleted: true })
          : jsonError('E_NOT_FOUND', 'no such entry'),
    },
  ];

  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== base && !path.startsWith(`${base}/`)) return jsonError('E_NOT_FOUND', 'not an admin endpoint');
    const denied = await checkAdmin(request, options.auth);
    if (denied) return denied;
    const rest = path.slice(base.length) || '/';
    const matching = routes.filter((route) => route.path.test(rest));
    if (matching.length === 0) return jsonError('E_NOT_FOUND', `no admin endpoint ${rest}`);
    const route = matching.find((r) => r.method === request.method);
    if (!route) {
      const allow = matching.map((r) => r.method).join(', ');
      return jsonError('E_METHOD_NOT_ALLOWED', `use ${allow}`, { allow });
    }
    try {
      return await route.run(route.path.exec(rest) as RegExpExecArray, request);
    } catch (error) {
      if (error instanceof BadRequestError) return jsonError(error.code, error.message);
      if (isStrataError(error)) {
        return jsonError(error.code, error.message);
      }
      throw error;
    }
  };
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError('E_BAD_REQUEST', 'the key is not valid percent-encoding');
  }
}
