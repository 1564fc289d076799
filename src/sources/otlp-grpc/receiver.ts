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
 * - What grpc-js refuses by itself — a message over `maxMessageBytes`, a method not served, a
 *   compression it cannot undo — is counted and logged too, naming the fix (observeStatuses,
 *   ./grpc-js-statuses.ts); every failure status is counted once, as `requestsRejected` with
 *   `transport: grpc` and the HTTP receiver's status for the same case.
 *
 * No .proto files nor proto loader: the methods are registered with pass-through (de)serializers,
 * so the request bytes go to the project's own OTLP decoder (src/otlp) and the response bytes
 * are the ones the HTTP receiver builds — and the decoded items to the same handler, through the
 * same ingest step (src/sources/otlp-export/ingest.ts).
 *
 * Security is the HTTP receiver's (`source.http.tls` / `auth`): TLS server credentials from the
 * same PEM files (renewed with them: ./credentials.ts) and the same tokens, read from the
 * `authorization` metadata before the message is read.
 *
 * Memory is bounded as the HTTP receiver bounds it: grpc-js reads a call's message into memory as it
 * arrives, on as many calls (HTTP/2 streams, 2^32 per connection) as clients open, and waits for
 * the rest of it forever (security review: 30 calls stalled 15 MB into their message held 472 MB,
 * none of them ever answered). So each call reserves `maxMessageBytes` from
 * `maxInflightMessageBytes` while its message is read (metadata → half-close; the message's length
 * prefix is not seen before the message is). A call that does not fit waits, its stream paused —
 * HTTP/2 flow control holds its client to one window (64 KiB) — until one does, in arrival order:
 * the calls an exporter multiplexes on one connection arrive together, metadata first, and are
 * read a few at a time instead of refused. Past `maxWaitingCalls` waiting, or after
 * `admissionWaitMs`, UNAVAILABLE + RetryInfo, before a byte of the message is read. A message not
 * received within `messageTimeoutMs` of its admission ends its call DEADLINE_EXCEEDED.
 */
import * as grpc from '@grpc/grpc-js';
import { BearerAuth } from '../../http/bearer-auth.js';
import type { ListenerSecurity } from '../../http/listener-security.js';
import type { SelfTelemetry } from '../../telemetry/self-metrics.js';
import type { OtlpHandler } from '../otlp-export/handler.js';
import { ingestExport } from '../otlp-export/ingest.js';
import { exportResponse, type OtlpSignal } from '../otlp-http/responses.js';
import { RenewableServerCredentials } from './credentials.js';
import { RETRY_INFO_TRAILER, retryInfo, statusWithRetryInfo } from './status-details.js';
import { defaultInflightLimit, InflightBytes } from '../inflight-bytes.js';
import { httpAtGrpcPortMessage, MISSING_HTTP2_PREFACE, otlpHttpFix } from '../wrong-transport.js';
import { METRICS_REFUSED } from '../wrong-path.js';
import { describeGrpcJsStatus, quoted } from './grpc-js-statuses.js';
import type { EventEmitter } from 'node:events';
import type http2 from 'node:http2';

export interface OtlpGrpcReceiverOptions {
  host: string;
  /** 0 = any free port (see `address()`). */
  port: number;
  /** Largest request message accepted after decompression, bytes (source.http.maxBodyBytes). */
  maxMessageBytes: number;
  /**
   * Bytes of request messages read at once over all calls and connections: each call reserves
   * `maxMessageBytes` while its message is read; one that would pass this waits for room
   * (`maxWaitingCalls`, `admissionWaitMs`), else is refused UNAVAILABLE with a RetryInfo. One call
   * is always admitted when nothing else is being read. Default
   * 4 × maxMessageBytes, at least 64 MiB (the OTLP/HTTP receiver's in-flight limit).
   */
  maxInflightMessageBytes?: number;
  /** A budget shared with the job's OTLP/HTTP receiver, in place of `maxInflightMessageBytes` (its limit then bounds both). */
  inflight?: InflightBytes;
  /** A call whose message has not arrived whole (with its half-close) this long after its admission ends DEADLINE_EXCEEDED. Default 60 s, as the HTTP receiver's request timeout. */
  messageTimeoutMs?: number;
  /** Calls that may wait for room in `maxInflightMessageBytes` (each holds at most its stream's flow-control window, 64 KiB); more are refused UNAVAILABLE at once. Default 256. */
  maxWaitingCalls?: number;
  /** How long a call waits for that room before it is refused UNAVAILABLE (shorter than an exporter's 10 s timeout, so it gets the RetryInfo). Default 5 s. */
  admissionWaitMs?: number;
  /** TLS and bearer-token authentication, shared with the OTLP/HTTP receiver; unset = plaintext, open. */
  security?: ListenerSecurity;
  telemetry?: SelfTelemetry;
  /**
   * Receives non-fatal problems. `status` is the HTTP status the OTLP/HTTP receiver answers in the
   * same case (400, 401, 404, 408, 413, 415, 500, 503; 200 for a partly accepted request), so one problem logger serves both.
   */
  onProblem?: (info: { signal?: OtlpSignal; status: number; message: string }) => void;
  /** Where OTLP/HTTP is taken (the job's HTTP receiver), for the hint to an HTTP/1.1 client that came here. */
  httpAddress?: () => string | undefined;
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
  [grpc.status.DEADLINE_EXCEEDED]: 408,
  [grpc.status.RESOURCE_EXHAUSTED]: 413,
  [grpc.status.UNIMPLEMENTED]: 404,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
};

/** Seconds an exporter is asked to wait when the receiver reads too many messages at once (the HTTP receiver's Retry-After). */
const SATURATED_RETRY_AFTER_S = 1;
const MESSAGE_TIMEOUT_MS = 60_000;
const MAX_WAITING_CALLS = 256;
const ADMISSION_WAIT_MS = 5_000;

/** A call waiting for room in the in-flight limit. */
interface WaitingCall {
  admit(release: () => void): void;
  timer: NodeJS.Timeout;
}

export class OtlpGrpcReceiver {
  private server: grpc.Server | undefined;
  private credentials: RenewableServerCredentials | undefined;
  private stopFollowingTls: (() => void) | undefined;
  private stopHearingReleases: (() => void) | undefined;
  private boundPort: number | undefined;
  /** Bytes reserved by the calls whose message is being read now (see `maxInflightMessageBytes`). */
  private readonly inflight: InflightBytes;
  /** Calls waiting for room, in arrival order. */
  private readonly waiting: WaitingCall[] = [];
  /** The HTTP/2 stream grpc-js is setting a call up for, while it does (observeStatuses). */
  private arriving: http2.ServerHttp2Stream | undefined;
  /** Streams whose failure status the receiver's own code sent, counted and logged already. */
  private readonly counted = new WeakSet<http2.ServerHttp2Stream>();
  /** The methods registered with grpc-js: another path is answered UNIMPLEMENTED by grpc-js itself. */
  private readonly served = new Set([OTLP_GRPC_METHODS.traces, OTLP_GRPC_METHODS.logs, OTLP_GRPC_METRICS_METHOD]);

  constructor(
    private readonly options: OtlpGrpcReceiverOptions,
    private readonly handler: OtlpHandler,
  ) {
    this.inflight = options.inflight ?? new InflightBytes(options.maxInflightMessageBytes ?? defaultInflightLimit(options.maxMessageBytes));
  }

  /** Listens; resolves once bound, rejects with the bind error (its `code` set, e.g. EADDRINUSE, when grpc-js names one). */
  async start(): Promise<void> {
    if (this.server) throw new Error('OtlpGrpcReceiver already started');
    const auth = this.options.security?.auth;
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.options.maxMessageBytes,
      // exporters keep the connection between batches; an idle one is closed after 5 minutes
      'grpc.max_connection_idle_ms': 5 * 60_000,
      interceptors: [
        admissionInterceptor({
          auth,
          admit: (admitted, refused) => this.admit(admitted, refused),
          timeoutMs: this.options.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS,
          onCall: (path) => {
            // grpc-js sets the call up within its http2 'stream' event: the stream observeStatuses saw arrive
            const stream = this.arriving;
            this.arriving = undefined;
            return (code, message, refusal) => {
              if (stream) {
                // a status went out on the stream already — grpc-js's own (the client's deadline passed while
                // the handler ran), counted when the stream closes: this one reaches no client, not a second refusal
                if (sentStatus(stream) !== undefined) return;
                this.counted.add(stream);
              }
              // a refusal is decided before the message is read (signal 'none', as always); the handler's statuses name theirs
              this.problem(refusal ? 'none' : (signalOf(path) ?? 'none'), code, message);
            };
          },
        }),
      ],
    });
    for (const signal of ['traces', 'logs'] as const) {
      server.addService(passThroughService(OTLP_GRPC_METHODS[signal]), {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.export(signal, call.request, callback),
      });
    }
    server.addService(passThroughService(OTLP_GRPC_METRICS_METHOD), {
      // counted and logged by the admission interceptor, as every status the handlers send
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback({ code: grpc.status.UNIMPLEMENTED, details: METRICS_REFUSED }),
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
    this.stopHearingReleases = this.inflight.onFree(this.admitOnFree);
    const servers = (server as unknown as { http2Servers?: Map<EventEmitter, unknown> }).http2Servers;
    // a private field of grpc-js (1.14): without it the receiver works as before, only without these reports
    if (!(servers instanceof Map)) return;
    for (const h2 of servers.keys()) {
      this.observeStatuses(h2);
      if (!tls) this.reportWrongTransport(h2);
    }
  }

  /**
   * The statuses grpc-js sends by itself never pass a server interceptor, so the job said nothing of
   * them while the exporter dropped its batch: RESOURCE_EXHAUSTED for a message larger than
   * maxMessageBytes, UNIMPLEMENTED for a method not served (a typo'd path, a profiles exporter) or a
   * compression it cannot undo, INTERNAL for a message that does not decompress, DEADLINE_EXCEEDED at
   * the client's grpc-timeout. Each HTTP/2 stream's answer is read when it closes (the response
   * headers of a trailers-only answer, else the trailers: Node's `sentHeaders` / `sentTrailers`) and
   * any failure status the interceptor did not count (`counted`) is counted and logged here, named as
   * ./grpc-js-statuses.ts describes it. grpc-js builds a call's interceptors inside its own 'stream'
   * listener, after this one (prepended): the interceptor takes the stream from `arriving`.
   */
  private observeStatuses(h2: EventEmitter): void {
    h2.prependListener('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      this.arriving = stream;
      // left for the next stream's call if grpc-js set up none for this one (an unknown method)
      queueMicrotask(() => {
        if (this.arriving === stream) this.arriving = undefined;
      });
      stream.once('close', () => {
        if (this.counted.has(stream)) return;
        const sent = sentStatus(stream);
        // no gRPC status, but grpc-js's 415 to a request that is not gRPC (an OTLP/HTTP exporter speaking HTTP/2: h2c, or ALPN h2 over TLS)
        if (sent === undefined && Number(stream.sentHeaders?.[':status']) === 415) return this.notGrpc(headers);
        const code = Number(sent?.['grpc-status']);
        // no status sent (the client reset the stream), or OK
        if (!Number.isInteger(code) || code === grpc.status.OK) return;
        const path = String(headers[':path'] ?? '');
        const refusal = describeGrpcJsStatus({
          path,
          served: this.served.has(path),
          code,
          details: grpcMessage(sent?.['grpc-message']),
          encoding: typeof headers['grpc-encoding'] === 'string' ? headers['grpc-encoding'] : undefined,
          maxMessageBytes: this.options.maxMessageBytes,
        });
        this.problem(signalOf(path) ?? 'none', code, refusal.message, refusal.status);
      });
    });
  }

  /**
   * grpc-js answers an HTTP/2 request whose content-type is not application/grpc with a bare HTTP
   * 415 (no grpc-status), before any call: an OTLP/HTTP exporter that speaks HTTP/2 to this port
   * (over TLS an exporter offering h2 in ALPN gets it; or h2c), which only reports the 415.
   */
  private notGrpc(headers: http2.IncomingHttpHeaders): void {
    const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : '';
    const path = String(headers[':path'] ?? '');
    this.reportWithoutCall(
      415,
      `OTLP/gRPC: an HTTP/2 request that is not gRPC (content-type ${quoted(contentType)}, ${quoted(path)}) came to the OTLP/gRPC port: an OTLP/HTTP exporter? ${otlpHttpFix(this.options.httpAddress?.())}`,
    );
  }

  /**
   * An HTTP/1.1 client (an OTLP/HTTP exporter on the wrong port), or a TLS one (a gRPC exporter
   * with TLS on this plaintext port), ends in an http2 session error
   * before grpc-js sees a call, so grpc-js says nothing: listen on its HTTP/2 servers
   * (src/sources/wrong-transport.ts).
   */
  private reportWrongTransport(h2: EventEmitter): void {
    h2.on('sessionError', (err: Error) => {
      if (!MISSING_HTTP2_PREFACE.test(err.message)) return;
      // counted and logged as the HTTP receiver's 400s; no gRPC status was sent (there was no call)
      this.reportWithoutCall(400, httpAtGrpcPortMessage(this.options.httpAddress?.()));
    });
  }

  /** Counts and logs, as the HTTP receiver's `status`, a refusal that carried no gRPC status (there was no call). */
  private reportWithoutCall(status: number, message: string): void {
    this.options.telemetry?.requestsRejected.add(1, { status, signal: 'none', transport: 'grpc' });
    this.options.onProblem?.({ status, message });
  }

  /**
   * Reserves maxMessageBytes for a call's message while it is read; the release, or undefined past
   * the limit. One call is always admitted when nothing else is being read.
   */
  private reserveMessage(): (() => void) | undefined {
    return this.inflight.reserve(this.options.maxMessageBytes);
  }

  /** After any release of the budget — a call of ours, or an HTTP body when it is shared — waiting calls get their turn. */
  private readonly admitOnFree = (): void => {
    // admitted from a fresh microtask: not inside the grpc-js (or http) event of the request that released
    if (this.waiting.length > 0) queueMicrotask(() => this.admitWaiting());
  };

  private admitWaiting(): void {
    while (this.waiting.length > 0) {
      const release = this.reserveMessage();
      if (!release) return;
      this.waiting.shift()!.admit(release);
    }
  }

  /**
   * Admits a call now or once there is room (see the module comment): `admitted` gets the release
   * of its reservation, `refused` the reason it is not read. Returns the withdrawal of a waiting call
   * (its client gave up), a no-op otherwise.
   */
  private admit(admitted: (release: () => void) => void, refused: (message: string) => void): () => void {
    const noop = () => undefined;
    // behind the calls already waiting, in arrival order
    const release = this.waiting.length === 0 ? this.reserveMessage() : undefined;
    if (release) {
      admitted(release);
      return noop;
    }
    const limit = this.options.maxWaitingCalls ?? MAX_WAITING_CALLS;
    if (this.waiting.length >= limit) {
      refused(`${this.saturatedMessage()}, and ${limit} calls wait for room already: retry shortly`);
      return noop;
    }
    const waitMs = this.options.admissionWaitMs ?? ADMISSION_WAIT_MS;
    const withdraw = () => {
      const at = this.waiting.indexOf(entry);
      if (at >= 0) this.waiting.splice(at, 1);
      clearTimeout(entry.timer);
    };
    const entry: WaitingCall = {
      admit: (r) => {
        clearTimeout(entry.timer);
        admitted(r);
      },
      timer: setTimeout(() => {
        withdraw();
        refused(`${this.saturatedMessage()}, and this call waited ${waitMs / 1000} s for room: retry shortly`);
      }, waitMs),
    };
    entry.timer.unref();
    this.waiting.push(entry);
    return withdraw;
  }

  private saturatedMessage(): string {
    return this.inflight.fullMessage('request messages');
  }

  get listening(): boolean {
    return this.server !== undefined && this.boundPort !== undefined;
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
    // after the calls in flight: their releases still admit the waiting ones
    this.stopHearingReleases?.();
    this.stopHearingReleases = undefined;
  }

  private problem(signal: OtlpSignal | 'none', code: grpc.status, message: string, status = HTTP_EQUIVALENT[code] ?? 500): void {
    this.options.telemetry?.requestsRejected.add(1, { status, signal, transport: 'grpc' });
    this.options.onProblem?.({ ...(signal !== 'none' ? { signal } : {}), status, message: `OTLP/gRPC ${grpc.status[code]}: ${message}` });
  }

  private async export(signal: OtlpSignal, request: Buffer, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    // counted and logged by the admission interceptor, which sees the status go out
    const fail = (code: grpc.status, message: string, metadata?: grpc.Metadata) => callback({ code, details: message, ...(metadata ? { metadata } : {}) });
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
 * Admits a call before grpc-js reads its message (the stream stays paused until the metadata has
 * passed every interceptor):
 * - with `auth`, a call without a valid `authorization: Bearer <token>` metadata entry (what an
 *   OTLP exporter's headers setting sends over gRPC) is refused UNAUTHENTICATED; tokens are
 *   compared in constant time (BearerAuth), and neither the status nor the log quotes the one sent.
 * - the call reserves its message's bytes (`admit`: at once, or after a wait for room; refused
 *   UNAVAILABLE + RetryInfo when it cannot), released once the message is read (half-close) or
 *   the call ends;
 * - a message still not read whole `timeoutMs` after the call's admission ends it DEADLINE_EXCEEDED.
 */
function admissionInterceptor(opts: {
  auth: BearerAuth | undefined;
  /** OtlpGrpcReceiver.admit */
  admit: (admitted: (release: () => void) => void, refused: (message: string) => void) => () => void;
  timeoutMs: number;
  /**
   * A call of method `path` is being set up: what hears its failure status, once — a refusal of
   * this interceptor (`refusal`), or one that the handler (or grpc-js's unary handling) sends.
   */
  onCall: (path: string) => (code: grpc.status, message: string, refusal: boolean) => void;
}): grpc.ServerInterceptor {
  return (method, call) => {
    const onFailure = opts.onCall(method.path);
    let statusSeen = false;
    const seeStatus = (code: grpc.status, message: string, refusal: boolean) => {
      if (statusSeen) return;
      statusSeen = true;
      if (code !== grpc.status.OK) onFailure(code, message, refusal);
    };
    let release: (() => void) | undefined;
    let withdraw: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = () => {
      settled = true;
      withdraw?.();
      withdraw = undefined;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      release?.();
      release = undefined;
    };
    const refuse = (code: grpc.status, message: string, metadata?: grpc.Metadata) => {
      settle();
      seeStatus(code, message, true);
      call.sendStatus({ code, details: message, ...(metadata ? { metadata } : {}) });
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, mdNext) => {
              if (opts.auth) {
                const value = metadata.get('authorization')[0];
                const check = opts.auth.checkHeader(typeof value === 'string' ? value : undefined);
                if (check !== 'ok') {
                  return refuse(
                    grpc.status.UNAUTHENTICATED,
                    `${BearerAuth.problem(check, typeof value === 'string' ? value : undefined)}: send the metadata authorization: Bearer <token> with a token of source.http.auth (an OTLP exporter's headers setting, e.g. OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>)`,
                  );
                }
              }
              withdraw = opts.admit(
                (r) => {
                  withdraw = undefined;
                  // the call ended while it waited: nothing to read
                  if (settled) return r();
                  release = r;
                  timer = setTimeout(() => refuse(grpc.status.DEADLINE_EXCEEDED, `the request message did not arrive whole within ${opts.timeoutMs / 1000} s: send each Export request at once`), opts.timeoutMs);
                  timer.unref();
                  mdNext(metadata);
                },
                (message) => {
                  withdraw = undefined;
                  if (settled) return;
                  const details = new grpc.Metadata();
                  details.set('grpc-status-details-bin', statusWithRetryInfo(grpc.status.UNAVAILABLE, message, SATURATED_RETRY_AFTER_S));
                  details.set(RETRY_INFO_TRAILER, retryInfo(SATURATED_RETRY_AFTER_S)); // as under backpressure: the Python exporter reads this one
                  refuse(grpc.status.UNAVAILABLE, message, details);
                },
              );
            })
            .withOnReceiveHalfClose((next) => {
              settle();
              next();
            })
            .withOnCancel(settle)
            .build(),
        );
      },
      sendStatus: (status, next) => {
        settle();
        seeStatus(status.code, status.details, false);
        next(status);
      },
    });
  };
}

/** The headers that carried the status sent on `stream` (the trailers, or a trailers-only answer's headers); undefined before one was sent. */
function sentStatus(stream: http2.ServerHttp2Stream): http2.OutgoingHttpHeaders | undefined {
  if (stream.sentTrailers?.['grpc-status'] !== undefined) return stream.sentTrailers;
  return stream.sentHeaders?.['grpc-status'] !== undefined ? stream.sentHeaders : undefined;
}

/** The signal of an OTLP method path; undefined for another one. */
function signalOf(path: string): OtlpSignal | undefined {
  return path === OTLP_GRPC_METHODS.traces ? 'traces' : path === OTLP_GRPC_METHODS.logs ? 'logs' : undefined;
}

/** grpc-message as sent: percent-encoded by grpc-js's calls, raw in its answer to an unknown method. */
function grpcMessage(value: unknown): string {
  const raw = typeof value === 'string' ? value : value === undefined ? '' : String(value);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** grpc-js reports a failed bind as one Error quoting the listen errors: the errno code is set from them, so callers can name the setting. */
function withErrnoCode(err: Error): Error {
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN)\b/.exec(err.message)?.[1];
  if (code !== undefined && (err as NodeJS.ErrnoException).code === undefined) Object.assign(err, { code });
  return err;
}
