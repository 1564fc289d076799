/**
 * A run inside a web request (./web-apps.ts): the app's own instrumentation beside the agents —
 * Express's middleware spans, the handler's Postgres query and its call to another service, the
 * ASGI instrumentation's `http receive` / `http send` spans of a FastAPI app — matches no agent
 * convention and holds no recognised span, so every such episode carried
 * "N span(s) match no known convention and hold no recognised span" in its warnings: one per
 * request, on spans that are plainly web and DB instrumentation, which teaches an operator to
 * ignore the warning meant to catch an agent framework no convention reads.
 */
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans } from './sdk.js';
import { agents, express, fastifyOtel, inside, internal, nextjs, type ExpressHandler } from './web-apps.js';

const unknownWarnings = (warnings: readonly string[]) => warnings.filter((w) => /no known convention/.test(w));

/** What the handler does beside the agents: reads Postgres, caches in Redis, asks the users service over HTTP (undici). */
const busyHandler: ExpressHandler = {
  db: true,
  extra: (r, { http, handler }) => {
    internal(r, 'middleware - authenticate', 4, { 'express.name': 'authenticate', 'express.type': 'middleware' }, http).end(at(4));
    r.tracer.startSpan('get', { kind: SpanKind.CLIENT, startTime: at(5), attributes: { 'db.system': 'redis', 'db.statement': 'get session:?', 'net.peer.name': 'redis', 'net.peer.port': 6379 } }, inside(handler)).end(at(5));
    r.tracer
      .startSpan('GET', { kind: SpanKind.CLIENT, startTime: at(6), attributes: { 'http.request.method': 'GET', 'url.full': 'http://users:8080/users/42', 'url.path': '/users/42', 'server.address': 'users', 'server.port': 8080, 'http.response.status_code': 200 } }, inside(handler))
      .end(at(6));
  },
};

describe('web and DB instrumentation beside the agents is not "a span that matches no known convention"', () => {
  it('Express with middleware, a Postgres and a Redis query and an HTTP call in the handler: no such warning', async () => {
    const spans = recordSpans((r) => express(r, busyHandler));
    expect(spans.filter((s) => ['middleware - jsonParser', 'pg.query:SELECT chats', 'get', 'GET'].includes(s.name))).toHaveLength(4);
    expect(unknownWarnings(stepsFromSpans(spans).warnings)).toEqual([]);
    // nor in the episode_credit event the run publishes
    const [credit] = (await processEpisode(episodeOf(spans, 1))) as EpisodeCredit[];
    expect(unknownWarnings(credit!.diagnostics.warnings)).toEqual([]);
  });

  it('@fastify/otel with a hook beside the handler: no such warning', () => {
    expect(unknownWarnings(stepsFromSpans(recordSpans(fastifyOtel)).warnings)).toEqual([]);
  });

  it('a Next.js route handler (its framework spans beside the handler\'s): no such warning', () => {
    expect(unknownWarnings(stepsFromSpans(recordSpans(nextjs)).warnings)).toEqual([]);
  });

  it('FastAPI (the ASGI instrumentation\'s receive and send spans beside the agents): no such warning', () => {
    const spans = recordSpans((r) => {
      const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.scheme': 'http', 'http.host': '127.0.0.1:8000', 'net.host.port': 8000, 'http.flavor': '1.1', 'http.target': '/chat', 'http.url': 'http://127.0.0.1:8000/chat', 'http.method': 'POST', 'http.server_name': 'localhost:8000', 'http.user_agent': 'curl/8.5.0', 'net.peer.ip': '127.0.0.1', 'net.peer.port': 51234, 'http.route': '/chat', 'http.status_code': 200 }, root: true });
      internal(r, 'POST /chat http receive', 1, { 'asgi.event.type': 'http.request' }, http).end(at(1));
      agents(r, http, 2);
      r.tracer.startSpan('POST /chat http send', { startTime: at(30), attributes: { 'asgi.event.type': 'http.response.start', 'http.status_code': 200 } }, inside(http)).end(at(30));
      internal(r, 'POST /chat http send', 31, { 'asgi.event.type': 'http.response.body' }, http).end(at(31));
      http.end(at(32));
    });
    expect(unknownWarnings(stepsFromSpans(spans).warnings)).toEqual([]);
  });

  it('a span of no instrumentation beside the agents is still warned about, the web and DB spans are not counted', () => {
    // an agent framework no convention reads, run in the same request
    const spans = recordSpans((r) => express(r, { ...busyHandler, extra: (r, s) => (busyHandler.extra!(r, s), r.start('Crew.kickoff', 30, {}, s.handler).end(at(31))) }));
    expect(unknownWarnings(stepsFromSpans(spans).warnings)).toEqual(['1 span(s) match no known convention and hold no recognised span: kept as structure (kind other)']);
  });

  // Node's auto-instrumentation (undici, http) records the request an LLM SDK sends for each model
  // call the GenAI instrumentation records: a CLIENT span under the chat span, on every call
  it('the HTTP request of a recorded model call (a CLIENT span under its chat span) is not warned about', () => {
    const spans = recordSpans((r) => {
      const agent = r.start('invoke_agent writer', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' });
      const chat = r.start('chat gpt-4o', 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'done' }] }]) }, agent);
      r.tracer
        .startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(2), attributes: { 'http.request.method': 'POST', 'url.full': 'https://api.openai.com/v1/chat/completions', 'server.address': 'api.openai.com', 'server.port': 443, 'http.response.status_code': 200 } }, inside(chat))
        .end(at(5));
      chat.end(at(6));
      agent.end(at(7));
    });
    expect(spans.map((s) => s.name)).toContain('POST');
    expect(unknownWarnings(stepsFromSpans(spans).warnings)).toEqual([]);
  });

  it('inside the agents an HTTP call is still warned about: it may be a model call no instrumentation recorded', () => {
    const spans = recordSpans((r) =>
      express(r, {
        extra: (r, { sup }) =>
          r.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(30), attributes: { 'http.request.method': 'POST', 'url.full': 'https://api.openai.com/v1/chat/completions', 'server.address': 'api.openai.com', 'server.port': 443 } }, inside(sup)).end(at(31)),
      }),
    );
    expect(unknownWarnings(stepsFromSpans(spans).warnings)).toEqual(['1 span(s) match no known convention and hold no recognised span: kept as structure (kind other)']);
  });
});
