/**
 * PendingByKey (waiting evaluations and content events): its per-partition index answers
 * lowWatermark without a scan for partitions that hold nothing — checked against a plain model
 * over random add / take / expire / dropPartition sequences; and the count, byte and TTL bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOffsets } from '../../src/episodes/offsets.js';
import { PendingByKey } from '../../src/episodes/pending-by-key.js';

type Op =
  | { kind: 'add'; key: number; partition: number; offset: number }
  | { kind: 'take'; key: number }
  | { kind: 'expire'; advanceMs: number }
  | { kind: 'drop'; partition: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.nat(5), partition: fc.nat(2), offset: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('take' as const), key: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), advanceMs: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), partition: fc.nat(2) }) },
);

describe('PendingByKey', () => {
  it('lowWatermark equals the smallest offset of the items held, per partition, through any sequence', () => {
    fc.assert(
      // offsets out of order and repeated (several items of one record), across the 9/10-digit
      // boundary (numeric order, not string order); `max` small enough that adds drop old keys
      fc.property(fc.array(op, { maxLength: 80 }), fc.boolean(), fc.constantFrom(1_000, 7), (ops, refreshOnAdd, max) => {
        const store = new PendingByKey<number>({ max, ttlMs: 50, refreshOnAdd });
        // model: key → items (partition, offset, arrival)
        const model = new Map<string, { partition: number; offset: string; at: number }[]>();
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            const key = `k${o.key}`;
            const off = String(999_999_990 + o.offset);
            const dropped = store.add(key, 0, { topic: 't', partition: o.partition, offset: off }, now);
            const list = model.get(key) ?? [];
            if (refreshOnAdd) model.delete(key);
            list.push({ partition: o.partition, offset: off, at: now });
            model.set(key, list);
            // over `max`: the oldest keys go, whole
            let held = [...model.values()].reduce((n, l) => n + l.length, 0);
            let modelDropped = 0;
            while (held > max) {
              const [first, items] = model.entries().next().value!;
              model.delete(first);
              held -= items.length;
              modelDropped += items.length;
            }
            expect(dropped).toBe(modelDropped);
          } else if (o.kind === 'take') {
            store.take(`k${o.key}`);
            model.delete(`k${o.key}`);
          } else if (o.kind === 'expire') {
            now += o.advanceMs;
            store.expire(now);
            for (const [key, list] of model) {
              const since = refreshOnAdd ? list[list.length - 1]!.at : list[0]!.at;
              if (now - since < 50) break;
              model.delete(key);
            }
          } else {
            store.dropPartition('t', o.partition);
            for (const [key, list] of [...model]) {
              const kept = list.filter((i) => i.partition !== o.partition);
              if (kept.length === 0) model.delete(key);
              else model.set(key, kept);
            }
          }
          for (const p of [0, 1, 2]) {
            const offsets = [...model.values()].flat().filter((i) => i.partition === p).map((i) => i.offset);
            const low = offsets.length === 0 ? undefined : offsets.reduce((a, b) => (compareOffsets(a, b) <= 0 ? a : b));
            expect(store.lowWatermark('t', p)).toBe(low);
          }
          expect(store.size).toBe([...model.values()].reduce((n, l) => n + l.length, 0));
          // the index that lets lowWatermark skip partitions holding nothing is exact
          expect(store.partitionsHeld()).toEqual([...new Set([...model.values()].flat().map((i) => `t/${i.partition}`))].sort());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('bounds: count and bytes drop the oldest key first, and say how many went', () => {
    const store = new PendingByKey<string>({ max: 3, ttlMs: 1_000, bytesOf: (s) => s.length, maxBytes: 10 });
    expect(store.add('a', 'xxxx', undefined, 0)).toBe(0);
    expect(store.add('b', 'yyyy', undefined, 0)).toBe(0);
    expect(store.add('c', 'zzzz', undefined, 0)).toBe(1); // 12 bytes > 10: a's goes
    expect([store.size, store.bytes]).toEqual([2, 8]);
    expect(store.take('a')).toBeUndefined();
    expect(store.add('c', 'z', undefined, 0)).toBe(0);
    expect(store.add('c', 'z', undefined, 0)).toBe(1); // 4 items > 3: b's goes
    expect([store.size, store.bytes]).toEqual([3, 6]);
  });

  it('rememberDropped: why the latest dropped keys went (over the limit, expired), the oldest forgotten first, each told once; a revoked partition\'s items are not lost', () => {
    const store = new PendingByKey<string>({ max: 2, ttlMs: 1_000, rememberDropped: 2 });
    expect(store.remembersDropped).toBe(false);
    store.add('a', 'x', undefined, 0);
    store.add('b', 'x', undefined, 500);
    store.add('c', 'x', undefined, 500); // over max: a goes
    store.expire(1_500); // b and c waited 1,000 ms
    expect(store.size).toBe(0);
    // three dropped, two remembered: a forgotten
    expect(store.takeWhyDropped('a')).toBeUndefined();
    expect(store.takeWhyDropped('b')).toBe('expired');
    expect(store.takeWhyDropped('b')).toBeUndefined();
    store.add('d', 'x', { topic: 't', partition: 0, offset: '1' }, 2_000);
    store.dropPartition('t', 0);
    expect(store.takeWhyDropped('d')).toBeUndefined();
    expect(store.takeWhyDropped('c')).toBe('expired');
    store.add('e', 'x', undefined, 2_000);
    store.add('f', 'x', undefined, 2_000);
    store.add('g', 'x', undefined, 2_000);
    expect(store.takeWhyDropped('e')).toBe('over-limit');
    expect(store.remembersDropped).toBe(false);
    // off by default
    const plain = new PendingByKey<string>({ max: 1, ttlMs: 1_000 });
    plain.add('a', 'x', undefined, 0);
    plain.add('b', 'x', undefined, 0);
    expect(plain.takeWhyDropped('a')).toBeUndefined();
  });
});
