import {
  assertTag,
  encodeTagValue,
  expandTag,
  isStrataError,
  isValidTag,
  TAG_HEADER_MAX_BYTES,
  TAG_MAX_BYTES,
  tagHeaderValues,
  tagProblem,
} from '@strata/policy';
import { describe, expect, it } from 'vitest';

describe('tags', () => {
  it('accepts printable ASCII without spaces or commas, up to the CDN key limit', () => {
    for (const tag of ['users', 'user:42', 'table:public.users', 'a{b}', '~!@#$%^&*()_+', 'x'.repeat(TAG_MAX_BYTES)]) {
      expect(isValidTag(tag), tag).toBe(true);
    }
  });

  it.each([
    ['', 'non-empty'],
    ['a b', 'spaces'],
    ['a,b', 'commas'],
    ['naïve', 'printable ASCII'],
    ['tab\there', 'printable ASCII'],
    ['x'.repeat(TAG_MAX_BYTES + 1), 'limit is 1024'],
  ])('rejects %j (%s)', (tag, why) => {
    expect(tagProblem(tag)).toContain(why);
    expect(() => assertTag(tag)).toThrow(why);
  });

  it('assertTag throws a StrataError with a stable code', () => {
    try {
      assertTag('a b');
      expect.unreachable();
    } catch (error) {
      expect(isStrataError(error) && error.code).toBe('E_TAG_INVALID');
    }
  });

  it('rejects non-strings', () => {
    expect(isValidTag(42)).toBe(false);
    expect(isValidTag(undefined)).toBe(false);
  });

  it('encodes param values injectively: distinct values never share a tag', () => {
    expect(encodeTagValue('42')).toBe('42');
    expect(encodeTagValue('a b')).toBe('a%20b');
    expect(encodeTagValue('a,b')).toBe('a%2Cb');
    expect(encodeTagValue('a%20b')).toBe('a%2520b');
    expect(encodeTagValue('é')).toBe('%C3%A9');
    expect(encodeTagValue('😀')).toBe('%F0%9F%98%80');
    expect(new Set(['a b', 'a%20b', 'a+b', 'a,b'].map(encodeTagValue)).size).toBe(4);
  });

  it('expandTag derives the same tag matchRoute does', () => {
    expect(expandTag('user:{id}', { id: '42' })).toBe('user:42');
    expect(expandTag('org:{org}:repo:{repo}', { org: 'a b', repo: 'c' })).toBe('org:a%20b:repo:c');
    expect(() => expandTag('user:{id', {})).toThrow(/unbalanced/);
    expect(() => expandTag('user:{1d}', { '1d': 'x' })).toThrow(/not a param name/);
    expect(() => expandTag('user {id}', { id: 'x' })).toThrow(/spaces/);
  });

  it('keeps tags case-sensitive (Cloudflare folds case, which can only purge more, never less)', () => {
    expect(tagHeaderValues(['User:1', 'user:1']).surrogateKey).toBe('User:1 user:1');
  });

  describe('header values', () => {
    it('joins with a space for Surrogate-Key and a comma for Cache-Tag, deduplicated', () => {
      expect(tagHeaderValues(['a', 'b', 'a'])).toEqual({ surrogateKey: 'a b', cacheTag: 'a,b', dropped: [] });
    });

    it('never crosses 16 KB: whole tags that do not fit are dropped and reported', () => {
      const tags = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(998)}`);
      const values = tagHeaderValues(tags);
      expect(values.surrogateKey.length).toBeLessThanOrEqual(TAG_HEADER_MAX_BYTES);
      expect(values.cacheTag.length).toBeLessThanOrEqual(TAG_HEADER_MAX_BYTES);
      const kept = values.surrogateKey.split(' ');
      expect(kept).toEqual(tags.slice(0, kept.length));
      expect(values.dropped).toEqual(tags.slice(kept.length));
      expect(kept.length).toBe(16); // 16 × 1000 + 15 separators = 16,015 bytes; a 17th would cross
    });

    it('drops invalid tags instead of corrupting the header', () => {
      expect(tagHeaderValues(['ok', 'not ok', 'also,bad'])).toEqual({
        surrogateKey: 'ok',
        cacheTag: 'ok',
        dropped: ['not ok', 'also,bad'],
      });
    });
  });
});
