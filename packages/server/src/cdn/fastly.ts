import { tagProblem } from '@strata/policy';
import { chunks, httpFailure, invalidPurge, networkFailure } from './retry.js';
import type { CdnPurge, Purger } from './types.js';

// Fastly purge API, as documented in the official client docs (fastly/fastly-js docs/PurgeApi.md):
//   POST /service/{service_id}/purge       bulk surrogate-key purge, JSON `{ "surrogate_keys": [...] }`,
//                                          "Up to 256 surrogate keys can be purged in one batch request"
//   POST /service/{service_id}/purge_all   everything; "cannot be done in soft mode"
//   POST /purge/{cached_url}               one URL, `cached_url` = host and path (`www.example.com/path`)
// Auth is the `Fastly-Key` header; `Fastly-Soft-Purge: 1` marks objects stale instead of dropping them.
/** Fastly's limit of surrogate keys per bulk purge request. */
export const FASTLY_MAX_KEYS_PER_REQUEST = 256;

export interface FastlyPurgerOptions {
  serviceId: string;
  /** API token with the `purge_select` scope (and `purge_all` for `all`). Never appears in errors. */
  token: string;
  /**
   * Every purge soft: objects are marked stale (served while revalidating) rather than dropped.
   * Without it, only purges made with `mode: 'soft'` are.
   */
  soft?: boolean;
  /** Default `https://api.fastly.com`. */
  apiBase?: string;
  /** Per request. Default 10,000 ms. */
  timeoutMs?: number;
  /** Default `fastly`; set it to tell several services apart in reports. */
  name?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

/** Fastly's error bodies are `{ "msg": "…", "detail": "…" }`. */
function fastlyMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const { msg, detail } = parsed as { msg?: unknown; detail?: unknown };
      const parts = [msg, detail].filter((part): part is string => typeof part === 'string' && part.length > 0);
      if (parts.length > 0) return parts.join(': ');
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.trim() || undefined;
}

/** `https://www.example.com/a/b?x=1` → `www.example.com/a/b%3Fx=1`: the query stays in the path parameter. */
function cachedUrl(url: string, name: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidPurge(name, `${JSON.stringify(url)} is not an absolute URL`);
  }
  return `${parsed.host}${parsed.pathname}${parsed.search.replaceAll('?', '%3F')}`;
}

/**
 * Purges Fastly by surrogate key (the `surrogate-key` header `@strata/policy` emits), in batches
 * of at most 256 keys, and single URLs through the URL purge API. Fastly does not say how many
 * objects it dropped, so `purge` resolves to undefined.
 */
export function fastlyPurger(options: FastlyPurgerOptions): Purger {
  const name = options.name ?? 'fastly';
  const base = (options.apiBase ?? 'https://api.fastly.com').replace(/\/+$/, '');
  const service = encodeURIComponent(options.serviceId);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const secrets = [options.token];

  async function post(operation: string, path: string, headers: Record<string, string>, body?: string) {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'Fastly-Key': options.token, Accept: 'application/json', ...headers },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw networkFailure(name, operation, error, secrets);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw httpFailure(
        name,
        operation,
        {
          status: response.status,
          statusText: response.statusText,
          retryAfter: response.headers.get('retry-after'),
          detail: fastlyMessage(text),
        },
        secrets,
      );
    }
  }

  return {
    name,
    async purge(request: CdnPurge) {
      if (request.all) {
        await post('purge-all', `/service/${service}/purge_all`, {});
        return undefined;
      }
      const tags = [...new Set(request.tags)];
      for (const tag of tags) {
        const problem = tagProblem(tag);
        if (problem) throw invalidPurge(name, problem);
      }
      const urls = [...new Set(request.urls)].map((url) => cachedUrl(url, name));
      const soft: Record<string, string> = options.soft || request.soft ? { 'Fastly-Soft-Purge': '1' } : {};
      const batches = chunks(tags, FASTLY_MAX_KEYS_PER_REQUEST);
      for (const [i, keys] of batches.entries()) {
        const body = JSON.stringify({ surrogate_keys: keys });
        await post(
          `surrogate-key purge (batch ${i + 1} of ${batches.length})`,
          `/service/${service}/purge`,
          {
            'Content-Type': 'application/json',
            ...soft,
          },
          body,
        );
      }
      for (const url of urls) await post(`URL purge of ${url}`, `/purge/${url}`, soft);
      return undefined;
    },
  };
}
