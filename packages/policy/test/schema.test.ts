import { readFileSync } from 'node:fs';
import { cdnCache, defineManifest, noStore, serverCache } from '@strata/policy';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { manifestJsonSchema } from '../src/validate/json-schema.js';

const published = JSON.parse(readFileSync(new URL('../schema.json', import.meta.url), 'utf8'));

describe('schema.json', () => {
  it('is the schema the validator uses (regenerate with npm run schema -w @strata/policy)', () => {
    expect(published).toEqual(manifestJsonSchema());
  });

  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(published);

  it('accepts a manifest written as JSON, with a $schema reference', () => {
    const manifest = defineManifest({
      version: 4,
      routes: [
        { match: '/static/*', policy: cdnCache(604800, { immutable: true }) },
        { match: '/users/:id', policy: serverCache(60, { tags: ['user:{id}'], vary: ['accept'] }) },
        { match: '/login', methods: ['GET', 'POST'], policy: noStore() },
      ],
    });
    const json = { $schema: './node_modules/@strata/policy/schema.json', ...JSON.parse(JSON.stringify(manifest)) };
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what an editor can catch: unknown keys, bad types, unknown levels', () => {
    expect(validate({ version: 1, routes: [{ match: '/a', policy: { ttl: 1, levels: ['browser'], tll: 2 } }] })).toBe(
      false,
    );
    expect(validate({ version: 1, routes: [{ match: '/a', policy: { ttl: -1, levels: ['browser'] } }] })).toBe(false);
    expect(validate({ version: 1, routes: [{ match: '/a', policy: { ttl: 1, levels: ['edge'] } }] })).toBe(false);
    expect(validate({ routes: [] })).toBe(false);
    expect(validate({ version: 1, defaults: { credentialHeaders: ['x session'] }, routes: [] })).toBe(false);
    expect(validate({ version: 1, defaults: { credentialHeaders: ['*'] }, routes: [] })).toBe(false);
    expect(validate({ version: 1, defaults: { negativeTtl: 1.5 }, routes: [] })).toBe(false);
    expect(validate({ version: 1, defaults: { credentialHeaders: ['X-Session'], negativeTtl: 0 }, routes: [] })).toBe(
      true,
    );
  });
});
