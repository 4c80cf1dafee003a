import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';

describe('the service-worker view of @strata/policy', () => {
  it('bundles without the validation library, and small', async () => {
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      resolve: { conditions: ['strata-source', 'browser', 'module', 'import', 'default'] },
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: {
        write: false,
        minify: true,
        lib: {
          entry: fileURLToPath(new URL('./fixtures/sw-entry.ts', import.meta.url)),
          formats: ['iife'],
          name: 'sw',
        },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
    const code = outputs
      .flatMap((o) => o.output)
      .map((chunk) => ('code' in chunk ? chunk.code : ''))
      .join('');
    expect(code).toContain('no-store'); // the header logic is in
    expect(code).toContain('surrogate-key');
    expect(code).not.toMatch(/zod|ZodError|\$ZodType|toJSONSchema/); // the validator is not
    expect(code).not.toMatch(/node:|tsx/);
    // 4 KB before defineManifest refused unknown keys (with a did-you-mean): about 0.1 KB of it.
    expect(gzipSync(code).length).toBeLessThan(4300);
  }, 60_000);
});
