/**
 * Reads a request body with a byte cap that also holds after gzip/deflate decompression, so a
 * small compressed body cannot expand past `maxBytes` in memory (zip bombs).
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body larger than ${maxBytes} bytes (after decompression); send smaller batches or raise source.http.maxBodyBytes`);
  }
}

export class BodyEncodingError extends Error {}

/** Rejects with BodyTooLargeError past `maxBytes`, BodyEncodingError for corrupt compression. */
export function readBody(req: IncomingMessage, contentEncoding: 'identity' | 'gzip' | 'deflate', maxBytes: number): Promise<Buffer> {
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
      const z = contentEncoding === 'gzip' ? createGunzip() : createInflate();
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
