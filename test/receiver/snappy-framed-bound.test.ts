/**
 * x-snappy-framed bodies: a chunk's snappy block states its decompressed length, which the
 * framing format caps at 64 KiB. It is checked before decompressing — a body of chunks each
 * declaring megabytes was expanded first (a 16 MB body → 340 MB; security review).
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { snappy } from '../../src/kafka/compression-codecs.js';
import { readBody } from '../../src/sources/otlp-http/body.js';

function framed(chunks: { type: number; payload: Buffer }[]): Buffer {
  const header = (type: number, length: number) => Buffer.from([type, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff]);
  const parts: Buffer[] = [header(0xff, 6), Buffer.from('sNaPpY')];
  for (const c of chunks) parts.push(header(c.type, 4 + c.payload.length), Buffer.alloc(4), c.payload); // checksum not reached
  return Buffer.concat(parts);
}

const request = (body: Buffer) => Readable.from([body]) as unknown as IncomingMessage;

afterEach(() => vi.restoreAllMocks());

describe('x-snappy-framed chunk bound', () => {
  it('refuses a compressed chunk that declares more than 64 KiB without decompressing it', async () => {
    const lib = snappy();
    const block = lib.compressSync(Buffer.alloc(1024 * 1024)); // a real block stating 1 MiB
    expect(block.length).toBeLessThan(65_536);
    const spy = vi.spyOn(lib, 'uncompressSync');
    await expect(readBody(request(framed([{ type: 0x00, payload: block }])), 'x-snappy-framed', 16 * 1024 * 1024)).rejects.toThrow(/^invalid x-snappy-framed body: chunk over 64 KiB$/);
    expect(spy).not.toHaveBeenCalled();
  });
});
