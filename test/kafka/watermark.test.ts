import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOffsets } from '../../src/episodes/offsets.js';
import {
  HeldTraces,
  commitOffsetFor,
  commitTagOf,
  compactKey,
  decodeReplayMetadata,
  encodeCorrectionFilter,
  encodeReplayMetadata,
  minOffset,
  nextOffset,
  replayKeeps,
  replayKeyOf,
  riceDecode,
  riceEncode,
} from '../../src/runtime/watermark.js';

const offset = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String);
const traceId = fc.stringMatching(/^[0-9a-f]{32}$/);

describe('offset arithmetic (int64 decimal strings)', () => {
  it('compares beyond 2^53 exactly', () => {
    expect(compareOffsets('9007199254740993', '9007199254740992')).toBe(1);
    expect(nextOffset('9223372036854775806')).toBe('9223372036854775807');
  });

  it('minOffset ignores undefined and returns the numerically smallest', () => {
    fc.assert(
      fc.property(fc.array(fc.option(offset, { nil: undefined })), (xs) => {
        const defined = xs.filter((x): x is string => x !== undefined);
        const m = minOffset(...xs);
        if (defined.length === 0) return m === undefined;
        return defined.includes(m!) && defined.every((x) => compareOffsets(m!, x) <= 0);
      }),
    );
  });
});

describe('commitOffsetFor', () => {
  it('never passes a held offset nor the processed position', () => {
    fc.assert(
      fc.property(offset, fc.array(fc.option(offset, { nil: undefined })), (next, held) => {
        const c = commitOffsetFor(next, ...held)!;
        expect(compareOffsets(c, next)).toBeLessThanOrEqual(0);
        for (const h of held) if (h !== undefined) expect(compareOffsets(c, h)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('commits nothing before the first processed record', () => {
    expect(commitOffsetFor(undefined, '5')).toBeUndefined();
  });
});

describe('replay metadata', () => {
  it('round-trips the processed position and held traces', () => {
    fc.assert(
      fc.property(offset, fc.uniqueArray(traceId, { maxLength: 50 }), (next, ids) => {
        const f = decodeReplayMetadata(encodeReplayMetadata(next, ids))!;
        expect(f.processedNext).toBe(next);
        expect([...f.heldTraces!].sort()).toEqual([...ids].sort());
      }),
    );
  });

  it('round-trips conversation episode ids with any text, separators included', () => {
    fc.assert(
      fc.property(offset, fc.uniqueArray(fc.oneof(traceId, fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => `conv:${s}`), fc.constantFrom('conv:a,b', 'conv:a;b', 'conv:%2C', 'conv:*')), { maxLength: 20 }), (next, ids) => {
        const f = decodeReplayMetadata(encodeReplayMetadata(next, ids))!;
        expect(f.processedNext).toBe(next);
        expect([...f.heldTraces!].sort()).toEqual([...ids].sort());
        for (const id of ids) expect(replayKeeps(f, '0', id)).toBe(next === '0' || f.heldTraces!.has(id));
      }),
    );
  });

  it('past ~950 held ids writes the first b bits of their hashes, b as large as fits (ac4): every held trace replayed, about held ÷ 2^b of the committed ones too — it said "replay everything"', () => {
    // a committed trace is rebuilt when its first b bits equal a held key's; before, all of them were
    const held = Array.from({ length: 5_000 }, (_, i) => `${(i * 2_654_435_761) % 2 ** 32}`.padStart(32, '0'));
    const committed = Array.from({ length: 4_000 }, (_, i) => `c${i}`.padStart(32, 'f'));
    const md = encodeReplayMetadata('42', held, 3_800, 'tag.1');
    expect(md.length).toBeLessThanOrEqual(3_800);
    expect(md).toMatch(/^ac4;42;(\d+):/);
    expect(commitTagOf(md)).toBe('tag.1');
    const f = decodeReplayMetadata(md)!;
    const bits = f.keyBits!;
    expect(bits).toBeGreaterThanOrEqual(15); // ~6 bits a key in 3,800 characters: 2^15 ≥ 6 × 5,000
    for (const t of held) expect(replayKeeps(f, '10', t)).toBe(true);
    const rebuilt = committed.filter((t) => replayKeeps(f, '10', t)).length;
    // each committed trace is rebuilt with probability ≤ held ÷ 2^bits (≤ 15 % at 15 bits): far from all 4,000
    expect(rebuilt).toBeLessThan(committed.length * (held.length / 2 ** bits) * 1.5 + 40);
    for (const t of committed) expect(replayKeeps(f, '42', t)).toBe(true); // at and above processedNext: all
    // one more bit would not have fitted: b is the largest that does
    const values = [...new Set(held.map((t) => parseInt(compactKey(t).slice(1), 16) >>> (31 - bits)))].sort((a, b) => a - b);
    if (bits < 31) expect(`ac4;42;${bits + 1}:${riceEncode(values)};tag.1`.length).toBeGreaterThan(3_800);
  });

  it('an ac4 filter never skips a held id (from its offset on, when it has one): property', () => {
    fc.assert(
      fc.property(fc.uniqueArray(traceId, { minLength: 960, maxLength: 4_000 }), fc.array(fc.tuple(fc.nat(3_999), fc.bigInt({ min: 1n, max: 10n ** 12n })), { maxLength: 40 }), (held, needs) => {
        const heldFrom = new Map(needs.filter(([i]) => i < held.length).map(([i, o]) => [held[i]!, String(o)] as const));
        const md = encodeReplayMetadata('10000000000000', held, 3_800, 'tag', heldFrom);
        expect(md.length).toBeLessThanOrEqual(3_800);
        const f = decodeReplayMetadata(md)!;
        expect(f.heldTraces).toBeDefined();
        for (const t of held) expect(replayKeeps(f, heldFrom.get(t) ?? '0', t)).toBe(true);
        for (const t of held) if (!heldFrom.has(t)) expect(replayKeeps(f, '0', t)).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('says "replay everything" when not even one bit of the keys fits the limit', () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => i.toString(16).padStart(32, '0'));
    const md = encodeReplayMetadata('42', ids, 12);
    expect(md).toBe('ac1;42;*');
    const f = decodeReplayMetadata(md)!;
    expect(f.heldTraces).toBeUndefined();
    expect(replayKeeps(f, '0', 'ff'.repeat(16))).toBe(true);
  });

  it('an ac4 filter carried on by the next owner keeps its keys at their bits (a finer key would miss the ids it stands for), with corrections', () => {
    const held = Array.from({ length: 3_000 }, (_, i) => `h${i}`.padStart(32, '0'));
    const corrected = held[5]!;
    const f = decodeReplayMetadata(encodeReplayMetadata('500', held, 3_800, 't1', new Map([[corrected, '400']])))!;
    expect(f.keyBits).toBeDefined();
    expect(replayKeeps(f, '399', corrected)).toBe(false);
    expect(replayKeeps(f, '400', corrected)).toBe(true);
    // the next owner owes all but the first 10 keys and holds 3 runs of its own: few keys, but not
    // more bits than the carried ones have
    const owed = [...f.heldTraces!].slice(10);
    const own = ['a', 'b', 'c'].map((c) => c.repeat(32));
    const md = encodeReplayMetadata('500', [...owed, ...own], 3_800, 't2', new Map([[owed[0]!, '450']]));
    const g = decodeReplayMetadata(md)!;
    expect(md.startsWith('ac4;500;')).toBe(true);
    expect(g.keyBits).toBeLessThanOrEqual(f.keyBits!);
    const owedSet = new Set(owed);
    const owedIds = held.filter((t) => owedSet.has(replayKeyOf(f, t)));
    expect(owedIds.length).toBeGreaterThan(2_900);
    for (const t of owedIds) expect(replayKeeps(g, '460', t)).toBe(true); // every id an owed key stood for
    expect(replayKeeps(g, '449', held.find((t) => replayKeyOf(f, t) === owed[0])!)).toBe(owed.filter((k) => k === owed[0]).length === 0); // needed from 450 only
    for (const t of own) expect(replayKeeps(g, '100', t)).toBe(true);
    // malformed ac4: no filter
    for (const bad of ['ac4;1;32:1.1.A', 'ac4;1;0:1.1.A', 'ac4;1;4:0.1.____', 'ac4;1;8:5.1.AAAA,zz@1', 'ac4;1;8:5.1.AAAA,0000000f@1', 'ac4;1;x']) expect(decodeReplayMetadata(bad)!.heldTraces, bad).toBeUndefined();
  });

  it('writes held ids that do not fit as hashes (ac2): held traces are still replayed, committed ones still skipped', () => {
    // 200 open trace ids on a partition (~6.6 kB as ids): "replay everything" rebuilt and published
    // again every committed episode above the committed offset at each restart or rebalance
    fc.assert(
      fc.property(fc.uniqueArray(traceId, { minLength: 120, maxLength: 400 }), fc.uniqueArray(traceId, { maxLength: 50 }), fc.option(fc.stringMatching(/^[\w.-]{1,24}$/), { nil: undefined }), (held, others, tag) => {
        const md = encodeReplayMetadata('1000', held, 3_800, tag);
        expect(md.length).toBeLessThanOrEqual(3_800);
        expect(md.startsWith('ac2;1000;')).toBe(true);
        expect(commitTagOf(md)).toBe(tag);
        const f = decodeReplayMetadata(md)!;
        expect(f.compact).toBe(true);
        for (const t of held) expect(replayKeeps(f, '999', t)).toBe(true);
        // a committed trace is skipped unless its 32-bit hash is a held one's
        const keys = new Set(held.map(compactKey));
        for (const t of others) if (!held.includes(t)) expect(replayKeeps(f, '999', t)).toBe(keys.has(compactKey(t)));
        for (const t of others) expect(replayKeeps(f, '1000', t)).toBe(true);
      }),
      { numRuns: 50 },
    );
    // conversation and response ids, separators and lone surrogates included
    const mixed = [...Array.from({ length: 150 }, (_, i) => i.toString(16).padStart(32, '0')), 'conv:a,b;c', 'resp:x@1', 'conv:\ud800'];
    const f = decodeReplayMetadata(encodeReplayMetadata('7', mixed))!;
    for (const id of mixed) expect(replayKeeps(f, '6', id)).toBe(true);
    expect(replayKeeps(f, '6', 'ff'.repeat(16))).toBe(false);
  });

  it('Rice-codes sorted distinct 32-bit keys and reads them back; anything malformed reads as nothing', () => {
    const key = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xfffffffe, 0xffffffff));
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 300 }), (raw) => {
        const keys = [...raw].sort((a, b) => a - b);
        const text = riceEncode(keys)!;
        expect(text).toMatch(/^\d+\.\d+\.[\w-]*$/);
        expect(riceDecode(text)).toEqual(keys);
      }),
      { numRuns: 300 },
    );
    // dense and sparse sets (k = 0, k = 31)
    for (const keys of [Array.from({ length: 64 }, (_, i) => i), [0, 0xffffffff], [0xffffffff], []]) expect(riceDecode(riceEncode(keys)!)).toEqual(keys);
    // a limit it cannot fit: undefined, not a cut-off text
    expect(riceEncode(Array.from({ length: 100 }, (_, i) => i * 40_000_000), 20)).toBeUndefined();
    for (const bad of ['', '3.2', '32.1.AAAA', '3.5.A', '3.1.____', '2.1.A;A', 'x.1.AA', '0.2.__']) expect(riceDecode(bad), bad).toBeUndefined();
  });

  it('writes held ids that do not fit as hex hashes Golomb-Rice coded (ac3): ~950 open runs on a partition, where "replay everything" began at ~415', () => {
    // before: past ~415 ids the commit said "replay everything", and a restart or rebalance
    // published every episode committed above the committed offset again, exactly-once included
    fc.assert(
      fc.property(fc.uniqueArray(traceId, { minLength: 425, maxLength: 900 }), fc.uniqueArray(traceId, { maxLength: 50 }), fc.option(fc.stringMatching(/^[\w.-]{1,24}$/), { nil: undefined }), (held, others, tag) => {
        const md = encodeReplayMetadata('1234567890', held, 3_800, tag);
        expect(md.length).toBeLessThanOrEqual(3_800);
        expect(md.startsWith('ac3;1234567890;')).toBe(true);
        expect(commitTagOf(md)).toBe(tag);
        const f = decodeReplayMetadata(md)!;
        expect(f.compact).toBe(true);
        expect(f.heldTraces!.size).toBe(new Set(held.map(compactKey)).size);
        for (const t of held) expect(replayKeeps(f, '999', t)).toBe(true);
        const keys = new Set(held.map(compactKey));
        for (const t of others) if (!held.includes(t)) expect(replayKeeps(f, '999', t)).toBe(keys.has(compactKey(t)));
      }),
      { numRuns: 20 },
    );
    // with corrections (<key>@<offset>) and keys carried over from an earlier compact filter
    const ids = Array.from({ length: 700 }, (_, i) => (i * 7919).toString(16).padStart(32, '0'));
    const corrected = ids[11]!;
    const f = decodeReplayMetadata(encodeReplayMetadata('100', [...ids.slice(1), compactKey(ids[0]!)], 3_800, 'tag', new Map([[corrected, '60']])))!;
    expect(f.heldFrom).toEqual(new Map([[compactKey(corrected), '60']]));
    expect(replayKeeps(f, '59', corrected)).toBe(false);
    expect(replayKeeps(f, '60', corrected)).toBe(true);
    for (const id of ids) if (id !== corrected) expect(replayKeeps(f, '10', id)).toBe(true);
    // malformed ac3 (another application's metadata, or cut): no filter, replay everything
    for (const bad of ['ac3;100;5.3.A', 'ac3;100;5.1.AAAA,zz@1', 'ac3;100;5.1.AAAA,0000000f@1']) expect(decodeReplayMetadata(bad)!.heldTraces, bad).toBeUndefined();
  });

  it('a compact filter carries its corrections (<key>@<offset>) and, carried over by the next owner before it reached the position, its keys', () => {
    const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(32, '0'));
    const corrected = ids[7]!;
    const f = decodeReplayMetadata(encodeReplayMetadata('100', ids, 3_800, 'tag', new Map([[corrected, '60']])))!;
    expect(f.heldFrom).toEqual(new Map([[compactKey(corrected), '60']]));
    expect(replayKeeps(f, '59', corrected)).toBe(false); // fed the committed revision
    expect(replayKeeps(f, '60', corrected)).toBe(true);
    // the next owner commits before it reached 100: the keys it still owes (it cannot know their
    // ids) beside its own held ids, and what each is needed from
    const owed = [...f.heldTraces!].filter((k) => k !== compactKey(ids[0]!));
    const own = 'ab'.repeat(16);
    const g = decodeReplayMetadata(encodeReplayMetadata('100', [...owed, own], 3_800, 'tag2', new Map([[compactKey(corrected), '60']])))!;
    expect(g.compact).toBe(true);
    for (const id of ids.slice(1)) expect(replayKeeps(g, '50', id)).toBe(id !== corrected);
    expect(replayKeeps(g, '80', own)).toBe(true);
    expect(replayKeeps(g, '80', ids[0])).toBe(false); // handed on by the next owner since
    expect(replayKeeps(g, '60', corrected)).toBe(true);
    // a few owed keys and ids that fit as ids are still written compact: the keys name no id
    const h = decodeReplayMetadata(encodeReplayMetadata('100', [compactKey(ids[3]!), own]))!;
    expect(h.compact).toBe(true);
    expect(replayKeeps(h, '50', ids[3])).toBe(true);
    expect(replayKeeps(h, '50', own)).toBe(true);
  });

  it('carries a commit tag beside the filter, which does not change what the filter keeps', () => {
    const tag = fc.stringMatching(/^[\w.-]{1,24}$/);
    fc.assert(
      fc.property(offset, fc.uniqueArray(fc.oneof(traceId, fc.constantFrom('conv:a;b', 'conv:x,y')), { maxLength: 20 }), tag, (next, ids, t) => {
        const md = encodeReplayMetadata(next, ids, undefined, t);
        expect(commitTagOf(md)).toBe(t);
        expect(decodeReplayMetadata(md)).toEqual(decodeReplayMetadata(encodeReplayMetadata(next, ids)));
      }),
    );
    // the tag survives the "replay everything" fallback, and the limit still holds with it
    const many = Array.from({ length: 1_200 }, (_, i) => i.toString(16).padStart(32, '0'));
    const md = encodeReplayMetadata('42', many, 24, 'a1b2c3d4.17');
    expect(md.length).toBeLessThanOrEqual(24);
    expect(commitTagOf(md)).toBe('a1b2c3d4.17');
    expect(decodeReplayMetadata(md)!.heldTraces).toBeUndefined();
    // metadata without a tag (as written before tags existed) has none
    expect(commitTagOf(encodeReplayMetadata('42', ['a'.repeat(32)]))).toBeUndefined();
    expect(commitTagOf('some;other;app;value')).toBeUndefined();
    expect(() => encodeReplayMetadata('1', [], undefined, 'a;b')).toThrow(/commit tag/);
  });

  it('writes what the plain encoding (sort, encodeURIComponent, join, then the length check) writes: the early "replay everything" and the skipped escapes change nothing', () => {
    // the encoding before the shortcuts, as the reference; what does not fit as ids is written as
    // their hashes when those fit, else "replay everything"
    const plain = (next: string, held: Iterable<string>, max: number, tag?: string) => {
      const tail = tag === undefined ? '' : `;${tag}`;
      const compact = () => {
        if (new Set(held).size > max * 3) return `ac1;${next};*${tail}`; // over half of all keys even at 2 bits each
        const keys = [...new Set([...new Set(held)].map(compactKey))].sort();
        const text = `ac2;${next};${keys.map((k) => k.slice(1)).join(',')}${tail}`;
        if (text.length <= max) return text;
        const coded = `ac3;${next};${riceEncode(keys.map((k) => parseInt(k.slice(1), 16)))}${tail}`;
        if (coded.length <= max) return coded;
        for (let b = 31; b >= 1; b--) {
          const values = [...new Set(keys.map((k) => parseInt(k.slice(1), 16) >>> (32 - b)))].sort((x, y) => x - y);
          if (values.length > 2 ** b / 2) break; // naming over half of all traces: "replay everything"
          const cut = `ac4;${next};${b}:${riceEncode(values)}${tail}`;
          if (cut.length <= max) return cut;
        }
        return `ac1;${next};*${tail}`;
      };
      let ids: string[];
      try {
        ids = [...new Set(held)].sort().map(encodeURIComponent);
      } catch {
        return compact();
      }
      const full = `ac1;${next};${ids.join(',')}${tail}`;
      return full.length <= max ? full : compact();
    };
    const id = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{32}$/),
      fc.string({ unit: 'binary', maxLength: 6 }), // any UTF-16, lone surrogates included
      fc.string({ unit: fc.constantFrom('a', '-', '_', '.', '!', '~', '*', "'", '(', ')', ',', ';', '%', ' ', 'é', '\ud800'), maxLength: 6 }),
    );
    fc.assert(
      fc.property(offset, fc.array(id, { maxLength: 12 }), fc.nat(200), fc.boolean(), fc.option(fc.stringMatching(/^[\w.-]{1,8}$/), { nil: undefined }), (next, ids, max, asSet, tag) => {
        const held = asSet ? new Set(ids) : ids;
        expect(encodeReplayMetadata(next, held, max, tag)).toBe(plain(next, ids, max, tag));
      }),
      { numRuns: 2_000 },
    );
  });

  it('an id needed only from an offset above the committed one (a correction) is written <id>@<offset>, and records of it below that offset are not replayed', () => {
    fc.assert(
      fc.property(offset, fc.uniqueArray(fc.oneof(traceId, fc.constantFrom('conv:a@b', 'conv:x,y@1', 'resp:r@')), { minLength: 1, maxLength: 20 }), fc.array(offset, { minLength: 20, maxLength: 20 }), (next, ids, froms) => {
        const heldFrom = new Map(ids.filter((_, i) => i % 2 === 0).map((id, i) => [id, froms[i]!] as const));
        const f = decodeReplayMetadata(encodeReplayMetadata(next, ids, undefined, 'tag', heldFrom))!;
        expect([...f.heldTraces!].sort()).toEqual([...ids].sort());
        expect(new Map(f.heldFrom ?? [])).toEqual(new Map([...heldFrom].map(([k, v]) => [k, BigInt(v).toString()])));
      }),
    );
    const t = 'b'.repeat(32);
    const f = decodeReplayMetadata(encodeReplayMetadata('10', [t, 'c'.repeat(32)], undefined, undefined, new Map([[t, '7']])))!;
    expect(replayKeeps(f, '6', t)).toBe(false); // fed the committed revision
    expect(replayKeeps(f, '7', t)).toBe(true);
    expect(replayKeeps(f, '6', 'c'.repeat(32))).toBe(true);
    expect(replayKeeps(f, '12', t)).toBe(true);
  });

  it('a correction filter names each pending correction <id>#<revision> (with <id>#<revision>@<offset> beside other needs), read back as they were; its records are replayed whole', () => {
    fc.assert(
      fc.property(offset, fc.uniqueArray(fc.oneof(traceId, fc.constantFrom('conv:a#b', 'conv:x,y@1#2', 'resp:r#')), { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 999_999_999 }), { minLength: 20, maxLength: 20 }), fc.array(offset, { minLength: 20, maxLength: 20 }), (next, ids, revs, froms) => {
        const revisions = new Map(ids.filter((_, i) => i % 2 === 0).map((id, i) => [id, revs[i]!] as const));
        const heldFrom = new Map(ids.filter((_, i) => i % 3 === 0).map((id, i) => [id, froms[i]!] as const));
        const md = encodeCorrectionFilter(next, new Set(ids), revisions, 32_000, 'tag', heldFrom)!;
        expect(commitTagOf(md)).toBe('tag');
        const f = decodeReplayMetadata(md)!;
        expect([...f.heldTraces!].sort()).toEqual([...ids].sort());
        expect(new Map(f.revisions ?? [])).toEqual(revisions);
        expect(new Map(f.heldFrom ?? [])).toEqual(new Map([...heldFrom].map(([k, v]) => [k, BigInt(v).toString()])));
      }),
    );
    const t = 'b'.repeat(32);
    const f = decodeReplayMetadata(encodeCorrectionFilter('10', new Set([t, 'c'.repeat(32)]), new Map([[t, 2]]))!)!;
    expect(f.revisions).toEqual(new Map([[t, 2]]));
    expect(replayKeeps(f, '0', t)).toBe(true); // the records of revisions 0 and 1 too
    expect(replayKeeps(f, '0', 'd'.repeat(32))).toBe(false);
    // the plain encoder writes none, and a malformed revision reads as "replay everything"
    expect(decodeReplayMetadata(encodeReplayMetadata('10', [t]))!.revisions).toBeUndefined();
    expect(decodeReplayMetadata(`ac1;10;${t}#0`)!.heldTraces).toBeUndefined();
    expect(decodeReplayMetadata(`ac1;10;${t}#x`)!.heldTraces).toBeUndefined();
  });

  it('a correction filter is written whole or not at all (undefined): hashed keys cannot carry a revision', () => {
    const ids = new Set(Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(32, '0')));
    const first = [...ids][0]!;
    expect(encodeCorrectionFilter('10', ids, new Map([[first, 1]]), 3_800)).toBeUndefined(); // 200 trace ids: ~6,600 bytes
    expect(encodeCorrectionFilter('10', ids, new Map([[first, 1]]), 8_000)).toMatch(/^ac1;10;/);
    // a revision for an id the filter does not hold, or not a revision
    expect(encodeCorrectionFilter('10', ids, new Map([['f'.repeat(32), 1]]), 8_000)).toBeUndefined();
    expect(encodeCorrectionFilter('10', ids, new Map([[first, 0]]), 8_000)).toBeUndefined();
  });

  it('ignores metadata it did not write', () => {
    expect(decodeReplayMetadata(null)).toBeUndefined();
    expect(decodeReplayMetadata('')).toBeUndefined();
    expect(decodeReplayMetadata('some other app')).toBeUndefined();
    expect(decodeReplayMetadata('ac1;x;')).toBeUndefined();
  });

  it('below the processed position keeps only held traces; at or above keeps everything', () => {
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(32);
    const f = decodeReplayMetadata(encodeReplayMetadata('10', [a]));
    expect(replayKeeps(f, '3', a)).toBe(true);
    expect(replayKeeps(f, '3', b)).toBe(false);
    expect(replayKeeps(f, '3', undefined)).toBe(false);
    expect(replayKeeps(f, '10', b)).toBe(true);
    expect(replayKeeps(undefined, '3', b)).toBe(true);
  });

  it('a processed position written with leading zeros reads as its number (offsets compare as canonical decimals)', () => {
    const a = 'a'.repeat(32);
    const f = decodeReplayMetadata(`ac1;0010;${a}`)!;
    expect(f.processedNext).toBe('10');
    expect(replayKeeps(f, '9', 'b'.repeat(32))).toBe(false);
    expect(replayKeeps(f, '100', 'b'.repeat(32))).toBe(true);
  });
});

describe('HeldTraces', () => {
  it('tracks ids per partition until released or dropped', () => {
    const h = new HeldTraces();
    h.note('p0', 'a', '1');
    h.note('p0', 'b', '2');
    h.note('p1', 'a', '1');
    h.release(['a']);
    expect([...h.get('p0')]).toEqual(['b']);
    expect([...h.get('p1')]).toEqual([]);
    h.dropPartition('p0');
    expect(h.get('p0').size).toBe(0);
  });

  it('prunes ids first seen below the commit offset (nothing holds them any more)', () => {
    const h = new HeldTraces();
    h.note('p', 'old', '3');
    h.note('p', 'new', '9');
    h.note('p', 'new', '12'); // keeps the first (smallest) offset
    h.prune('p', '9');
    expect([...h.get('p')]).toEqual(['new']);
    h.prune('p', '10');
    expect(h.size('p')).toBe(0);
  });

  it('seenAgain: only ids seen again after their release, whose released records reach the commit offset, with the offset they are held from', () => {
    const h = new HeldTraces();
    h.note('p', 'open', '5'); // an episode still open, first seen above the commit offset: no entry
    h.note('p', 'again', '3');
    h.note('p', 'again', '4');
    h.release(['again']); // its episode closed (credited) ...
    h.note('p', 'again', '9'); // ... and a late span reopened it
    h.note('p', 'old', '1');
    h.release(['old']);
    h.note('p', 'old', '7'); // its earlier records all below the commit offset: nothing to skip
    expect(h.seenAgain('p', '2')).toEqual(new Map([['again', '9']]));
    expect(h.seenAgain('p', '5')).toEqual(new Map()); // the released records (3, 4) are below 5
    h.prune('p', '5');
    expect(h.seenAgain('p', '2')).toEqual(new Map()); // forgotten once the commit offset passed them
    expect([...h.get('p')].sort()).toEqual(['again', 'old', 'open']);
  });
});

