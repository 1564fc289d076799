import { describe, expect, it } from 'vitest';
import { TopicPartitionCounts } from '../../src/kafka/partition-counts.js';

function setup(counts: Record<string, number>, options: { maxAgeMs?: number; unknownRetryMs?: number } = {}) {
  let now = 1_000;
  const calls: string[][] = [];
  const errors: unknown[] = [];
  let fail = false;
  const cache = new TopicPartitionCounts({
    ...options,
    now: () => now,
    onError: (err) => errors.push(err),
    fetch: async (topics) => {
      calls.push([...topics]);
      await new Promise((r) => setTimeout(r, 1));
      if (fail) throw new Error('broker down');
      return new Map(topics.filter((t) => t in counts).map((t) => [t, counts[t]!]));
    },
  });
  return {
    cache,
    calls,
    errors,
    advance: (ms: number) => (now += ms),
    failNext: (f: boolean) => (fail = f),
  };
}

describe('TopicPartitionCounts', () => {
  it('reads each topic once and serves later lookups from the cache until maxAgeMs has passed', async () => {
    const s = setup({ a: 4, b: 12 }, { maxAgeMs: 5_000 });
    expect(await s.cache.lookup(['a', 'b', 'a'])).toEqual(new Map([['a', 4], ['b', 12]]));
    expect(await s.cache.lookup(['b'])).toEqual(new Map([['b', 12]]));
    expect(s.calls).toEqual([['a', 'b']]);
    s.advance(5_000);
    await s.cache.lookup(['a', 'b']);
    expect(s.calls).toEqual([['a', 'b'], ['a', 'b']]);
  });

  it('concurrent lookups share one read', async () => {
    const s = setup({ a: 4, b: 2 });
    const [x, y] = await Promise.all([s.cache.lookup(['a']), s.cache.lookup(['a', 'b'])]);
    expect(x.get('a')).toBe(4);
    expect(y).toEqual(new Map([['a', 4], ['b', 2]]));
    expect(s.calls).toEqual([['a'], ['b']]);
  });

  it('an unknown topic or a failed read gives undefined and is asked again after unknownRetryMs', async () => {
    const s = setup({ a: 4 }, { unknownRetryMs: 100 });
    expect((await s.cache.lookup(['missing'])).get('missing')).toBeUndefined();
    s.failNext(true);
    s.advance(100);
    expect(await s.cache.lookup(['missing', 'a'])).toEqual(new Map([['missing', undefined], ['a', undefined]]));
    expect(s.errors).toHaveLength(1);
    await s.cache.lookup(['a']);
    expect(s.calls).toHaveLength(2);
    s.failNext(false);
    s.advance(100);
    expect((await s.cache.lookup(['a'])).get('a')).toBe(4);
  });

  it('invalidate makes the next lookup read the topic again', async () => {
    const counts = { a: 4 };
    const s = setup(counts);
    await s.cache.lookup(['a']);
    counts.a = 8;
    s.cache.invalidate('a');
    expect((await s.cache.lookup(['a'])).get('a')).toBe(8);
  });

  it('a read under way when the topic is invalidated or marked unknown does not bring its (possibly stale) count back', async () => {
    const counts = { a: 4, b: 4 };
    const s = setup(counts);
    const pending = s.cache.lookup(['a', 'b']);
    s.cache.invalidate('a'); // e.g. a send just found 4 stale
    s.cache.markUnknown('b');
    await pending;
    counts.a = 8;
    expect((await s.cache.lookup(['a'])).get('a')).toBe(8); // read again, not the stale 4
    expect((await s.cache.lookup(['b'])).get('b')).toBeUndefined(); // unknown stands until unknownRetryMs
    expect(s.calls).toEqual([['a', 'b'], ['a']]);
  });
});
