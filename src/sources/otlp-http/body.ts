/**
 * Reads a request body with a byte cap that also holds after decompression, so a small
 * compressed body cannot expand past `maxBytes` in memory (zip bombs).
 *
 * Content-Encodings: everything the collector's otlphttp exporter can send (`compression:` gzip,
 * the OTLP/HTTP default; zlib and deflate; zstd; snappy; x-snappy-framed; lz4):
 * - gzip, zlib/deflate: zlib streams, capped as data comes out;
 * - zstd: frames whose windows (a single-segment frame's: its declared size) fit the cap, decoded
 *   through `fzstd` and capped as data comes out;
 * - snappy: one block (golang/snappy `Encode`); its header states the decompressed length, checked
 *   before decompressing — or, when the body opens with the framing format's stream identifier, the
 *   framing format: the collector's otlphttp exporter sent that for `compression: snappy` up to
 *   v0.130 (until its confighttp.framedSnappy gate went beta), and the collector's receiver tells
 *   the two apart the same way;
 * - x-snappy-framed: the snappy framing format (chunks of ≤ 64 KiB, CRC-32C checked), capped per chunk;
 * - lz4: an LZ4 frame; its block headers bound the decompressed size (every block but the last is
 *   full), checked before decompressing, so memory stays within the cap plus one block.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { DecompressedTooLargeError, lz4Decompress, snappy, snappyDecodedLength, zstdDecompress } from '../../kafka/compression-codecs.js';
import { crc32c } from '../../kafka/kafkajs-fast-paths.js';

const CONTENT_ENCODINGS = ['identity', 'gzip', 'deflate', 'zlib', 'zstd', 'snappy', 'x-snappy-framed', 'lz4'] as const;
export type ContentEncoding = (typeof CONTENT_ENCODINGS)[number];
export const isContentEncoding = (v: string): v is ContentEncoding => (CONTENT_ENCODINGS as readonly string[]).includes(v);

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body larger than ${maxBytes} bytes (after decompression); send smaller batches or raise source.http.maxBodyBytes`);
  }
}

export class BodyEncodingError extends Error {}

/**
 * The one settlement of a body read: later calls are ignored; on an error the request stops being
 * read (the caller sends the response, the connection closes after it).
 */
function settleOnce(req: IncomingMessage, resolve: (body: Buffer) => void, reject: (err: Error) => void) {
  let done = false;
  const finish = (err: Error | undefined, body?: Buffer): void => {
    if (done) return;
    done = true;
    if (err) {
      req.unpipe();
      req.resume();
      reject(err);
    } else resolve(body!);
  };
  return { finish, isDone: () => done };
}

/** Rejects with BodyTooLargeError past `maxBytes`, BodyEncodingError for corrupt compression. */
export function readBody(req: IncomingMessage, contentEncoding: ContentEncoding, maxBytes: number): Promise<Buffer> {
  if (contentEncoding === 'zstd' || contentEncoding === 'snappy' || contentEncoding === 'x-snappy-framed' || contentEncoding === 'lz4') return readBlockCompressed(req, contentEncoding, maxBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const { finish, isDone } = settleOnce(req, resolve, reject);
    let stream: IncomingMessage | Gunzip | Inflate = req;
    if (contentEncoding !== 'identity') {
      const z: Gunzip | Inflate = contentEncoding === 'gzip' ? createGunzip() : createInflate();
      z.on('error', (e) => finish(new BodyEncodingError(`invalid ${contentEncoding} body: ${e.message}`)));
      req.pipe(z);
      stream = z;
    }
    stream.on('data', (chunk: Buffer) => {
      if (isDone()) return;
      size += chunk.length;
      if (size > maxBytes) {
        if (stream !== req) (stream as Gunzip).destroy();
        finish(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => finish(undefined, Buffer.concat(chunks, size)));
    req.on('error', (e) => finish(e));
  });
}

function readBlockCompressed(req: IncomingMessage, contentEncoding: 'zstd' | 'snappy' | 'x-snappy-framed' | 'lz4', maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { finish, isDone } = settleOnce(req, resolve, reject);
    const compressed: Buffer[] = [];
    let compressedSize = 0;
    const wrap = (e: unknown): Error =>
      e instanceof BodyTooLargeError ? e : e instanceof DecompressedTooLargeError ? new BodyTooLargeError(maxBytes) : new BodyEncodingError(`invalid ${contentEncoding} body: ${(e as Error).message ?? String(e)}`);
    req.on('data', (chunk: Buffer) => {
      if (isDone()) return;
      compressedSize += chunk.length;
      if (compressedSize > maxBytes) return finish(new BodyTooLargeError(maxBytes));
      compressed.push(chunk);
    });
    req.on('end', () => {
      if (isDone()) return;
      try {
        const body = Buffer.concat(compressed, compressedSize);
        // bounded decoders: each refuses past maxBytes before allocating it (compression-codecs.ts)
        if (contentEncoding === 'zstd') return finish(undefined, zstdDecompress(body, maxBytes));
        if (contentEncoding === 'x-snappy-framed' || (contentEncoding === 'snappy' && isSnappyFramed(body))) return finish(undefined, unframeSnappy(body, maxBytes));
        if (contentEncoding === 'lz4') return finish(undefined, lz4Decompress(body, maxBytes));
        if (snappyDecodedLength(body) > maxBytes) return finish(new BodyTooLargeError(maxBytes));
        finish(undefined, snappy().uncompressSync(body, { asBuffer: true }));
      } catch (e) {
        finish(wrap(e));
      }
    });
    req.on('error', (e) => finish(e));
  });
}

/** The chunk every snappy framing-format stream opens with: type 0xff, length 6, "sNaPpY". */
const SNAPPY_STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);

/** Whether a body labelled `snappy` is in the framing format (see the module comment). */
function isSnappyFramed(body: Buffer): boolean {
  return body.length >= SNAPPY_STREAM_IDENTIFIER.length && body.subarray(0, SNAPPY_STREAM_IDENTIFIER.length).equals(SNAPPY_STREAM_IDENTIFIER);
}

/** CRC-32C, masked as the snappy framing format stores it. */
function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Decodes the snappy framing format (framing_format.txt): stream identifier, compressed and uncompressed chunks, skippable chunks. */
function unframeSnappy(buf: Buffer, maxBytes: number): Buffer {
  const out: Buffer[] = [];
  let size = 0;
  let at = 0;
  let sawIdentifier = false;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new BodyEncodingError('truncated chunk header');
    const type = buf[at]!;
    const length = buf.readUIntLE(at + 1, 3);
    const start = at + 4;
    const end = start + length;
    if (end > buf.length) throw new BodyEncodingError(`chunk of ${length} bytes at byte ${at} runs past the end`);
    at = end;
    if (type === 0xff) {
      if (buf.toString('latin1', start, end) !== 'sNaPpY') throw new BodyEncodingError('bad stream identifier');
      sawIdentifier = true;
      continue;
    }
    if (!sawIdentifier) throw new BodyEncodingError('no stream identifier');
    if (type === 0x00 || type === 0x01) {
      if (length < 4) throw new BodyEncodingError('chunk without checksum');
      const crc = buf.readUInt32LE(start);
      const payload = buf.subarray(start + 4, end);
      // the block's own header states its length: checked before decompressing (a 16 MB body of
      // chunks each declaring megabytes expanded to 340 MB first — security review)
      if (type === 0x00 && snappyDecodedLength(payload) > 65_536) throw new BodyEncodingError('chunk over 64 KiB');
      const data = type === 0x00 ? snappy().uncompressSync(payload, { asBuffer: true }) : payload;
      if (data.length > 65_536) throw new BodyEncodingError('chunk over 64 KiB');
      if (maskedCrc32c(data) !== crc) throw new BodyEncodingError('checksum mismatch');
      size += data.length;
      if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
      out.push(data);
    } else if (type <= 0x7f) {
      throw new BodyEncodingError(`reserved unskippable chunk type 0x${type.toString(16)}`);
    } // 0x80–0xfe: skippable
  }
  return Buffer.concat(out, size);
}
