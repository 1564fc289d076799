/**
 * An agent run inside a web request, as an auto-instrumented app records it: the trace's root is
 * the HTTP server span (`POST /chat`, no agent attribute) and the agents run in its only child,
 * `invoke_agent supervisor`. The judge emits its `gen_ai.evaluation.result` in the context of that
 * agent span, as the GenAI conventions place an evaluation (on the operation it evaluates). It
 * was taken for a step's verdict: the run waited awaitEvaluationMs and closed without credit
 * ("all of inner spans"). The only child of such an app span is the run too.
 */
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, isRunLevelSpan } from '../../src/conventions/evaluations.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { at, contextOf, recordLogs, recordSpans } from './sdk.js';
import { creditByAgent, creditOnVerdict } from './verdict-run.js';

const text = (role: string, content: string) => JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);

function webRun(rootAttributes: Record<string, string>, kind = SpanKind.SERVER) {
  const spans = recordSpans((r) => {
    const http = r.tracer.startSpan('POST /chat', { kind, startTime: at(0), attributes: rootAttributes, root: true });
    const sup = r.start('invoke_agent supervisor', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' }, http);
    for (const [i, name, input, output] of [[0, 'researcher', 'Find flights', 'AC 123 09:00'], [1, 'writer', 'Write it up using: AC 123 09:00', 'Book AC 123.']] as const) {
      const agent = r.start(`invoke_agent ${name}`, 2 + i * 10, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, sup);
      r.start('chat gpt-4o', 3 + i * 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': text('user', input), 'gen_ai.output.messages': text('assistant', output) }, agent).end(at(8 + i * 10));
      agent.end(at(9 + i * 10));
    }
    sup.end(at(30));
    http.end(at(31));
  });
  const agentSpan = spans.find((s) => s.name === 'invoke_agent supervisor')!;
  const logs = recordLogs((logger) =>
    logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(agentSpan.traceId, agentSpan.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 } }),
  );
  return { spans, agentSpan, verdict: evaluationsFromLogs(logs)[0]! };
}

describe('a run inside an HTTP server span, judged on its top agent span', () => {
  it('the verdict scores the run: the episode closes on it and is credited', async () => {
    const { spans, verdict } = webRun({ 'http.request.method': 'POST', 'http.route': '/chat' });
    const { closeReason, events } = await creditOnVerdict(spans, verdict);
    expect(closeReason).toBe('evaluation-arrived');
    expect(events[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
    const credit = creditByAgent(events[0]);
    expect(credit.writer! + credit.researcher!).toBeCloseTo(1);
  });

  it('only under a span of the app (SERVER or CONSUMER, no agent attribute): other only children stay steps', () => {
    const { spans, agentSpan } = webRun({ 'http.request.method': 'POST' });
    const tree = new SpanTree(spans);
    expect(isRunLevelSpan(tree, agentSpan.spanId)).toBe(true);
    const researcher = spans.find((s) => s.name === 'invoke_agent researcher')!;
    expect(isRunLevelSpan(tree, researcher.spanId)).toBe(false); // one of two children
    // the same root carrying an agent convention's attribute is the agents' own: no change
    const { spans: agentRooted, agentSpan: inner } = webRun({ 'gen_ai.operation.name': 'invoke_agent' });
    expect(isRunLevelSpan(new SpanTree(agentRooted), inner.spanId)).toBe(false);
    // and an INTERNAL root without such attributes may be a framework's own (Pydantic AI 1.x's `agent run`)
    const { spans: internalRooted, agentSpan: under } = webRun({ model_name: 'gpt-4o' }, SpanKind.INTERNAL);
    expect(isRunLevelSpan(new SpanTree(internalRooted), under.spanId)).toBe(false);
  });
});
