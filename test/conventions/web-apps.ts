/**
 * Spans of an agent run inside a web request, recorded with the real OpenTelemetry JS SDK in the
 * shape the web frameworks' instrumentations write them (names, kinds, attributes and nesting
 * read from opentelemetry-js-contrib instrumentation-http, instrumentation-express,
 * instrumentation-fastify, instrumentation-pg and from @fastify/otel):
 *
 * - Express: each layer's span is started in the active context; a middleware's `next` is bound
 *   back to its parent's context, so the middleware spans (`middleware - query`, `middleware -
 *   expressInit`, `middleware - jsonParser`) and the route's `request handler - /chat` are
 *   siblings under the server span, and the route handler runs in the request handler's context:
 *   `invoke_agent supervisor` and the handler's DB query are its children.
 * - Fastify (contrib instrumentation): the preHandler hook starts `request handler - chatHandler`
 *   (`fastify.type: request_handler`) and runs the route handler in its context.
 * - @fastify/otel: a SERVER span `request` under the HTTP server span, the route handler in
 *   `handler - chatHandler` (`fastify.type: request-handler`), its hooks beside it.
 */
import { context, SpanKind, trace, type Span as OtelSpan } from '@opentelemetry/api';
import { at, type Recorder } from './sdk.js';

const text = (role: string, content: string) => JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);

/** instrumentation-http's server span (old HTTP semconv, the JS default), renamed `POST /chat` by the route. */
export const HTTP_SERVER = {
  'http.url': 'http://localhost:3000/chat', 'http.host': 'localhost:3000', 'net.host.name': 'localhost', 'http.method': 'POST', 'http.scheme': 'http',
  'http.target': '/chat', 'http.user_agent': 'curl/8.5.0', 'http.flavor': '1.1', 'net.transport': 'ip_tcp', 'net.host.port': 3000, 'http.status_code': 200, 'http.status_text': 'OK', 'http.route': '/chat',
};

/** The agents: a supervisor with a researcher and a writer, each one LLM call. */
export function agents(r: Recorder, parent: OtelSpan, t0: number): OtelSpan {
  const sup = r.start('invoke_agent supervisor', t0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' }, parent);
  for (const [i, name, input, output] of [[0, 'researcher', 'Find flights', 'AC 123 09:00'], [1, 'writer', 'Write it up using: AC 123 09:00', 'Book AC 123.']] as const) {
    const agent = r.start(`invoke_agent ${name}`, t0 + 1 + i * 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, sup);
    r.start('chat gpt-4o', t0 + 2 + i * 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': text('user', input), 'gen_ai.output.messages': text('assistant', output) }, agent).end(at(t0 + 7 + i * 10));
    agent.end(at(t0 + 8 + i * 10));
  }
  sup.end(at(t0 + 25));
  return sup;
}

/** The context of `span`, to start a span of another kind under it. */
export const inside = (span: OtelSpan) => trace.setSpan(context.active(), span);

/** An INTERNAL span, as the frameworks' instrumentations start them (no kind given). */
export const internal = (r: Recorder, name: string, ms: number, attributes: Record<string, string | boolean>, parent: OtelSpan) => r.start(name, ms, attributes, parent);

/** What an Express app's route handler does beside running the agents. */
export interface ExpressHandler {
  /** The handler reads the chat from Postgres first (instrumentation-pg's CLIENT span). */
  db?: boolean;
  /** Further spans, started under the server span, the request handler span or the top agent span. */
  extra?: (r: Recorder, spans: { http: OtelSpan; handler: OtelSpan; sup: OtelSpan }) => void;
  /** The caller's span the request came from (trace context propagated): none, a new trace. */
  caller?: OtelSpan;
}

/** Express 4: `app.use(express.json())`, `app.post('/chat', handler)`. */
export function express(r: Recorder, { db = false, extra, caller }: ExpressHandler = {}): void {
  const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: HTTP_SERVER, ...(caller ? {} : { root: true }) }, caller ? inside(caller) : undefined);
  // Router.use layers added without a path store none: no http.route on them
  for (const [i, name] of ['query', 'expressInit', 'jsonParser'].entries()) internal(r, `middleware - ${name}`, 1 + i, { 'express.name': name, 'express.type': 'middleware' }, http).end(at(2 + i));
  const handler = internal(r, 'request handler - /chat', 4, { 'http.route': '/chat', 'express.name': '/chat', 'express.type': 'request_handler' }, http);
  if (db) {
    r.tracer.startSpan('pg.query:SELECT chats', { kind: SpanKind.CLIENT, startTime: at(5), attributes: { 'db.system': 'postgresql', 'db.name': 'chats', 'db.statement': 'SELECT * FROM chats WHERE id = $1', 'db.user': 'app', 'net.peer.name': 'localhost', 'net.peer.port': 5432 } }, inside(handler)).end(at(6));
  }
  const sup = agents(r, handler, 7);
  extra?.(r, { http, handler, sup });
  handler.end(at(33)); // on the response's 'finish'
  http.end(at(34));
}

/**
 * Koa with @koa/router: `app.use(logger)`, `app.use(bodyParser())`, `app.use(router.routes())`,
 * `router.post('/chat', handler)`. A Koa middleware runs the rest of the chain inside its span
 * (`await next()`), so each span is its successor's parent: the route's `router - /chat`
 * (`koa.type: router`) under the middleware spans, the agents under it.
 */
export function koa(r: Recorder): void {
  const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: HTTP_SERVER, root: true });
  const logger = internal(r, 'middleware - logger', 1, { 'koa.name': 'logger', 'koa.type': 'middleware' }, http);
  const body = internal(r, 'middleware - bodyParser', 2, { 'koa.name': 'bodyParser', 'koa.type': 'middleware' }, logger);
  const route = internal(r, 'router - /chat', 3, { 'koa.name': '/chat', 'koa.type': 'router', 'http.route': '/chat' }, body);
  agents(r, route, 4);
  for (const [span, ms] of [[route, 30], [body, 31], [logger, 32], [http, 33]] as const) span.end(at(ms));
}

/**
 * A Next.js app router route handler (`app/api/chat/route.ts`), as Next.js's own tracing records it
 * (@vercel/otel or the Node SDK registered in instrumentation.ts): the SERVER span `POST /api/chat`
 * (`next.span_type: BaseServer.handleRequest`), `resolve page components`, the handler's
 * `executing api route (app) /api/chat` (`next.span_type: AppRouteRouteHandlers.runHandler`) that
 * the agents run in, and `start response`.
 */
export function nextjs(r: Recorder): void {
  const next = (type: string, name: string) => ({ 'next.span_type': type, 'next.span_name': name, 'next.route': '/api/chat' });
  const http = r.tracer.startSpan('POST /api/chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.method': 'POST', 'http.target': '/api/chat', 'http.status_code': 200, 'next.rsc': false, ...next('BaseServer.handleRequest', 'POST /api/chat') }, root: true });
  internal(r, 'resolve page components', 1, next('NextNodeServer.findPageComponents', 'resolve page components'), http).end(at(2));
  const handler = internal(r, 'executing api route (app) /api/chat', 3, next('AppRouteRouteHandlers.runHandler', 'executing api route (app) /api/chat'), http);
  agents(r, handler, 4);
  handler.end(at(30));
  internal(r, 'start response', 31, next('NextNodeServer.startResponse', 'start response'), http).end(at(31));
  http.end(at(32));
}

/** @opentelemetry/instrumentation-fastify: an onRequest hook (async: the chain goes on in the server span's context), then the handler. */
export function fastifyContrib(r: Recorder): void {
  const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: HTTP_SERVER, root: true });
  internal(r, 'middleware - authenticate', 1, { 'fastify.type': 'middleware', 'plugin.name': 'fastify', 'hook.name': 'onRequest' }, http).end(at(2));
  const handler = internal(r, 'request handler - chatHandler', 3, { 'plugin.name': 'fastify', 'fastify.type': 'request_handler', 'http.route': '/chat', 'fastify.name': 'chatHandler' }, http);
  agents(r, handler, 4);
  handler.end(at(30)); // on reply.send
  http.end(at(31));
}

/** @fastify/otel: SERVER `request` under the HTTP server span; its hooks and the route handler under it. */
export function fastifyOtel(r: Recorder): void {
  const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: HTTP_SERVER, root: true });
  const request = r.tracer.startSpan('request', { kind: SpanKind.SERVER, startTime: at(1), attributes: { 'fastify.root': '@fastify/otel', 'http.request.method': 'POST', 'url.path': '/chat', 'http.route': '/chat' } }, inside(http));
  internal(r, 'onRequest - authenticate', 2, { 'hook.name': 'fastify - onRequest', 'fastify.type': 'hook', 'hook.callback.name': 'authenticate' }, request).end(at(3));
  const handler = internal(r, 'handler - chatHandler', 4, { 'hook.name': 'fastify - route-handler', 'fastify.type': 'request-handler', 'http.route': '/chat', 'hook.callback.name': 'chatHandler' }, request);
  agents(r, handler, 5);
  handler.end(at(31));
  request.end(at(32));
  http.end(at(33));
}
