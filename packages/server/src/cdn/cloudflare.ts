import { tagProblem } from '@strata/policy';
import { chunks, httpFailure, invalidPurge, networkFailure } from './retry.js';
import type { CdnPurge, Purger } from './types.js';

// Cloudflare purge API: POST /zones/{zone_id}/purge_cache with a JSON body of `{ "tags": [...] }`,
// `{ "files": [...] }` or `{ "purge_everything": true }`, `Authorization: Bearer <token>`; answers
// `{ "success": bool, "errors": [{ "code", "message" }], ... }` (developers.cloudflare.com/api,
// cache/methods/purge). Limits per request, from developers.cloudflare.com/cache/how-to/purge-cache/
// ("Purge limits"): tag, hostname and prefix purges take at most 100 operations per request on
// every plan; single-file (URL) purges at most 100 URLs per request, 500 on Enterprise.
/** Cloudflare's documented limit of tags per purge request, on every plan. */
export const CLOUDFLARE_MAX_TAGS_PER_REQUEST = 100;
/** Cloudflare's documented limit of URLs per purge request (Enterprise zones may set 500). */
export const CLOUDFLARE_MAX_FILES_PER_REQUEST = 100;

export interface CloudflarePurgerOptions {
  zoneId: string;
  /** API token with the Cache Purge permission. Never appears in errors. */
  token: string;
  /** Default `https://api.cloudflare.com/client/v4`. */
  apiBase?: string;
  /** Default 100. */
  maxTagsPerRequest?: number;
  /** Default 100; Enterprise zones may raise it to 500. */
  maxFilesPerRequest?: number;
  /** Per request. Default 10,000 ms. */
  timeoutMs?: number;
  /** Default `cloudflare`; set it to tell several zones apart in reports. */
  name?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

interface CloudflareBody {
  success?: unknown;
  errors?: unknown;
}

function parseBody(text: string): CloudflareBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as CloudflareBody) : undefined;
  } catch {
    return undefined;
  }
}

/** `errors: [{ code: 1134, message: "…" }]` → `1134: …; …`. */
function errorMessages(body: CloudflareBody | undefined): string | undefined {
  if (!Array.isArray(body?.errors)) return undefined;
  const messages = body.errors.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { code, message } = entry as { code?: unknown; message?: unknown };
    if (typeof message !== 'string') return [];
    return [typeof code === 'number' || typeof code === 'string' ? `${code}: ${message}` : message];
  });
  return messages.length > 0 ? messages.join('; ') : undefined;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * Purges Cloudflare by cache tag (the `cache-tag` header `@strata/policy` emits) and by URL,
 * each batched to Cloudflare's per-request limit. A 2xx answer counts only when its body says
 * `success: true`. Cloudflare does not say how many objects it dropped: resolves to undefined.
 */
export function cloudflarePurger(options: CloudflarePurgerOptions): Purger {
  const name = options.name ?? 'cloudflare';
  const base = (options.apiBase ?? 'https://api.cloudflare.com/client/v4').replace(/\/+$/, '');
  const endpoint = `${base}/zones/${encodeURIComponent(options.zoneId)}/purge_cache`;
  const maxTags = positive(options.maxTagsPerRequest, CLOUDFLARE_MAX_TAGS_PER_REQUEST);
  const maxFiles = positive(options.maxFilesPerRequest, CLOUDFLARE_MAX_FILES_PER_REQUEST);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const secrets = [options.token];

  async function post(operation: string, payload: Record<string, unknown>) {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw networkFailure(name, operation, error, secrets);
    }
    const text = await response.text().catch(() => '');
    const body = parseBody(text);
    if (response.ok && body?.success === true) return;
    const failure = {
      status: response.status,
      statusText: response.statusText,
      retryAfter: response.headers.get('retry-after'),
      detail: errorMessages(body) ?? (text.trim() || undefined),
    };
    // A 2xx whose body does not report success is a refusal, not a transient fault.
    throw httpFailure(name, operation, response.ok ? { ...failure, retryable: false } : failure, secrets);
  }

  return {
    name,
    async purge(request: CdnPurge) {
      if (request.all) {
        await post('purge everything', { purge_everything: true });
        return undefined;
      }
      const tags = [...new Set(request.tags)];
      for (const tag of tags) {
        const problem = tagProblem(tag);
        if (problem) throw invalidPurge(name, problem);
      }
      const files = [...new Set(request.urls)];
      for (const url of files) {
        if (!URL.canParse(url)) throw invalidPurge(name, `${JSON.stringify(url)} is not an absolute URL`);
      }
      const tagBatches = chunks(tags, maxTags);
      for (const [i, batch] of tagBatches.entries()) {
        await post(`tag purge (batch ${i + 1} of ${tagBatches.length})`, { tags: batch });
      }
      const fileBatches = chunks(files, maxFiles);
      for (const [i, batch] of fileBatches.entries()) {
        await post(`URL purge (batch ${i + 1} of ${fileBatches.length})`, { files: batch });
      }
      return undefined;
    },
  };
}
