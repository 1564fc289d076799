import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { chunkRecords, recordBytes, type ChunkLimits, type SizedRecord } from '../../src/kafka/produce-chunks.js';

interface Rec extends SizedRecord {
  readonly id: number;
}

/** Where each record went: chunk index and position inside the chunk. */
function positions(chunks: readonly (readonly Rec[])[]): Map<number, { chunk: number; index: number }> {
  const out = new Map<number, { chunk: number; index: number }>();
  chunks.forEach((c, chunk) => c.forEach((r, index) => out.set(r.id, { chunk, index })));
  return out;
}

/** Estimated bytes of each partition's batch in a chunk, unknown-partition records counted in every partition of their topic. */
function batchLoads(chunk: readonly Rec[]): { load: number; records: number }[] {
  const loads: { load: number; records: number }[] = [];
  const topics = new Set(chunk.map((r) => r.topic));
  for (const t of topics) {
    const ofTopic = chunk.filter((r) => r.topic === t);
    const unknown = ofTopic.filter((r) => r.partition === undefined);
    const parts = new Set(ofTopic.flatMap((r) => (r.partition === undefined ? [] : [r.partition])));
    if (parts.size === 0) parts.add(-1); // only unknown-partition records: one (unknown) batch
    for (const p of parts) {
      const rs = [...ofTopic.filter((r) => r.partition === p), ...unknown];
      loads.push({ load: rs.reduce((s, r) => s + r.bytes, 0), records: rs.length });
    }
  }
  return loads;
}

const recordsArb = fc
  .array(
    fc.record({
      topic: fc.constantFrom('a', 'b', 'c'),
      partition: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined, freq: 6 }),
      bytes: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 64, max: 400 }) }, { weight: 1, arbitrary: fc.integer({ min: 400, max: 3000 }) }),
    }),
    { maxLength: 300 },
  )
  .map((rs) => rs.map((r, id): Rec => ({ ...r, id })));

const limitsArb = fc.record({ partitionBytes: fc.integer({ min: 100, max: 2000 }), requestBytes: fc.integer({ min: 200, max: 6000 }) });

describe('chunkRecords (per-partition produce chunks)', () => {
  it('sends every record exactly once, within both bounds, keeping the order of records that may share a partition', () => {
    fc.assert(
      fc.property(recordsArb, limitsArb, (records, limits: ChunkLimits) => {
        const chunks = chunkRecords(records, limits);
        // exactly once
        expect(chunks.flat().map((r) => r.id).sort((x, y) => x - y)).toEqual(records.map((r) => r.id));
        expect(chunks.every((c) => c.length > 0)).toBe(true);
        for (const c of chunks) {
          const total = c.reduce((s, r) => s + r.bytes, 0);
          expect(c.length === 1 || total <= limits.requestBytes).toBe(true);
          for (const b of batchLoads(c)) expect(b.records === 1 || b.load <= limits.partitionBytes).toBe(true);
        }
        // order: a before b in the input and possibly the same partition ⇒ a is sent first
        const pos = positions(chunks);
        for (let i = 0; i < records.length; i++) {
          for (let j = i + 1; j < records.length; j++) {
            const a = records[i]!;
            const b = records[j]!;
            if (a.topic !== b.topic) continue;
            if (a.partition !== undefined && b.partition !== undefined && a.partition !== b.partition) continue;
            const pa = pos.get(a.id)!;
            const pb = pos.get(b.id)!;
            expect(pa.chunk < pb.chunk || (pa.chunk === pb.chunk && pa.index < pb.index)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a chunk holds up to the partition bound in every partition at once (not the bound in total)', () => {
    // 3 partitions × 6 records of 300 B, interleaved; 3 records (900 B) fit a 1000 B partition batch.
    const records: Rec[] = [];
    for (let i = 0; i < 18; i++) records.push({ id: i, topic: 't', partition: i % 3, bytes: 300 });
    const chunks = chunkRecords(records, { partitionBytes: 1000, requestBytes: 10_000 });
    expect(chunks.map((c) => c.length)).toEqual([9, 9]);
    expect(chunks[0]!.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("a topic's own batch cap (its max.message.bytes is below the partition bound) cuts only that topic's batches", () => {
    // 4 records of 300 B on one partition of each topic; 'small' takes 700 B per batch, 'big' the default 10 000
    const records: Rec[] = [];
    for (let i = 0; i < 8; i++) records.push({ id: i, topic: i < 4 ? 'small' : 'big', partition: 0, bytes: 300 });
    const chunks = chunkRecords(records, { partitionBytes: 10_000, requestBytes: 100_000, topicPartitionBytes: new Map([['small', 700]]) });
    for (const c of chunks) expect(c.filter((r) => r.topic === 'small').reduce((b, r) => b + r.bytes, 0)).toBeLessThanOrEqual(700);
    expect(chunks.map((c) => c.filter((r) => r.topic === 'small').length)).toEqual([2, 2]);
    expect(chunks[0]!.filter((r) => r.topic === 'big')).toHaveLength(4);
  });

  it('a partition that fills up does not hold back the others: later records of other partitions join earlier chunks', () => {
    const hot = Array.from({ length: 6 }, (_, i): Rec => ({ id: i, topic: 't', partition: 0, bytes: 500 }));
    const cold: Rec = { id: 6, topic: 't', partition: 1, bytes: 500 };
    const chunks = chunkRecords([...hot, cold], { partitionBytes: 1000, requestBytes: 10_000 });
    expect(chunks.map((c) => c.map((r) => r.id))).toEqual([[0, 1, 6], [2, 3], [4, 5]]);
  });

  it('a record above the partition bound goes alone in its partition batch but may share the request', () => {
    const records: Rec[] = [
      { id: 0, topic: 't', partition: 0, bytes: 100 },
      { id: 1, topic: 't', partition: 1, bytes: 5000 },
      { id: 2, topic: 't', partition: 1, bytes: 100 },
      { id: 3, topic: 'u', partition: 1, bytes: 100 },
    ];
    const chunks = chunkRecords(records, { partitionBytes: 1000, requestBytes: 100_000 });
    expect(chunks.map((c) => c.map((r) => r.id))).toEqual([[0, 1, 3], [2]]);
    // above the request bound too: alone in its request
    expect(chunkRecords(records, { partitionBytes: 1000, requestBytes: 2000 }).map((c) => c.map((r) => r.id))).toEqual([[0, 3], [1], [2]]);
  });

  it('records without a known partition count against every partition of their topic', () => {
    const records: Rec[] = [
      { id: 0, topic: 't', partition: undefined, bytes: 600 },
      { id: 1, topic: 't', partition: 3, bytes: 600 },
      { id: 2, topic: 'other', partition: 3, bytes: 600 },
    ];
    const chunks = chunkRecords(records, { partitionBytes: 1000, requestBytes: 100_000 });
    expect(chunks.map((c) => c.map((r) => r.id))).toEqual([[0, 2], [1]]);
  });

  it('rejects non-positive limits', () => {
    expect(() => chunkRecords([], { partitionBytes: 0, requestBytes: 1 })).toThrow(/partitionBytes/);
    expect(chunkRecords([])).toEqual([]);
  });
});

describe('recordBytes', () => {
  it('counts UTF-8 bytes of key, value and headers plus a fixed per-record overhead', () => {
    const base = recordBytes({ key: null, value: '' });
    expect(recordBytes({ key: null, value: 'é' })).toBe(base + 2);
    expect(recordBytes({ key: 'ab', value: new Uint8Array(10) })).toBe(base + 12);
    expect(recordBytes({ key: new Uint8Array(3), value: '', headers: { 'content-type': 'application/json', b: new Uint8Array(4) } })).toBe(
      base + 3 + 'content-type'.length + 'application/json'.length + 1 + 4 + 4, // + a length varint per header name and value
    );
  });

  it('is never below the record as a v2 batch holds it (kafkajs\'s record encoder), whatever its headers — tens of thousands of them included', () => {
    const Record = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer };
    const bytes = fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(fc.option(bytes, { nil: null }), bytes, fc.dictionary(fc.string({ maxLength: 200 }), bytes, { maxKeys: 20 }), (key, value, headers) => {
        const r = { key, value, headers };
        const encoded = Record({ key: toBuffer(key), value: toBuffer(value), headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, toBuffer(v)])) }).buffer.length;
        expect(recordBytes(r)).toBeGreaterThanOrEqual(encoded);
      }),
      { numRuns: 300 },
    );
    // a hostile record: 50,000 headers with short names and empty values
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50_000; i++) many[i.toString(36)] = new Uint8Array(0);
    const encoded = Record({ key: null, value: Buffer.alloc(10), headers: Object.fromEntries(Object.entries(many).map(([k, v]) => [k, Buffer.from(v)])) }).buffer.length;
    expect(recordBytes({ key: null, value: new Uint8Array(10), headers: many })).toBeGreaterThanOrEqual(encoded); // ~100 KB short without the header lengths
  });
});

const toBuffer = (b: string | Uint8Array | null) => (b === null ? null : typeof b === 'string' ? Buffer.from(b) : Buffer.from(b));
