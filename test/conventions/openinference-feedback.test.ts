/**
 * OpenInference feedback attributes (Arize-ai/openinference spec/annotations.md, semantic
 * conventions 0.1.31): results flattened as `[trace.|session.]{annotations,evaluations}.<i>.…`,
 * inline on the judged span or on a post-hoc EVALUATOR carrier that links its target. Spans made
 * by the real OTel JS SDK, decoded by src/otlp.
 */
import { describe, expect, it } from 'vitest';
import { EvaluationSchema } from '../../src/model/agents.js';
import { evaluationsFromSpans, SpanTree, stepsFromSpans, systemEvaluation } from '../../src/conventions/index.js';
import { at, recordSpans, type Encoding } from './sdk.js';

/** A support run: root CHAIN → AGENT → LLM, with feedback attributes placed by `feedback`. */
function run(feedback: { root?: Record<string, unknown>; llm?: Record<string, unknown>; carrier?: Record<string, unknown> }, encoding: Encoding = 'otlp_proto') {
  return recordSpans((r) => {
    const root = r.start('support run', 0, { 'openinference.span.kind': 'CHAIN', 'session.id': 'sess-1', ...feedback.root });
    const agent = r.start('support', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'support' }, root);
    const llm = r.start('generation', 2, { 'openinference.span.kind': 'LLM', 'output.value': 'Refunds take 90 days.', 'output.mime_type': 'text/plain', ...feedback.llm }, agent);
    llm.end(at(3));
    agent.end(at(4));
    // Post-hoc carrier: parented under the root (as a judge running in the app would be), linked to the LLM span.
    if (feedback.carrier) r.start('correctness evaluation', 5, { 'openinference.span.kind': 'EVALUATOR', ...feedback.carrier }, root, [llm]).end(at(6));
    root.end(at(7));
  }, encoding);
}

describe('OpenInference feedback attributes (spec/annotations.md)', () => {
  it.each(['otlp_proto', 'otlp_json'] as const)('a trace-scoped evaluation on the root span is the run verdict (%s)', (encoding) => {
    const spans = run({ root: { 'trace.evaluations.0.evaluation.name': 'task_success', 'trace.evaluations.0.evaluation.score': 0, 'trace.evaluations.0.evaluation.label': 'fail', 'trace.evaluations.0.evaluation.annotator_kind': 'LLM' } }, encoding);
    const evals = evaluationsFromSpans(spans);
    for (const e of evals) expect(EvaluationSchema.safeParse(e).success).toBe(true);
    expect(evals).toHaveLength(1);
    expect(evals[0]).toMatchObject({ name: 'task_success', score: 0, label: 'fail', traceId: spans[0]!.traceId, source: 'evaluator-span' });
    expect(evals[0]!.spanId).toBeUndefined(); // the trace, not a span
    expect(systemEvaluation(new SpanTree(spans), evals)).toMatchObject({ name: 'task_success', score: 0 });
  });

  it('a span-scoped annotation on an LLM span flags that step, in either term, counted once when both forms carry it', () => {
    const spans = run({
      llm: {
        'annotations.0.annotation.name': 'correctness',
        'annotations.0.annotation.label': 'incorrect',
        'annotations.0.annotation.explanation': 'policy says 14 days',
        'evaluations.0.evaluation.name': 'correctness',
        'evaluations.0.evaluation.label': 'incorrect',
      },
    });
    const llm = spans.find((s) => s.name === 'generation')!;
    const evals = evaluationsFromSpans(spans);
    expect(evals).toHaveLength(1);
    expect(evals[0]).toMatchObject({ name: 'correctness', label: 'incorrect', score: 0, spanId: llm.spanId, explanation: 'policy says 14 days' });
    const { steps } = stepsFromSpans(spans);
    expect(steps.filter((s) => s.flaggedErroneous).map((s) => s.stepId)).toEqual([llm.spanId]);
    // A span verdict of an inner span is no run verdict.
    expect(systemEvaluation(new SpanTree(spans), evals)).toBeUndefined();
  });

  it('a post-hoc EVALUATOR carrier evaluates the span it links, not its parent', () => {
    const spans = run({ carrier: { 'evaluations.0.evaluation.name': 'correctness', 'evaluations.0.evaluation.score': 0, 'evaluations.0.evaluation.annotator_kind': 'HUMAN' } });
    const llm = spans.find((s) => s.name === 'generation')!;
    const evals = evaluationsFromSpans(spans);
    expect(evals).toHaveLength(1);
    expect(evals[0]).toMatchObject({ name: 'correctness', score: 0, spanId: llm.spanId, source: 'evaluator-span' });
    expect(stepsFromSpans(spans).steps.find((s) => s.stepId === llm.spanId)!.flaggedErroneous).toBe(true);
  });

  it('a trace-scoped carrier scores the run; a session-scoped result names the session; results without a name are dropped', () => {
    const spans = run({
      carrier: { 'trace.annotations.0.annotation.name': 'task_success', 'trace.annotations.0.annotation.score': 1 },
      root: { 'session.annotations.0.annotation.name': 'coherence', 'session.annotations.0.annotation.label': 'pass', 'annotations.0.annotation.score': 1 },
    });
    const evals = evaluationsFromSpans(spans);
    expect(evals.map((e) => e.name).sort()).toEqual(['coherence', 'task_success']);
    const task = evals.find((e) => e.name === 'task_success')!;
    expect(task).toMatchObject({ score: 1, traceId: spans[0]!.traceId });
    expect(task.spanId).toBeUndefined();
    const session = evals.find((e) => e.name === 'coherence')!;
    expect(session).toMatchObject({ conversationId: 'sess-1', score: 1, label: 'pass' });
    expect(session.traceId).toBeUndefined();
    expect(systemEvaluation(new SpanTree(spans), evals, 'task_success')).toMatchObject({ score: 1 });
  });

  it('a carrier whose link names a span of another trace is not read as a verdict of this episode', () => {
    const spans = recordSpans((r) => {
      const root = r.start('run', 0, { 'openinference.span.kind': 'CHAIN' });
      // A root of its own trace, left out of the episode below: the carrier's link leaves the episode.
      const foreign = r.start('foreign', 1);
      foreign.end(at(2));
      r.start('judge', 3, { 'openinference.span.kind': 'EVALUATOR', 'evaluations.0.evaluation.name': 'correctness', 'evaluations.0.evaluation.score': 0, 'trace.evaluations.0.evaluation.name': 'task_success', 'trace.evaluations.0.evaluation.score': 0 }, root, [foreign]).end(at(4));
      root.end(at(5));
    }).filter((s) => s.name !== 'foreign');
    expect(evaluationsFromSpans(spans)).toEqual([]);
  });
});
