/**
 * The spilled replay filter's pure parts (src/runtime/watermark.ts): when the held ids do not fit
 * the offset metadata whole, the whole-id filter goes to a side record and the metadata points at
 * it (`ac5`); the pointer and the record's value round-trip, and a value that is not the one the
 * pointer names is told apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commitTagOf,
  decodeReplayMetadata,
  decodeSpilledFilter,
  decodeSpillPointer,
  encodeReplayMetadata,
  encodeSpillableFilter,
  encodeSpillPointer,
  replayKeeps,
  spillHash,
} from '../../src/runtime/watermark.js';

const traceId = (i: number) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32);
const ids = (n: number) => Array.from({ length: n }, (_, i) => traceId(i));

describe('encodeSpillableFilter', () => {
  it('writes the same metadata as encodeReplayMetadata while the ids fit whole', () => {
    const held = new Set(ids(100));
    const from = new Map([[traceId(3), '120']]);
    const w = encodeSpillableFilter('200', held, 3_800, 'tag.1.2', from, 16 << 20);
    expect(w.spill).toBeUndefined();
    expect(w.metadata).toBe(encodeReplayMetadata('200', held, 3_800, 'tag.1.2', from));
    expect(w.metadata!.startsWith('ac1;')).toBe(true);
    expect(w.hashed).toBeUndefined(); // no fallback: nothing needed spilling
  });

  it('spills the whole-id filter as soon as the ids do not fit (where hashes would begin)', () => {
    const held = new Set(ids(3_000));
    const from = new Map([[traceId(7), '1500']]);
    // without a side topic: hashes with false positives, as before
    expect(encodeSpillableFilter('2000', held, 3_800, 't', from, undefined).metadata!.slice(0, 4)).toBe('ac4;');
    // hashed without a side topic is no fallback from one
    expect(encodeSpillableFilter('2000', held, 3_800, 't', from, undefined).hashed).toBeUndefined();
    const w = encodeSpillableFilter('2000', held, 3_800, 't', from, 16 << 20);
    expect(w.metadata).toBeUndefined();
    const filter = decodeReplayMetadata(w.spill)!;
    expect(filter.compact).toBeUndefined();
    expect(filter.processedNext).toBe('2000');
    expect([...filter.heldTraces!].sort()).toEqual([...held].sort());
    expect(filter.heldFrom).toEqual(from);
    // exact: no committed trace is kept below processedNext
    for (let i = 3_000; i < 13_000; i++) expect(replayKeeps(filter, '1999', traceId(i))).toBe(false);
  });

  it('falls back to encodeReplayMetadata past spillMaxBytes, saying how long the filter was', () => {
    const held = new Set(ids(3_000));
    const w = encodeSpillableFilter('2000', held, 3_800, undefined, undefined, 50_000);
    expect(w.spill).toBeUndefined();
    expect(w.metadata).toBe(encodeReplayMetadata('2000', held, 3_800));
    expect(w.tooLarge).toBeGreaterThan(50_000);
    expect(w.hashed).toBe('too-large');
  });

  it('does not spill when not even a pointer fits the metadata (brokers set far below the default): a refused pointer could not be shortened', () => {
    const held = new Set(ids(300));
    const w = encodeSpillableFilter('2000', held, 40, 'tag.1.2', undefined, 16 << 20);
    expect(w.metadata).toBe(encodeReplayMetadata('2000', held, 40, 'tag.1.2'));
    expect(w.tooLarge).toBeUndefined();
    expect(w.hashed).toBe('pointer-too-long');
    expect(encodeSpillableFilter('2000', held, 100, 'tag.1.2', undefined, 16 << 20).spill).toBeDefined();
  });

  it('falls back to encodeReplayMetadata for keys carried over from a hashed filter (no whole ids to write)', () => {
    const held = new Set([...ids(300), '~0badf00d']);
    const w = encodeSpillableFilter('5', held, 3_800, undefined, undefined, 16 << 20);
    expect(w.metadata).toBe(encodeReplayMetadata('5', held, 3_800));
    expect(w.tooLarge).toBeUndefined();
    expect(w.hashed).toBe('unwritable-ids');
  });
});

describe('spill pointer (ac5)', () => {
  it('round-trips pointer and side-record value', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.string({ minLength: 1 }).map((s) => `conv:${s}`)), { minLength: 0, maxLength: 300 }),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.nat({ max: 2_147_483_647 }),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.option(fc.stringMatching(/^[\w.-]{1,20}$/), { nil: undefined }),
        (held, next, partition, offset, tag) => {
          const w = encodeSpillableFilter(next.toString(), held, 100, tag, undefined, 16 << 20);
          // 100 bytes hold a pointer: spilled unless the ids fit whole or one is not well-formed UTF-16
          if (w.spill === undefined) return;
          const pointer = { processedNext: next.toString(), partition, offset: offset.toString(), hash: spillHash(w.spill) };
          const metadata = encodeSpillPointer(pointer, tag);
          expect(decodeSpillPointer(metadata)).toEqual(pointer);
          expect(commitTagOf(metadata)).toBe(tag);
          // releases before read it as no filter: replay everything
          expect(decodeReplayMetadata(metadata)).toBeUndefined();
          const read = decodeSpilledFilter(pointer, Buffer.from(w.spill));
          expect('filter' in read && new Set(read.filter.heldTraces)).toEqual(new Set(held));
        },
      ),
    );
  });

  it('tells a value that is not the one the pointer names (hash mismatch), and one at another position', () => {
    const w = encodeSpillableFilter('2000', new Set(ids(500)), 3_800, undefined, undefined, 16 << 20);
    const pointer = { processedNext: '2000', partition: 2, offset: '17', hash: spillHash(w.spill!) };
    expect(decodeSpilledFilter(pointer, w.spill!)).toHaveProperty('filter');
    const other = encodeSpillableFilter('2000', new Set(ids(501)), 3_800, undefined, undefined, 16 << 20).spill!;
    expect(decodeSpilledFilter(pointer, other)).toEqual({ reason: expect.stringContaining('hash') });
    const moved = w.spill!.replace('ac1;2000;', 'ac1;1999;');
    expect(decodeSpilledFilter({ ...pointer, hash: spillHash(moved) }, moved)).toEqual({ reason: expect.stringContaining('not at 2000') });
    expect(decodeSpilledFilter({ ...pointer, hash: spillHash('ac2;2000;0badf00d') }, 'ac2;2000;0badf00d')).toEqual({ reason: expect.stringContaining('not a whole-id filter') });
  });

  it('refuses metadata that is not a pointer', () => {
    for (const m of ['ac5;1;2@3', 'ac5;1;x@3;0123456789abcdef', 'ac5;1;2@3;0123', 'ac1;1;a', 'ac5;1;2@3;0123456789abcdef;t;u', null, '']) expect(decodeSpillPointer(m)).toBeUndefined();
  });
});
