/**
 * Bodies read at once are bounded: each request reserves its Content-Length (or maxBodyBytes)
 * while it is read, and one that would pass `maxInflightBodyBytes` waits for room (`admissionWaitMs`,
 * short here; inflight-wait.test.ts) and then gets 503 + Retry-After. Before,
 * 40 stalled 15 MB uploads held 737 MB (security review). Real sockets, a real SDK body.
 */
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';

describe('OTLP/HTTP receiver: request bodies in flight', () => {
  const spans: Span[] = [];
  const receiver = new OtlpHttpReceiver(
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, maxInflightBodyBytes: 2 * 1024 * 1024, admissionWaitMs: 300 },
    { onSpans: (s) => void spans.push(...s), onLogs: (_l: LogRecord[]) => undefined },
  );
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());

  /** A POST that declares `length` bytes, sends a few and stalls. */
  const stalled = (length: number, encoding = 'identity'): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const { port } = receiver.address();
      const s = connect(port, '127.0.0.1', () => {
        s.write(`POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${length}\r\n\r\n`);
        // a valid start of the body (a gzip stream's first bytes; zeros for identity)
        s.write(encoding === 'gzip' ? gzipSync(Buffer.alloc(15 * 1024 * 1024)).subarray(0, 100) : Buffer.alloc(100));
        setTimeout(() => resolve(s), 50);
      });
      s.on('error', reject);
    });

  it('answers 503 + Retry-After while stalled uploads hold the budget, and takes requests again once they go', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3 });
    const post = () => fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body: run.tracesProto, headers: { 'content-type': 'application/x-protobuf' } });
    const held = [await stalled(1024 * 1024), await stalled(1024 * 1024)];
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await post();
    expect(ok.status).toBe(200);
    expect(spans.length).toBe(run.spans.length);
  });

  it('a compressed body reserves maxBodyBytes, not its Content-Length: it is held decompressed while it is read', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 4 });
    const post = () => fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body: run.tracesProto, headers: { 'content-type': 'application/x-protobuf' } });
    // two stalled gzip uploads of 15 KB each (15 MB of zeros compress so): before, 30 KB reserved
    const held = [await stalled(15_000, 'gzip'), await stalled(15_000, 'gzip')];
    expect((await post()).status).toBe(503);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await post()).status).toBe(200);
  });
});
