/**
 * The compression codecs registered into kafkajs (src/kafka/compression-codecs.ts). The Java
 * client is the reference for the wire formats: test/integration/pipeline-compression.test.ts
 * reads its gzip/snappy/lz4/zstd batches and has it read ours. Here: framing, round trips, errors.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecompressedTooLargeError,
  KAFKAJS_CODECS,
  MAX_DECOMPRESSED_BATCH_BYTES,
  compressionSupport,
  lz4Decompress,
  snappyCompress,
  snappyDecompress,
  unzipBounded,
  zstdDecompress,
  zstdCost,
} from '../../src/kafka/compression-codecs.js';
import '../../src/kafka/kafkajs-module.js';
import { loadConfig } from '../../src/config/index.js';

const require = createRequire(import.meta.url);

describe('snappy (xerial framing, as snappy-java writes it)', () => {
  it('writes the xerial header and 32 KiB blocks, and reads them back', () => {
    const data = Buffer.from('span attributes '.repeat(5_000)); // 80,000 bytes → 3 blocks
    const framed = snappyCompress(data);
    expect(framed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    expect(framed.readInt32BE(8)).toBe(1);
    expect(framed.readInt32BE(12)).toBe(1);
    let blocks = 0;
    for (let at = 16; at < framed.length; at += 4 + framed.readUInt32BE(at)) blocks++;
    expect(blocks).toBe(3);
    expect(snappyDecompress(framed).equals(data)).toBe(true);
  });

  it('round-trips any bytes, framed or as one raw block (sarama, librdkafka)', () => {
    const raw = require('snappy') as { compressSync(b: Buffer): Buffer };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(snappyDecompress(snappyCompress(data)).equals(data)).toBe(true);
        expect(snappyDecompress(raw.compressSync(data)).equals(data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a truncated framed batch fails with a reason, not garbage', () => {
    const framed = snappyCompress(Buffer.from('x'.repeat(1_000)));
    expect(() => snappyDecompress(framed.subarray(0, framed.length - 3))).toThrow(/snappy \(xerial\) batch truncated: block of \d+ bytes/);
    expect(() => snappyDecompress(Buffer.concat([framed, Buffer.from([0, 0])]))).toThrow(/truncated: block length at byte/);
  });
});

describe('kafkajs codecs', () => {
  it('are the ones kafkajs looks up for snappy (2), lz4 (3) and zstd (4) once kafkajs-module is loaded', () => {
    const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as { lookupCodec(t: number): unknown };
    expect(lookupCodec(2)).toBe(KAFKAJS_CODECS.snappy);
    expect(lookupCodec(3)).toBe(KAFKAJS_CODECS.lz4);
    expect(lookupCodec(4)).toBe(KAFKAJS_CODECS.zstd);
  });

  it('gzip, snappy and lz4 round-trip a record set', async () => {
    const data = Buffer.from(JSON.stringify({ spans: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `tool call ${i % 7}` })) }));
    for (const name of ['gzip', 'snappy', 'lz4'] as const) {
      const codec = KAFKAJS_CODECS[name];
      const packed = await codec.compress({ buffer: data });
      expect(packed.length, name).toBeLessThan(data.length / 2);
      expect((await codec.decompress(packed)).equals(data), name).toBe(true);
    }
  });

  it('zstd is written only where Node has zlib.zstdCompress (≥ 22.15), and says so elsewhere', async () => {
    const native = typeof (zlib as { zstdCompress?: unknown }).zstdCompress === 'function';
    expect(compressionSupport('zstd').ok).toBe(native);
    for (const k of ['none', 'gzip', 'snappy', 'lz4'] as const) expect(compressionSupport(k).ok).toBe(true);
    const data = Buffer.from('evaluation '.repeat(500));
    if (native) {
      const packed = await KAFKAJS_CODECS.zstd.compress({ buffer: data });
      expect((await KAFKAJS_CODECS.zstd.decompress(packed)).equals(data)).toBe(true);
    } else {
      await expect(KAFKAJS_CODECS.zstd.compress({ buffer: data })).rejects.toThrow(/zstd compression needs Node\.js ≥ 22\.15/);
    }
  });
});

describe('sinks.kafka.compression', () => {
  it('defaults to none and takes the codecs Kafka names', () => {
    expect(loadConfig({ env: {} }).config.sinks.kafka.compression).toBe('none');
    expect(loadConfig({ text: 'sinks:\n  kafka:\n    compression: lz4\n', env: {} }).config.sinks.kafka.compression).toBe('lz4');
  });

  it('an unknown codec names the key and the choices', () => {
    expect(() => loadConfig({ text: 'sinks:\n  kafka:\n    compression: brotli\n', env: {} })).toThrow(/sinks\.kafka\.compression: expected one of "none" \| "gzip" \| "snappy" \| "lz4" \| "zstd", got "brotli"/);
  });

  it.runIf(!compressionSupport('zstd').ok)('zstd where this Node cannot write it: the key and the fix', () => {
    expect(() => loadConfig({ text: 'sinks:\n  kafka:\n    compression: zstd\n', env: {} })).toThrow(/sinks\.kafka\.compression: zstd compression needs Node\.js ≥ 22\.15 .* use lz4, snappy or gzip/);
  });
});

/**
 * A zstd frame (RFC 8878) of `blocks` blocks of `size` bytes of `byte`, RLE or raw; hand-made, as
 * bombs are. Without `declaredSize`: no content size, window 2^`windowLog`.
 */
function zstdFrame(blocks: number, size: number, byte: number, opts: { declaredSize?: bigint; windowLog?: number; raw?: boolean } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];
  if (opts.declaredSize === undefined) parts.push(Buffer.from([0x00, ((opts.windowLog ?? 20) - 10) << 3]));
  else {
    const fcs = Buffer.alloc(8);
    fcs.writeBigUInt64LE(opts.declaredSize);
    parts.push(Buffer.from([0xe0]), fcs); // single segment, 8-byte content size
  }
  for (let i = 0; i < blocks; i++) {
    const header = (size << 3) | ((opts.raw ? 0 : 1) << 1) | (i === blocks - 1 ? 1 : 0);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), opts.raw ? Buffer.alloc(size, byte) : Buffer.from([byte]));
  }
  return Buffer.concat(parts);
}

describe('decompression is bounded (MAX_DECOMPRESSED_BATCH_BYTES)', () => {
  it('zstd: a frame declaring 1 GiB is refused from its header, before fzstd would allocate it', async () => {
    const bomb = zstdFrame(1, 1_000, 0x41, { declaredSize: 1n << 30n });
    expect(zstdCost(bomb).allocBytes).toBe(2 ** 30);
    expect(() => zstdDecompress(bomb)).toThrow(DecompressedTooLargeError);
    await expect(KAFKAJS_CODECS.zstd.decompress(bomb)).rejects.toThrow(`decompresses to more than ${MAX_DECOMPRESSED_BATCH_BYTES} bytes`);
  });

  it('zstd without a declared size: decoded (RLE blocks, by fzstd) up to the bound, refused past it', () => {
    const frame = zstdFrame(20, 100_000, 0x42); // 2,000,000 bytes from 86
    expect(zstdCost(frame)).toEqual({ outputBound: 2_000_000, allocBytes: 1 << 20, shiftBytes: 20 * (1 << 20), largestWindow: 1 << 20 });
    const out = zstdDecompress(frame, 3_000_000);
    expect(out.length).toBe(2_000_000);
    expect(out.every((b) => b === 0x42)).toBe(true);
    expect(() => zstdDecompress(frame, 1_000_000)).toThrow(DecompressedTooLargeError);
    expect(() => zstdCost(frame.subarray(0, frame.length - 2))).toThrow(/truncated/);
  });

  it('zstd: a 256 MiB window over many tiny blocks (hours of window shifting in fzstd) is refused from the headers', () => {
    const frame = zstdFrame(100_000, 1, 0x43, { windowLog: 28, raw: true }); // 400 kB, 100 kB of output
    const cost = zstdCost(frame);
    expect(cost.outputBound).toBe(100_000);
    expect(cost.shiftBytes).toBe(100_000 * 2 ** 28);
    expect(() => zstdDecompress(frame)).toThrow(DecompressedTooLargeError); // refused before fzstd runs (~15 ms per block here)
  });

  it('gzip: zlib stops at the bound', async () => {
    const packed = zlib.gzipSync(Buffer.alloc(5_000_000));
    expect((await unzipBounded(packed, 6_000_000)).length).toBe(5_000_000);
    await expect(unzipBounded(packed, 1_000_000)).rejects.toThrow(DecompressedTooLargeError);
    await expect(unzipBounded(Buffer.from('not gzip'))).rejects.toThrow(/incorrect header check/);
  });

  it('snappy: a block whose length header says 2 GiB is refused before the binding allocates it', () => {
    const raw = require('snappy') as { compressSync(b: Buffer): Buffer };
    const block = raw.compressSync(Buffer.alloc(3_000_000, 7));
    expect(snappyDecompress(block, 4_000_000).length).toBe(3_000_000);
    expect(() => snappyDecompress(block, 1_000_000)).toThrow(DecompressedTooLargeError);
    const lying = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), block.subarray(4)]); // varint 2^31
    expect(() => snappyDecompress(lying)).toThrow(DecompressedTooLargeError);
    // xerial framing: the bound holds across blocks
    expect(() => snappyDecompress(snappyCompress(Buffer.alloc(3_000_000, 7)), 1_000_000)).toThrow(DecompressedTooLargeError);
  });

  it('lz4: refused from the frame headers past the bound plus one block', () => {
    const lib = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer };
    const frame = lib.compressFrameSync(Buffer.alloc(20_000_000, 3));
    expect(lz4Decompress(frame, 21_000_000).length).toBe(20_000_000);
    expect(() => lz4Decompress(frame, 1_000_000)).toThrow(DecompressedTooLargeError);
  });
});
