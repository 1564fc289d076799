/**
 * Embedded OTLP/HTTP receiver (node:http), following the OTLP/HTTP specification:
 * - `POST /v1/traces`, `POST /v1/logs`; bodies `application/x-protobuf` or `application/json`,
 *   optionally `Content-Encoding: gzip` (or what else the collector's otlphttp exporter sends: body.ts).
 * - 200 with an Export*ServiceResponse in the request's encoding; `partial_success` carries the
 *   rejected count and message when part of the request was not accepted: spans / log records that
 *   do not decode on their own (a wrong-length id, an out-of-range enum, a bad attribute, damage
 *   within the item's own bytes) are dropped and counted there while the others are taken, and the
 *   handler may reject more.
 * - 400 + google.rpc.Status for undecodable bodies (and when no item of the request decodes), 415 for unsupported content types or
 *   encodings, 413 when the body (after decompression) exceeds `maxBodyBytes` (answered once the
 *   rest of the body has been read and thrown away, at most 5 s: bodyDrained), 404 for other
 *   paths, 405 (with `Allow: POST`) for other methods, 503 + `Retry-After` when the handler is
 *   saturated, or when the bodies read at once leave no room within `admissionWaitMs` (retryable
 *   for exporters).
 *
 * Beside OTLP, `POST /v1/evaluations` takes standalone evaluation records as JSON (one object, an
 * array, or JSON lines; schemas/evaluation-record.schema.json), for a judge service that is not
 * OTel-instrumented: 200 `{accepted, rejected, errors}` when at least one record is valid (and
 * `warnings`, when a record was taken with a doubt: a time_unix_nano in seconds or ms), 400 with
 * the errors when none is, 503 + Retry-After under backpressure. Not part of OTLP.
 *
 * Optional security (`security`, from `source.http.tls` / `auth`): https, with client
 * certificates required when a client CA is set (mutual TLS: refused in the handshake), and a
 * bearer token checked before anything else — 401 + `WWW-Authenticate: Bearer` and a Status body
 * in the request's encoding (UNAUTHENTICATED), for every path, the body thrown away (bodyDrained).
 * On a loopback address only requests naming a loopback host are taken (403 otherwise: hostServed,
 * a DNS-rebinding guard), checked first.
 *
 * The receiver decodes (src/otlp) and hands whole requests to the handler; it holds no queue.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEvaluationRecords } from '../../conventions/evaluation-records.js';
import { ReceiverBusyError, type OtlpHandler } from '../otlp-export/handler.js';
import { ingestExport } from '../otlp-export/ingest.js';
import type { SelfTelemetry } from '../../telemetry/self-metrics.js';
import { BodyEncodingError, BodyTooLargeError, isContentEncoding, readBody } from './body.js';
import { CONTENT_TYPES, GrpcCode, exportResponse, statusBody, type BodyEncoding, type OtlpSignal } from './responses.js';
import { listen } from '../../http/server-lifecycle.js';
import { BearerAuth } from '../../http/bearer-auth.js';
import { createListenerServer, loopbackHostAllowed, type ListenerSecurity } from '../../http/listener-security.js';
import { defaultInflightLimit, InflightBytes } from '../inflight-bytes.js';
import { defaultClientErrorResponse, grpcAtHttpPortMessage, HTTP2_PREFACE_CODE } from '../wrong-transport.js';
import { unknownPathMessage } from '../wrong-path.js';
import type { Socket } from 'node:net';

// The handler contract is shared with the OTLP/gRPC receiver (src/sources/otlp-export/handler.ts).
export { ReceiverBusyError, type OtlpHandler } from '../otlp-export/handler.js';

export interface OtlpHttpReceiverOptions {
  host: string;
  /** 0 = any free port (see `address()`). */
  port: number;
  /** Largest body accepted after decompression, bytes. */
  maxBodyBytes: number;
  /**
   * Bytes of request bodies read at once over all connections: each request reserves its
   * Content-Length (or `maxBodyBytes` when it sends none or is compressed) while it is read; one
   * that would pass this waits for room (its body unread), in arrival order, up to
   * `admissionWaitMs`, then gets 503 + Retry-After. Default 4 × maxBodyBytes, at least 64 MiB.
   */
  maxInflightBodyBytes?: number;
  /** Requests that may wait for room in `maxInflightBodyBytes`; more get 503 at once. Default 256. */
  maxWaitingRequests?: number;
  /** How long a request waits for that room before its 503 (shorter than an exporter's 10 s timeout). Default 5 s. */
  admissionWaitMs?: number;
  /** A budget shared with the job's OTLP/gRPC receiver, in place of `maxInflightBodyBytes` (its limit then bounds both). */
  inflight?: InflightBytes;
  /** TLS and bearer-token authentication (src/http/listener-security.ts); unset = plain http, open. */
  security?: ListenerSecurity;
  telemetry?: SelfTelemetry;
  /** Receives non-fatal problems (decode errors, handler failures, an OTLP/gRPC client on this port). */
  onProblem?: (info: { signal?: OtlpSignal; status: number; message: string }) => void;
  /** Where OTLP/gRPC is taken (the job's gRPC receiver), for the hint to a gRPC client that came here. */
  grpcAddress?: () => string | undefined;
}

const REQUEST_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 20_000;
/** Seconds an exporter is asked to wait when the receiver reads too many bodies at once. */
const SATURATED_RETRY_AFTER_S = 1;
const MAX_WAITING_REQUESTS = 256;
const ADMISSION_WAIT_MS = 5_000;
/** How long the rest of a refused body (over maxBodyBytes, or unauthenticated) is still read (and thrown away) before the 413 / 401 (bodyDrained). */
const DRAIN_BEFORE_413_MS = 5_000;

const PATHS: Readonly<Record<string, OtlpSignal>> = { '/v1/traces': 'traces', '/v1/logs': 'logs' };
const EVALUATIONS_PATH = '/v1/evaluations';
const EVALUATION_TYPES = new Set(['application/json', 'application/x-ndjson', 'application/jsonl', 'application/json-lines']);
/** How many record errors a response lists (the count is always complete). */
const MAX_LISTED_ERRORS = 20;

function bodyEncodingOf(contentType: string | undefined): BodyEncoding | undefined {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/x-protobuf' || mime === 'application/protobuf') return 'protobuf';
  if (mime === 'application/json') return 'json';
  return undefined;
}

/** A request waiting for room in the in-flight limit: the bytes it reserves once admitted. */
interface WaitingRequest {
  bytes: number;
  admit(release: () => void): void;
  timer: NodeJS.Timeout;
}

export class OtlpHttpReceiver {
  private server: Server | undefined;
  /** Bytes reserved by the bodies being read now (see `maxInflightBodyBytes`). */
  private readonly inflight: InflightBytes;
  /** Requests waiting for room, in arrival order. */
  private readonly waiting: WaitingRequest[] = [];
  private stopHearingReleases: (() => void) | undefined;

  constructor(
    private readonly options: OtlpHttpReceiverOptions,
    private readonly handler: OtlpHandler,
  ) {
    this.inflight = options.inflight ?? new InflightBytes(options.maxInflightBodyBytes ?? defaultInflightLimit(options.maxBodyBytes));
  }

  /** Listens; resolves once bound (rejects with the listen error, e.g. EADDRINUSE). */
  async start(): Promise<void> {
    if (this.server) throw new Error('OtlpHttpReceiver already started');
    const server = createListenerServer(this.options.security?.tls, (req, res) => void this.handle(req, res), this.options.security?.tlsUpdates);
    // Exporters keep connections open between batches; a closing receiver must not wait on them.
    server.keepAliveTimeout = 5_000;
    // A body still arriving after a minute is dropped (Node's default waits 5 min): stalled
    // uploads held their bytes that long (security review: 40 stalled 15 MB uploads → 737 MB).
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
    this.server = server;
    this.stopHearingReleases = this.inflight.onFree(this.admitOnFree);
    await listen(server, this.options.port, this.options.host);
  }

  /**
   * Reserves a body's bytes (its Content-Length when uncompressed, else maxBodyBytes) while it is
   * read: resolves with the release — at once, or once there is room, behind the requests already
   * waiting — or with undefined when it does not fit within `admissionWaitMs`, when
   * `maxWaitingRequests` wait already, or when the client went away. One request is always
   * admitted when nothing else is being read. Waiting, not refusing at once, as the OTLP/gRPC
   * receiver's calls do: a compressed body reserves maxBodyBytes, so at the defaults only 4 are
   * read at once, and the collector's otlphttp exporter (gzip, 10 senders) had 6 of 10 concurrent
   * exports refused 503 while a few MB were held.
   */
  private async reserveBody(declared: number, contentEncoding: string, res: ServerResponse): Promise<(() => void) | undefined> {
    // a compressed body is held decompressed while it is read (gzip streams as it arrives): its
    // Content-Length says nothing of that, so it reserves maxBodyBytes (review: 40 stalled gzip
    // uploads of 15 KB each held 436 MB while 612 KB was reserved)
    const known = contentEncoding === 'identity' && Number.isFinite(declared) && declared >= 0;
    const bytes = known ? Math.min(declared, this.options.maxBodyBytes) : this.options.maxBodyBytes;
    const now = this.waiting.length === 0 ? this.inflight.reserve(bytes) : undefined;
    if (now) return now;
    if (this.waiting.length >= (this.options.maxWaitingRequests ?? MAX_WAITING_REQUESTS)) return undefined;
    return new Promise((resolve) => {
      const withdraw = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        clearTimeout(entry.timer);
        res.off('close', giveUp);
      };
      const giveUp = (): void => {
        withdraw();
        resolve(undefined);
        // its place may have held up smaller requests behind it
        this.admitOnFree();
      };
      const entry: WaitingRequest = {
        bytes,
        admit: (release) => {
          withdraw();
          resolve(release);
        },
        timer: setTimeout(giveUp, this.options.admissionWaitMs ?? ADMISSION_WAIT_MS),
      };
      entry.timer.unref();
      res.once('close', giveUp); // the client went away (or the receiver closed its connection)
      this.waiting.push(entry);
    });
  }

  /** After any release of the budget — a body of ours, or a gRPC message when it is shared — waiting requests get their turn. */
  private readonly admitOnFree = (): void => {
    if (this.waiting.length > 0) queueMicrotask(() => this.admitWaiting());
  };

  private admitWaiting(): void {
    while (this.waiting.length > 0) {
      const release = this.inflight.reserve(this.waiting[0]!.bytes);
      if (!release) return;
      this.waiting[0]!.admit(release);
    }
  }

  private saturatedMessage(): string {
    return `${this.inflight.fullMessage('request bodies')}: retry shortly`;
  }

  /** An OTLP/gRPC client on this port is reported (src/sources/wrong-transport.ts); any other client error answered as Node does. */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code !== HTTP2_PREFACE_CODE) return defaultClientErrorResponse(err, socket);
    const message = grpcAtHttpPortMessage(this.options.grpcAddress?.());
    this.options.telemetry?.requestsRejected.add(1, { status: 400, signal: 'none' });
    this.options.onProblem?.({ status: 400, message });
    socket.destroy(); // an HTTP/2 client cannot read an HTTP/1.1 answer
  }

  /** Bound address (after start): the real port when configured with 0. */
  address(): { host: string; port: number; url: string } {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('OtlpHttpReceiver not started');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `${this.options.security?.tls ? 'https' : 'http'}://${host}:${a.port}` };
  }

  /** This receiver's URL as the client addressed it (its Host header: what its exporter was given), else as bound. */
  private urlAsAddressed(req: IncomingMessage): string {
    const host = req.headers.host;
    if (host === undefined || !/^[\w.\-[\]:]+$/.test(host)) return this.address().url;
    return `${this.options.security?.tls ? 'https' : 'http'}://${host}`;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Stops accepting, closes idle keep-alive connections, waits for in-flight requests. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopHearingReleases?.();
    this.stopHearingReleases = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const t = setTimeout(() => server.closeAllConnections(), 2_000);
    t.unref();
    await closed;
    clearTimeout(t);
  }

  private send(res: ServerResponse, status: number, encoding: BodyEncoding, body: Uint8Array, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': CONTENT_TYPES[encoding], 'Content-Length': String(body.byteLength), ...headers });
    res.end(body);
  }

  private fail(res: ServerResponse, status: number, encoding: BodyEncoding, grpc: number, message: string, signal?: OtlpSignal, headers?: Record<string, string>): void {
    this.options.telemetry?.requestsRejected.add(1, { status, signal: signal ?? 'none' });
    this.options.onProblem?.({ signal, status, message });
    this.send(res, status, encoding, statusBody(encoding, grpc, message), headers);
  }

  private sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    const body = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength), ...headers });
    res.end(body);
  }

  private failJson(res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): void {
    this.options.telemetry?.requestsRejected.add(1, { status, signal: 'evaluations' });
    this.options.onProblem?.({ status, message });
    this.sendJson(res, status, { error: message, ...extra }, headers);
  }

  /** `POST /v1/evaluations`: standalone evaluation records (see the module comment). */
  private async handleEvaluations(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const onEvaluations = this.handler.onEvaluations?.bind(this.handler);
    if (!onEvaluations) {
      req.resume();
      return this.failJson(res, 404, `no endpoint at ${EVALUATIONS_PATH} here: use POST /v1/traces or POST /v1/logs`);
    }
    if (req.method !== 'POST') {
      req.resume();
      return this.failJson(res, 405, `${req.method ?? '?'} not allowed on ${EVALUATIONS_PATH}: use POST`, {}, { Allow: 'POST' });
    }
    const mime = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!EVALUATION_TYPES.has(mime)) {
      req.resume();
      return this.failJson(res, 415, `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} on ${EVALUATIONS_PATH}: use application/json (an object or an array) or application/x-ndjson (JSON lines)`);
    }
    const ce = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!isContentEncoding(ce)) {
      req.resume();
      return this.failJson(res, 415, `unsupported Content-Encoding ${JSON.stringify(ce)}: use gzip, zlib, deflate, zstd, snappy, x-snappy-framed, lz4 or none`);
    }
    const lease = await this.reserveBody(Number(req.headers['content-length'] ?? NaN), ce, res);
    if (lease === undefined) {
      if (res.destroyed) return;
      req.resume();
      return this.failJson(res, 503, this.saturatedMessage(), {}, { 'Retry-After': String(SATURATED_RETRY_AFTER_S), Connection: 'close' });
    }
    let body: Buffer;
    try {
      body = await readBody(req, ce, this.options.maxBodyBytes).finally(lease);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        await bodyDrained(req);
        return this.failJson(res, 413, err.message, {}, { Connection: 'close' });
      }
      return this.failJson(res, 400, err instanceof BodyEncodingError ? err.message : `could not read the request body: ${(err as Error).message}`);
    }
    const refuse = this.handler.evaluationRefusal?.bind(this.handler);
    const { evaluations, errors, warnings, tooMany } = parseEvaluationRecords(body, { receivedAtUnixNano: BigInt(Date.now()) * 1_000_000n, ...(refuse ? { refuse } : {}) });
    if (tooMany) return this.failJson(res, 413, errors[0]!.message);
    // each invalid record, as the Kafka source counts each one it dead-letters: refused beside
    // valid ones (200 {accepted, rejected}) they were on /metrics nowhere, and a 400 counted the request only
    if (errors.length > 0) this.options.telemetry?.decodeErrors.add(errors.length, { signal: 'evaluations' });
    const listed = errors.slice(0, MAX_LISTED_ERRORS);
    if (evaluations.length === 0) {
      return this.failJson(res, 400, 'no valid evaluation record: each needs trace_id, conversation_id or response_id, name, and score or label (schemas/evaluation-record.schema.json)', { rejected: errors.length, errors: listed });
    }
    try {
      await onEvaluations(evaluations);
    } catch (err) {
      if (err instanceof ReceiverBusyError) return this.failJson(res, 503, err.message, {}, { 'Retry-After': String(err.retryAfterSeconds) });
      return this.failJson(res, 500, `processing failed: ${(err as Error).message}`);
    }
    if (errors.length > 0) this.options.onProblem?.({ status: 200, message: `${errors.length} invalid evaluation record(s) rejected, first: #${errors[0]!.index}: ${errors[0]!.message}` });
    // records taken with a doubt (a time_unix_nano in seconds or ms): the judge that sent them reads
    // this answer, seldom the job's log — the log's line is throttled per source besides
    const doubts = warnings.length > 0 ? { warnings: warnings.slice(0, MAX_LISTED_ERRORS) } : {};
    this.sendJson(res, 200, { accepted: evaluations.length, rejected: errors.length, errors: listed, ...doubts });
  }

  /**
   * Answers 401 and returns false when a token is configured and the request does not carry one
   * of them. Checked before anything else: an unauthenticated client learns nothing of the paths
   * and its body is not kept (read and thrown away, at most 5 s, as before a 413: bodyDrained; the
   * connection is closed after the answer).
   */
  private async authenticated(req: IncomingMessage, res: ServerResponse, path: string, encoding: BodyEncoding, signal: OtlpSignal | undefined): Promise<boolean> {
    const auth = this.options.security?.auth;
    if (!auth) return true;
    const check = auth.checkHeader(req.headers.authorization);
    if (check === 'ok') return true;
    // read to its end (thrown away, at most 5 s) as before a 413: answered while the client was
    // still sending, on a connection closed right after, the client's next writes failed (EPIPE)
    // and Go's net/http — the collector's otlphttp exporter — returned 'write: broken pipe' instead
    // of the 401 for about half of the 4 MB requests
    await bodyDrained(req);
    const message = `${BearerAuth.problem(check, req.headers.authorization)}: send the header Authorization: Bearer <token> with a token of source.http.auth (an OTLP exporter's headers setting, e.g. OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>)`;
    const headers = { 'WWW-Authenticate': BearerAuth.challenge(check, 'agent-credit'), Connection: 'close' };
    if (path === EVALUATIONS_PATH) this.failJson(res, 401, message, {}, headers);
    else this.fail(res, 401, encoding, GrpcCode.UNAUTHENTICATED, message, signal, headers);
    return false;
  }

  /**
   * Bound to a loopback address (the default 127.0.0.1), only requests whose Host names a loopback
   * host are taken (loopbackHostAllowed, the live page's and the status server's guard): a web page
   * the operator visits could otherwise rebind its own name to 127.0.0.1 and, same-origin, POST
   * spans and evaluation records — credited and published as rewards — through the browser. Answers
   * 403 (the body read and thrown away first, as before a 401) and returns false otherwise.
   */
  private async hostServed(req: IncomingMessage, res: ServerResponse, path: string, encoding: BodyEncoding, signal: OtlpSignal | undefined): Promise<boolean> {
    if (loopbackHostAllowed(this.options.host, req.headers.host)) return true;
    await bodyDrained(req);
    const message = `Host ${JSON.stringify(req.headers.host ?? '')} not served: the receiver listens on a loopback address and answers only requests for localhost or a loopback address (a DNS-rebinding guard) — send to localhost / 127.0.0.1, or to take exports from elsewhere set source.http.host`;
    const headers = { Connection: 'close' };
    if (path === EVALUATIONS_PATH) this.failJson(res, 403, message, {}, headers);
    else this.fail(res, 403, encoding, GrpcCode.PERMISSION_DENIED, message, signal, headers);
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const signal = PATHS[path];
    const requestEncoding = bodyEncodingOf(req.headers['content-type']);
    // Errors before we know the client's encoding are answered in JSON (readable by people and curl).
    const replyEncoding: BodyEncoding = requestEncoding ?? 'json';
    if (!(await this.hostServed(req, res, path, replyEncoding, signal))) return;
    if (!(await this.authenticated(req, res, path, replyEncoding, signal))) return;
    if (path === EVALUATIONS_PATH) return this.handleEvaluations(req, res);
    if (!signal) {
      req.resume();
      // a POST is an exporter's: the message names the endpoint setting that sent it here
      const message =
        req.method === 'POST'
          ? unknownPathMessage(path, this.urlAsAddressed(req), this.handler.onEvaluations !== undefined)
          : `no OTLP endpoint at ${path}: use POST /v1/traces or POST /v1/logs${this.handler.onEvaluations ? ` (or ${EVALUATIONS_PATH} for evaluation records)` : ''}`;
      return this.fail(res, 404, replyEncoding, GrpcCode.NOT_FOUND, message);
    }
    if (req.method !== 'POST') {
      req.resume();
      return this.fail(res, 405, replyEncoding, GrpcCode.UNIMPLEMENTED, `${req.method ?? '?'} not allowed on ${path}: use POST`, signal, { Allow: 'POST' });
    }
    if (!requestEncoding) {
      req.resume();
      return this.fail(res, 415, 'json', GrpcCode.INVALID_ARGUMENT, `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/x-protobuf or application/json`, signal);
    }
    const ce = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!isContentEncoding(ce)) {
      req.resume();
      return this.fail(res, 415, requestEncoding, GrpcCode.INVALID_ARGUMENT, `unsupported Content-Encoding ${JSON.stringify(ce)}: use gzip, zlib, deflate, zstd, snappy, x-snappy-framed, lz4 or none`, signal);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > this.options.maxBodyBytes) {
      await bodyDrained(req);
      return this.fail(res, 413, requestEncoding, GrpcCode.RESOURCE_EXHAUSTED, new BodyTooLargeError(this.options.maxBodyBytes).message, signal, { Connection: 'close' });
    }
    const lease = await this.reserveBody(declared, ce, res);
    if (lease === undefined) {
      if (res.destroyed) return;
      req.resume();
      return this.fail(res, 503, requestEncoding, GrpcCode.UNAVAILABLE, this.saturatedMessage(), signal, { 'Retry-After': String(SATURATED_RETRY_AFTER_S), Connection: 'close' });
    }
    let body: Buffer;
    try {
      body = await readBody(req, ce, this.options.maxBodyBytes).finally(lease);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        await bodyDrained(req);
        return this.fail(res, 413, requestEncoding, GrpcCode.RESOURCE_EXHAUSTED, err.message, signal, { Connection: 'close' });
      }
      const message = err instanceof BodyEncodingError ? err.message : `could not read the request body: ${(err as Error).message}`;
      this.options.telemetry?.decodeErrors.add(1, { signal });
      return this.fail(res, 400, requestEncoding, GrpcCode.INVALID_ARGUMENT, message, signal);
    }
    const otlpEncoding = requestEncoding === 'protobuf' ? 'otlp_proto' : 'otlp_json';
    const outcome = await ingestExport(signal, body, otlpEncoding, this.handler, {
      telemetry: this.options.telemetry,
      source: 'otlp-http',
      onPartlyUndecodable: (s, message) => this.options.onProblem?.({ signal: s, status: 200, message }), // logged as "request partly accepted: …"
    });
    switch (outcome.kind) {
      case 'undecodable': {
        // The usual cause of an envelope that does not decode: a JSON body labelled as protobuf (or the reverse). Say so.
        // [ too: a JSON array ("the request must be an object, got array") was told it did not look like JSON
        const looksJson = firstNonSpaceByte(body) === 0x7b || firstNonSpaceByte(body) === 0x5b;
        const hint = !outcome.threw ? '' : requestEncoding === 'protobuf' && looksJson ? ' (the body looks like JSON: send it with content-type application/json)' : requestEncoding === 'json' && !looksJson ? ' (the body does not look like JSON: protobuf is sent with content-type application/x-protobuf)' : '';
        return this.fail(res, 400, requestEncoding, GrpcCode.INVALID_ARGUMENT, `undecodable ${signal} request: ${outcome.reason}${hint}`, signal);
      }
      case 'busy':
        return this.fail(res, 503, requestEncoding, GrpcCode.UNAVAILABLE, outcome.message, signal, { 'Retry-After': String(outcome.retryAfterSeconds) });
      case 'failed':
        return this.fail(res, 500, requestEncoding, GrpcCode.INTERNAL, outcome.message, signal);
      case 'accepted':
        this.send(res, 200, requestEncoding, exportResponse(signal, requestEncoding, outcome.partial));
    }
  }
}

/**
 * Resolves once the rest of a refused request's body has arrived — read and thrown away (nothing is
 * held) — or after DRAIN_BEFORE_413_MS. A 413 sent while the client was still sending, on a
 * connection closed right after it (`Connection: close`), made the client's next writes fail
 * (EPIPE / ECONNRESET: its data reached a closed socket), and exporters take those for network
 * errors and retry before reading the answer: the OTel JS exporter sent the same too-large batch
 * up to 5 times, each refused again. Read to its end, the request leaves nothing unread on the
 * connection, and the close after the 413 is clean.
 */
function bodyDrained(req: IncomingMessage, ms = DRAIN_BEFORE_413_MS): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      req.off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    req.on('end', done).on('close', done).on('error', done);
    req.resume();
  });
}

/** First byte that is not JSON whitespace, or -1. */
function firstNonSpaceByte(body: Uint8Array): number {
  for (const b of body) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return -1;
}
