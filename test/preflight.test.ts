import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// The pre-flight of `npm test` against this machine's real parts, with one part taken away at a
// time through the environment it reads (CHROMIUM_PATH, PATH, DATABASE_URL).
const script = fileURLToPath(new URL('../scripts/preflight.mjs', import.meta.url));

function preflight(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Each run asks the npm registry too (under load, a few seconds).
describe.concurrent('pre-flight of npm test', { timeout: 30_000 }, () => {
  let bare: string; // a PATH directory holding only node

  beforeAll(async () => {
    bare = await mkdtemp(join(tmpdir(), 'strata-preflight-'));
    await symlink(process.execPath, join(bare, 'node'));
  });

  afterAll(() => rm(bare, { recursive: true, force: true }));

  test('passes on a machine with every part (this one: npm test needs them all)', async () => {
    const result = await preflight({});
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^preflight: .* ok$/m);
  });

  test('a missing Chromium is named with its path and the command that installs it', async () => {
    const result = await preflight({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Chromium (no executable at /nonexistent/chromium, from CHROMIUM_PATH)');
    expect(result.stderr).toContain('apt-get install -y chromium');
    expect(result.stdout).toBe('');
  });

  test('redis-server and varnishd missing from PATH are each named with their install command', async () => {
    const result = await preflight({ PATH: bare });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('redis-server (not on PATH)\n      apt-get install -y redis-server');
    expect(result.stderr).toContain('varnishd (not on PATH)\n      apt-get install -y varnish varnish-modules');
  });

  test('a PostgreSQL that does not answer is named with the command that starts it', async () => {
    const url = `postgres://postgres:secret@127.0.0.1:${await closedPort()}/test`;
    const result = await preflight({ DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/test \(DATABASE_URL\): ECONNREFUSED/);
    expect(result.stderr).toMatch(
      /pg_ctlcluster --skip-systemctl-redirect \S+ main start|apt-get install -y postgresql/,
    );
    expect(result.stderr).not.toContain('secret');
  });

  test('a missing database is named with the command that creates it', async () => {
    const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    server.pathname = '/strata_preflight_absent';
    const result = await preflight({ DATABASE_URL: server.href });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('database "strata_preflight_absent" does not exist');
    expect(result.stderr).toContain('su postgres -c "createdb strata_preflight_absent"');
  });
});
