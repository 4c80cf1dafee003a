import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { StrataError } from '@strata/policy';
import { configFromEnv, type EnvConfig } from '@strata/server';

export interface DemoConfig extends EnvConfig {
  /** `PORT`, default 3000. */
  port: number;
  /** `HOST`, default every interface. */
  host: string;
  /** `DATABASE_URL`: PostgreSQL; unset, an embedded PGlite database in memory. */
  databaseUrl?: string;
  /** `STRATA_ADMIN_TOKEN`, or one generated at startup. */
  adminToken: string;
  adminTokenGenerated: boolean;
  /** `STRATA_VARNISH_URL`: a Varnish (with xkey) that purges are sent to. */
  varnishUrl?: string;
  /** `DEMO_DELAY_MS`: added before each database statement, default 150. */
  delayMs: number;
  /**
   * `DEMO_DB_WORK`: rows the database generates and sums before each statement, default 0 — real
   * CPU work in the database (about 2 ms per 20,000 rows on one idle core), where `DEMO_DELAY_MS`
   * only waits.
   */
  dbWork: number;
  /** `DEMO_USERS`: rows seeded into an empty database, default 1,000. */
  seedUsers: number;
  /** `DEMO_STORE_MAX_ENTRIES` / `DEMO_STORE_MAX_MB`: the memory store's limits, default 10,000 and 64. */
  storeMaxEntries: number;
  storeMaxBytes: number;
  /** `DEMO_INSTANCE`: this instance's name in answers and logs, default `demo`. */
  instance: string;
  /** `DEMO_SECRET`: signs the demo's bearer tokens; instances sharing a store must share it. */
  secret: string;
  /** `DEMO_ORIGIN`: the one origin cache keys use (`http://localhost:3000`); default the Host header. */
  origin?: string;
  /** `DEMO_STATIC_DIR`: the built front end, default `demo/dist`. */
  staticDir: string;
  /**
   * `DEMO_CACHE`: `on` (default), or `off` to serve the same app with Strata out of the request
   * path — no cache headers, no server cache, no query cache: the benchmarks' origin-only baseline.
   */
  cache: boolean;
}

const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../dist', import.meta.url));

/** Reads the demo's settings from the environment; throws `E_CONFIG_INVALID` listing every bad value. */
export function demoConfig(env: Record<string, string | undefined> = process.env): DemoConfig {
  const problems: string[] = [];
  let strata: EnvConfig | undefined;
  try {
    strata = configFromEnv(env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const url = (name: string): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      return new URL(raw).toString().replace(/\/$/, '');
    } catch {
      problems.push(`${name} must be an absolute URL, got ${JSON.stringify(raw)}`);
      return undefined;
    }
  };
  const port = integer('PORT', 3000, 0, 65_535);
  const cacheSetting = env.DEMO_CACHE || 'on';
  if (cacheSetting !== 'on' && cacheSetting !== 'off') {
    problems.push(`DEMO_CACHE must be on or off, got ${JSON.stringify(cacheSetting)}`);
  }
  const config = {
    ...(strata as EnvConfig),
    port,
    host: env.HOST || '0.0.0.0',
    adminToken: env.STRATA_ADMIN_TOKEN || randomBytes(18).toString('base64url'),
    adminTokenGenerated: !env.STRATA_ADMIN_TOKEN,
    delayMs: integer('DEMO_DELAY_MS', 150, 0, 60_000),
    dbWork: integer('DEMO_DB_WORK', 0, 0, 100_000_000),
    seedUsers: integer('DEMO_USERS', 1_000, 2, 100_000),
    storeMaxEntries: integer('DEMO_STORE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    storeMaxBytes: integer('DEMO_STORE_MAX_MB', 64, 1, 65_536) * 1024 * 1024,
    instance: env.DEMO_INSTANCE || 'demo',
    secret: env.DEMO_SECRET || 'strata-demo-secret',
    staticDir: env.DEMO_STATIC_DIR || DEFAULT_STATIC_DIR,
    cache: cacheSetting !== 'off',
  } satisfies Omit<DemoConfig, 'databaseUrl' | 'varnishUrl' | 'origin'> as DemoConfig;
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl) config.databaseUrl = databaseUrl;
  const varnishUrl = url('STRATA_VARNISH_URL');
  if (varnishUrl) config.varnishUrl = varnishUrl;
  const origin = url('DEMO_ORIGIN');
  if (origin) config.origin = origin;
  if (problems.length > 0) {
    throw new StrataError('E_CONFIG_INVALID', `invalid demo configuration:\n- ${problems.join('\n- ')}`);
  }
  return config;
}
