import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tagProblem } from '@strata/policy';
import { httpFailure, invalidPurge, networkFailure } from './retry.js';
import type { CdnPurge, Purger } from './types.js';

export interface VarnishPurgerOptions {
  /** Where Varnish listens, e.g. `http://127.0.0.1:6081`. Tag purges and bans go to its path (`/`). */
  url: string;
  /** Request header carrying the space-separated tags. Default `xkey-purge`. */
  header?: string;
  /**
   * Every purge soft (`xkey.softpurge`, `purge.soft()`): objects expire but stay for grace. Without
   * it, only purges made with `mode: 'soft'` are.
   */
  soft?: boolean;
  /** Header, sent as `1`, that asks the VCL for a soft purge. Default `xkey-soft`. */
  softHeader?: string;
  /** Response header in which the VCL reports the objects purged. Default `xkey-purged`. */
  countHeader?: string;
  /**
   * Largest tag header value per request, in bytes. Varnish refuses a header line longer than
   * `http_req_hdr_len` (8 KiB by default): the default, 4 KiB, stays well under it.
   */
  maxHeaderBytes?: number;
  /** Per request. Default 5,000 ms. */
  timeoutMs?: number;
  /** Default `varnish`. */
  name?: string;
}

interface Answer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * One request with node:http rather than fetch: a URL purge must send the purged URL's `Host`,
 * which fetch replaces with the connection's host.
 */
function send(target: URL, method: string, path: string, headers: OutgoingHttpHeaders, timeoutMs: number) {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port || undefined,
        method,
        path,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_BODY_BYTES) body += chunk;
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Groups tags so that each space-joined group stays within `maxBytes` (a longer tag goes alone). */
export function splitTags(tags: readonly string[], maxBytes: number): string[] {
  const groups: string[] = [];
  let current = '';
  for (const tag of tags) {
    const joined = current ? `${current} ${tag}` : tag;
    if (current && Buffer.byteLength(joined) > maxBytes) {
      groups.push(current);
      current = tag;
    } else {
      current = joined;
    }
  }
  if (current) groups.push(current);
  return groups;
}

/**
 * Purges a Varnish running the xkey vmod. The VCL must:
 * - on `PURGE` with the tag header: `xkey.purge(<tags>)` (or `xkey.softpurge` when the soft
 *   header is present) and answer 2xx with the count in the count header;
 * - on `PURGE` without it: look the URL up (`return (hash)`) and, in `vcl_hit`/`vcl_miss`,
 *   `purge.hard()` (or `purge.soft()`) with the count in the count header;
 * - on `BAN`: ban every object (`ban("obj.status != 0")`) and answer 2xx.
 * Resolves to the number of objects purged, when every answer reported it.
 */
export function varnishPurger(options: VarnishPurgerOptions): Purger {
  const name = options.name ?? 'varnish';
  const target = new URL(options.url);
  const header = (options.header ?? 'xkey-purge').toLowerCase();
  const softHeader = (options.softHeader ?? 'xkey-soft').toLowerCase();
  const countHeader = (options.countHeader ?? 'xkey-purged').toLowerCase();
  const maxHeaderBytes = options.maxHeaderBytes ?? 4096;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const softHeaders: OutgoingHttpHeaders = { [softHeader]: '1' };
  const basePath = `${target.pathname}${target.search}`;

  /** Sends one request; resolves to the count the VCL reported, if any. */
  async function call(operation: string, method: string, path: string, headers: OutgoingHttpHeaders) {
    let answer: Answer;
    try {
      answer = await send(target, method, path, headers, timeoutMs);
    } catch (error) {
      throw networkFailure(name, operation, error);
    }
    if (answer.status < 200 || answer.status >= 300) {
      const retryAfter = answer.headers['retry-after'];
      // Varnish's default synthetic body is an HTML page; only a plain-text body is worth quoting.
      const plain = /^text\/plain/i.test(answer.headers['content-type'] ?? '') ? answer.body.trim() : '';
      throw httpFailure(name, operation, {
        status: answer.status,
        statusText: answer.statusText,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        detail: plain || undefined,
      });
    }
    const count = answer.headers[countHeader];
    const value = Array.isArray(count) ? count[0] : count;
    return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
  }

  return {
    name,
    async purge(request: CdnPurge) {
      if (request.all) {
        await call('ban of everything', 'BAN', basePath, {});
        return undefined;
      }
      const tags = [...new Set(request.tags)];
      for (const tag of tags) {
        const problem = tagProblem(tag);
        if (problem) throw invalidPurge(name, problem);
      }
      const urls = [...new Set(request.urls)].map((url) => {
        if (!URL.canParse(url)) throw invalidPurge(name, `${JSON.stringify(url)} is not an absolute URL`);
        return new URL(url);
      });

      const soft = options.soft || request.soft ? softHeaders : {};
      const counts: (number | undefined)[] = [];
      const groups = splitTags(tags, maxHeaderBytes);
      for (const [i, group] of groups.entries()) {
        const operation = `tag purge (request ${i + 1} of ${groups.length})`;
        counts.push(await call(operation, 'PURGE', basePath, { [header]: group, ...soft }));
      }
      for (const url of urls) {
        // Varnish hashes on Host and path: the purge names both, and is sent to Varnish itself.
        const path = `${url.pathname}${url.search}`;
        counts.push(await call(`URL purge of ${url.href}`, 'PURGE', path, { host: url.host, ...soft }));
      }
      if (counts.some((count) => count === undefined)) return undefined;
      return counts.reduce<number>((sum, count) => sum + (count ?? 0), 0);
    },
  };
}
