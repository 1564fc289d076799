/**
 * The kafkajs fast paths must put the same bytes on the wire as kafkajs itself: each replacement
 * is compared with a pristine copy of the kafkajs module it replaces, on random input, and whole
 * Produce v3 requests (record batches with headers, keys, timestamps, CRC) are encoded both ways;
 * the record encoder, which only kafkajs's compressed path uses, is compared on its own.
 */
import '../../src/kafka/kafkajs-module.js'; // installs the fast paths before anything loads kafkajs
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cJs, crc32cNative, groupMessagesPerPartition, kafkajsFastPathsReport } from '../../src/kafka/kafkajs-fast-paths.js';

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const mod = (p: string) => path.join(root, p);

/** Loads kafkajs module `p` (and everything it requires) from scratch, without the fast paths, then restores the cache. */
function pristine<T>(p: string): T {
  const saved = new Map<string, NodeJS.Module>();
  for (const [k, v] of Object.entries(require.cache)) {
    if (k.startsWith(root + path.sep) && v) {
      saved.set(k, v);
      delete require.cache[k];
    }
  }
  try {
    return require(mod(p)) as T;
  } finally {
    for (const k of Object.keys(require.cache)) if (k.startsWith(root + path.sep)) delete require.cache[k];
    for (const [k, v] of saved) require.cache[k] = v;
  }
}

type Enc = { buffer: Buffer; [m: string]: unknown };
type EncoderCtor = new (size?: number) => Enc;
const FastEncoder = require(mod('src/protocol/encoder.js')) as EncoderCtor;
const OriginalEncoder = pristine<EncoderCtor>('src/protocol/encoder.js');

/** Leaves non-zero garbage in the Buffer pool, so a byte the encoder failed to write would show. */
function dirtyPool(): void {
  for (let i = 0; i < 16; i++) Buffer.allocUnsafe(512).fill(0xa5);
}

type Op = [string, unknown];
const int = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant(null));
const bytes = fc.oneof(fc.uint8Array({ maxLength: 700 }).map((u) => Buffer.from(u)), fc.string({ maxLength: 300 }), fc.constant(null));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(fc.constant('writeInt8'), int(8)),
  fc.tuple(fc.constant('writeInt16'), int(16)),
  fc.tuple(fc.constant('writeInt32'), int(32)),
  fc.tuple(fc.constant('writeUInt32'), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  fc.tuple(fc.constant('writeInt64'), fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String))),
  fc.tuple(fc.constant('writeBoolean'), fc.boolean()),
  fc.tuple(fc.constant('writeString'), text),
  fc.tuple(fc.constant('writeVarIntString'), text),
  fc.tuple(fc.constant('writeUVarIntString'), text),
  fc.tuple(fc.constant('writeBytes'), bytes),
  fc.tuple(fc.constant('writeVarIntBytes'), bytes),
  fc.tuple(fc.constant('writeUVarIntBytes'), bytes),
  fc.tuple(fc.constant('writeVarInt'), int(32)),
  fc.tuple(fc.constant('writeUVarInt'), fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), int(32))),
  fc.tuple(fc.constant('writeVarLong'), fc.oneof(int(32), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 30) - 3, max: -(2 ** 30) + 3 }), fc.integer({ min: 2 ** 30 - 3, max: 2 ** 30 + 3 }))),
);

function run(E: EncoderCtor, ops: readonly Op[], nested: readonly Op[]): Buffer {
  const e = new E();
  for (const [m, v] of ops) (e[m] as (v: unknown) => unknown).call(e, v);
  const inner = new E(8);
  for (const [m, v] of nested) (inner[m] as (v: unknown) => unknown).call(inner, v);
  (e.writeEncoder as (x: Enc) => void).call(e, inner);
  return Buffer.from(e.buffer);
}

describe('kafkajs fast paths', () => {
  it('are installed for kafkajs 2.2.4', () => {
    expect(kafkajsFastPathsReport()).toEqual({ installed: true });
    expect(FastEncoder).not.toBe(OriginalEncoder);
  });

  it('Encoder writes the same bytes as the kafkajs original, whatever was in the pool', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(opArb, { maxLength: 10 }), (ops, nested) => {
        dirtyPool();
        const fast = run(FastEncoder, ops, nested);
        const original = run(OriginalEncoder, ops, nested);
        expect(fast.equals(original)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('crc32c, native and JavaScript, equal kafkajs crc32C on any buffer', () => {
    const original = pristine<(b: Buffer) => number>('src/protocol/recordBatch/crc32C/index.js');
    // this platform has a prebuilt @node-rs/crc32; elsewhere crc32c falls back to crc32cJs
    expect(crc32cNative).toBeDefined();
    expect(crc32c).toBe(crc32cNative);
    for (const f of [crc32c, crc32cJs]) expect(f(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), (u, skip) => {
        const b = Buffer.from(u).subarray(Math.min(skip, u.length)); // unaligned views too
        const want = original(b);
        expect(crc32cJs(b)).toBe(want);
        expect(crc32cNative!(b)).toBe(want);
        expect(crc32cNative!(new Uint8Array(b.buffer, b.byteOffset, b.length))).toBe(want); // a plain Uint8Array view too
      }),
      { numRuns: 300 },
    );
  });

  it('groups messages per partition like kafkajs, in order', () => {
    type G = (a: { topic: string; partitionMetadata: unknown[]; messages: { k: number }[]; partitioner: (a: { message: { k: number } }) => number }) => Record<number, { k: number }[]>;
    const original = pristine<G>('src/producer/groupMessagesPerPartition.js');
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 300 }), fc.integer({ min: 0, max: 6 }), (keys, parts) => {
        const args = { topic: 't', partitionMetadata: Array.from({ length: parts }, (_, i) => ({ partitionId: i })), messages: keys.map((k) => ({ k })), partitioner: ({ message }: { message: { k: number } }) => message.k % Math.max(parts, 1) };
        expect(groupMessagesPerPartition(args)).toEqual(original(args));
      }),
    );
  });

  it('whole Produce v3 requests (record batches, headers, CRC) encode to the same bytes', async () => {
    type Req = (a: object) => { encode(): Promise<{ buffer: Buffer }>; expectResponse(): boolean };
    const fastRequest = require(mod('src/protocol/requests/produce/v3/request.js')) as Req;
    const originalRequest = pristine<Req>('src/protocol/requests/produce/v3/request.js');
    const Long = require(mod('src/utils/long.js')) as { fromNumber(n: number): unknown };
    const message = fc.record({
      key: fc.oneof(fc.string(), fc.constant(null)),
      value: fc.oneof(fc.string({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }).map((u) => Buffer.from(u))),
      headers: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.uint8Array({ maxLength: 60 }).map((u) => Buffer.from(u)), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 })),
        { maxKeys: 5 },
      ),
      // kafkajs takes timestamps as strings; deltas up to ~3 years cross the 2^30 varint fast-path bound;
      // without one, kafkajs uses the partition's Date.now()
      timestamp: fc.option(fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }).map(String), { nil: undefined }),
    });
    const partition = fc.record({ partition: fc.nat(8), firstSequence: fc.nat(1000), messages: fc.array(message, { maxLength: 30 }) }, { requiredKeys: ['partition', 'messages'] });
    const topicData = fc.array(fc.record({ topic: fc.string({ minLength: 1, maxLength: 20 }), partitions: fc.array(partition, { maxLength: 3 }) }), { maxLength: 3 });
    const now = Date.now;
    try {
      await fc.assert(
        fc.asyncProperty(topicData, fc.boolean(), fc.constantFrom(undefined, 0, 1), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }), async (data, transactional, compression, clock) => {
          // the clock moves on each call, so the per-partition Date.now() must be taken as often, in the same order
          let t = clock;
          Date.now = () => (t += 7);
          const args = { acks: -1, timeout: 30000, topicData: data, compression, ...(transactional ? { transactionalId: 'tx', producerId: Long.fromNumber(42), producerEpoch: 3 } : {}) };
          dirtyPool();
          const fastReq = fastRequest(args);
          const fast = (await fastReq.encode()).buffer;
          t = clock;
          const originalReq = originalRequest(args);
          const original = (await originalReq.encode()).buffer;
          if (compression === 1) return; // gzip output is not reproducible byte for byte (header mtime); the kafkajs original encodes it
          expect(Buffer.from(fast).equals(Buffer.from(original))).toBe(true);
          expect({ ...fastReq, encode: undefined, expectResponse: fastReq.expectResponse() }).toEqual({ ...originalReq, encode: undefined, expectResponse: originalReq.expectResponse() });
        }),
        { numRuns: 100 },
      );
    } finally {
      Date.now = now;
    }
  });

  it('Produce v3–v7 requests encode to the same bytes on wider input (numeric, negative and missing timestamps, null keys and values, lone surrogates, large batches)', async () => {
    type Req = (a: object) => { apiVersion: number; encode(): Promise<{ buffer: Buffer }> };
    const versions = [3, 4, 5, 6, 7];
    const fast = versions.map((v) => require(mod(`src/protocol/requests/produce/v${v}/request.js`)) as Req);
    const original = versions.map((v) => pristine<Req>(`src/protocol/requests/produce/v${v}/request.js`));
    const Long = require(mod('src/utils/long.js')) as { fromString(s: string): unknown };
    const str = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom('', '\ud800', 'a\udc00b', 'é'.repeat(70)));
    const buf = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u));
    const bytes = fc.oneof(str, buf, fc.constant(null), fc.constant(undefined));
    // an array value: one header per element; kafkajs (flatMap) skips the holes of a sparse one
    const headerValue = fc.oneof(str, buf, fc.array(fc.oneof(str, buf), { maxLength: 3 }), fc.sparseArray(fc.oneof(str, buf), { maxLength: 4 }));
    // kafkajs sorts timestamps as strings and subtracts: numbers of different lengths, 0 (falsy: Date.now()), negatives
    const timestamp = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(0), fc.integer({ min: -1e13, max: 1e13 }), fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }).map(String));
    const message = fc.record({ key: bytes, value: bytes, headers: fc.option(fc.dictionary(str, headerValue, { maxKeys: 4 }), { nil: undefined }), timestamp }, { requiredKeys: [] });
    const partition = fc.record({ partition: fc.nat(100), firstSequence: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: undefined }), messages: fc.array(message, { maxLength: 200, size: 'large' }) }, { requiredKeys: ['partition', 'messages'] });
    const topicData = fc.array(fc.record({ topic: str, partitions: fc.array(partition, { maxLength: 3 }) }), { maxLength: 3 });
    const producerId = fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Long.fromString(b.toString())), { nil: undefined });
    const now = Date.now;
    try {
      await fc.assert(
        fc.asyncProperty(topicData, fc.option(str, { nil: undefined }), fc.constantFrom(-1, 0, 1), fc.nat(2 ** 31 - 1), producerId, fc.option(fc.integer({ min: -32768, max: 32767 }), { nil: undefined }), fc.nat(versions.length - 1), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }), async (data, transactionalId, acks, timeout, pid, producerEpoch, v, clock) => {
          let t = clock;
          Date.now = () => (t += 7);
          const args = { acks, timeout, topicData: data, transactionalId, producerId: pid, producerEpoch };
          dirtyPool();
          const fastReq = fast[v]!(args);
          const fastBytes = Buffer.from((await fastReq.encode()).buffer);
          t = clock;
          const originalReq = original[v]!(args);
          const originalBytes = Buffer.from((await originalReq.encode()).buffer);
          expect(fastReq.apiVersion).toBe(originalReq.apiVersion);
          expect(fastBytes.equals(originalBytes)).toBe(true);
        }),
        { numRuns: 300 },
      );
    } finally {
      Date.now = now;
    }
  });

  it('the record encoder (kafkajs builds compressed batches with it) writes the same bytes as kafkajs, sparse header arrays included', () => {
    type Rec = (a: object) => { buffer: Buffer };
    const fastRecord = require(mod('src/protocol/recordBatch/record/v0/index.js')) as Rec;
    const originalRecord = pristine<Rec>('src/protocol/recordBatch/record/v0/index.js');
    expect(fastRecord).not.toBe(originalRecord);
    const str = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', '\ud800', 'é'.repeat(70)));
    const buf = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u));
    const bytes = fc.oneof(str, buf, fc.constant(null), fc.constant(undefined));
    const headerValue = fc.oneof(str, buf, fc.array(fc.oneof(str, buf), { maxLength: 3 }), fc.sparseArray(fc.oneof(str, buf), { maxLength: 4 }));
    // deltas across the 2^30 bound of the 32-bit varint path, and kafkajs's Long strings
    const timestampDelta = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map(String), fc.constant(undefined));
    const record = fc.record({ offsetDelta: fc.nat(100_000), timestampDelta, key: bytes, value: bytes, headers: fc.dictionary(str, headerValue, { maxKeys: 4 }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(record, (r) => {
        dirtyPool();
        expect(Buffer.from(fastRecord(r).buffer).equals(Buffer.from(originalRecord(r).buffer))).toBe(true);
      }),
      { numRuns: 400 },
    );
    const sparse = { key: 'k', value: 'v', headers: { a: [, 'x', , Buffer.from('y')] as unknown as string[], b: [] as string[] } };
    expect(fastRecord(sparse).buffer.toString('hex')).toBe(originalRecord(sparse).buffer.toString('hex'));
  });

  it('compressed Produce requests are left to kafkajs', () => {
    type Req = (a: object) => { encode: () => unknown };
    const fastRequest = require(mod('src/protocol/requests/produce/v3/request.js')) as Req;
    const args = { acks: 1, timeout: 1000, compression: 2, topicData: [] };
    expect(fastRequest(args).encode.toString()).toBe(pristine<Req>('src/protocol/requests/produce/v3/request.js')(args).encode.toString());
  });

  it('requests are framed (size, header, payload) to the same bytes', async () => {
    type Frame = (a: { correlationId: number; clientId: string | null | undefined; request: { apiKey: number; apiVersion: number; encode(): Promise<unknown> } }) => Promise<{ buffer: Buffer }>;
    const fastFrame = require(mod('src/protocol/request.js')) as Frame;
    const originalFrame = pristine<Frame>('src/protocol/request.js');
    expect(fastFrame).not.toBe(originalFrame);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant(null), fc.constant(undefined)), fc.nat(2 ** 31 - 1), fc.nat(70), fc.nat(12), async (ops, clientId, correlationId, apiKey, apiVersion) => {
        const payload = () => {
          const e = new FastEncoder();
          for (const [m, v] of ops) (e[m] as (v: unknown) => unknown).call(e, v);
          return Promise.resolve(e);
        };
        dirtyPool();
        const fast = (await fastFrame({ correlationId, clientId, request: { apiKey, apiVersion, encode: payload } })).buffer;
        const original = (await originalFrame({ correlationId, clientId, request: { apiKey, apiVersion, encode: payload } })).buffer;
        expect(Buffer.from(fast).equals(Buffer.from(original))).toBe(true);
      }),
      { numRuns: 200 },
    );
    const notAnEncoder = { correlationId: 1, clientId: 'c', request: { apiKey: 0, apiVersion: 3, encode: () => Promise.resolve(null) } };
    await expect(fastFrame(notAnEncoder)).rejects.toThrow('value should be an instance of Encoder');
  });

  it('Produce requests are framed in place, in front of their payload, to the same bytes (client ids over the headroom, payloads grown past it)', async () => {
    type Frame = (a: { correlationId: number; clientId: string | null | undefined; request: { apiKey: number; apiVersion: number; encode(): Promise<Enc> } }) => Promise<{ buffer: Buffer }>;
    type Req = (a: object) => { apiKey: number; apiVersion: number; encode(): Promise<Enc> };
    const fastFrame = require(mod('src/protocol/request.js')) as Frame;
    const originalFrame = pristine<Frame>('src/protocol/request.js');
    const produce = require(mod('src/protocol/requests/produce/v3/request.js')) as Req;
    const message = fc.record({ key: fc.oneof(fc.string(), fc.constant(null)), value: fc.oneof(fc.string({ maxLength: 500 }), fc.string({ unit: 'grapheme', maxLength: 50 })), headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }) });
    const topicData = fc.array(fc.record({ topic: fc.string({ minLength: 1, maxLength: 20 }), partitions: fc.array(fc.record({ partition: fc.nat(8), messages: fc.array(message, { maxLength: 20 }) }), { maxLength: 3 }) }), { maxLength: 3 });
    const clientId = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', minLength: 60, maxLength: 120 }), fc.constant('c'.repeat(242)), fc.constant('c'.repeat(243)), fc.constant(null), fc.constant(undefined));
    const now = Date.now;
    try {
      Date.now = () => 1_764_000_000_000;
      await fc.assert(
        fc.asyncProperty(topicData, clientId, fc.nat(2 ** 31 - 1), fc.boolean(), async (data, id, correlationId, grow) => {
          const request = produce({ acks: -1, timeout: 30000, topicData: data });
          let payload: Enc | undefined;
          const encode = async () => {
            const e = (payload = await request.encode());
            // an estimate that fell short: the encoder grew into a buffer without the headroom
            if (grow) (e.ensureAvailable as (n: number) => void).call(e, (e.buf as Buffer).length + 1);
            return e;
          };
          dirtyPool();
          const fast = (await fastFrame({ correlationId, clientId: id, request: { ...request, encode } })).buffer;
          // framed in place (no copy) unless the payload grew or the client id is over the 256 B headroom
          const inPlace = !grow && 4 + 10 + Buffer.byteLength(id ?? '') <= 256;
          const p = payload!.buf as Buffer;
          expect(fast.buffer === p.buffer && fast.byteOffset + fast.length - (payload!.size as () => number).call(payload) === p.byteOffset).toBe(inPlace);
          const original = (await originalFrame({ correlationId, clientId: id, request: { ...request, encode } })).buffer;
          expect(Buffer.from(fast).equals(Buffer.from(original))).toBe(true);
        }),
        { numRuns: 200 },
      );
    } finally {
      Date.now = now;
    }
  });
});
