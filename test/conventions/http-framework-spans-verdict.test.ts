/**
 * A run inside a web request whose framework's instrumentation records its handler as an INTERNAL
 * span between the HTTP server span and the agents (./web-apps.ts: Express, Fastify and
 * @fastify/otel as their instrumentations record them). The judge's `gen_ai.evaluation.result`,
 * sent as a log record against the top agent span, was taken for a step's verdict: the INTERNAL
 * handler span was not the app's (only SERVER and CONSUMER were), the run waited
 * awaitEvaluationMs and closed without credit ("all of inner spans"). So was it when a web front
 * end, traced too, called the agents' service: its CLIENT span was not the app's either.
 */
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, isRunLevelSpan } from '../../src/conventions/evaluations.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, contextOf, recordLogs, recordSpans, type Recorder } from './sdk.js';
import { creditByAgent, creditOnVerdict } from './verdict-run.js';
import { express, fastifyContrib, fastifyOtel, HTTP_SERVER, inside, koa, nextjs } from './web-apps.js';

/**
 * A web front end (its own service, traced too) handles `POST /api/chat` and calls the agents'
 * Express service with `fetch` (instrumentation-undici's CLIENT span, stable HTTP semconv): the
 * trace context propagates, so the front end's SERVER and CLIENT spans are above the Express app's.
 */
function frontEnd(r: Recorder): void {
  const front = r.tracer.startSpan('POST /api/chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'POST', 'url.path': '/api/chat', 'url.scheme': 'https', 'http.route': '/api/chat', 'http.response.status_code': 200 }, root: true });
  const call = r.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(0), attributes: { 'http.request.method': 'POST', 'url.full': 'http://agents:3000/chat', 'url.path': '/chat', 'url.scheme': 'http', 'server.address': 'agents', 'server.port': 3000, 'http.response.status_code': 200 } }, inside(front));
  express(r, { caller: call });
  call.end(at(35));
  front.end(at(36));
}

function judged(build: (r: Recorder) => void, score: number): { spans: Span[]; agentSpan: Span; verdict: ReturnType<typeof evaluationsFromLogs>[number] } {
  const spans = recordSpans(build);
  const agentSpan = spans.find((s) => s.name === 'invoke_agent supervisor')!;
  const logs = recordLogs((logger) =>
    logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(agentSpan.traceId, agentSpan.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': score } }),
  );
  return { spans, agentSpan, verdict: evaluationsFromLogs(logs)[0]! };
}

const CASES: [string, (r: Recorder) => void][] = [
  ['Express: SERVER → request handler → agents', (r) => express(r)],
  ['Express: SERVER → request handler → DB query, agents', (r) => express(r, { db: true })],
  ['Koa: SERVER → middleware → middleware → router → agents', koa],
  ['Next.js route handler: SERVER → executing api route → agents', nextjs],
  ['instrumentation-fastify: SERVER → request handler → agents', fastifyContrib],
  ['@fastify/otel: SERVER → SERVER request → handler → agents', fastifyOtel],
  ['a web front end\'s fetch to the agents\' Express service: SERVER → CLIENT → SERVER → request handler → agents', frontEnd],
];

describe('a run under a web framework\'s INTERNAL handler span, judged on its top agent span', () => {
  for (const [name, build] of CASES) {
    it(`${name}: the verdict scores the run, the episode closes on it and is credited`, async () => {
      const { spans, verdict } = judged(build, 1);
      const { closeReason, events } = await creditOnVerdict(spans, verdict);
      expect(closeReason).toBe('evaluation-arrived');
      expect(events[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
      const credit = creditByAgent(events[0]);
      expect(credit.writer! + credit.researcher!).toBeCloseTo(1);
    });

    it(`${name}: a failing verdict fails the run and flags no step`, () => {
      const { spans, verdict } = judged(build, 0);
      expect(stepsFromSpans(spans, { evaluations: [verdict] }).steps.filter((s) => s.flaggedErroneous)).toEqual([]);
    });
  }

  it('the handler span is a wrapper of the run; the middleware, the DB query and the inner agents are not the run', () => {
    const { spans } = judged((r) => express(r, { db: true }), 1);
    const tree = new SpanTree(spans);
    const id = (name: string) => spans.find((s) => s.name === name)!.spanId;
    expect(isRunLevelSpan(tree, id('request handler - /chat'))).toBe(true);
    for (const name of ['middleware - jsonParser', 'pg.query:SELECT chats', 'invoke_agent researcher', 'chat gpt-4o']) expect(isRunLevelSpan(tree, id(name))).toBe(false);
  });

  it('a CLIENT span inside the agents (a tool calling another agent service) wraps no run: the remote agent stays a step', () => {
    const spans = recordSpans((r) => {
      const sup = r.start('invoke_agent supervisor', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
      const tool = r.start('execute_tool research', 1, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'research' }, sup);
      const call = r.tracer.startSpan('POST', { kind: SpanKind.CLIENT, startTime: at(2), attributes: { 'http.request.method': 'POST', 'url.full': 'http://research:3000/run' } }, inside(tool));
      const server = r.tracer.startSpan('POST /run', { kind: SpanKind.SERVER, startTime: at(3), attributes: { 'http.request.method': 'POST', 'http.route': '/run' } }, inside(call));
      const remote = r.start('invoke_agent researcher', 4, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' }, server);
      r.start('chat gpt-4o', 5, { 'gen_ai.operation.name': 'chat' }, remote).end(at(6));
      for (const [s, ms] of [[remote, 7], [server, 8], [call, 9], [tool, 10], [sup, 11]] as const) s.end(at(ms));
    });
    expect(isRunLevelSpan(new SpanTree(spans), spans.find((s) => s.name === 'invoke_agent researcher')!.spanId)).toBe(false);
  });

  it('an INTERNAL span without a web framework\'s attribute is not taken for the app\'s: its only child stays a step', () => {
    // an agent framework's own top span may carry no agent-convention attribute (Pydantic AI 1.x's `agent run`)
    const spans = recordSpans((r) => {
      const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: HTTP_SERVER, root: true });
      const run = r.start('agent run', 1, { agent_name: 'supervisor', model_name: 'gpt-4o' }, http);
      r.start('chat gpt-4o', 2, { 'gen_ai.operation.name': 'chat' }, run).end(at(3));
      run.end(at(4));
      http.end(at(5));
    });
    expect(isRunLevelSpan(new SpanTree(spans), spans.find((s) => s.name === 'chat gpt-4o')!.spanId)).toBe(false);
  });
});
