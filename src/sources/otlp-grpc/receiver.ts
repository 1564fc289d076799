/**
 * Embedded OTLP/gRPC receiver (@grpc/grpc-js), following the OTLP/gRPC specification
 * (opentelemetry-proto docs/specification.md):
 * - unary `opentelemetry.proto.collector.trace.v1.TraceService/Export` and
 *   `opentelemetry.proto.collector.logs.v1.LogsService/Export`; requests may be gzip-compressed
 *   (`grpc-encoding: gzip`, which grpc-js undoes) and are at most `maxMessageBytes` (after
 *   decompression; larger → RESOURCE_EXHAUSTED from grpc-js).
 * - OK with an Export*ServiceResponse, `partial_success` set as the OTLP/HTTP receiver sets it.
 * - INVALID_ARGUMENT when nothing of the request decodes (not retried), UNAVAILABLE with a
 *   RetryInfo (in the Status details, and in the `google.rpc.retryinfo-bin` trailer the Python
 *   exporter reads) when the handler is saturated (retried after the delay), INTERNAL when the handler
 *   fails otherwise, UNAUTHENTICATED without a valid bearer token (when one is configured).
 * - UNIMPLEMENTED for `MetricsService/Export`, with a message naming the fix, reported as the HTTP
 *   receiver reports a POST to /v1/metrics (404).
 *
 * No .proto files nor proto loader: the methods are registered with pass-through (de)serializers,
 * so the request bytes go to the project's own OTLP decoder (src/otlp) and the response bytes
 * are the ones the HTTP receiver builds — and the decoded items to the same handler, through the
 * same ingest step (src/sources/otlp-export/ingest.ts).
 *
 * Security is the HTTP receiver's (`source.http.tls` / `auth`): TLS server credentials from the
 * same PEM files (renewed with them: ./credentials.ts) and the same tokens, read from the
 * `authorization` metadata before the message is handed over.
 */
import * as grpc from '@grpc/grpc-js';
import type { BearerAuth } from '../../http/bearer-auth.js';
import type { ListenerSecurity } from '../../http/listener-security.js';
import type { SelfTelemetry } from '../../telemetry/self-metrics.js';
import type { OtlpHandler } from '../otlp-export/handler.js';
import { ingestExport } from '../otlp-export/ingest.js';
import { exportResponse, type OtlpSignal } from '../otlp-http/responses.js';
import { RenewableServerCredentials } from './credentials.js';
import { RETRY_INFO_TRAILER, retryInfo, statusWithRetryInfo } from './status-details.js';

export interface OtlpGrpcReceiverOptions {
  host: string;
  /** 0 = any free port (see `address()`). */
  port: number;
  /** Largest request message accepted after decompression, bytes (source.http.maxBodyBytes). */
  maxMessageBytes: number;
  /** TLS and bearer-token authentication, shared with the OTLP/HTTP receiver; unset = plaintext, open. */
  security?: ListenerSecurity;
  telemetry?: SelfTelemetry;
  /**
   * Receives non-fatal problems. `status` is the HTTP status the OTLP/HTTP receiver answers in the
   * same case (400, 401, 500, 503; 200 for a partly accepted request), so one problem logger serves both.
   */
  onProblem?: (info: { signal?: OtlpSignal; status: number; message: string }) => void;
}

/** The two OTLP services: full method paths (the gRPC wire names of the proto services). */
export const OTLP_GRPC_METHODS: Readonly<Record<OtlpSignal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/**
 * The OTLP metrics service: not taken, but answered with a reason and reported (as the HTTP
 * receiver reports a POST to /v1/metrics) rather than left to grpc-js's bare UNIMPLEMENTED, which
 * the job never saw — Python's opentelemetry-instrument exports metrics to the same endpoint by
 * default (its distro sets OTEL_METRICS_EXPORTER=otlp).
 */
const OTLP_GRPC_METRICS_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const METRICS_REFUSED =
  'agent-credit takes traces and logs, not metrics: set OTEL_METRICS_EXPORTER=none in the app (opentelemetry-instrument exports metrics by default), or send metrics to a collector';

/** Unary method with the bytes passed through both ways (no proto loader: src/otlp decodes). */
function passThroughService(path: string): grpc.ServiceDefinition {
  const identity = (b: Buffer) => b;
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

/** The HTTP status the OTLP/HTTP receiver would answer, for the shared problem logger and counters. */
const HTTP_EQUIVALENT: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.UNIMPLEMENTED]: 404,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
};

export class OtlpGrpcReceiver {
  private server: grpc.Server | undefined;
  private credentials: RenewableServerCredentials | undefined;
  private stopFollowingTls: (() => void) | undefined;
  private boundPort: number | undefined;

  constructor(
    private readonly options: OtlpGrpcReceiverOptions,
    private readonly handler: OtlpHandler,
  ) {}

  /** Listens; resolves once bound, rejects with the bind error (its `code` set, e.g. EADDRINUSE, when grpc-js names one). */
  async start(): Promise<void> {
    if (this.server) throw new Error('OtlpGrpcReceiver already started');
    const auth = this.options.security?.auth;
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.options.maxMessageBytes,
      // exporters keep the connection between batches; an idle one is closed after 5 minutes
      'grpc.max_connection_idle_ms': 5 * 60_000,
      ...(auth ? { interceptors: [bearerInterceptor(auth, (message) => this.problem('none', grpc.status.UNAUTHENTICATED, message))] } : {}),
    });
    for (const signal of ['traces', 'logs'] as const) {
      server.addService(passThroughService(OTLP_GRPC_METHODS[signal]), {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.export(signal, call.request, callback),
      });
    }
    server.addService(passThroughService(OTLP_GRPC_METRICS_METHOD), {
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        this.problem('none', grpc.status.UNIMPLEMENTED, METRICS_REFUSED);
        callback({ code: grpc.status.UNIMPLEMENTED, details: METRICS_REFUSED });
      },
    });
    const tls = this.options.security?.tls;
    let credentials: grpc.ServerCredentials;
    if (tls) {
      this.credentials = new RenewableServerCredentials(tls);
      // renewed PEM files reach new connections, as they reach the HTTP receiver's (src/http/credential-renewal.ts)
      this.stopFollowingTls = this.options.security?.tlsUpdates?.add(this.credentials);
      credentials = this.credentials;
    } else {
      credentials = grpc.ServerCredentials.createInsecure();
    }
    this.server = server;
    const target = `${this.options.host.includes(':') && !this.options.host.startsWith('[') ? `[${this.options.host}]` : this.options.host}:${this.options.port}`;
    try {
      this.boundPort = await new Promise<number>((resolve, reject) => server.bindAsync(target, credentials, (err, port) => (err ? reject(err) : resolve(port))));
    } catch (err) {
      this.server = undefined;
      this.stopFollowingTls?.();
      server.forceShutdown();
      throw withErrnoCode(err as Error);
    }
  }

  /** Bound address (after start): the real port when configured with 0. */
  address(): { host: string; port: number; url: string } {
    if (!this.server || this.boundPort === undefined) throw new Error('OtlpGrpcReceiver not started');
    const host = this.options.host.includes(':') && !this.options.host.startsWith('[') ? `[${this.options.host}]` : this.options.host;
    // the scheme an OTLP gRPC exporter's endpoint takes: http = plaintext (insecure), https = TLS
    return { host: this.options.host, port: this.boundPort, url: `${this.options.security?.tls ? 'https' : 'http'}://${host}:${this.boundPort}` };
  }

  /** Stops accepting and waits for calls in flight (2 s, then drops them). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopFollowingTls?.();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2_000);
      t.unref();
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private problem(signal: OtlpSignal | 'none', code: grpc.status, message: string): void {
    const status = HTTP_EQUIVALENT[code] ?? 500;
    this.options.telemetry?.requestsRejected.add(1, { status, signal, transport: 'grpc' });
    this.options.onProblem?.({ ...(signal !== 'none' ? { signal } : {}), status, message: `OTLP/gRPC ${grpc.status[code]}: ${message}` });
  }

  private async export(signal: OtlpSignal, request: Buffer, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    const fail = (code: grpc.status, message: string, metadata?: grpc.Metadata) => {
      this.problem(signal, code, message);
      callback({ code, details: message, ...(metadata ? { metadata } : {}) });
    };
    let outcome;
    try {
      outcome = await ingestExport(signal, request, 'otlp_proto', this.handler, {
        telemetry: this.options.telemetry,
        source: 'otlp-grpc',
        onPartlyUndecodable: (s, message) => this.options.onProblem?.({ signal: s, status: 200, message: `OTLP/gRPC: ${message}` }),
      });
    } catch (err) {
      return fail(grpc.status.INTERNAL, `processing failed: ${(err as Error).message}`);
    }
    switch (outcome.kind) {
      case 'undecodable':
        return fail(grpc.status.INVALID_ARGUMENT, `undecodable ${signal} request: ${outcome.reason}`);
      case 'busy': {
        // UNAVAILABLE is retryable for every OTLP exporter; the RetryInfo says after how long (spec: OTLP/gRPC Throttling)
        const metadata = new grpc.Metadata();
        metadata.set('grpc-status-details-bin', statusWithRetryInfo(grpc.status.UNAVAILABLE, outcome.message, outcome.retryAfterSeconds));
        // the Python exporter reads the delay from this trailer instead (./status-details.ts)
        metadata.set(RETRY_INFO_TRAILER, retryInfo(outcome.retryAfterSeconds));
        return fail(grpc.status.UNAVAILABLE, outcome.message, metadata);
      }
      case 'failed':
        return fail(grpc.status.INTERNAL, outcome.message);
      case 'accepted':
        callback(null, Buffer.from(exportResponse(signal, 'protobuf', outcome.partial)));
    }
  }
}

/**
 * Refuses a call without a valid `authorization: Bearer <token>` metadata entry (what an OTLP
 * exporter's headers setting sends over gRPC) as soon as its metadata arrives: the message is never
 * handed to the handler. Tokens are compared in constant time (BearerAuth).
 */
function bearerInterceptor(auth: BearerAuth, onRefused: (message: string) => void): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, mdNext) => {
              const value = metadata.get('authorization')[0];
              const check = auth.checkHeader(typeof value === 'string' ? value : undefined);
              if (check === 'ok') return mdNext(metadata);
              const message = `${check === 'missing' ? 'no bearer token' : 'invalid bearer token'}: send the metadata authorization: Bearer <token> with a token of source.http.auth (an OTLP exporter's headers setting, e.g. OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>)`;
              onRefused(message);
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: message });
            })
            .build(),
        );
      },
    });
}

/** grpc-js reports a failed bind as one Error quoting the listen errors: the errno code is set from them, so callers can name the setting. */
function withErrnoCode(err: Error): Error {
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN)\b/.exec(err.message)?.[1];
  if (code !== undefined && (err as NodeJS.ErrnoException).code === undefined) Object.assign(err, { code });
  return err;
}
