import { configFromEnv } from '@strata/server';
import { describe, expect, it } from 'vitest';

describe('configFromEnv', () => {
  it('defaults to in-memory, enabled, no warming', () => {
    expect(configFromEnv({})).toEqual({ enabled: true, warmOnStartup: false });
  });

  it('reads every variable', () => {
    expect(
      configFromEnv({
        REDIS_URL: 'redis://cache:6380/2',
        STRATA_ENABLED: 'false',
        STRATA_DEFAULT_TTL: '120',
        STRATA_WARM_ON_STARTUP: 'yes',
        STRATA_WARM_INTERVAL: '300',
        STRATA_ADMIN_TOKEN: 'a-long-enough-token',
      }),
    ).toEqual({
      redisUrl: 'redis://cache:6380/2',
      enabled: false,
      defaultTtl: 120,
      warmOnStartup: true,
      warmIntervalSeconds: 300,
      adminToken: 'a-long-enough-token',
    });
  });

  it('builds a Redis URL from host, port, password and db', () => {
    expect(configFromEnv({ REDIS_HOST: 'r', REDIS_PORT: '7000', REDIS_PASSWORD: 'p@ss', REDIS_DB: '3' }).redisUrl).toBe(
      'redis://:p%40ss@r:7000/3',
    );
    expect(configFromEnv({ REDIS_HOST: 'r' }).redisUrl).toBe('redis://r:6379');
  });

  it('reports every bad value at once', () => {
    let message = '';
    try {
      configFromEnv({
        REDIS_URL: 'http://nope',
        STRATA_ENABLED: 'maybe',
        STRATA_DEFAULT_TTL: '-5',
        STRATA_WARM_INTERVAL: '1.5',
        STRATA_ADMIN_TOKEN: 'short',
      });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('E_CONFIG_INVALID');
      message = (error as Error).message;
    }
    for (const name of [
      'REDIS_URL',
      'STRATA_ENABLED',
      'STRATA_DEFAULT_TTL',
      'STRATA_WARM_INTERVAL',
      'STRATA_ADMIN_TOKEN',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('refuses Redis parts without a host', () => {
    expect(() => configFromEnv({ REDIS_PORT: '6379' })).toThrow(/need REDIS_HOST/);
  });
});
