/**
 * The live page sink: an HTTP server (default 127.0.0.1:8080) with
 * - `/`        a self-contained HTML page (./page.ts) that renders credit as it arrives;
 * - `/events`  Server-Sent Events: the ring buffer's recent events first, then new ones, one
 *              CreditEvent per `data:` line (event name = event_type);
 * - `/api/recent` the buffered events as one JSON array (the newest, up to 8 MiB), oldest first;
 * - `/api/agents` the fleet's standings (src/events/agent-board.ts): per agent, credited episodes,
 *              Σ and mean credit, first errors, harmful/redundant steps, repairs — since start,
 *              not only the buffered events; also pushed on `/events` as `agents` (at most every
 *              `boardIntervalMs` when it changed, and to every new client);
 * - `/metrics` Prometheus text, `/healthz`, `/readyz` (src/runtime/health.ts).
 *
 * Bounded: the last `bufferEvents` events are kept; at most `maxClients` SSE clients (more get
 * 503); a client whose socket buffer exceeds `maxClientBufferBytes` is disconnected rather than
 * buffered without bound; at most MAX_LARGE_ANSWERS answers of `/api/recent`, `/api/agents` and
 * `/metrics` are being sent at once (src/http/large-answers.ts; more get 503). Heartbeat comments keep proxies from closing idle streams; the timer
 * is unref'd.
 *
 * Optional security (`security`, from `sinks.live.tls` / `auth`): https (mutual TLS with a client
 * CA), and a bearer token for everything but `/healthz` and `/readyz` — those stay open because
 * orchestrator probes (Kubernetes httpGet) cannot send a token, and they reveal only up/down and
 * component names. A browser cannot add an Authorization header to a page or an EventSource, so
 * the page takes the token once as `/?token=<token>`: the answer sets an HttpOnly, SameSite=Strict
 * cookie (Secure over https) holding an HMAC of the token — never the token — which the page's own
 * `/events` and `/api/recent` requests then carry; the page removes the token from the address bar.
 * The query token is accepted on `/` only (it can end up in proxy logs and history: use it once).
 * Scripts and Prometheus send `Authorization: Bearer <token>` (Prometheus: `authorization.credentials_file`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentBoard, type AgentBoardSnapshot } from '../../events/agent-board.js';
import { creditedFromEvents, type CreditedEvents } from '../../events/credited-events.js';
import type { CreditEvent } from '../../events/schemas.js';
import { HealthState, sendJson, serveStatusRoutes } from '../../runtime/health.js';
import type { SelfTelemetry } from '../../telemetry/self-metrics.js';
import type { EventSink } from '../types.js';
import { LIVE_PAGE_HTML } from './page.js';
import { RingBuffer } from './ring-buffer.js';
import { closeNow, listen } from '../../http/server-lifecycle.js';
import { BearerAuth } from '../../http/bearer-auth.js';
import { LargeAnswers } from '../../http/large-answers.js';
import { createListenerServer, loopbackHostAllowed, type ListenerSecurity } from '../../http/listener-security.js';

export interface LiveSinkOptions {
  host: string;
  /** 0 = any free port (see `address()`). */
  port: number;
  bufferEvents: number;
  maxClients: number;
  /** Bytes queued on one SSE socket before the client is dropped; default 4 MiB. */
  maxClientBufferBytes?: number;
  /** Ms between SSE heartbeat comments; default 15000. */
  heartbeatMs?: number;
  /** Ms between pushes of the fleet's standings (`agents` on `/events`), when they changed; default 1000. */
  boardIntervalMs?: number;
  /**
   * The standings to show, fed by their owner (the job's StandingsSink, which also exports them as
   * gauges); default: the sink keeps its own from the events it publishes.
   */
  board?: AgentBoard;
  health?: HealthState;
  telemetry?: SelfTelemetry;
  /** TLS and bearer-token authentication (src/http/listener-security.ts); unset = plain http, open. */
  security?: ListenerSecurity;
  /**
   * What the standings cover, said in the page's table caption: default `job` (this process's
   * events since it started: a restart starts at zero, an instance of a Kafka group sees its own
   * partitions); `view` for `agent-credit view` (every instance's committed events from `fromMs`,
   * null = the topics' start).
   */
  scope?: { kind: 'view'; fromMs: number | null };
  /**
   * The OTLP/HTTP receiver's address (an `otlp-http` job's), named in the answer to telemetry
   * posted here; undefined while it is not listening, and for jobs without one.
   */
  receiverUrl?: () => string | undefined;
  /**
   * Where telemetry goes for a job without a receiver (the Kafka job, `view`), named in the answer
   * to telemetry posted here instead of the receiver.
   */
  sendTo?: string;
  /** Told of telemetry posted here (the job logs it): the exporter's own log is often off, so nothing said it went nowhere. */
  onProblem?: (p: { signal?: string; status: number; message: string }) => void;
}

/** The OTLP/HTTP receiver's paths: an exporter pointed at the live page's address posts to these. */
const RECEIVER_PATHS: Record<string, string> = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/evaluations': 'evaluations' };

/** The standings' coverage as pushed to the page: whose events, from when (unix ms; null = the output topics' start). */
export interface StandingsScope {
  kind: 'job' | 'view';
  since_ms: number | null;
}

/** Most bytes of events `/api/recent` returns (the newest ones). */
const RECENT_MAX_BYTES = 8 * 1024 * 1024;

/** Agents in an `agents` push: the highest and lowest credit sums (the page's table); `/api/agents` has all. */
const PUSHED_AGENTS = 200;

/** The standings as pushed to the page: at most PUSHED_AGENTS rows, the best and the worst half each. */
export function boardForPage(s: AgentBoardSnapshot, scope?: StandingsScope): AgentBoardSnapshot & { agents_total: number; scope?: StandingsScope } {
  const rows = s.agents.length <= PUSHED_AGENTS ? s.agents : [...s.agents.slice(0, PUSHED_AGENTS / 2), ...s.agents.slice(-PUSHED_AGENTS / 2)];
  return { ...s, agents: rows, agents_total: s.agents.length, ...(scope ? { scope } : {}) };
}

export class LiveSink implements EventSink {
  readonly name = 'live';
  private server: Server | undefined;
  /** Recent events as ready-to-send SSE frames (type + JSON), oldest first. */
  private readonly buffer: RingBuffer<{ type: string; data: string }>;
  private readonly clients = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;
  private boardTimer: NodeJS.Timeout | undefined;
  private readonly health: HealthState;
  /** Every event published since start, as standings (bounded: src/events/agent-board.ts). */
  private readonly board: AgentBoard;
  /** Whether `publish` feeds `board` (not when its owner does). */
  private readonly feedsBoard: boolean;
  /** `board.changes` at the last push. */
  private boardPushed = 0;
  /** Clients disconnected because they could not keep up. */
  slowClientsDropped = 0;
  /** What the standings cover (the page's caption). */
  private readonly scope: StandingsScope;
  /** /api/recent, /api/agents and /metrics answers being sent (src/http/large-answers.ts). */
  private readonly large = new LargeAnswers();

  constructor(private readonly options: LiveSinkOptions) {
    this.buffer = new RingBuffer(options.bufferEvents);
    this.board = options.board ?? new AgentBoard();
    this.feedsBoard = options.board === undefined;
    this.health = options.health ?? new HealthState();
    this.scope = options.scope ? { kind: 'view', since_ms: options.scope.fromMs } : { kind: 'job', since_ms: Date.now() };
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('LiveSink already started');
    const server = createListenerServer(this.options.security?.tls, (req, res) => this.route(req, res), this.options.security?.tlsUpdates);
    this.server = server;
    await listen(server, this.options.port, this.options.host);
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) this.write(c, ': keep-alive\n\n');
    }, this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.boardTimer = setInterval(() => this.pushBoard(), this.options.boardIntervalMs ?? 1_000);
    this.boardTimer.unref();
  }

  address(): { port: number; url: string } {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('LiveSink not started');
    return { port: a.port, url: `${this.options.security?.tls ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` };
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The fleet's standings from every event published since start. */
  agents(): AgentBoardSnapshot {
    return this.board.snapshot();
  }

  /** Recent events, oldest first (at most `bufferEvents`). */
  recent(): CreditEvent[] {
    return this.buffer.toArray().map((f) => JSON.parse(f.data) as CreditEvent);
  }

  publish(events: readonly CreditEvent[]): void {
    this.publishCredited(creditedFromEvents(events));
  }

  publishCredited(credited: CreditedEvents): void {
    if (this.feedsBoard) this.board.add(credited.facts);
    credited.facts.forEach((e, i) => {
      const data = credited.text(i);
      this.buffer.push({ type: e.event_type, data });
      const frame = `event: ${e.event_type}\ndata: ${data}\n\n`;
      for (const c of this.clients) this.write(c, frame);
    });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.boardTimer);
    for (const c of this.clients) c.end();
    this.clients.clear();
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await closeNow(s);
  }

  /**
   * The newest buffered events whose JSON totals at most `budget` bytes, oldest first. The buffer
   * holds `bufferEvents` events of any size: replayed whole, a new SSE client was sent all of it
   * past its `maxClientBufferBytes`, and `/api/recent` built one string of all of it.
   */
  private newestWithin(budget: number): { type: string; data: string }[] {
    const all = this.buffer.toArray();
    let used = 0;
    let from = all.length;
    while (from > 0) {
      const size = Buffer.byteLength(all[from - 1]!.data) + 32;
      if (used + size > budget) break;
      used += size;
      from--;
    }
    return all.slice(from);
  }

  /**
   * Bound to a loopback address, only requests naming a loopback host are served: otherwise a web
   * page the operator visits could rebind its own name to 127.0.0.1 and read the live page's
   * events (LLM outputs, errors) through the browser (security review).
   */
  /**
   * On a loopback address (any: 127.0.0.0/8, ::1, localhost) only loopback names are served: IP
   * literals and `localhost` / `*.localhost`, which browsers never resolve through DNS, so a page
   * cannot rebind them (loopbackHostAllowed, the status server's guard too).
   */
  private hostAllowed(host: string | undefined): boolean {
    return loopbackHostAllowed(this.options.host, host);
  }

  private boardFrame(): string {
    return `event: agents\ndata: ${JSON.stringify(boardForPage(this.board.snapshot(), this.scope))}\n\n`;
  }

  /** Pushes the standings to every client when they changed since the last push (one snapshot for all). */
  private pushBoard(): void {
    if (this.board.changes === this.boardPushed || this.clients.size === 0) return;
    this.boardPushed = this.board.changes;
    const frame = this.boardFrame();
    for (const c of this.clients) this.write(c, frame);
  }

  private write(client: ServerResponse, frame: string): void {
    if (client.writableLength > (this.options.maxClientBufferBytes ?? 4 * 1024 * 1024)) {
      this.slowClientsDropped++;
      this.clients.delete(client);
      client.destroy();
      return;
    }
    client.write(frame);
  }

  /** The session cookie's name: per port, so two instances on one host do not overwrite each other's. */
  private cookieName(): string {
    return `agent_credit_live_${(this.server?.address() as AddressInfo | null)?.port ?? 0}`;
  }

  /**
   * True when the request may see `path` (no token configured, or one presented: the
   * Authorization header, the session cookie, or `?token=` on `/`); otherwise answers 401.
   * `setCookie` receives the Set-Cookie value when `/?token=` was accepted.
   */
  private authorized(req: IncomingMessage, res: ServerResponse, path: string, query: string, setCookie: (value: string) => void): boolean {
    const auth = this.options.security?.auth;
    if (!auth) return true;
    const header = auth.checkHeader(req.headers.authorization);
    if (header === 'ok') return true;
    if (header === 'missing') {
      const cookie = cookieValue(req.headers.cookie, this.cookieName());
      if (cookie !== undefined && auth.acceptsSession(cookie)) return true;
      const token = path === '/' ? queryToken(query) : undefined;
      if (token !== undefined && auth.acceptsToken(token)) {
        setCookie(`${this.cookieName()}=${BearerAuth.sessionValueOf(token)}; Path=/; HttpOnly; SameSite=Strict${this.options.security?.tls ? '; Secure' : ''}`);
        return true;
      }
    }
    const error =
      path === '/'
        ? 'this live page needs its token (sinks.live.auth): open /?token=<token> once (the page then keeps a cookie), or send Authorization: Bearer <token>'
        : `${BearerAuth.problem(header, req.headers.authorization)}: send Authorization: Bearer <token> with a token of sinks.live.auth (the page's cookie also works)`;
    BearerAuth.refuse(res, header, 'agent-credit live', error);
    return false;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.refuseWrite(req, res, path);
      return;
    }
    if (!this.hostAllowed(req.headers.host)) {
      sendJson(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} not served: the live page listens on a loopback address and answers only requests for localhost (a DNS-rebinding guard); to reach it from elsewhere set sinks.live.host` });
      return;
    }
    // Probes stay open (see the module comment); everything else needs the token when one is set.
    if ((path === '/healthz' || path === '/readyz') && serveStatusRoutes(req, res, this.health, this.options.telemetry)) return;
    let cookie: string | undefined;
    if (!this.authorized(req, res, path, query, (v) => (cookie = v))) return;
    if (serveStatusRoutes(req, res, this.health, this.options.telemetry, this.large)) return;
    if (path === '/') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        'X-Content-Type-Options': 'nosniff',
        // a ?token= in the page's address must not leave in a Referer
        'Referrer-Policy': 'no-referrer',
        ...(cookie !== undefined ? { 'Set-Cookie': cookie } : {}),
      });
      res.end(LIVE_PAGE_HTML);
      return;
    }
    if (path === '/events') {
      if (this.clients.size >= this.options.maxClients) {
        sendJson(res, 503, { error: `too many live clients (sinks.live.maxClients = ${this.options.maxClients})` });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      // HEAD has no body to stream: answer the headers and end (a HEAD response is never flushed by writes, so it would hang and hold a slot)
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.write('retry: 2000\n\n');
      // half the client's buffer cap: room for the live events that follow on a slow link
      for (const f of this.newestWithin((this.options.maxClientBufferBytes ?? 4 * 1024 * 1024) / 2)) res.write(`event: ${f.type}\ndata: ${f.data}\n\n`);
      res.write(this.boardFrame());
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
      return;
    }
    if (path === '/api/recent') {
      if (!this.large.admit(res, path)) return;
      // the buffered JSON as is, newest first up to RECENT_MAX_BYTES, sent oldest first
      const body = `[${this.newestWithin(RECENT_MAX_BYTES).map((f) => f.data).join(',')}]`;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).end(body);
      return;
    }
    if (path === '/api/agents') {
      if (!this.large.admit(res, path)) return;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).end(JSON.stringify(this.board.snapshot()));
      return;
    }
    sendJson(res, 404, { error: 'not found: /, /events, /api/recent, /api/agents, /metrics, /healthz, /readyz' });
  }

  /**
   * 405 for a write. Telemetry posted here — an exporter given the live page's address, the one the
   * start-up line shows first — got a bare 405, and nothing in the job's log: the answer and a
   * warning now name the receiver to send it to.
   */
  private refuseWrite(req: IncomingMessage, res: ServerResponse, path: string): void {
    const signal = req.method === 'POST' ? RECEIVER_PATHS[path] : undefined;
    if (signal === undefined) {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const receiver = this.options.receiverUrl?.();
    const to = receiver !== undefined ? `the OTLP/HTTP receiver, ${receiver} (source.http.port): OTEL_EXPORTER_OTLP_ENDPOINT=${receiver}` : (this.options.sendTo ?? `the job's OTLP/HTTP receiver (source.http.port, 4318 by default), or for a Kafka job the collector that writes its input topics`);
    const message = `POST ${path} reached the live page (sinks.live.port), which only serves GET: nothing was received — send OTLP and evaluation records to ${to}`;
    this.options.onProblem?.({ signal, status: 405, message });
    const text = JSON.stringify({ error: message });
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
  }
}

/**
 * The `token` parameter of a query, percent-decoded but with `+` kept as `+`: a token holds no
 * spaces, and a base64 one (openssl rand -base64 32) typed into the address bar arrives with its
 * `+` unencoded, which form decoding (URLSearchParams) would turn into a space. Undefined when
 * absent or not valid percent-encoding.
 */
function queryToken(query: string): string | undefined {
  for (const part of query.split('&')) {
    if (!part.startsWith('token=')) continue;
    try {
      return decodeURIComponent(part.slice('token='.length));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
