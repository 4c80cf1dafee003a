import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL, Partitions, PUBLIC, userPartition } from '../src/partition.js';
import { TagIndex } from '../src/tag-index.js';

describe('Partitions: cache names and the current user', () => {
  it('names caches by prefix, version and partition, encoding what could hold the separator', () => {
    const p = new Partitions('strata', 'v:2 beta', async () => undefined);
    expect(p.cacheOf(PUBLIC)).toBe('strata:v%3A2%20beta:public');
    expect(p.cacheOf(userPartition('a:b@c d'))).toBe('strata:v%3A2%20beta:user:a%3Ab%40c%20d');
    expect(p.isCurrent('strata:v%3A2%20beta:public')).toBe(true);
    expect(p.isCurrent('strata:1:public')).toBe(false);
    expect(p.owns('strata:1:public')).toBe(true);
    expect(p.owns('strata-other:1:public')).toBe(false);
    expect(p.owns('workbox-runtime')).toBe(false);
  });

  it('puts private policies in the current user’s partition, and nowhere without a user', async () => {
    const p = new Partitions('strata', '1', async () => null);
    await p.ready;
    expect(p.partitionFor(undefined)).toBe(PUBLIC);
    expect(p.partitionFor('public')).toBe(PUBLIC);
    expect(p.partitionFor('private')).toBeUndefined();
    p.user = 'alice';
    expect(p.partitionFor('private')).toBe('user:alice');
    p.user = 'bob';
    expect(p.partitionFor('private')).toBe('user:bob');
    p.user = null;
    expect(p.partitionFor('private')).toBeUndefined();
  });

  it('puts public credential-varied policies in the credential cache; it and user caches are personal', () => {
    const p = new Partitions('strata', '1', async () => null);
    expect(p.partitionFor('public', true)).toBe(CREDENTIAL);
    expect(p.isPersonal('strata:1:credential')).toBe(true);
    expect(p.isPersonal('strata:1:user:alice')).toBe(true);
    expect(p.isPersonal('strata:1:public')).toBe(false);
    expect(p.isPersonal('strata:2:user:alice')).toBe(false); // another version: reconciliation drops it
  });

  it('restores the persisted user, unless a newer one was set while loading', async () => {
    const index = new TagIndex('partition-test');
    await index.setMeta('user', 'alice');
    const restored = new Partitions('strata', '1', () => index.getMeta('user'));
    await restored.ready;
    expect(restored.user).toBe('alice');

    const racing = new Partitions('strata', '1', () => index.getMeta('user'));
    racing.user = 'bob'; // a set-user message handled before the load finished
    await racing.ready;
    expect(racing.user).toBe('bob');

    const broken = new Partitions('strata', '1', () => Promise.reject(new Error('IndexedDB unavailable')));
    await broken.ready; // settles; the worker runs with no user
    expect(broken.user).toBeNull();
  });
});
