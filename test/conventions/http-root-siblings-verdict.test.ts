/**
 * A run inside a web request whose HTTP server span has more children than the agents: Express's
 * middleware spans, the app checks the caller (`auth check`) and reads the conversation from its
 * database (`SELECT chats`) beside `invoke_agent supervisor`. The judge emits its `gen_ai.evaluation.result` on that top
 * agent span, as the GenAI conventions place it. Only the exactly-one-child case (202a342) was
 * taken for the run: here the verdict flagged a step, the run waited awaitEvaluationMs and closed
 * without credit ("all of inner spans"). The one child of an app span that holds the agents is
 * the run; the app's own spans beside it are not.
 */
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, isRunLevelSpan } from '../../src/conventions/evaluations.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import { at, contextOf, recordLogs, recordSpans } from './sdk.js';
import { creditByAgent, creditOnVerdict } from './verdict-run.js';

const text = (role: string, content: string) => JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);

/** `extra`: a further child of the HTTP span, with its attributes (an LLM call the app makes itself). */
function webRun(score: number, extra?: Record<string, string>, top: Record<string, string> = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' }) {
  const spans = recordSpans((r) => {
    const http = r.tracer.startSpan('POST /chat', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'POST', 'http.route': '/chat' }, root: true });
    // Express's instrumentation records its middleware as the server span's children, and the
    // spans the route handler starts are their siblings (as opentelemetry-js-contrib#2022 reports)
    r.start('middleware - jsonParser', 1, { 'http.route': '/', 'express.name': 'jsonParser', 'express.type': 'middleware' }, http).end(at(1));
    r.start('auth check', 1, { 'enduser.id': 'u-42' }, http).end(at(2));
    const db = r.start('SELECT chats', 2, { 'db.system': 'postgresql', 'db.operation.name': 'SELECT' }, http);
    db.end(at(3));
    const sup = r.start('invoke_agent supervisor', 4, top, http);
    for (const [i, name, input, output] of [[0, 'researcher', 'Find flights', 'AC 123 09:00'], [1, 'writer', 'Write it up using: AC 123 09:00', 'Book AC 123.']] as const) {
      const agent = r.start(`invoke_agent ${name}`, 5 + i * 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, sup);
      r.start('chat gpt-4o', 6 + i * 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': text('user', input), 'gen_ai.output.messages': text('assistant', output) }, agent).end(at(11 + i * 10));
      agent.end(at(12 + i * 10));
    }
    sup.end(at(30));
    if (extra) r.start('chat gpt-4o-mini', 31, extra, http).end(at(32));
    http.end(at(33));
  });
  const agentSpan = spans.find((s) => s.name === 'invoke_agent supervisor')!;
  const logs = recordLogs((logger) =>
    logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(agentSpan.traceId, agentSpan.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': score } }),
  );
  return { spans, agentSpan, verdict: evaluationsFromLogs(logs)[0]! };
}

describe('a run inside an HTTP server span with other children, judged on its top agent span', () => {
  it('the verdict scores the run: the episode closes on it and is credited', async () => {
    const { spans, verdict } = webRun(1);
    const { closeReason, events } = await creditOnVerdict(spans, verdict);
    expect(closeReason).toBe('evaluation-arrived');
    expect(events[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
    const credit = creditByAgent(events[0]);
    expect(credit.writer! + credit.researcher!).toBeCloseTo(1);
  });

  it('a failing run-level verdict flags no step: the run is a failure, not a flagged supervisor', async () => {
    const { spans, verdict } = webRun(0);
    const { steps } = stepsFromSpans(spans, { evaluations: [verdict] });
    expect(steps.filter((s) => s.flaggedErroneous)).toEqual([]);
    const { closeReason, events } = await creditOnVerdict(spans, verdict);
    expect(closeReason).toBe('evaluation-arrived');
    expect(events[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'failure', evaluation: { score: 0 } });
  });

  it('only the child holding every agent span: an LLM call the app makes beside the agents, or an inner agent, stays a step', () => {
    const { spans, agentSpan } = webRun(1);
    const tree = new SpanTree(spans);
    expect(isRunLevelSpan(tree, agentSpan.spanId)).toBe(true);
    // the app's own spans are no run (a verdict on them is the app's business, not the run's)
    for (const name of ['auth check', 'SELECT chats', 'invoke_agent researcher']) expect(isRunLevelSpan(tree, spans.find((s) => s.name === name)!.spanId)).toBe(false);
    // an LLM call of the app's own beside the agents: which child is the run is not known
    const { spans: two, agentSpan: sup } = webRun(1, { 'gen_ai.operation.name': 'chat' });
    expect(isRunLevelSpan(new SpanTree(two), sup.spanId)).toBe(false);
    // the top span need not carry an agent attribute itself (Pydantic AI 1.x's `agent run` has only agent_name, model_name)
    const { spans: bare, agentSpan: top } = webRun(1, undefined, { agent_name: 'supervisor', model_name: 'gpt-4o' });
    expect(isRunLevelSpan(new SpanTree(bare), top.spanId)).toBe(true);
  });
});
