/**
 * The OTLP/gRPC receiver: what the real OpenTelemetry JS gRPC exporters send is credited exactly as
 * the same telemetry sent over OTLP/HTTP; the statuses the OTLP spec asks of a gRPC server
 * (INVALID_ARGUMENT, UNAVAILABLE + RetryInfo, INTERNAL, partial_success); a taken port; and the
 * receiver secured by source.http's tls / auth.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { BearerAuth } from '../../src/http/bearer-auth.js';
import { resolveListenerSecurity, sharedListenerPorts } from '../../src/http/listener-security.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { generateScenario, sendScenario, sendScenarioWith, type ScenarioRun } from '../../src/scenarios/index.js';
import { OTLP_GRPC_METHODS, OtlpGrpcReceiver, RETRY_INFO_TRAILER, retryDelayOf, retryInfoDelayOf } from '../../src/sources/otlp-grpc/index.js';
import { ReceiverBusyError, decodeExportResponse, type OtlpHandler, type PartialSuccess } from '../../src/sources/otlp-http/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { unaryCall } from '../support/grpc-call.js';
import { makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

const silent = () => createLogger('silent');

/** A job on free ports whose events are collected; `grpc` false = OTLP/HTTP only. */
async function job(grpcEnabled: boolean): Promise<{ job: LocalJob; sink: CollectingSink }> {
  const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { enabled: grpcEnabled, port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
  const sink = new CollectingSink();
  return { job: await startLocalJob(config, { logger: silent(), sinks: [sink] }), sink };
}

async function credited(j: LocalJob, episodes: number): Promise<void> {
  for (let i = 0; i < 500 && j.pipeline.stats().episodesCredited < episodes; i++) await new Promise((r) => setTimeout(r, 20));
  expect(j.pipeline.stats().episodesCredited).toBe(episodes);
}

/** Events without the wall-clock field, in a stable order. */
const comparable = (events: readonly CreditEvent[]) =>
  events.map(({ emitted_at_ms: _t, ...rest }) => rest).sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));

describe('OTLP/gRPC from the real OpenTelemetry JS exporters, end to end', () => {
  let overHttp: { job: LocalJob; sink: CollectingSink };
  let overGrpc: { job: LocalJob; sink: CollectingSink };
  let runs: ScenarioRun[];
  beforeAll(async () => {
    [overHttp, overGrpc] = await Promise.all([job(false), job(true)]);
    runs = await Promise.all([
      generateScenario({ kind: 'saboteur', convention: 'genai', seed: 3 }),
      generateScenario({ kind: 'failure', convention: 'openinference', seed: 4 }),
      generateScenario({ kind: 'saboteur', convention: 'openllmetry', seed: 5 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([overHttp?.job.stop(), overGrpc?.job.stop()]);
  });

  it('is credited exactly as the same runs sent over OTLP/HTTP (gzip-compressed requests)', async () => {
    expect(overHttp.job.grpcReceiverUrl).toBeUndefined();
    expect(overGrpc.job.grpcReceiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await sendScenario(overHttp.job.receiverUrl, runs);
    const url = overGrpc.job.grpcReceiverUrl!;
    const sent = await sendScenarioWith({ traces: new OTLPTraceExporter({ url, compression: 'gzip' as never }), logs: new OTLPLogExporter({ url, compression: 'gzip' as never }) }, runs);
    expect(sent.spans).toBeGreaterThan(0);
    await credited(overHttp.job, runs.length);
    await credited(overGrpc.job, runs.length);
    expect(overGrpc.job.pipeline.stats().spansIn).toBe(sent.spans);
    expect(overGrpc.sink.events.length).toBeGreaterThan(runs.length); // episode credit and message rewards at least
    expect(comparable(overGrpc.sink.events)).toEqual(comparable(overHttp.sink.events));
    expect(await overGrpc.job.telemetry.metricsText()).toMatch(/agent_credit_spans_received_total\{source="otlp-grpc"[^}]*\} [1-9]/);
  });
});

/** A receiver on a free port in front of a handler the test controls. */
async function receiverWith(handler: Partial<OtlpHandler>, options: { security?: ConstructorParameters<typeof OtlpGrpcReceiver>[0]['security']; maxMessageBytes?: number } = {}) {
  const seen: { spans: Span[]; logs: LogRecord[] } = { spans: [], logs: [] };
  const full: OtlpHandler = {
    onSpans: (spans) => {
      seen.spans.push(...spans);
      return handler.onSpans?.(spans);
    },
    onLogs: (logs) => {
      seen.logs.push(...logs);
      return handler.onLogs?.(logs);
    },
  };
  const problems: { status: number; message: string }[] = [];
  const receiver = new OtlpGrpcReceiver({ host: '127.0.0.1', port: 0, maxMessageBytes: options.maxMessageBytes ?? 1 << 20, ...(options.security ? { security: options.security } : {}), onProblem: (p) => problems.push(p) }, full);
  await receiver.start();
  opened.push(receiver);
  return { receiver, seen, problems, target: `127.0.0.1:${receiver.address().port}` };
}
const opened: OtlpGrpcReceiver[] = [];
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
});


const aRun = () => generateScenario({ kind: 'saboteur', convention: 'genai', seed: 11 });

describe('OTLP/gRPC statuses', () => {
  it('an undecodable request: INVALID_ARGUMENT (not retried), the handler not called', async () => {
    const { target, seen, problems } = await receiverWith({});
    // field 1 (resource_spans), length 5, but only one byte follows
    const r = await unaryCall(target, OTLP_GRPC_METHODS.traces, Uint8Array.from([0x0a, 0x05, 0x01]));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.error.details).toMatch(/^undecodable traces request: /);
    expect(seen.spans).toHaveLength(0);
    expect(problems).toEqual([{ signal: 'traces', status: 400, message: expect.stringMatching(/^OTLP\/gRPC INVALID_ARGUMENT: undecodable traces request/) }]);
  });

  it('backpressure: UNAVAILABLE with a RetryInfo of the handler’s delay', async () => {
    const { target } = await receiverWith({
      onSpans: () => {
        throw new ReceiverBusyError('credit queue full', 7);
      },
    });
    const run = await aRun();
    const r = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(grpc.status.UNAVAILABLE);
    expect(r.error.details).toBe('credit queue full');
    const details = r.error.metadata.get('grpc-status-details-bin')[0];
    expect(Buffer.isBuffer(details)).toBe(true);
    expect(retryDelayOf(details as Buffer)).toBe(7);
    // the Python OTLP exporter (opentelemetry-exporter-otlp-proto-grpc 1.45) ignores the Status
    // details and reads a bare RetryInfo from this trailer; without it, it retried on its own
    // jittered backoff (~1 s, 2 s, 4 s) whatever the delay
    const python = r.error.metadata.get(RETRY_INFO_TRAILER)[0];
    expect(Buffer.isBuffer(python)).toBe(true);
    expect(retryInfoDelayOf(python as Buffer)).toBe(7);
  });

  it('another handler failure: INTERNAL', async () => {
    const { target } = await receiverWith({
      onLogs: () => {
        throw new Error('disk on fire');
      },
    });
    const run = await aRun();
    const r = await unaryCall(target, OTLP_GRPC_METHODS.logs, run.logsProto);
    expect(r.ok || r.error.code).toBe(grpc.status.INTERNAL);
    expect(r.ok || r.error.details).toBe('processing failed: disk on fire');
  });

  it('the handler’s partial success goes back as the Export*ServiceResponse’s partial_success', async () => {
    const partial: PartialSuccess = { rejected: 2, errorMessage: 'two log records could not be joined' };
    const { target, seen } = await receiverWith({ onLogs: () => partial });
    const run = await aRun();
    const r = await unaryCall(target, OTLP_GRPC_METHODS.logs, run.logsProto);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(decodeExportResponse(r.bytes)).toEqual(partial);
    expect(seen.logs.length).toBe(run.logRecords.length);
    // full success: an empty response (partial_success unset)
    const spans = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(spans.ok && spans.bytes.length).toBe(0);
  });

  it('metrics (MetricsService/Export, which Python’s opentelemetry-instrument also sends by default): UNIMPLEMENTED naming the fix, and reported as the HTTP receiver reports /v1/metrics', async () => {
    const { target, seen, problems } = await receiverWith({});
    // an ExportMetricsServiceRequest with one empty ResourceMetrics, as any exporter's body starts
    const r = await unaryCall(target, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', Uint8Array.from([0x0a, 0x00]));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(r.error.details).toMatch(/^agent-credit takes traces and logs, not metrics: .*OTEL_METRICS_EXPORTER=none/);
    expect(seen.spans).toHaveLength(0);
    expect(problems).toEqual([{ status: 404, message: expect.stringMatching(/^OTLP\/gRPC UNIMPLEMENTED: agent-credit takes traces and logs, not metrics/) }]);
  });

  it('a message over maxMessageBytes: RESOURCE_EXHAUSTED, the handler not called', async () => {
    const { target, seen } = await receiverWith({}, { maxMessageBytes: 1024 });
    const run = await aRun();
    expect(run.tracesProto.byteLength).toBeGreaterThan(1024);
    const r = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(r.ok || r.error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(seen.spans).toHaveLength(0);
  });
});

describe('source.grpc settings', () => {
  it('a port in use fails the start naming source.grpc.port and how to turn the receiver off', async () => {
    // taken by listening on a port the OS picks: a port picked free, closed and then listened on
    // can be taken in between (another test file's listen(0)), and the listen failed the test
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { port } }, sinks: { stdout: { enabled: false }, live: { enabled: false } } } });
      const err = await startLocalJob(config, { logger: silent() }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(new RegExp(`^cannot listen: .*EADDRINUSE.*127\\.0\\.0\\.1:${port}.* — choose another port with source\\.grpc\\.port \\(--grpc-port\\) \\(0 = any free port\\); or set source\\.grpc\\.enabled: false \\(--no-grpc\\) when your exporters send OTLP/HTTP only$`));
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('defaults to on, 127.0.0.1:4317; the same port as source.http is refused at load', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.source.grpc).toEqual({ enabled: true, host: '127.0.0.1', port: 4317 });
    const shared = loadConfig({ env: {}, overrides: { source: { http: { port: 18_600 }, grpc: { port: 18_600 } }, sinks: { live: { enabled: false } } } }).config;
    expect(sharedListenerPorts(shared)).toEqual([
      'source.grpc.port: 18600 is also source.http.port (source.http.host 127.0.0.1, source.grpc.host 127.0.0.1): two listeners cannot share a port — give each its own port, or 0 for any free port',
    ]);
    const off = loadConfig({ env: {}, overrides: { source: { http: { port: 18_600 }, grpc: { enabled: false, port: 18_600 } }, sinks: { live: { enabled: false } } } }).config;
    expect(sharedListenerPorts(off)).toEqual([]);
  });
});

describe('OTLP/gRPC secured by source.http.auth / tls', () => {
  let tls: TlsMaterial;
  beforeAll(() => {
    tls = makeTlsMaterial();
  });
  afterAll(() => tls?.remove());

  it('a bearer token: refused UNAUTHENTICATED without or with a wrong one (the handler not called); the real exporter with the header gets in', async () => {
    const { target, seen, receiver } = await receiverWith({}, { security: { auth: new BearerAuth(['s3cret-token']) } });
    const run = await aRun();
    const none = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(none.ok || [none.error.code, none.error.details]).toEqual([grpc.status.UNAUTHENTICATED, expect.stringMatching(/^no bearer token: send the metadata authorization: Bearer <token> with a token of source\.http\.auth/)]);
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer nope');
    const bad = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto, { metadata: wrong });
    expect(bad.ok || [bad.error.code, bad.error.details]).toEqual([grpc.status.UNAUTHENTICATED, expect.stringMatching(/^invalid bearer token/)]);
    expect(seen.spans).toHaveLength(0);

    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer s3cret-token');
    const url = receiver.address().url;
    await sendScenarioWith({ traces: new OTLPTraceExporter({ url, metadata }), logs: new OTLPLogExporter({ url, metadata }) }, run);
    expect(seen.spans.length).toBe(run.spans.length);
    expect(seen.logs.length).toBe(run.logRecords.length);
  });

  it('TLS from the same PEM files: a client trusting the certificate gets in, a plaintext one does not; with a client CA, mutual TLS', async () => {
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey } }, 'source.http');
    const { target, seen, receiver } = await receiverWith({}, { security });
    expect(receiver.address().url).toMatch(/^https:\/\//);
    const run = await aRun();
    const ca = Buffer.from(tls.read(tls.serverCert));
    const ok = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto, { credentials: grpc.credentials.createSsl(ca) });
    expect(ok.ok).toBe(true);
    expect(seen.spans.length).toBe(run.spans.length);
    const plain = await unaryCall(target, OTLP_GRPC_METHODS.traces, run.tracesProto);
    expect(plain.ok || plain.error.code).toBe(grpc.status.UNAVAILABLE);

    const mutual = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa } }, 'source.http');
    const m = await receiverWith({}, { security: mutual });
    const withoutCert = await unaryCall(m.target, OTLP_GRPC_METHODS.traces, run.tracesProto, { credentials: grpc.credentials.createSsl(ca) });
    expect(withoutCert.ok).toBe(false);
    const stranger = await unaryCall(m.target, OTLP_GRPC_METHODS.traces, run.tracesProto, { credentials: grpc.credentials.createSsl(ca, Buffer.from(tls.read(tls.strangerKey)), Buffer.from(tls.read(tls.strangerCert))) });
    expect(stranger.ok).toBe(false);
    const client = await unaryCall(m.target, OTLP_GRPC_METHODS.traces, run.tracesProto, { credentials: grpc.credentials.createSsl(ca, Buffer.from(tls.read(tls.clientKey)), Buffer.from(tls.read(tls.clientCert))) });
    expect(client.ok).toBe(true);
    expect(m.seen.spans.length).toBe(run.spans.length);
  });
});
