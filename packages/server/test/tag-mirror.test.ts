import { describe, expect, it } from 'vitest';
import { TagMirror } from '../src/store/tag-mirror.js';
import { countMapCalls } from './helpers/map-calls.js';

describe('the L1 mirror of tag versions', () => {
  it('knows a read’s versions only when every tag of it is known', () => {
    const mirror = new TagMirror(100);
    expect(mirror.versions(['a'])).toBeUndefined();
    expect(mirror.learn(['a', 'b'], [3, 0], mirror.seq)).toBe(true);
    expect(mirror.versions(['b', 'a'])).toEqual([0, 3]);
    expect(mirror.versions(['a', 'c'])).toBeUndefined();
  });

  it('a purge makes its tags unknown, and only those', () => {
    const mirror = new TagMirror(100);
    mirror.learn(['a', 'b'], [1, 1], mirror.seq);
    mirror.invalidate(['a']);
    expect(mirror.versions(['a'])).toBeUndefined();
    expect(mirror.versions(['b'])).toEqual([1]);
  });

  it('refuses what a read in flight across a purge of one of its tags got, and accepts reads of other tags', () => {
    const mirror = new TagMirror(100);
    const since = mirror.seq; // the read leaves for the shared store
    mirror.invalidate(['a']); // the purge arrives before its answer
    expect(mirror.learn(['a', 'b'], [1, 1], since)).toBe(false);
    expect(mirror.versions(['b'])).toBeUndefined();
    expect(mirror.learn(['b'], [1], since)).toBe(true);
    // A read that left after the purge may teach the new version.
    expect(mirror.learn(['a'], [2], mirror.seq)).toBe(true);
    expect(mirror.versions(['a'])).toEqual([2]);
  });

  it('an entry removed by key: a read of it in flight is told, reads of other entries and later reads are not', () => {
    const mirror = new TagMirror(100);
    const since = mirror.seq; // the read leaves for the shared store
    mirror.remove(['GET /a']); // the removal arrives before its answer
    expect(mirror.removedSince('GET /a', since)).toBe(true);
    expect(mirror.removedSince('GET /b', since)).toBe(false);
    expect(mirror.removedSince('GET /a', mirror.seq)).toBe(false);
    // Tag versions are not touched: they did not change.
    expect(mirror.learn(['a'], [1], since)).toBe(true);
  });

  it('a removal forgotten to the bound, or a flush, counts as a removal for every read in flight', () => {
    const mirror = new TagMirror(2);
    const since = mirror.seq;
    mirror.remove(['GET /a', 'GET /b', 'GET /c']); // over the bound: the oldest record goes
    expect(mirror.removedSince('GET /a', since)).toBe(true);
    const later = mirror.seq;
    mirror.flush();
    expect(mirror.removedSince('GET /z', later)).toBe(true);
  });

  it('a flush forgets every version and refuses every read in flight', () => {
    const mirror = new TagMirror(100);
    mirror.learn(['a'], [1], mirror.seq);
    const since = mirror.seq;
    mirror.flush();
    expect(mirror.versions(['a'])).toBeUndefined();
    expect(mirror.learn(['z'], [1], since)).toBe(false);
  });

  it('stays within its bound; a forgotten purge still refuses the reads that were in flight across it', () => {
    const mirror = new TagMirror(4);
    const since = mirror.seq;
    mirror.invalidate(['old']);
    for (let i = 0; i < 10; i++) mirror.invalidate([`t${i}`]); // pushes the record of `old` out
    expect(mirror.learn(['old'], [1], since)).toBe(false);
    for (let i = 0; i < 10; i++) mirror.learn([`k${i}`], [i], mirror.seq);
    expect(mirror.size).toBe(4);
    expect(mirror.versions(['k9'])).toEqual([9]);
    expect(mirror.versions(['k0'])).toBeUndefined();
  });

  it('learns a hot tag and drops its oldest without rewriting or iterating its maps, however full', async () => {
    // A Map key deleted and set again on every read, or an eviction that iterates from the front,
    // walks the slots V8 leaves behind until the table is rebuilt: O(size) per read once full.
    const max = 10_000;
    const mirror = new TagMirror(max);
    for (let i = 0; i < max; i++) mirror.learn([`t${i}`, 'users'], [0, 0], mirror.seq);
    for (let i = 0; i < max; i++) mirror.invalidate([`gone${i}`]);
    const full = (map: Map<unknown, unknown>) => map.size >= max / 2; // the mirror's two maps
    const hot = await countMapCalls(() => {
      for (let i = 0; i < max; i++) mirror.learn([`t${max - 1 - (i % 100)}`, 'users'], [1, 1], mirror.seq);
    }, full);
    expect(hot).toEqual({ set: 0, delete: 0, iterations: 0 });
    const evicting = await countMapCalls(() => {
      for (let i = 0; i < 1_000; i++) mirror.learn([`new${i}`, 'users'], [0, 1], mirror.seq);
      for (let i = 0; i < 1_000; i++) mirror.invalidate([`later${i}`]);
    }, full);
    // One set and one delete per tag added to a full map (the tag, then the oldest out), plus the
    // known versions the purges drop: none of those tags is known here, so no delete lands.
    expect(evicting).toEqual({ set: 2_000, delete: 2_000, iterations: 0 });
    expect(mirror.versions(['users'])).toEqual([1]);
  });
});
