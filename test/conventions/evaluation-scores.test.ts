/**
 * Scores as evaluators really send them. The semantic conventions type
 * `gen_ai.evaluation.score.value` as a double (model/gen-ai/registry.yaml) and OpenInference's
 * annotation/evaluation `score` as an integer or float (spec/annotations.md), but judges also
 * send booleans (a pass/fail check's `{"score": true}` in an EVALUATOR span's `output.value`) and
 * formatted strings. A score that is read nowhere leaves the run with no verdict and no credit.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromSpans } from '../../src/conventions/evaluations.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, creditEventsOf, recordSpans } from './sdk.js';

/** One agent's run whose root is judged by an OpenInference EVALUATOR child span (it evaluates its parent). */
function judgedRun(evaluator: Record<string, unknown>, rootAttributes: Record<string, unknown> = {}): Span[] {
  return recordSpans((r) => {
    const root = r.start('invoke_agent writer', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer', ...rootAttributes });
    r.start('chat write', 1, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, root).end(at(2));
    r.start('task_success', 3, { 'openinference.span.kind': 'EVALUATOR', ...evaluator }, root).end(at(4));
    root.end(at(5));
  });
}

const scores = (spans: Span[], rootScoreAttribute?: string) =>
  evaluationsFromSpans(spans, rootScoreAttribute !== undefined ? { rootScoreAttribute } : {}).map((e) => [e.source, e.name, e.score, e.label ?? null]);

describe('boolean scores', () => {
  it('an EVALUATOR span whose output.value JSON says {"score": true | false} scores 1 | 0 (before: no evaluation)', () => {
    expect(scores(judgedRun({ 'output.value': '{"score": true, "explanation": "all checks passed"}' }))).toEqual([['evaluator-span', 'task_success', 1, null]]);
    expect(scores(judgedRun({ 'output.value': '{"score": false, "label": "fail"}' }))).toEqual([['evaluator-span', 'task_success', 0, 'fail']]);
  });

  it('a numeric string in that JSON is read as the same string in output.value is (0.8), other JSON values are no score', () => {
    expect(scores(judgedRun({ 'output.value': '{"score": "0.8"}' }))).toEqual([['evaluator-span', 'task_success', 0.8, null]]);
    expect(scores(judgedRun({ 'output.value': '0.8' }))).toEqual([['evaluator-span', 'task_success', 0.8, null]]);
    // a list or an object is not a score; the label still scores the verdict
    expect(scores(judgedRun({ 'output.value': '{"score": [1], "label": "pass"}' }))).toEqual([['evaluator-span', 'task_success', 1, 'pass']]);
  });

  it('a boolean in the configured root score attribute is the run score (before: dropped)', () => {
    expect(scores(recordSpans((r) => r.start('run', 0, { 'agent_credit.score': true }).end(at(1))), 'agent_credit.score')).toEqual([['root-attribute', 'agent_credit.score', 1, null]]);
    expect(scores(recordSpans((r) => r.start('run', 0, { 'agent_credit.score': false }).end(at(1))), 'agent_credit.score')).toEqual([['root-attribute', 'agent_credit.score', 0, null]]);
  });

  it('boolean attributes were and are scores: evaluation.score, OpenInference feedback score', () => {
    expect(scores(judgedRun({ 'evaluation.name': 'task_success', 'evaluation.score': false }))).toEqual([['evaluator-span', 'task_success', 0, null]]);
    const feedback = recordSpans((r) => r.start('run', 0, { 'trace.annotations.0.annotation.name': 'thumbs', 'trace.annotations.0.annotation.score': true }).end(at(1)));
    expect(scores(feedback)).toEqual([['evaluator-span', 'thumbs', 1, null]]);
  });

  it('end to end: a run judged {"score": false} by its EVALUATOR span is credited as a failure (before: no events)', async () => {
    const { credit } = await creditEventsOf(judgedRun({ 'output.value': '{"score": false}' }), []);
    expect(credit).toMatchObject({ outcome: 'failure', system_value: 0, evaluation: { name: 'task_success', source: 'evaluator-span' } });
  });
});
