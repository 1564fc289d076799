/**
 * The statuses grpc-js sends by itself on the OTLP/gRPC port — a message over the size limit, a
 * method not served, a compression it cannot undo — reach the job's log and
 * `receiver_requests_rejected` as the receiver's own refusals do (src/sources/otlp-grpc/grpc-js-statuses.ts):
 * they never pass a server interceptor, so the exporter dropped its batch and the job said nothing.
 * They are read from grpc-js's HTTP/2 servers, a private field (as the wrong-transport report,
 * test/receiver/wrong-transport.test.ts): these tests fail if a grpc-js upgrade removes it.
 * And grpc-js's own log lines go to the job's logger instead of bare lines on stderr.
 */
import http2 from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { ExportResult } from '@opentelemetry/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { BearerAuth } from '../../src/http/bearer-auth.js';
import { resolveListenerSecurity } from '../../src/http/listener-security.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OTLP_GRPC_METHODS, OtlpGrpcReceiver } from '../../src/sources/otlp-grpc/index.js';
import { ReceiverBusyError } from '../../src/sources/otlp-http/index.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { rawGrpcStatus, unaryCall } from '../support/grpc-call.js';
import { makeTlsMaterial } from '../support/tls.js';

interface Line {
  level: number;
  msg: string;
  status?: number;
  signal?: string;
  grpcJs?: boolean;
}

function jobLog(level = 'info') {
  const lines: Line[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Line), done()) });
  return { lines, logger: pino({ level }, stream) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (f: () => boolean) => {
  for (let i = 0; i < 300 && !f(); i++) await sleep(10);
};



/** The value of receiver_requests_rejected_total for the series with all of `labels`. */
async function rejected(job: LocalJob, labels: Record<string, string>): Promise<number> {
  const lines = (await job.telemetry.metricsText()).split('\n').filter((l) => l.startsWith('agent_credit_receiver_requests_rejected_total{'));
  const line = lines.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('statuses grpc-js sends by itself, through the job', () => {
  let job: LocalJob;
  let run: ScenarioRun;
  const { lines, logger } = jobLog();
  const warnings = (re: RegExp) => lines.filter((l) => l.level === 40 && re.test(l.msg));
  beforeAll(async () => {
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0, maxBodyBytes: 1024 }, grpc: { enabled: true, port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
    job = await startLocalJob(config, { logger, sinks: [new CollectingSink()] });
    run = await generateScenario({ kind: 'success', convention: 'genai', seed: 7 });
  });
  afterAll(async () => {
    await job?.stop();
  });

  it('an export larger than source.http.maxBodyBytes from the real JS exporter: counted (413) and one warning naming the limit, the key and smaller batches', async () => {
    expect(run.tracesProto.byteLength).toBeGreaterThan(1024);
    const exporter = new OTLPTraceExporter({ url: job.grpcReceiverUrl!, timeoutMillis: 3_000 });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(run.spans as never, resolve)).finally(() => exporter.shutdown());
    expect(result.code).not.toBe(0);
    expect(result.error?.message).toMatch(/RESOURCE_EXHAUSTED|larger than max/);
    await until(() => warnings(/RESOURCE_EXHAUSTED/).length > 0);
    await sleep(50); // not a second line for the same call
    const found = warnings(/RESOURCE_EXHAUSTED/);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ status: 413, signal: 'traces' });
    expect(found[0]!.msg).toContain('limit of 1024 bytes');
    expect(found[0]!.msg).toContain('raise source.http.maxBodyBytes');
    expect(found[0]!.msg).toContain('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
    expect(await rejected(job, { status: '413', signal: 'traces', transport: 'grpc' })).toBe(1);
    expect(job.pipeline.stats().spansIn ?? 0).toBe(0);
  });

  it('a method not served (a typo, a profiles exporter): counted (404) and logged with the path', async () => {
    const target = new URL(job.grpcReceiverUrl!).host;
    const typo = '/opentelemetry.proto.collector.trace.v1.TraceService/Exports';
    const r = await unaryCall(target, typo, Uint8Array.from([0x0a, 0x00]));
    expect(r.ok || r.error.code).toBe(grpc.status.UNIMPLEMENTED);
    await until(() => warnings(/UNIMPLEMENTED/).length > 0);
    expect(warnings(/UNIMPLEMENTED/)[0]).toMatchObject({ status: 404, msg: expect.stringContaining(`no method "${typo}" on the OTLP/gRPC port`) });
    expect(await rejected(job, { status: '404', signal: 'none', transport: 'grpc' })).toBe(1);
  });

  it('a message in a compression grpc-js cannot undo (zstd, as a collector may send): counted (415) and logged naming gzip', async () => {
    const target = new URL(job.grpcReceiverUrl!).host;
    expect(await rawGrpcStatus(target, OTLP_GRPC_METHODS.traces, Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), { headers: { 'grpc-encoding': 'zstd' }, compressed: true })).toBe(grpc.status.UNIMPLEMENTED);
    await until(() => warnings(/"zstd"/).length > 0);
    expect(warnings(/"zstd"/)[0]).toMatchObject({ status: 415, signal: 'traces', msg: expect.stringContaining("set the exporter's compression to gzip or none") });
    expect(await rejected(job, { status: '415', signal: 'traces', transport: 'grpc' })).toBe(1);
  });

  it('the metric’s description says which series have a transport label: the gRPC receiver’s, not the HTTP receiver’s', async () => {
    expect((await fetch(`${job.receiverUrl}/v1/nothing`, { method: 'POST', body: '' })).status).toBe(404);
    const text = await job.telemetry.metricsText();
    const series = text.split('\n').filter((l) => l.startsWith('agent_credit_receiver_requests_rejected_total{'));
    expect(series.filter((l) => !l.includes('transport='))).not.toEqual([]); // the HTTP receiver's 404
    expect(series.filter((l) => l.includes('transport=') && !l.includes('transport="grpc"'))).toEqual([]);
    const help = text.split('\n').find((l) => l.startsWith('# HELP agent_credit_receiver_requests_rejected_total'));
    expect(help).not.toMatch(/transport \(http/);
    expect(help).toMatch(/transport=grpc/);
  });
});

describe('the receiver counts each refusal once', () => {
  const opened: OtlpGrpcReceiver[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((r) => r.close()));
  });
  async function receiverWith(options: Partial<ConstructorParameters<typeof OtlpGrpcReceiver>[0]> = {}) {
    const problems: { signal?: string; status: number; message: string }[] = [];
    const receiver = new OtlpGrpcReceiver({ host: '127.0.0.1', port: 0, maxMessageBytes: 1024, onProblem: (p) => problems.push(p), ...options }, { onSpans: () => undefined, onLogs: () => undefined });
    await receiver.start();
    opened.push(receiver);
    return { problems, target: `127.0.0.1:${receiver.address().port}` };
  }

  it('its own refusals (the interceptor’s, the handler’s, the metrics service’s) are not reported a second time when their stream closes', async () => {
    const { problems, target } = await receiverWith({ security: { auth: new BearerAuth(['s3cret']) } });
    const authorized = new grpc.Metadata();
    authorized.set('authorization', 'Bearer s3cret');
    expect((await unaryCall(target, OTLP_GRPC_METHODS.traces, Uint8Array.from([0x0a, 0x00]))).ok).toBe(false); // UNAUTHENTICATED
    expect((await unaryCall(target, OTLP_GRPC_METHODS.traces, Uint8Array.from([0x0a, 0x05, 0x01]), { metadata: authorized })).ok).toBe(false); // INVALID_ARGUMENT
    expect((await unaryCall(target, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', Uint8Array.from([0x0a, 0x00]), { metadata: authorized })).ok).toBe(false);
    expect((await unaryCall(target, OTLP_GRPC_METHODS.logs, new Uint8Array(), { metadata: authorized })).ok).toBe(true);
    await sleep(100);
    expect(problems.map((p) => [p.status, p.message.split(':')[0]])).toEqual([
      [401, 'OTLP/gRPC UNAUTHENTICATED'],
      [400, 'OTLP/gRPC INVALID_ARGUMENT'],
      [404, 'OTLP/gRPC UNIMPLEMENTED'],
    ]);
  });

  it('the exporter’s deadline passing while the handler runs: counted once (408), not again when the handler fails after it', async () => {
    const problems: { signal?: string; status: number; message: string }[] = [];
    const slowBusy = async () => {
      await sleep(300);
      throw new ReceiverBusyError('busy');
    };
    const receiver = new OtlpGrpcReceiver({ host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20, onProblem: (p) => problems.push(p) }, { onSpans: slowBusy, onLogs: slowBusy });
    await receiver.start();
    opened.push(receiver);
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 7 });
    // a raw HTTP/2 client, which does not reset the stream at its deadline as grpc-js's does: grpc-js's server answers it
    const code = await rawGrpcStatus(`127.0.0.1:${receiver.address().port}`, OTLP_GRPC_METHODS.traces, run.tracesProto, { headers: { 'grpc-timeout': '100m' } });
    expect(code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await sleep(500); // the handler's UNAVAILABLE comes after the deadline's status went out: it reaches no client
    expect(problems).toEqual([{ signal: 'traces', status: 408, message: expect.stringMatching(/^OTLP\/gRPC DEADLINE_EXCEEDED: the exporter's deadline/) }]);
  });

  it('an OTLP/HTTP request over HTTP/2 (h2c, or ALPN h2 over TLS), answered 415 by grpc-js with no grpc-status: counted (415) and logged naming the OTLP/HTTP port', async () => {
    const tls = makeTlsMaterial();
    try {
      const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey } }, 'source.http');
      for (const secure of [false, true]) {
        const { problems, target } = await receiverWith({ host: 'localhost', httpAddress: () => 'http://localhost:4318', ...(secure ? { security } : {}) });
        const session = http2.connect(`${secure ? 'https' : 'http'}://${target.replace('127.0.0.1', 'localhost')}`, secure ? { ca: tls.read(tls.serverCert) } : {});
        session.on('error', () => undefined);
        const stream = session.request({ ':method': 'POST', ':path': '/v1/traces', 'content-type': 'application/x-protobuf' });
        stream.end(Buffer.from([0x0a, 0x00]));
        const status = await new Promise<unknown>((resolve) => {
          stream.on('response', (h) => resolve(h[':status']));
          stream.resume();
        });
        await new Promise((r) => stream.on('close', r));
        session.close();
        expect(status).toBe(415);
        await until(() => problems.length > 0);
        expect(problems).toEqual([{ status: 415, message: expect.stringContaining('not gRPC (content-type "application/x-protobuf", "/v1/traces") came to the OTLP/gRPC port: an OTLP/HTTP exporter? send OTLP/HTTP to http://localhost:4318') }]);
      }
    } finally {
      tls.remove();
    }
  });

  it('an encoding grpc-js does not take though its lowercase is one it does ("GZIP": grpc-js matches exactly): 415 naming it, not 404', async () => {
    const { problems, target } = await receiverWith();
    expect(await rawGrpcStatus(target, OTLP_GRPC_METHODS.traces, gzipSync(Buffer.from([0x0a, 0x00])), { headers: { 'grpc-encoding': 'GZIP' }, compressed: true })).toBe(grpc.status.UNIMPLEMENTED);
    await until(() => problems.length > 0);
    expect(problems).toEqual([{ signal: 'traces', status: 415, message: expect.stringContaining('compressed with "GZIP" (grpc-encoding), which the receiver cannot undo') }]);
  });

  it('gzip: a message that does not decompress (400), one that decompresses past the limit (413)', async () => {
    const { problems, target } = await receiverWith();
    expect(await rawGrpcStatus(target, OTLP_GRPC_METHODS.traces, Buffer.from('not gzip at all'), { headers: { 'grpc-encoding': 'gzip' }, compressed: true })).toBe(grpc.status.INTERNAL);
    expect(await rawGrpcStatus(target, OTLP_GRPC_METHODS.traces, gzipSync(Buffer.alloc(64 * 1024)), { headers: { 'grpc-encoding': 'gzip' }, compressed: true })).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await until(() => problems.length >= 2);
    await sleep(50);
    expect(problems).toEqual([
      { signal: 'traces', status: 400, message: 'OTLP/gRPC INTERNAL: a request message that does not decompress as "gzip": Failed to decompress message' },
      { signal: 'traces', status: 413, message: expect.stringMatching(/^OTLP\/gRPC RESOURCE_EXHAUSTED: a request message decompresses to more than the receiver's limit of 1024 bytes, .*raise source\.http\.maxBodyBytes/) },
    ]);
  });
});

describe("grpc-js's own log lines", () => {
  it('go to the job’s logger while it runs (an error at error level), to stderr again after it stopped', async () => {
    const { lines, logger } = jobLog();
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { enabled: true, port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
    const job = await startLocalJob(config, { logger, sinks: [new CollectingSink()] });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      grpc.experimental.log(grpc.logVerbosity.ERROR, 'something grpc-js saw');
      expect(lines.filter((l) => l.grpcJs)).toEqual([expect.objectContaining({ level: 50, msg: 'grpc-js: something grpc-js saw' })]);
      await job.stop();
      grpc.experimental.log(grpc.logVerbosity.ERROR, 'after the job');
      expect(stderr).toHaveBeenCalledWith('E after the job\n');
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      consoleError.mockRestore();
      await job.stop();
    }
  });

  it('a port in use: grpc-js’s bare "No address added" line is not printed (the job’s error names the setting); it is in the log at debug', async () => {
    // taken by listening on a port the OS picks: a port picked free, closed and then listened on
    // can be taken in between (another test file's listen(0)), and the listen failed the test
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const { lines, logger } = jobLog('debug');
    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    try {
      const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { port } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
      const err = await startLocalJob(config, { logger }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/EADDRINUSE.*source\.grpc\.port/);
      expect(consoleError).not.toHaveBeenCalled();
      expect(stderr.mock.calls.filter(([chunk]) => String(chunk).includes('No address added'))).toEqual([]);
      expect(lines.filter((l) => l.grpcJs)).toEqual([expect.objectContaining({ level: 20, msg: 'grpc-js: No address added out of total 1 resolved' })]);
    } finally {
      stderr.mockRestore();
      consoleError.mockRestore();
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
