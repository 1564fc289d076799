/**
 * The job's two receivers share one budget of request bytes read at once (src/runtime/local-job.ts,
 * src/sources/inflight-bytes.ts): separate ones let OTLP/HTTP bodies and OTLP/gRPC messages
 * together hold twice the bound (128 MiB at the default 16 MiB maxBodyBytes). A gRPC call waiting
 * for room is admitted when an HTTP body's bytes are freed, and an HTTP request finds the room
 * a stalled gRPC call holds taken.
 */
import http from 'node:http';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLocalJob } from '../../src/runtime/local-job.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { InflightBytes } from '../../src/sources/inflight-bytes.js';
import { OTLP_GRPC_METHODS, OtlpGrpcReceiver } from '../../src/sources/otlp-grpc/index.js';
import { OtlpHttpReceiver, type OtlpHandler } from '../../src/sources/otlp-http/index.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { unaryCall } from '../support/grpc-call.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'no answer' as const)]);
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function receivers() {
  const shared = new InflightBytes(MiB, 'OTLP/HTTP and OTLP/gRPC');
  const seen = { spans: 0 };
  const handler: OtlpHandler = { onSpans: (s) => void (seen.spans += s.length), onLogs: () => undefined };
  const httpReceiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: MiB, inflight: shared, admissionWaitMs: 300 }, handler);
  const grpcReceiver = new OtlpGrpcReceiver({ host: '127.0.0.1', port: 0, maxMessageBytes: MiB, inflight: shared, admissionWaitMs: 5_000 }, handler);
  await httpReceiver.start();
  await grpcReceiver.start();
  closers.push(() => httpReceiver.close(), () => grpcReceiver.close());
  return { shared, seen, httpPort: httpReceiver.address().port, grpcTarget: `127.0.0.1:${grpcReceiver.address().port}` };
}

/** A POST of `body` to /v1/traces whose first half is sent now; `finish()` sends the rest. */
function halfSentPost(port: number, body: Uint8Array) {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.byteLength) } });
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.byteLength / 2);
  req.write(Buffer.from(body.subarray(0, half)));
  return { answered, finish: () => req.end(Buffer.from(body.subarray(half))) };
}


describe('one in-flight budget for OTLP/HTTP and OTLP/gRPC', () => {
  it('a gRPC call waits while an HTTP body holds the room and is admitted when that body is read', async () => {
    const { shared, seen, httpPort, grpcTarget } = await receivers();
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    const post = halfSentPost(httpPort, run.tracesProto);
    await sleep(200);
    expect(shared.bytes).toBe(run.tracesProto.byteLength); // the HTTP body's Content-Length, reserved while it is read
    const waiting = unaryCall(grpcTarget, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(await within(waiting, 400)).toBe('no answer'); // its 1 MiB does not fit beside the body
    post.finish();
    expect((await post.answered).status).toBe(200);
    expect(await within(waiting, 3_000)).toMatchObject({ ok: true });
    expect(seen.spans).toBe(2 * run.spans.length);
    expect(shared.bytes).toBe(0);
  });

  it('an HTTP request is refused 503 while a stalled gRPC call holds the room, naming the shared limit', async () => {
    const { shared, httpPort, grpcTarget } = await receivers();
    const session = http2.connect(`http://${grpcTarget}`);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': OTLP_GRPC_METHODS.traces, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => undefined);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(512 * 1024, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(1024, 1)])); // a message that never arrives whole
    await sleep(300);
    expect(shared.bytes).toBe(MiB);
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    const post = halfSentPost(httpPort, run.tracesProto);
    post.finish();
    const answer = await post.answered;
    expect(answer.status).toBe(503);
    expect(answer.text).toContain(`the receivers are reading ${MiB} bytes of requests already (limit ${MiB}, 4 × source.http.maxBodyBytes for OTLP/HTTP and OTLP/gRPC together)`);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
  });

  it('the job gives both receivers one budget: gRPC calls holding 4 × maxBodyBytes (64 MiB at least) leave no room for an HTTP body', async () => {
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0, maxBodyBytes: MiB }, grpc: { enabled: true, port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
    const job = await startLocalJob(config, { logger: silentLogger(), sinks: [new CollectingSink()] });
    closers.push(() => job.stop());
    // 64 calls, each reserving maxBodyBytes (1 MiB) with 1 KiB of its message sent: the 64 MiB default limit
    const session = http2.connect(job.grpcReceiverUrl!);
    session.on('error', () => undefined);
    const streams = Array.from({ length: 64 }, () => {
      const stream = session.request({ ':method': 'POST', ':path': OTLP_GRPC_METHODS.traces, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(512 * 1024, 1);
      stream.write(Buffer.concat([prefix, Buffer.alloc(1024, 1)]));
      return stream;
    });
    await sleep(500);
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    const post = halfSentPost(Number(new URL(job.receiverUrl).port), run.tracesProto);
    post.finish();
    const answer = await post.answered;
    expect(answer.status).toBe(503);
    expect(answer.text).toContain(`the receivers are reading ${64 * MiB} bytes of requests already (limit ${64 * MiB}, 4 × source.http.maxBodyBytes for OTLP/HTTP and OTLP/gRPC together)`);
    for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
    await sleep(200);
    // the room is free again
    const again = halfSentPost(Number(new URL(job.receiverUrl).port), run.tracesProto);
    again.finish();
    expect((await again.answered).status).toBe(200);
  });
});
