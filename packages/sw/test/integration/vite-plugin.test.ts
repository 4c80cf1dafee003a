import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strata } from '@strata/sw/vite';
import { build, createLogger, createServer, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../fixtures/app/', import.meta.url));
const plugin = () => strata({ manifest: '../default.manifest.ts', options: { maxEntries: 500 } });

function capturingLogger(lines: string[]) {
  const logger = createLogger('info', { allowClearScreen: false });
  logger.info = (message) => void lines.push(message);
  return logger;
}

describe('the strata() Vite plugin', () => {
  it('vite build emits /sw.js next to the app and prints its gzipped size', async () => {
    const lines: string[] = [];
    const result = (await build({
      root,
      configFile: false,
      logLevel: 'info',
      customLogger: capturingLogger(lines),
      plugins: [plugin()],
      build: { write: false },
    })) as Rolldown.RolldownOutput;
    const sw = result.output.find((o) => o.fileName === 'sw.js');
    expect(sw?.type).toBe('asset');
    const code = String((sw as Rolldown.OutputAsset).source);
    expect(code).toContain('/api/v1/users/:id');
    expect(code).toContain('500'); // the entry options
    expect(result.output.some((o) => o.fileName === 'index.html')).toBe(true);
    expect(lines.join('\n')).toMatch(
      /\[strata\] sw\.js\s+[\d.]+ kB │ gzip: [\d.]+ kB \(manifest version 1, 5 routes, 2 precached\)/,
    );
    // The page and its script, never the worker itself.
    expect(code).toMatch(/installPrecache|-precache:/);
    expect(code).toMatch(/url:[`"]\/[`"]/); // index.html, at /
    expect(code).toMatch(/url:[`"]\/assets\/index-[\w-]+\.js[`"]/);
    expect(code).not.toMatch(/url:[`"]\/sw\.js/);
  }, 60_000);

  it('precaches nothing with precache: false, and what the globs select otherwise', async () => {
    const built = async (precache: false | { include?: string[]; exclude?: string[] }) => {
      const result = (await build({
        root,
        configFile: false,
        logLevel: 'silent',
        plugins: [strata({ manifest: '../default.manifest.ts', precache })],
        build: { write: false },
      })) as Rolldown.RolldownOutput;
      const sw = result.output.find((o) => o.fileName === 'sw.js') as Rolldown.OutputAsset;
      return String(sw.source);
    };
    expect(await built(false)).not.toContain('-precache:');
    const onlyHtml = await built({ include: ['**/*.html'] });
    expect(onlyHtml).toMatch(/url:[`"]\/[`"]/);
    expect(onlyHtml).not.toMatch(/url:[`"]\/assets\//);
    const noHtml = await built({ exclude: ['*.html'] });
    expect(noHtml).not.toMatch(/url:[`"]\/[`"]/);
    expect(noHtml).toMatch(/url:[`"]\/assets\/index-[\w-]+\.js[`"]/);
    // Nothing left to precache: no precache code either.
    expect(await built({ include: ['**/*.css'] })).not.toContain('-precache:');
  }, 60_000);

  it('vite dev serves /sw.js, built on request, with no-cache', async () => {
    const server = await createServer({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [plugin()],
      cacheDir: join(tmpdir(), 'strata-vite-plugin-test'), // keep the dep optimizer's files out of the repo
      server: { port: 0, host: '127.0.0.1' },
    });
    await server.listen();
    try {
      const address = server.httpServer?.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const response = await fetch(`http://127.0.0.1:${port}/sw.js`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/javascript/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const code = await response.text();
      expect(code).toContain('/api/v1/users/:id');
      expect(code).toContain('[strata]'); // a development build: dev logs kept
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(await page.text()).toContain('strata plugin fixture'); // the rest of the app is untouched
    } finally {
      await server.close();
    }
  }, 60_000);
});
