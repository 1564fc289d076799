/**
 * The OTLP/gRPC receiver's resource limits, as the OTLP/HTTP receiver has them: the bytes of
 * request messages read at once (calls past the limit wait, then are refused UNAVAILABLE +
 * RetryInfo before their message is read) and a message that does not arrive whole in time
 * (DEADLINE_EXCEEDED). grpc-js buffers each call's message as it arrives, on any number of HTTP/2
 * streams, and waited for a stalled one forever: 30 calls stalled 15 MB into their message held
 * 472 MB, none answered.
 *
 * A stalled client is a raw HTTP/2 stream (a gRPC client sends its message whole); the calls the
 * receiver answers are made with @grpc/grpc-js, as an exporter makes them.
 */
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BearerAuth } from '../../src/http/bearer-auth.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { unaryCall } from '../support/grpc-call.js';
import { OTLP_GRPC_METHODS, OtlpGrpcReceiver, RETRY_INFO_TRAILER, retryDelayOf, retryInfoDelayOf, type OtlpGrpcReceiverOptions } from '../../src/sources/otlp-grpc/index.js';

const MiB = 1024 * 1024;
const opened: OtlpGrpcReceiver[] = [];
const sessions: http2.ClientHttp2Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.destroy();
});
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
});

async function receiverWith(options: Partial<OtlpGrpcReceiverOptions>) {
  const seen = { spans: 0 };
  const problems: { status: number; message: string }[] = [];
  const receiver = new OtlpGrpcReceiver(
    { host: '127.0.0.1', port: 0, maxMessageBytes: MiB, onProblem: (p) => problems.push(p), ...options },
    {
      onSpans: (spans) => {
        seen.spans += spans.length;
      },
      onLogs: () => undefined,
    },
  );
  await receiver.start();
  opened.push(receiver);
  return { receiver, seen, problems, target: `127.0.0.1:${receiver.address().port}` };
}

/**
 * A gRPC call (a raw HTTP/2 stream) whose message declares `declared` bytes and stops after `sent`
 * of them; or, with `whole`, sends that message (its compressed flag set with `grpc-encoding`) and ends.
 */
function stalledCall(target: string, declared: number, sent: number, opts: { path?: string; headers?: Record<string, string>; whole?: Buffer } = {}) {
  const session = http2.connect(`http://${target}`);
  sessions.push(session);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': opts.path ?? OTLP_GRPC_METHODS.traces, 'content-type': 'application/grpc', te: 'trailers', ...opts.headers });
  stream.on('error', () => undefined);
  const prefix = Buffer.alloc(5);
  if (opts.whole) {
    prefix[0] = opts.headers?.['grpc-encoding'] ? 1 : 0;
    prefix.writeUInt32BE(opts.whole.length, 1);
    stream.end(Buffer.concat([prefix, opts.whole]));
  } else {
    prefix.writeUInt32BE(declared, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(sent, 1)]));
  }
  let status: number | undefined;
  let message: string | undefined;
  const answered = new Promise<number>((resolve) => {
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      if (h['grpc-status'] !== undefined) resolve((status = Number(h['grpc-status'])));
    };
    stream.on('response', take);
    stream.on('trailers', take);
  });
  stream.resume();
  return { stream, answered, status: () => status, message: () => message };
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'no answer' as const)]);

describe('OTLP/gRPC: messages read at once are bounded', () => {
  it('past maxInflightMessageBytes a call waits, then is refused UNAVAILABLE with a RetryInfo, before its message is read; admitted again once the others end', async () => {
    const { target, seen, problems } = await receiverWith({ maxInflightMessageBytes: 2 * MiB, admissionWaitMs: 200 });
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    // two calls stalled partway through a 1 MiB message hold the 2 MiB
    const stalled = [stalledCall(target, MiB - 1, 256 * 1024), stalledCall(target, MiB - 1, 256 * 1024)];
    await sleep(300);
    expect(stalled.map((s) => s.status())).toEqual([undefined, undefined]);

    const refused = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(refused.ok || [refused.error.code, refused.error.details]).toEqual([
      grpc.status.UNAVAILABLE,
      `the receiver is reading ${2 * MiB} bytes of request messages already (limit ${2 * MiB}, 4 × source.http.maxBodyBytes), and this call waited 0.2 s for room: retry shortly`,
    ]);
    if (!refused.ok) {
      expect(retryDelayOf(refused.error.metadata.get('grpc-status-details-bin')[0] as Buffer)).toBe(1);
      expect(retryInfoDelayOf(refused.error.metadata.get(RETRY_INFO_TRAILER)[0] as Buffer)).toBe(1);
    }
    expect(seen.spans).toBe(0);
    expect(problems).toContainEqual({ status: 503, message: expect.stringMatching(/^OTLP\/gRPC UNAVAILABLE: the receiver is reading/) });

    // the stalled clients give up (RST_STREAM): their reservations are released
    for (const s of stalled) s.stream.close(http2.constants.NGHTTP2_CANCEL);
    await sleep(200);
    expect(await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto)).toMatchObject({ ok: true });
    expect(seen.spans).toBe(run.spans.length);
  });

  it('a message that does not arrive whole within messageTimeoutMs ends its call DEADLINE_EXCEEDED, its bytes released', async () => {
    const { target, problems } = await receiverWith({ maxInflightMessageBytes: MiB, messageTimeoutMs: 300 });
    const stalled = stalledCall(target, MiB - 1, 64 * 1024);
    expect(await within(stalled.answered, 3_000)).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(problems).toContainEqual({ status: 408, message: 'OTLP/gRPC DEADLINE_EXCEEDED: the request message did not arrive whole within 0.3 s: send each Export request at once' });
    // the one slot is free again (the stalled client has not even closed its stream)
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    expect(await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto)).toMatchObject({ ok: true });
  });

  it('a waiting call is read as soon as a call ends; past maxWaitingCalls one is refused at once', async () => {
    const { target } = await receiverWith({ maxInflightMessageBytes: MiB, maxWaitingCalls: 1 });
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    const stalled = stalledCall(target, MiB - 1, 64 * 1024);
    await sleep(100);
    const waiting = unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    await sleep(100);
    const third = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(third.ok || [third.error.code, third.error.details]).toEqual([
      grpc.status.UNAVAILABLE,
      `the receiver is reading ${MiB} bytes of request messages already (limit ${MiB}, 4 × source.http.maxBodyBytes), and 1 calls wait for room already: retry shortly`,
    ]);
    stalled.stream.close(http2.constants.NGHTTP2_CANCEL);
    expect(await waiting).toMatchObject({ ok: true });
  });

  it('the calls an exporter multiplexes on one connection (50 at once, metadata first) are all read, a few at a time — none refused', async () => {
    const { target, seen } = await receiverWith({ maxMessageBytes: 16 * MiB });
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    const client = new grpc.Client(target, grpc.credentials.createInsecure());
    const identity = (b: Buffer) => b;
    const codes = await Promise.all(
      Array.from({ length: 50 }, () => new Promise<string>((resolve) => client.makeUnaryRequest(OTLP_GRPC_METHODS.traces, identity, identity, Buffer.from(run.tracesProto), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) => resolve(e ? grpc.status[e.code] : 'OK')))),
    );
    client.close();
    expect(codes).toEqual(Array.from({ length: 50 }, () => 'OK'));
    expect(seen.spans).toBe(50 * run.spans.length);
  });

  it('by default 4 × maxMessageBytes, at least 64 MiB: 4 calls of 16 MiB messages are read at once, the 5th waits', async () => {
    const { target } = await receiverWith({ maxMessageBytes: 16 * MiB, admissionWaitMs: 200 });
    const stalled = [0, 1, 2, 3].map(() => stalledCall(target, 16 * MiB - 1, 1024));
    await sleep(300);
    expect(stalled.map((s) => s.status())).toEqual([undefined, undefined, undefined, undefined]);
    const fifth = stalledCall(target, 16 * MiB - 1, 1024);
    expect(await within(fifth.answered, 3_000)).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('OTLP/gRPC: what is refused before the message is read (checks that held before the in-flight limit)', () => {
  it('a gzip bomb (64 KiB inflating to 64 MiB): RESOURCE_EXHAUSTED at maxMessageBytes after decompression, the handler not called', async () => {
    const { target, seen } = await receiverWith({});
    const bomb = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    expect(bomb.length).toBeLessThan(MiB);
    const c = stalledCall(target, 0, 0, { headers: { 'grpc-encoding': 'gzip' }, whole: bomb });
    expect(await within(c.answered, 5_000)).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(c.message()).toBe(`Received message that decompresses to a size larger than ${MiB}`);
    expect(seen.spans).toBe(0);
  });

  it('with a token: calls without it are refused UNAUTHENTICATED and reserve nothing; the token sent is never quoted; methods without a handler (reflection, health, unknown) are UNIMPLEMENTED, nothing read', async () => {
    const { target, seen, problems } = await receiverWith({ maxInflightMessageBytes: MiB, security: { auth: new BearerAuth(['s3cret-token']) } });
    const wrong = 'Bearer guess-4f1d9c-not-the-token';
    const refused = [0, 1, 2].map(() => stalledCall(target, MiB - 1, 64 * 1024, { headers: { authorization: wrong } }));
    expect(await Promise.all(refused.map((r) => within(r.answered, 3_000)))).toEqual([16, 16, 16]);
    for (const r of refused) expect(r.message()).not.toContain('guess-4f1d9c');
    expect(problems.map((p) => p.message).join('\n')).not.toContain('guess-4f1d9c');
    // methods grpc-js has no handler for: its own UNIMPLEMENTED, before any interceptor, the message not read
    for (const path of ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.health.v1.Health/Check', '/x.Unknown/Method']) {
      const other = stalledCall(target, 0, 0, { path, whole: Buffer.alloc(MiB - 1, 1) });
      expect(await within(other.answered, 3_000), path).toBe(grpc.status.UNIMPLEMENTED);
    }
    // MetricsService/Export is registered (to say why it is refused): the token comes first, as /v1/metrics gets 401 before 404
    const metrics = stalledCall(target, 0, 0, { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', whole: Buffer.alloc(MiB - 1, 1) });
    expect(await within(metrics.answered, 3_000)).toBe(grpc.status.UNAUTHENTICATED);
    // the one slot of the in-flight limit is free: an authenticated call gets in
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer s3cret-token');
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });
    expect(await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto, { metadata })).toMatchObject({ ok: true });
    expect(seen.spans).toBe(run.spans.length);
  });
});
