/**
 * Faster, byte-identical replacements for seven kafkajs 2.2.4 produce-path internals.
 *
 * Why: publishing the credit events is the largest single cost of the Kafka pipeline (bench
 * "pipeline", publish floor), and a CPU profile of kafkajs sending them shows most of it in
 * encoding, not I/O: every record and every header gets its own zero-filled 512-byte Buffer
 * (plus zero-filled growth), varints go through `Buffer.from([...])`, the record-batch CRC-32C is
 * computed a byte at a time, and `groupMessagesPerPartition` copies the partition's array for
 * every message (quadratic in the batch). kafkajs 2.2.4 is the final release, so these internals
 * are fixed; the replacements are installed only for exactly that version.
 *
 * What changes, and why the bytes on the wire cannot:
 * - `Encoder` buffers come from `Buffer.allocUnsafe` (the pooled allocator). An Encoder only ever
 *   exposes `buf[0, offset)` (`buffer`, `size`), and every write method writes each byte it
 *   advances `offset` over, so stale pool bytes are never read.
 * - `writeUVarInt` writes its bytes in place (same loop as kafkajs, no temporary array/Buffer);
 *   `writeVarLong` takes the 32-bit path for integers |v| < 2^30, whose zig-zag-64 value equals the
 *   zig-zag-32 one; anything else goes through kafkajs's Long code as before.
 * - CRC-32C by `@node-rs/crc32` (native), or slicing-by-16 tables where that does not load (the
 *   same Castagnoli polynomial, same result).
 * - Messages grouped per partition in one pass (same object shape, same order).
 * - An uncompressed Produce v3–v7 request, and the size-prefixed request around any payload, each
 *   written into one buffer instead of nested Encoders copied into each other
 *   (kafkajs-produce-request.ts says how).
 * - A record is written into one Encoder sized for it up front, headers inline, instead of one
 *   Encoder per header copied in afterwards (same fields, same order, same length prefix).
 * test/kafka/kafkajs-fast-paths.test.ts checks each against the kafkajs original on random input.
 *
 * Opt out with AGENT_CREDIT_KAFKAJS_FAST_PATHS=off (kafkajs then runs unmodified).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { kafkajsRoot } from './kafkajs-internals.js';
import { createRequest, flattenHeaders, produceRequestV3, type HeaderValue, type ProduceDeps, type ProduceEncoderClass } from './kafkajs-produce-request.js';

/** The kafkajs version whose internals these replace; any other version is left alone. */
const KAFKAJS_FAST_PATHS_VERSION = '2.2.4';

export interface FastPathsReport {
  /** True when every replacement is in place. */
  readonly installed: boolean;
  /** Why not (or which parts are missing), for a debug log. */
  readonly reason?: string;
}

// ---------- pure replacements ----------

const CRC32C_TABLES = (() => {
  const t = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * CRC-32C (Castagnoli) of `buf`, unsigned, in JavaScript; slicing-by-16, reading four bytes at a
 * time through a DataView (a third less CPU than slicing-by-8 with byte loads). Same value as
 * kafkajs's `crc32C/index.js`. The fallback of `crc32c` where the native module does not load.
 */
export function crc32cJs(buf: Uint8Array): number {
  const t = CRC32C_TABLES;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let c = -1;
  let i = 0;
  const end16 = buf.length - 16;
  for (; i <= end16; i += 16) {
    const a = view.getInt32(i, true) ^ c;
    const b = view.getInt32(i + 4, true);
    const d = view.getInt32(i + 8, true);
    const e = view.getInt32(i + 12, true);
    c =
      t[3840 + (a & 0xff)]! ^
      t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^
      t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^
      t[2560 + ((b >>> 8) & 0xff)]! ^
      t[2304 + ((b >>> 16) & 0xff)]! ^
      t[2048 + (b >>> 24)]! ^
      t[1792 + (d & 0xff)]! ^
      t[1536 + ((d >>> 8) & 0xff)]! ^
      t[1280 + ((d >>> 16) & 0xff)]! ^
      t[1024 + (d >>> 24)]! ^
      t[768 + (e & 0xff)]! ^
      t[512 + ((e >>> 8) & 0xff)]! ^
      t[256 + ((e >>> 16) & 0xff)]! ^
      t[e >>> 24]!;
  }
  for (; i < buf.length; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** `@node-rs/crc32`'s `crc32c`: unsigned, the same value as `crc32cJs`. */
type Crc32c = (buf: Uint8Array) => number;

/**
 * The native CRC-32C of `@node-rs/crc32` (napi-rs, prebuilt per platform; hardware CRC32
 * instructions where the CPU has them), or undefined where it does not load. It is ~3.4× faster
 * than `crc32cJs` on record-batch sizes (4 KiB–1 MiB: ~8.5 vs ~2.5 GB/s here), and the CRC of every
 * produced batch is on the consumer thread's publish path. Loaded with `require` inside try/catch,
 * not imported: a platform without a prebuilt binary (or an install without optional
 * dependencies) must still run, on the JavaScript CRC, instead of failing at import.
 */
export const crc32cNative: Crc32c | undefined = (() => {
  try {
    const lib = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    return typeof lib.crc32c === 'function' ? (lib.crc32c as Crc32c) : undefined;
  } catch {
    return undefined;
  }
})();

/** CRC-32C (Castagnoli) of `buf`, unsigned: native where it loads, else `crc32cJs` (same values). */
export const crc32c: Crc32c = crc32cNative ?? crc32cJs;

interface GroupArgs<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (a: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** kafkajs `groupMessagesPerPartition` in one pass: `{ [partition]: messages in order }`. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

// ---------- Encoder patches ----------

type Bytes = Buffer | string | null | undefined;
interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeInt8(value: number): EncoderLike;
  writeVarInt(value: number): EncoderLike;
  writeUVarInt(value: number): EncoderLike;
  writeVarLong(value: unknown): EncoderLike;
  writeVarIntBytes(value: Bytes): EncoderLike;
  writeVarIntString(value: string | null | undefined): EncoderLike;
}
interface EncoderClass {
  new (initialSize?: number): EncoderLike;
  prototype: EncoderLike;
  nextPowerOfTwo(value: number): number;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: unknown): number;
  sizeOfVarIntBytes(value: Bytes): number;
}

/** |v| < 2^30: zig-zag-64 equals zig-zag-32, so the 32-bit varint code gives the same bytes. */
const smallInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > -0x40000000 && v < 0x40000000;

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}

/**
 * kafkajs `recordBatch/record/v0` (Record v2 of the Kafka protocol) written into one Encoder:
 * length, attributes, timestamp and offset deltas, key, value, then the headers inline (kafkajs
 * builds an Encoder per header and copies each in; the bytes are the same).
 */
function recordEncoder(Encoder: EncoderClass): (args: RecordArgs) => EncoderLike {
  const sizeOfVarLong = (v: unknown) => (smallInt(v) ? Encoder.sizeOfVarInt(v) : Encoder.sizeOfVarLong(v));
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const headerKeys: string[] = [];
    const headerValues: HeaderValue[] = [];
    // Same flattening and the same size arithmetic as kafkajs (including its Buffer.byteLength on each value).
    let headersSize = 0;
    flattenHeaders(headers, headerKeys, headerValues);
    headersSize += Encoder.sizeOfVarInt(headerKeys.length);
    for (let i = 0; i < headerKeys.length; i++) {
      const keySize = Buffer.byteLength(headerKeys[i]!);
      const valueSize = Buffer.byteLength(headerValues[i] as string);
      headersSize += Encoder.sizeOfVarInt(keySize) + keySize;
      headersSize += headerValues[i] === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize;
    }
    const sizeOfBody = 1 + sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headersSize;
    const e = new Encoder(sizeOfBody + 5);
    e.writeVarInt(sizeOfBody).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(headerKeys.length);
    for (let i = 0; i < headerKeys.length; i++) e.writeVarIntString(headerKeys[i]).writeVarIntBytes(headerValues[i]);
    return e;
  };
}

/** A constructor sharing `Encoder`'s prototype and statics whose buffer comes from the pool. */
function pooledEncoderClass(Encoder: EncoderClass): EncoderClass {
  function PooledEncoder(this: EncoderLike, initialSize = 511): void {
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  Object.setPrototypeOf(PooledEncoder, Encoder); // statics (sizeOfVarInt, …) resolve through the class
  PooledEncoder.prototype = Encoder.prototype; // instanceof holds both ways
  return PooledEncoder as unknown as EncoderClass;
}

function patchEncoderPrototype(Encoder: EncoderClass): void {
  const proto = Encoder.prototype;
  const originalVarLong = proto.writeVarLong;
  proto.ensureAvailable = function ensureAvailable(this: EncoderLike, length: number): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  proto.writeUVarInt = function writeUVarInt(this: EncoderLike, value: number): EncoderLike {
    this.ensureAvailable(5); // at most 5 bytes: the first `>>>=` leaves 32 bits
    const buf = this.buf;
    let o = this.offset;
    let v = value;
    while ((v & 0xffffff80) !== 0) {
      buf[o++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[o++] = v & 0x7f;
    this.offset = o;
    return this;
  };
  proto.writeVarLong = function writeVarLong(this: EncoderLike, value: unknown): EncoderLike {
    if (smallInt(value)) {
      return this.writeUVarInt((value << 1) ^ (value >> 31));
    }
    return originalVarLong.call(this, value);
  };
}

// ---------- installation ----------

type Require = NodeJS.Require;

/** Replacements by kafkajs module path (relative to the package root). */
const MODULES = {
  encoder: 'src/protocol/encoder.js',
  crc32c: 'src/protocol/recordBatch/crc32C/index.js',
  group: 'src/producer/groupMessagesPerPartition.js',
  record: 'src/protocol/recordBatch/record/v0/index.js',
  produceV3: 'src/protocol/requests/produce/v3/request.js',
  request: 'src/protocol/request.js',
} as const;

let report: FastPathsReport | undefined;

/**
 * Installs the replacements into `require`'s module cache before kafkajs itself is loaded (call it
 * before the first `require('kafkajs')`; src/kafka/kafkajs-module.ts does). Idempotent. Modules
 * kafkajs already loaded keep the originals they hold; the report then says so (output bytes are
 * the same either way).
 */
export function installKafkajsFastPaths(req: Require, enabled = process.env.AGENT_CREDIT_KAFKAJS_FAST_PATHS !== 'off'): FastPathsReport {
  if (report) return report;
  if (!enabled) return (report = { installed: false, reason: 'AGENT_CREDIT_KAFKAJS_FAST_PATHS=off' });
  const found = kafkajsRoot(req, KAFKAJS_FAST_PATHS_VERSION);
  if ('reason' in found) return (report = { installed: false, reason: found.reason });
  const { root } = found;
  const paths = Object.fromEntries(Object.entries(MODULES).map(([k, p]) => [k, path.join(root, p)])) as Record<keyof typeof MODULES, string>;
  // A replaced module kafkajs already loaded is held, as the original, by the kafkajs modules that
  // required it; one not loaded yet reaches every module through the cache (kafkajs loads its
  // request modules lazily, so `require('kafkajs')` first still leaves most produce code to the fast paths).
  const loadedBefore = (Object.keys(MODULES) as (keyof typeof MODULES)[]).filter((k) => req.cache[paths[k]] !== undefined).map((k) => MODULES[k]);

  const Encoder = req(paths.encoder) as EncoderClass;
  patchEncoderPrototype(Encoder);
  req(paths.crc32c);
  req(paths.group);
  req(paths.record);
  const Pooled = pooledEncoderClass(Encoder);
  req.cache[paths.encoder]!.exports = Pooled;
  req.cache[paths.crc32c]!.exports = crc32c;
  req.cache[paths.group]!.exports = groupMessagesPerPartition;
  req.cache[paths.record]!.exports = recordEncoder(Pooled);
  // loaded after the replacements above, so kafkajs's own produce request (kept for compressed
  // batches) uses them too
  const originalProduce = req(paths.produceV3) as ProduceDeps['original'];
  req(paths.request);
  const Long = req(path.join(root, 'src/utils/long.js')) as ProduceDeps['Long'];
  req.cache[paths.produceV3]!.exports = produceRequestV3({ Encoder: Pooled as unknown as ProduceEncoderClass, crc32c, Long, original: originalProduce });
  req.cache[paths.request]!.exports = createRequest(Pooled as unknown as ProduceEncoderClass);
  return (report =
    loadedBefore.length > 0
      ? { installed: false, reason: `kafkajs was loaded before the fast paths: the kafkajs modules loaded then keep the original ${loadedBefore.join(', ')}; the Encoder prototype patches and modules kafkajs loads later use the fast paths` }
      : { installed: true });
}

/** What the last `installKafkajsFastPaths` call did (undefined before the first). */
export function kafkajsFastPathsReport(): FastPathsReport | undefined {
  return report;
}
