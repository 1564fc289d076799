/**
 * A 413 is answered once the rest of the request body has been read (and thrown away), not while
 * the client is still sending it: closing the connection right after the answer (it says
 * `Connection: close`) made the client's next writes fail — EPIPE / ECONNRESET — and the OTel JS
 * exporter, which reads those as retryable network errors before it has seen the 413, sent the
 * same too-large batch again (about 1 in 4 gzip exports of ~1 MB over a 64 KiB limit went out two
 * or three times, each refused again). Real sockets: the request's first part passes the limit, the rest
 * follows after a pause.
 */
import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { recordSpans } from '../otlp/sdk-telemetry.js';
import { postInTwoParts } from './post-in-two-parts.js';

const MAX = 64 * 1024;
const problems: number[] = [];
const receiver = new OtlpHttpReceiver(
  { host: '127.0.0.1', port: 0, maxBodyBytes: MAX, onProblem: (p) => problems.push(p.status) },
  { onSpans: () => undefined, onLogs: () => undefined, onEvaluations: () => undefined },
);
beforeAll(() => receiver.start());
afterAll(() => receiver.close());

/** Bytes that do not compress, so a gzip body is about as long as what it holds. */
function noise(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}


describe('OTLP/HTTP receiver: a body over maxBodyBytes is read to its end before the 413', () => {
  it.each([
    ['identity', (b: Buffer) => b],
    ['gzip', (b: Buffer) => gzipSync(b)],
  ] as const)('%s: the client sends the whole body without a socket error and reads the 413', async (encoding, encode) => {
    problems.length = 0;
    const body = encode(noise(1024 * 1024));
    const { answer, error } = await postInTwoParts(receiver.address().port, '/v1/traces', { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': encoding }, body, 2 * MAX);
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(problems).toEqual([413]);
  });

  it('the evaluations endpoint likewise', async () => {
    const body = Buffer.from(`[${Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ trace_id: 'ab'.repeat(16), name: `n${i}`, score: 1 })).join(',')}]`);
    expect(body.length).toBeGreaterThan(4 * MAX);
    problems.length = 0;
    const { answer, error } = await postInTwoParts(receiver.address().port, '/v1/evaluations', { 'Content-Type': 'application/json' }, body, 2 * MAX);
    expect(error).toBeUndefined();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(problems).toEqual([413]);
  });

  it('the real OTel JS exporter: a gzip batch over the limit is sent once and refused once (413, not retried), every time', async () => {
    const big = recordSpans({ 'big.text': noise(768 * 1024).toString('base64') });
    for (let k = 0; k < 12; k++) {
      problems.length = 0;
      const exporter = new OTLPTraceExporter({ url: `${receiver.address().url}/v1/traces`, timeoutMillis: 15_000, compression: CompressionAlgorithm.GZIP });
      const result = await new Promise<ExportResult>((resolve) => exporter.export(big, resolve));
      await exporter.shutdown();
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.error?.message).toBe('Payload Too Large');
      expect(problems).toEqual([413]); // before: [413, 413] or [413, 413, 413] in about 1 export of 4 (an EPIPE retried)
    }
  });
});
