/**
 * Reads a request body with a byte cap that also holds after decompression, so a small
 * compressed body cannot expand past `maxBytes` in memory (zip bombs).
 *
 * Content-Encodings: gzip (the OTLP/HTTP default), deflate, and what the collector's otlphttp
 * exporter also offers (`compression: zstd | snappy`): zstd frames, streamed through `fzstd`
 * with the cap applied as data comes out; snappy as the collector sends it (one block,
 * golang/snappy `Encode`), whose header states the decompressed length, checked before
 * decompressing. lz4 and x-snappy-framed are not accepted (415 names what is).
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';

export const CONTENT_ENCODINGS = ['identity', 'gzip', 'deflate', 'zstd', 'snappy'] as const;
export type ContentEncoding = (typeof CONTENT_ENCODINGS)[number];
export const isContentEncoding = (v: string): v is ContentEncoding => (CONTENT_ENCODINGS as readonly string[]).includes(v);

const require = createRequire(import.meta.url);

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body larger than ${maxBytes} bytes (after decompression); send smaller batches or raise source.http.maxBodyBytes`);
  }
}

export class BodyEncodingError extends Error {}

/** Rejects with BodyTooLargeError past `maxBytes`, BodyEncodingError for corrupt compression. */
export function readBody(req: IncomingMessage, contentEncoding: ContentEncoding, maxBytes: number): Promise<Buffer> {
  if (contentEncoding === 'zstd' || contentEncoding === 'snappy') return readBlockCompressed(req, contentEncoding, maxBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return;
      done = true;
      if (err) {
        // Stop reading; the response is sent by the caller (connection closed after it).
        req.unpipe();
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    let stream: IncomingMessage | Gunzip | Inflate = req;
    if (contentEncoding !== 'identity') {
      const z: Gunzip | Inflate = contentEncoding === 'gzip' ? createGunzip() : createInflate();
      z.on('error', (e) => finish(new BodyEncodingError(`invalid ${contentEncoding} body: ${e.message}`)));
      req.pipe(z);
      stream = z;
    }
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
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

/** Length of a snappy block's decompressed data: the varint it starts with (golang/snappy, snappy.cc). */
function snappyDecodedLength(buf: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5 && i < buf.length; i++, shift += 7) {
    const b = buf[i]!;
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return n;
  }
  throw new BodyEncodingError('invalid snappy body: no length header');
}

function readBlockCompressed(req: IncomingMessage, contentEncoding: 'zstd' | 'snappy', maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return;
      done = true;
      if (err) {
        req.unpipe();
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    const compressed: Buffer[] = [];
    let compressedSize = 0;
    const out: Uint8Array[] = [];
    let outSize = 0;
    let zstd: { push(chunk: Uint8Array, final?: boolean): void } | undefined;
    if (contentEncoding === 'zstd') {
      const { Decompress } = require('fzstd') as { Decompress: new (ondata: (data: Uint8Array, final: boolean) => void) => { push(chunk: Uint8Array, final?: boolean): void } };
      zstd = new Decompress((data) => {
        outSize += data.length;
        if (outSize > maxBytes) throw new BodyTooLargeError(maxBytes);
        out.push(data);
      });
    }
    const wrap = (e: unknown): Error => (e instanceof BodyTooLargeError ? e : new BodyEncodingError(`invalid ${contentEncoding} body: ${(e as Error).message ?? String(e)}`));
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      compressedSize += chunk.length;
      if (compressedSize > maxBytes) return finish(new BodyTooLargeError(maxBytes));
      if (zstd) {
        try {
          zstd.push(chunk);
        } catch (e) {
          finish(wrap(e));
        }
      } else compressed.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      try {
        if (zstd) {
          zstd.push(new Uint8Array(0), true);
          return finish(undefined, Buffer.concat(out, outSize));
        }
        const block = Buffer.concat(compressed, compressedSize);
        if (snappyDecodedLength(block) > maxBytes) return finish(new BodyTooLargeError(maxBytes));
        const snappy = require('snappy') as { uncompressSync(b: Uint8Array, o: { asBuffer: true }): Buffer };
        finish(undefined, snappy.uncompressSync(block, { asBuffer: true }));
      } catch (e) {
        finish(wrap(e));
      }
    });
    req.on('error', (e) => finish(e));
  });
}
