/**
 * A request that does not fit in the receiver's in-flight budget waits for room (its body unread,
 * in arrival order, up to `admissionWaitMs`) before it is refused 503, as the OTLP/gRPC receiver's
 * calls do. A compressed body reserves maxBodyBytes (it is held decompressed while it is read), so
 * at the defaults (16 MiB, a 64 MiB budget) only 4 gzip bodies are read at once — and the
 * collector's otlphttp exporter sends gzip from 10 senders (sending_queue num_consumers 10): 6 of 10
 * concurrent exports of 1 MB, each taking 100 ms to arrive, were refused 503 while about 4 MB was
 * held. Here at scale: maxBodyBytes 1 MiB, a 4 MiB budget, 10 gzip exports each sent in two parts.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Span } from '../../src/model/telemetry.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { InflightBytes } from '../../src/sources/inflight-bytes.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spans: Span[] = [];
const problems: number[] = [];
const inflight = new InflightBytes(4 * MiB);
const receiver = new OtlpHttpReceiver(
  { host: '127.0.0.1', port: 0, maxBodyBytes: MiB, inflight, onProblem: (p) => problems.push(p.status) },
  { onSpans: (s) => void spans.push(...s), onLogs: () => undefined },
);
beforeAll(() => receiver.start());
afterAll(() => receiver.close());

/** A gzip POST to /v1/traces: the first half of its body now, the rest after `pauseMs`. Resolves with the status. */
function slowGzipPost(body: Buffer, pauseMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: receiver.address().port,
      method: 'POST',
      path: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half));
    setTimeout(() => req.end(body.subarray(half)), pauseMs);
  });
}

describe('OTLP/HTTP receiver: requests beyond the in-flight budget wait for room', () => {
  it('10 concurrent gzip exports, 4 read at once: every one is accepted, none refused 503', async () => {
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 });
    const body = gzipSync(run.tracesProto);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => slowGzipPost(body, 200)));
    expect(statuses).toEqual(Array(10).fill(200)); // before: six 503
    expect(problems).toEqual([]);
    expect(spans.length).toBe(10 * run.spans.length);
    expect(inflight.bytes).toBe(0);
  });

  it('a request whose client goes away while it waits leaves the line: the next one is read when room frees', async () => {
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 6 });
    const body = gzipSync(run.tracesProto);
    spans.length = 0;
    const first = Array.from({ length: 4 }, () => slowGzipPost(body, 600)); // the whole budget, for 600 ms
    await sleep(100);
    const leaving = http.request({ host: '127.0.0.1', port: receiver.address().port, method: 'POST', path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'content-length': String(body.length) } });
    leaving.on('error', () => undefined);
    leaving.write(body.subarray(0, 10));
    await sleep(100);
    leaving.destroy();
    const next = slowGzipPost(body, 0);
    expect(await Promise.all([...first, next])).toEqual(Array(5).fill(200));
    expect(spans.length).toBe(5 * run.spans.length);
    await sleep(50);
    expect(inflight.bytes).toBe(0);
  });
});
