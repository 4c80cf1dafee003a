import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { type EntryRecord, TagIndex } from '../src/tag-index.js';

// fake-indexeddb stands in for the browser's IndexedDB here; the Chromium suites use the real one.
let n = 0;
const fresh = (): TagIndex => new TagIndex(`tag-index-test-${++n}`);

const record = (cache: string, url: string, over: Partial<EntryRecord> = {}): EntryRecord => {
  const u = new URL(url);
  return {
    id: `${cache} ${url}`,
    cache,
    key: url,
    url,
    path: u.origin + u.pathname,
    tags: [],
    route: '/r',
    storedAt: 1000,
    expiresAt: 61_000,
    ...over,
  };
};

describe('TagIndex (IndexedDB)', () => {
  it('finds records by any of their tags, across caches, without duplicates', async () => {
    const index = fresh();
    await index.put(record('a', 'https://x/1', { tags: ['users', 'user:1'] }));
    await index.put(record('b', 'https://x/1', { tags: ['users', 'user:1'] }));
    await index.put(record('a', 'https://x/2', { tags: ['users', 'user:2'] }));
    await index.put(record('a', 'https://x/3', { tags: ['posts'] }));
    const ids = async (tags: string[]) => (await index.find('tags', tags)).map((r) => r.id).sort();
    expect(await ids(['user:1'])).toEqual(['a https://x/1', 'b https://x/1']);
    expect(await ids(['users', 'user:1'])).toEqual(['a https://x/1', 'a https://x/2', 'b https://x/1']);
    expect(await ids(['nope'])).toEqual([]);
    expect(await ids([])).toEqual([]);
  });

  it('finds by URL (exact, with query), by path (every query), and by cache', async () => {
    const index = fresh();
    await index.put(record('a', 'https://x/p?page=1'));
    await index.put(record('a', 'https://x/p?page=2'));
    await index.put(record('u', 'https://x/q'));
    expect((await index.find('url', ['https://x/p?page=1'])).map((r) => r.url)).toEqual(['https://x/p?page=1']);
    expect((await index.find('path', ['https://x/p'])).length).toBe(2);
    expect((await index.find('cache', ['u'])).map((r) => r.url)).toEqual(['https://x/q']);
  });

  it('replaces a record with the same id, and deletes by id', async () => {
    const index = fresh();
    await index.put(record('a', 'https://x/1', { tags: ['old'] }));
    await index.put(record('a', 'https://x/1', { tags: ['new'] }));
    expect(await index.find('tags', ['old'])).toEqual([]);
    expect((await index.all()).length).toBe(1);
    await index.delete(['a https://x/1', 'a https://x/unknown']);
    expect(await index.all()).toEqual([]);
  });

  it('lists expired records up to a limit, and the oldest records of a cache beyond what to keep', async () => {
    const index = fresh();
    for (const i of [1, 2, 3, 4, 5]) {
      await index.put(record('a', `https://x/${i}`, { storedAt: i * 10, expiresAt: i * 100 }));
    }
    await index.put(record('b', 'https://x/b', { storedAt: 1, expiresAt: 10_000 }));
    expect((await index.expired(250, 10)).map((r) => r.url)).toEqual(['https://x/1', 'https://x/2']);
    expect((await index.expired(1000, 3)).length).toBe(3);
    const beyond = await index.beyond('a', (count) => count - 2);
    expect(beyond.map((r) => r.url)).toEqual(['https://x/1', 'https://x/2']);
    expect(await index.beyond('a', () => 10)).toEqual([]);
    expect((await index.beyond('b', () => 0)).map((r) => r.url)).toEqual(['https://x/b']);
  });

  it('keeps meta values and reopens after close', async () => {
    const index = fresh();
    await index.setMeta('user', 'alice');
    index.close();
    expect(await index.getMeta('user')).toBe('alice');
    expect(await index.getMeta('missing')).toBeUndefined();
  });
});
