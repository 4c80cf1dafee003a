import { parseArgs } from 'node:util';
import { StrataError } from '@strata/policy';
import { configFromEnv } from '@strata/server';

export const USAGE = `Usage: strata proxy --manifest <file> --upstream <url> [options]
       (also installed as strata-proxy)

Strata in front of any HTTP origin: the manifest's cache headers, a server cache, the purge
stream, the admin API and a service worker built from the manifest, without changing the origin.

  -m, --manifest <file>        the manifest: .ts, .js or .json               env STRATA_MANIFEST
  -u, --upstream <url>         the origin, http(s)://host[:port][/base]      env STRATA_UPSTREAM
  -p, --port <n>               port to listen on (default 8080)              env PORT
      --host <addr>            address to listen on (default 0.0.0.0)        env HOST
      --redis-url <url>        share the cache and purges over Redis         env REDIS_URL
                               (default: in memory, one process)
      --admin-token <token>    serve the admin API at /api/v1/cache and      env STRATA_ADMIN_TOKEN
                               /metrics, bearer token of 16+ characters
                               (without it both go to the origin)
      --origin <url>           public origin of cache keys (default: each    env STRATA_ORIGIN
                               request's Host)
      --upstream-timeout <ms>  longest silence from the origin before a 504  env STRATA_UPSTREAM_TIMEOUT
                               (default 30000)
      --sw <path|off>          where the service worker is served            env STRATA_SW
                               (default /sw.js; off: the origin's own)
      --trust-forwarded        keep the client's Forwarded/X-Forwarded-*     env STRATA_TRUST_FORWARDED
                               (only behind another proxy that sets them)
      --respect-origin-cache-control
                               the origin's Cache-Control wins over the manifest's policy
  -h, --help                   this text

The purge stream is at /strata/events. Example, in front of a Django app on port 8000:

  strata proxy --manifest strata.manifest.json --upstream http://127.0.0.1:8000 --port 8080

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 invalid manifest or cannot listen, 2 bad flags.`;

export interface ProxyConfig {
  manifest: string;
  upstream: string;
  port: number;
  host: string;
  redisUrl?: string;
  adminToken?: string;
  origin?: string;
  upstreamTimeoutMs: number;
  /** `false`: the origin serves its own worker. */
  serviceWorkerPath: string | false;
  trustForwarded: boolean;
  respectOriginCacheControl: boolean;
}

const OPTIONS = {
  manifest: { type: 'string', short: 'm' },
  upstream: { type: 'string', short: 'u' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'redis-url': { type: 'string' },
  'admin-token': { type: 'string' },
  origin: { type: 'string' },
  'upstream-timeout': { type: 'string' },
  sw: { type: 'string' },
  'trust-forwarded': { type: 'boolean' },
  'respect-origin-cache-control': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TRUE = /^(1|true|yes|on)$/i;

/** The upstream as a URL: http(s), no query, fragment or credentials. Throws E_CONFIG_INVALID. */
export function upstreamUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StrataError('E_CONFIG_INVALID', `upstream ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new StrataError('E_CONFIG_INVALID', `upstream ${value} must be an http:// or https:// URL`);
  if (url.search || url.hash || url.username || url.password)
    throw new StrataError('E_CONFIG_INVALID', `upstream ${value} must not carry a query, fragment or credentials`);
  return url;
}

/**
 * The proxy's settings from its flags, then the environment. `help` when asked for; every
 * problem at once in a StrataError (`E_CONFIG_INVALID`) otherwise.
 */
export function proxyConfig(argv: string[], env: Record<string, string | undefined>): ProxyConfig | 'help' {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new StrataError('E_CONFIG_INVALID', (error as Error).message);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name]?.trim() || undefined);
  const number = (label: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (/^\d+$/.test(raw) && n >= min && n <= max) return n;
    problems.push(`${label} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  };
  let fromEnv: ReturnType<typeof configFromEnv> = { enabled: true, warmOnStartup: false };
  try {
    fromEnv = configFromEnv({
      ...env,
      ...(values['admin-token'] ? { STRATA_ADMIN_TOKEN: values['admin-token'] } : {}),
    });
  } catch (error) {
    problems.push((error as Error).message);
  }
  const manifest = pick(values.manifest, 'STRATA_MANIFEST');
  const upstream = pick(values.upstream, 'STRATA_UPSTREAM');
  if (!manifest) problems.push('--manifest is required (or STRATA_MANIFEST)');
  if (!upstream) problems.push('--upstream is required (or STRATA_UPSTREAM)');
  else
    try {
      upstreamUrl(upstream);
    } catch (error) {
      problems.push(`--${(error as Error).message}`);
    }
  const redisUrl = values['redis-url'] ?? fromEnv.redisUrl;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    problems.push(`--redis-url ${redisUrl} must start with redis:// or rediss://`);
  const origin = pick(values.origin, 'STRATA_ORIGIN');
  if (origin !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(origin))
    problems.push(`--origin ${origin} must be an origin, http(s)://host[:port]`);
  const sw = pick(values.sw, 'STRATA_SW') ?? '/sw.js';
  if (sw !== 'off' && !/^\/[^?#\s]*$/.test(sw)) problems.push(`--sw ${sw} must be a path (/sw.js) or off`);
  const config: ProxyConfig = {
    manifest: manifest ?? '',
    upstream: upstream ?? '',
    port: number('--port', pick(values.port, 'PORT'), 8080, 0, 65535),
    host: pick(values.host, 'HOST') ?? '0.0.0.0',
    upstreamTimeoutMs: number(
      '--upstream-timeout',
      pick(values['upstream-timeout'], 'STRATA_UPSTREAM_TIMEOUT'),
      30_000,
      1,
      3_600_000,
    ),
    serviceWorkerPath: sw === 'off' ? false : sw,
    trustForwarded: values['trust-forwarded'] ?? TRUE.test(env.STRATA_TRUST_FORWARDED ?? ''),
    respectOriginCacheControl: values['respect-origin-cache-control'] ?? false,
    ...(redisUrl ? { redisUrl } : {}),
    ...(fromEnv.adminToken ? { adminToken: fromEnv.adminToken } : {}),
    ...(origin ? { origin: origin.replace(/\/$/, '') } : {}),
  };
  if (problems.length > 0) throw new StrataError('E_CONFIG_INVALID', problems.join('\n'));
  return config;
}
