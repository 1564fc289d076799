/**
 * Scores as evaluators really send them. The semantic conventions type
 * `gen_ai.evaluation.score.value` as a double (model/gen-ai/registry.yaml) and OpenInference's
 * annotation/evaluation `score` as an integer or float (spec/annotations.md), but judges also
 * send booleans (a pass/fail check's `{"score": true}` in an EVALUATOR span's `output.value`) and
 * formatted strings. A score that is read nowhere leaves the run with no verdict and no credit.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, evaluationsFromSpans } from '../../src/conventions/evaluations.js';
import type { CreditOptionsInput } from '../../src/credit/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, contextOf, creditEventsOf, recordLogs, recordSpans } from './sdk.js';

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

describe('percent strings', () => {
  const traceOf = (spans: Span[]) => spans[0]!.traceId;
  /** A run judged by a `gen_ai.evaluation.result` log record of its root whose score.value is `value`. */
  function loggedVerdict(value: string) {
    const spans = judgedRun({});
    const root = spans.find((s) => s.name === 'invoke_agent writer')!;
    const logs = recordLogs((logger) => logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceOf(spans), root.spanId), attributes: { 'gen_ai.evaluation.name': 'quality', 'gen_ai.evaluation.score.value': value } }));
    // only the logged verdict: the EVALUATOR child above carries no result
    return { spans: spans.filter((s) => s.name !== 'task_success'), logs };
  }

  it('"80%" in gen_ai.evaluation.score.value is 0.8, as "0.8" is (before: no evaluation)', () => {
    expect(evaluationsFromLogs(loggedVerdict('80%').logs).map((e) => e.score)).toEqual([0.8]);
    expect(evaluationsFromLogs(loggedVerdict(' 12.5 % ').logs).map((e) => e.score)).toEqual([0.125]);
    expect(evaluationsFromLogs(loggedVerdict('0.8').logs).map((e) => e.score)).toEqual([0.8]);
  });

  it('in an EVALUATOR span (output.value text or JSON, evaluation.score), OpenInference feedback and the root score attribute', () => {
    // before: output.value "80%" became an unknown label, the others no score at all
    expect(scores(judgedRun({ 'output.value': '80%' }))).toEqual([['evaluator-span', 'task_success', 0.8, null]]);
    expect(scores(judgedRun({ 'output.value': '{"score": "80%", "explanation": "4 of 5 criteria"}' }))).toEqual([['evaluator-span', 'task_success', 0.8, null]]);
    expect(scores(judgedRun({ 'evaluation.name': 'task_success', 'evaluation.score': '100%' }))).toEqual([['evaluator-span', 'task_success', 1, null]]);
    const feedback = recordSpans((r) => r.start('run', 0, { 'trace.evaluations.0.evaluation.name': 'thumbs', 'trace.evaluations.0.evaluation.score': '0%' }).end(at(1)));
    expect(scores(feedback)).toEqual([['evaluator-span', 'thumbs', 0, null]]);
    expect(scores(recordSpans((r) => r.start('run', 0, { 'agent_credit.score': '75%' }).end(at(1))), 'agent_credit.score')).toEqual([['root-attribute', 'agent_credit.score', 0.75, null]]);
  });

  it('end to end: a run judged "80%" is credited R = 0.8, a success (before: no events)', async () => {
    const { spans, logs } = loggedVerdict('80%');
    const { credit } = await creditEventsOf(spans, logs);
    expect(credit).toMatchObject({ outcome: 'success', system_value: 0.8, evaluation: { name: 'quality', score: 0.8 } });
  });

  it('a percent is that fraction of its name\'s normalization range: "80%" on {min: 0, max: 100} is 80, R = 0.8, as 80 is (before: raw 0.8, R = 0.008, a silent failure)', async () => {
    const percent = { normalization: { quality: { min: 0, max: 100 } } };
    for (const value of ['80%', '80']) {
      const { spans, logs } = loggedVerdict(value);
      const { credit } = await creditEventsOf(spans, logs, { credit: percent });
      expect({ value, outcome: credit.outcome, R: credit.system_value }).toEqual({ value, outcome: 'success', R: 0.8 });
    }
    // on a 1–5 scale 50 % is the midpoint 3 (R = 0.5), not 0.5 clamped to 1 (R = 0); lower-is-better "10%" toxicity is clean (R = 0.9)
    const judged = (value: string, credit: CreditOptionsInput) => {
      const { spans, logs } = loggedVerdict(value);
      return creditEventsOf(spans, logs, { credit });
    };
    const likert = await judged('50%', { normalization: { quality: { min: 1, max: 5 } } });
    expect([likert.credit.outcome, likert.credit.system_value]).toEqual(['success', 0.5]);
    const tox = await judged('10%', { normalization: { quality: { min: 0, max: 1, higherIsBetter: false } } });
    expect(tox.credit.system_value).toBeCloseTo(0.9, 12);
  });

  it('a percent outside its range is named as sent in the clamp warning: "150%" on {min: 0, max: 100} (before: "score 1.5 is outside normalization.quality [0, 100]")', async () => {
    const warned = async (value: string) => {
      const { spans, logs } = loggedVerdict(value);
      const { credit } = await creditEventsOf(spans, logs, { credit: { normalization: { quality: { min: 0, max: 100 } } } });
      return credit.diagnostics.warnings.filter((w) => w.includes('is outside normalization'));
    };
    expect(await warned('150%')).toEqual(['evaluation quality score 150% (150 on the range) is outside normalization.quality [0, 100]; clamped']);
    expect(await warned('-7%')).toEqual(['evaluation quality score -7% (-7 on the range) is outside normalization.quality [0, 100]; clamped']);
    expect(await warned('150')).toEqual(['evaluation quality score 150 is outside normalization.quality [0, 100]; clamped']);
  });

  it('a step judged "80%" on {min: 0, max: 100} is not flagged; "20%" is (before: both flagged, R 0.008 / 0.002)', async () => {
    const spans = judgedRun({}).filter((s) => s.name !== 'task_success');
    const root = spans.find((s) => s.name === 'invoke_agent writer')!;
    const chat = spans.find((s) => s.name === 'chat write')!;
    const flagged: boolean[] = [];
    for (const value of ['80%', '20%']) {
      const logs = recordLogs((logger) => {
        logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceOf(spans), chat.spanId), attributes: { 'gen_ai.evaluation.name': 'quality', 'gen_ai.evaluation.score.value': value } });
        logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(traceOf(spans), root.spanId), attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 0 } });
      });
      const { credit } = await creditEventsOf(spans, logs, { evaluationName: 'task_success', credit: { normalization: { quality: { min: 0, max: 100 } } } });
      flagged.push(credit.first_error?.evidence.includes('evaluator flag') === true);
    }
    expect(flagged).toEqual([false, true]);
  });

  /** Why processEpisode skipped the one episode of `spans` and `logs` (it emits no events). */
  async function skipReason(spans: Span[], logs: ReturnType<typeof recordLogs>): Promise<string[]> {
    const asm = new EpisodeAssembler();
    asm.addSpans(spans);
    asm.addEvaluations(evaluationsFromLogs(logs));
    const skipped: string[] = [];
    expect(await processEpisode(asm.flush('shutdown')[0]!, { onSkipped: (_e, err) => skipped.push(err.message) })).toEqual([]);
    return skipped;
  }

  it.each(['NaN%', 'Infinity%', '-Infinity%', '1e999%', '%', '80%%', 'eighty%'])('%s is no score, as a non-finite "Infinity" never was one', async (value) => {
    // a score attribute: the verdict carries no score and is kept as one without (it was dropped, and
    // the run said no evaluation had joined it); the run is skipped saying its verdict has no finite score
    const { spans, logs } = loggedVerdict(value);
    expect(evaluationsFromLogs(logs).map((e) => [e.name, e.score, e.label])).toEqual([['quality', undefined, undefined]]);
    expect(await skipReason(spans, logs)).toEqual([expect.stringContaining('no-evaluation: the system-level evaluation(s) joined carry no finite score')]);
    // output.value text: kept as a label no table scores, and the skipped run names it
    const judged = judgedRun({ 'output.value': value });
    expect(scores(judged)).toEqual([['evaluator-span', 'task_success', undefined, value]]);
    expect(await skipReason(judged, [])).toEqual([expect.stringContaining(`carry label ${JSON.stringify(value)} and no score`)]);
  });
});
