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
    throw new Error(
      `${codec}-compressed data (a Kafka batch or an HTTP body): the '${pkg}' package could not be loaded (${why}). ` +
        `Reinstall dependencies on this platform (npm ci), or have the producer use another compression.`,
    );
  }
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
export const lz4 = (): Lz4Lib => (lz4Lib ??= load<Lz4Lib>('lz4-napi', 'lz4'));
export const fzstd = (): FzstdLib => (fzstdLib ??= load<FzstdLib>('fzstd', 'zstd'));

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

/** Uncompresses xerial-framed or raw snappy. */
export function snappyDecompress(buf: Buffer): Buffer {
  const lib = snappy();
  if (!isXerial(buf)) return lib.uncompressSync(buf, { asBuffer: true });
  const blocks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error(`snappy (xerial) batch truncated: block length at byte ${at} of ${buf.length}`);
    const n = buf.readUInt32BE(at);
    at += 4;
    if (at + n > buf.length) throw new Error(`snappy (xerial) batch truncated: block of ${n} bytes at byte ${at} of ${buf.length}`);
    blocks.push(lib.uncompressSync(buf.subarray(at, at + n), { asBuffer: true }));
    at += n;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
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

export function zstdDecompress(buf: Buffer): Buffer {
  const out = fzstd().decompress(buf);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

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
const unzip = promisify(zlib.unzip);

export const KAFKAJS_CODECS: Readonly<Record<'gzip' | 'snappy' | 'lz4' | 'zstd', KafkajsCodec>> = {
  // kafkajs's own gzip codec does the same; listed so every codec the product writes is here.
  gzip: { compress: async (e) => gzip(e.buffer), decompress: async (b) => unzip(b) },
  snappy: { compress: async (e) => snappyCompress(e.buffer), decompress: async (b) => snappyDecompress(b) },
  lz4: { compress: async (e) => lz4().compressFrameSync(e.buffer), decompress: async (b) => lz4().decompressFrameSync(b) },
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
  registry[KAFKAJS_COMPRESSION_TYPES.snappy] = () => KAFKAJS_CODECS.snappy;
  registry[KAFKAJS_COMPRESSION_TYPES.lz4] = () => KAFKAJS_CODECS.lz4;
  registry[KAFKAJS_COMPRESSION_TYPES.zstd] = () => KAFKAJS_CODECS.zstd;
}
