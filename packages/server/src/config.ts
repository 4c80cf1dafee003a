import { StrataError } from '@strata/policy';

/** Settings read from the environment (the seed's variables). */
export interface EnvConfig {
  /** `REDIS_URL`, or one built from `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`/`REDIS_DB`. Unset: in-memory. */
  redisUrl?: string;
  /** `STRATA_ENABLED`: false turns the server and data caches off. Default true. */
  enabled: boolean;
  /** `STRATA_DEFAULT_TTL`: seconds, for `cached()` calls without a TTL. */
  defaultTtl?: number;
  /** `STRATA_WARM_ON_STARTUP`: run warmers when the app starts. Default false. */
  warmOnStartup: boolean;
  /** `STRATA_WARM_INTERVAL`: seconds between warm runs. */
  warmIntervalSeconds?: number;
  /** `STRATA_ADMIN_TOKEN`: bearer token of the admin API. */
  adminToken?: string;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/**
 * Reads Strata's settings from environment variables. Every bad value is reported at once,
 * in a StrataError (`E_CONFIG_INVALID`) naming the variable and what it should be.
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): EnvConfig {
  const problems: string[] = [];
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (TRUE.has(raw)) return true;
    if (FALSE.has(raw)) return false;
    problems.push(`${name}=${env[name]} must be true or false`);
    return fallback;
  };
  const integer = (name: string, min: number, max: number): number | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}=${env[name]} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };

  const config: EnvConfig = {
    enabled: flag('STRATA_ENABLED', true),
    warmOnStartup: flag('STRATA_WARM_ON_STARTUP', false),
  };
  const url = value('REDIS_URL');
  if (url !== undefined) {
    if (!/^rediss?:\/\//.test(url)) problems.push(`REDIS_URL=${url} must start with redis:// or rediss://`);
    else config.redisUrl = url;
  } else {
    const host = value('REDIS_HOST');
    const port = integer('REDIS_PORT', 1, 65535);
    const db = integer('REDIS_DB', 0, 65535);
    const password = value('REDIS_PASSWORD');
    if (host !== undefined) {
      const auth = password !== undefined ? `:${encodeURIComponent(password)}@` : '';
      config.redisUrl = `redis://${auth}${host}:${port ?? 6379}${db !== undefined ? `/${db}` : ''}`;
    } else if (port !== undefined || password !== undefined || db !== undefined) {
      problems.push('REDIS_PORT, REDIS_PASSWORD and REDIS_DB need REDIS_HOST (or set REDIS_URL)');
    }
  }
  const ttl = integer('STRATA_DEFAULT_TTL', 0, 2_147_483_647);
  if (ttl !== undefined) config.defaultTtl = ttl;
  const interval = integer('STRATA_WARM_INTERVAL', 1, 2_147_483);
  if (interval !== undefined) config.warmIntervalSeconds = interval;
  const token = value('STRATA_ADMIN_TOKEN');
  if (token !== undefined) {
    if (token.length < 16) problems.push('STRATA_ADMIN_TOKEN must be at least 16 characters');
    else config.adminToken = token;
  }
  if (problems.length > 0) {
    throw new StrataError(
      'E_CONFIG_INVALID',
      `Invalid Strata environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return config;
}
