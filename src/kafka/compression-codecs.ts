/**
 * Kafka record-batch compression codecs for kafkajs, which implements only gzip itself: a
 * snappy-, lz4- or zstd-compressed batch made kafkajs throw `KafkaJSNotImplemented` while
 * decoding the fetch, so a collector whose kafka exporter sets `producer.compression` (none by
 * default; gzip, snappy, lz4 and zstd are its other values) could not be read at all.
 *
 * Formats, as the Java client (the reference implementation) reads and writes them:
 * - snappy: the xerial framing of snappy-java's SnappyOutputStream (magic `\x82SNAPPY\0`,
 *   version, compatible version, then blocks of [int32 length][raw snappy block]); sarama,
 *   librdkafka and kafkajs-snappy may also send one raw snappy block, which is read too.
 * - lz4: the LZ4 frame format (record batches of magic 2, Kafka ≥ 0.11).
 * - zstd: zstd frames.
 *
 * The libraries: `snappy` and `lz4-napi` (napi-rs bindings, prebuilt per platform) and `fzstd`
 * (pure JavaScript zstd decompressor). Each is loaded on first use, so a platform without a
 * prebuilt binding fails only when that codec is met, with an error saying so. Compressing with
 * zstd needs `zlib.zstdCompress` (Node ≥ 22.15); see `compressionSupport`.
 *
 * Decompression is bounded (`MAX_DECOMPRESSED_BATCH_BYTES`): the fetch size bounds a batch's
 * compressed bytes only, and a few KiB of zstd or gzip can expand to gigabytes (or declare a size
 * that a decoder allocates up front). A batch over the bound fails to decode, and the consumer
 * dead-letters it (kafkajs-unreadable-batches.ts) instead of allocating it.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';

/** Compression of produced batches (`sinks.kafka.compression`); the values of Kafka's `compression.type`. */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** kafkajs's codec shape (`CompressionCodecs[type]()`). */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

function load<T>(pkg: string, codec: string): T {
  try {
    return require(pkg) as T;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CodecUnavailableError(
      `${codec}-compressed data (a Kafka batch or an HTTP body): the '${pkg}' package could not be loaded (${why}). ` +
        `Reinstall dependencies on this platform (npm ci), or have the producer use another compression.`,
    );
  }
}

/** A codec library this process cannot load: a fault of the installation, not of the data. */
export class CodecUnavailableError extends Error {
  override readonly name = 'CodecUnavailableError';
}

interface SnappyLib {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array, options?: { asBuffer: true }): Buffer;
}
interface Lz4Lib {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}
interface FzstdLib {
  decompress(data: Uint8Array): Uint8Array;
  /** Streaming decompressor: `ondata` gets each decompressed chunk. */
  Decompress: new (ondata: (data: Uint8Array, final: boolean) => void) => { push(chunk: Uint8Array, final?: boolean): void };
}

let snappyLib: SnappyLib | undefined;
let lz4Lib: Lz4Lib | undefined;
let fzstdLib: FzstdLib | undefined;
/** The codec libraries, loaded on first use (also by the OTLP/HTTP receiver's body reader). */
export const snappy = (): SnappyLib => (snappyLib ??= load<SnappyLib>('snappy', 'snappy'));
const lz4 = (): Lz4Lib => (lz4Lib ??= load<Lz4Lib>('lz4-napi', 'lz4'));
const fzstd = (): FzstdLib => (fzstdLib ??= load<FzstdLib>('fzstd', 'zstd'));

// ---- snappy (xerial framing) ----------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16; // magic, int32 version, int32 compatible version
/** snappy-java's default block size: the Java producer's chunks are this size. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function isXerial(buf: Uint8Array): boolean {
  if (buf.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (buf[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/**
 * Most bytes one Kafka record batch may decompress to (256 MiB): far above what a producer's
 * `max.request.size`/`max_message_bytes` (1 MB by default) of OTLP compresses from, far below what
 * a decompression bomb would make a consumer allocate.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

export class DecompressedTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`decompresses to more than ${maxBytes} bytes (a decompression bomb, or a batch far larger than a producer writes); not decompressed`);
  }
}

/** Length of a snappy block's decompressed data: the varint it starts with (golang/snappy, snappy.cc). */
export function snappyDecodedLength(buf: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5 && i < buf.length; i++, shift += 7) {
    const b = buf[i]!;
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return n;
  }
  throw new Error('snappy block without a length header');
}

/** Uncompresses xerial-framed or raw snappy, refusing (before allocating) more than `maxBytes`. */
export function snappyDecompress(buf: Buffer, maxBytes = MAX_DECOMPRESSED_BATCH_BYTES): Buffer {
  const lib = snappy();
  if (!isXerial(buf)) {
    if (snappyDecodedLength(buf) > maxBytes) throw new DecompressedTooLargeError(maxBytes);
    return lib.uncompressSync(buf, { asBuffer: true });
  }
  const blocks: Buffer[] = [];
  let size = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error(`snappy (xerial) batch truncated: block length at byte ${at} of ${buf.length}`);
    const n = buf.readUInt32BE(at);
    at += 4;
    if (at + n > buf.length) throw new Error(`snappy (xerial) batch truncated: block of ${n} bytes at byte ${at} of ${buf.length}`);
    const block = buf.subarray(at, at + n);
    size += snappyDecodedLength(block);
    if (size > maxBytes) throw new DecompressedTooLargeError(maxBytes);
    blocks.push(lib.uncompressSync(block, { asBuffer: true }));
    at += n;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

// ---- lz4 -------------------------------------------------------------------------------------

const LZ4_MAX_BLOCK = 4 * 1024 * 1024;

/**
 * An upper bound of an LZ4 frame's decompressed size from its headers, without decompressing:
 * blocks × maximum block size (each block decompresses to at most that; a stated content size is
 * not trusted for this, only checked too). Throws on a frame that is not well formed.
 */
function lz4FrameSizeBound(buf: Buffer): number {
  if (buf.length < 7 || buf.readUInt32LE(0) !== 0x184d2204) throw new Error('not an LZ4 frame (magic number)');
  const flg = buf[4]!;
  const bd = buf[5]!;
  const blockMax = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, LZ4_MAX_BLOCK][(bd >> 4) & 7]!;
  if (blockMax === 0) throw new Error('LZ4 frame with a bad block maximum size');
  const blockChecksum = (flg & 0x10) !== 0;
  let at = 6;
  let declared = 0;
  if ((flg & 0x08) !== 0) {
    if (buf.length < at + 8) throw new Error('LZ4 frame header truncated');
    declared = Number(buf.readBigUInt64LE(at));
    at += 8;
  }
  if ((flg & 0x01) !== 0) at += 4; // dictionary id
  at += 1; // header checksum
  let blocks = 0;
  for (;;) {
    if (at + 4 > buf.length) throw new Error('LZ4 frame truncated: no block header');
    const word = buf.readUInt32LE(at);
    at += 4;
    if (word === 0) break; // end mark
    at += (word & 0x7fffffff) + (blockChecksum ? 4 : 0);
    blocks++;
  }
  return Math.max(blocks * blockMax, declared);
}

/** Decompresses an LZ4 frame, refusing (before decompressing) one whose headers allow more than `maxBytes` + one block. */
export function lz4Decompress(buf: Buffer, maxBytes = MAX_DECOMPRESSED_BATCH_BYTES): Buffer {
  if (lz4FrameSizeBound(buf) > maxBytes + LZ4_MAX_BLOCK) throw new DecompressedTooLargeError(maxBytes);
  const out = lz4().decompressFrameSync(buf);
  if (out.length > maxBytes) throw new DecompressedTooLargeError(maxBytes);
  return out;
}

/** Compresses into the xerial framing the Java producer writes (every client reads it). */
export function snappyCompress(data: Buffer): Buffer {
  const lib = snappy();
  const parts: Buffer[] = [Buffer.alloc(XERIAL_HEADER_BYTES)];
  XERIAL_MAGIC.copy(parts[0]!, 0);
  parts[0]!.writeInt32BE(1, 8);
  parts[0]!.writeInt32BE(1, 12);
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = lib.compressSync(data.subarray(at, at + XERIAL_BLOCK_BYTES));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

// ---- zstd ------------------------------------------------------------------------------------

type ZstdCompress = (data: Buffer) => Promise<Buffer>;
const zstdCompressNative: ZstdCompress | undefined =
  typeof (zlib as { zstdCompress?: unknown }).zstdCompress === 'function'
    ? (promisify((zlib as unknown as { zstdCompress: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void }).zstdCompress) as ZstdCompress)
    : undefined;

/**
 * Decompresses zstd frames, refusing — from their headers, before fzstd allocates or decodes
 * anything — data whose cost is out of proportion (`zstdCost`): more output than `maxBytes`, a
 * buffer larger than that (fzstd allocates a frame's declared content size, or its window), or
 * window shifting beyond `ZSTD_MAX_SHIFT_BYTES` (without a declared size, fzstd moves its whole
 * window for every block, so a large window over many tiny blocks costs hours of CPU).
 */
export function zstdDecompress(buf: Buffer, maxBytes = MAX_DECOMPRESSED_BATCH_BYTES): Buffer {
  const cost = zstdCost(buf);
  // a window up to 32 MiB is always allowed: encoders pick it (8 MiB for Go's), not the data
  if (cost.outputBound > maxBytes || cost.allocBytes > Math.max(maxBytes, 32 * 1024 * 1024) || cost.shiftBytes > ZSTD_MAX_SHIFT_BYTES) {
    throw new DecompressedTooLargeError(maxBytes);
  }
  const out = fzstd().decompress(buf);
  if (out.length > maxBytes) throw new DecompressedTooLargeError(maxBytes);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Bytes of window shifting a zstd input may cost fzstd (~1 s of memmove on a slow core). */
const ZSTD_MAX_SHIFT_BYTES = 4 * 1024 * 1024 * 1024;
/** RFC 8878 Block_Maximum_Size: what one compressed block decompresses to at most. */
const ZSTD_MAX_BLOCK = 128 * 1024;

export interface ZstdCost {
  /** Upper bound of the decompressed size: raw and RLE blocks exactly, compressed blocks at their maximum. */
  outputBound: number;
  /** Largest buffer fzstd allocates for one frame: its declared content size, else its window. */
  allocBytes: number;
  /** Bytes fzstd moves shifting windows: window × blocks of each frame without a declared size. */
  shiftBytes: number;
  /** Largest window of the frames (a single-segment frame's window is its content size). */
  largestWindow: number;
}

/**
 * What decoding `buf` would cost, from the zstd frame and block headers (RFC 8878 §3.1.1) without
 * decompressing. Throws on bytes that are not zstd frames.
 */
export function zstdCost(buf: Uint8Array): ZstdCost {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const cost: ZstdCost = { outputBound: 0, allocBytes: 0, shiftBytes: 0, largestWindow: 0 };
  let at = 0;
  while (at < buf.length) {
    if (at + 8 > buf.length) throw new Error(`zstd data truncated at byte ${at}`);
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      at += 8 + view.getUint32(at + 4, true); // skippable frame
      continue;
    }
    if (magic !== 0xfd2fb528) throw new Error(`not a zstd frame at byte ${at} (magic number)`);
    const fhd = buf[at + 4]!;
    const singleSegment = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    let p = at + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = buf[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    p += dictBytes;
    if (p + fcsBytes > buf.length) throw new Error(`zstd frame header truncated at byte ${at}`);
    let declared = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) declared = declared * 256 + buf[p + i]!;
    if (fcsBytes === 2) declared += 256;
    if (singleSegment) window = declared;
    p += fcsBytes;
    let output = 0;
    let blocks = 0;
    const blockMax = Math.min(window || ZSTD_MAX_BLOCK, ZSTD_MAX_BLOCK);
    for (;;) {
      if (p + 3 > buf.length) throw new Error(`zstd frame truncated at byte ${p}`);
      const header = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16);
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new Error(`zstd block of reserved type at byte ${p}`);
      output += type === 2 ? blockMax : size; // raw, RLE: exactly their size
      blocks++;
      p += 3 + (type === 1 ? 1 : size); // RLE: one byte
      if (header & 1) break; // last block
    }
    at = p + ((fhd >> 2) & 1 ? 4 : 0); // content checksum
    cost.outputBound += declared > 0 ? Math.min(output, declared) : output;
    cost.allocBytes = Math.max(cost.allocBytes, declared > 0 ? declared : window);
    if (declared === 0) cost.shiftBytes += window * blocks;
    cost.largestWindow = Math.max(cost.largestWindow, window);
  }
  return cost;
}

/** gzip or zlib data, decompressed up to `maxBytes` (zlib stops there). */
export const unzipBounded = (buf: Buffer, maxBytes = MAX_DECOMPRESSED_BATCH_BYTES): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    zlib.unzip(buf, { maxOutputLength: maxBytes }, (err, out) => {
      if (err) reject((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? new DecompressedTooLargeError(maxBytes) : err);
      else resolve(out);
    }),
  );

/**
 * Whether this process can write batches with `compression` (all codecs can be read). Only zstd
 * depends on the runtime: Node's zlib has it from 22.15.
 */
export function compressionSupport(compression: KafkaCompression): { ok: true } | { ok: false; reason: string } {
  if (compression === 'zstd' && !zstdCompressNative) {
    return { ok: false, reason: `zstd compression needs Node.js ≥ 22.15 (zlib.zstdCompress); this is ${process.version}: use lz4, snappy or gzip, or run a newer Node` };
  }
  return { ok: true };
}

// ---- the kafkajs codecs ------------------------------------------------------------------------

const gzip = promisify(zlib.gzip);

export const KAFKAJS_CODECS: Readonly<Record<'gzip' | 'snappy' | 'lz4' | 'zstd', KafkajsCodec>> = {
  // kafkajs's own gzip codec does the same, but without a bound on the output.
  gzip: { compress: async (e) => gzip(e.buffer), decompress: (b) => unzipBounded(b) },
  snappy: { compress: async (e) => snappyCompress(e.buffer), decompress: async (b) => snappyDecompress(b) },
  lz4: { compress: async (e) => lz4().compressFrameSync(e.buffer), decompress: async (b) => lz4Decompress(b) },
  zstd: {
    compress: async (e) => {
      const support = compressionSupport('zstd');
      if (!support.ok || !zstdCompressNative) throw new Error(support.ok ? 'zstd compression is unavailable in this process' : support.reason);
      return zstdCompressNative(e.buffer);
    },
    decompress: async (b) => zstdDecompress(b),
  },
};

/** kafkajs's compression type numbers (Kafka's batch attribute bits). */
export const KAFKAJS_COMPRESSION_TYPES: Readonly<Record<KafkaCompression, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Puts the codecs into kafkajs's registry (`CompressionCodecs`), replacing its "not implemented" stubs. */
export function registerKafkajsCodecs(registry: Record<number, () => KafkajsCodec>): void {
  registry[KAFKAJS_COMPRESSION_TYPES.gzip] = () => KAFKAJS_CODECS.gzip;
  registry[KAFKAJS_COMPRESSION_TYPES.snappy] = () => KAFKAJS_CODECS.snappy;
  registry[KAFKAJS_COMPRESSION_TYPES.lz4] = () => KAFKAJS_CODECS.lz4;
  registry[KAFKAJS_COMPRESSION_TYPES.zstd] = () => KAFKAJS_CODECS.zstd;
}
