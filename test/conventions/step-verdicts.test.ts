/**
 * A span-level evaluation flags its step (`flaggedErroneous`) when it says the step failed, in the
 * sense a run verdict fails a run: its R — the score through `credit.normalization.<name>` (range,
 * `higherIsBetter`) — below τ (`credit.successThreshold.<name>`, else `defaultSuccessThreshold`).
 * Before, a step was flagged when its raw score was ≤ 0 whatever its range: a 1–5 Likert judge's
 * worst step (1) was never flagged, on [−1, 1] a neutral 0 was, and a step judged 0.2 on [0, 1]
 * was not, though a run judged 0.2 fails.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import type { CreditOptionsInput } from '../../src/credit/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { creditInputOf, processEpisode } from '../../src/runtime/process-episode.js';
import { at, contextOf, creditEventsOf, episodeOf, recordLogs, recordSpans } from './sdk.js';

/** planner (one LLM call) hands over to writer (one LLM call), under one root: GenAI semconv spans. */
function run(): { spans: Span[]; root: Span; planner: Span; writer: Span } {
  const spans = recordSpans((r) => {
    const root = r.start('invoke_agent supervisor', 0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'supervisor' });
    const planner = r.start('invoke_agent planner', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' }, root);
    r.start('chat plan', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, planner).end(at(3));
    planner.end(at(4));
    const writer = r.start('invoke_agent writer', 5, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer' }, root);
    r.start('chat write', 6, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, writer).end(at(7));
    writer.end(at(8));
    root.end(at(9));
  });
  return { spans, root: spans.find((s) => s.name === 'invoke_agent supervisor')!, planner: spans.find((s) => s.name === 'chat plan')!, writer: spans.find((s) => s.name === 'chat write')! };
}

/** A `gen_ai.evaluation.result` log record of `span`, as a judge's SDK emits it. */
function verdictOn(span: Span, name: string, score: number) {
  return recordLogs((logger) => logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(span.traceId, span.spanId), attributes: { 'gen_ai.evaluation.name': name, 'gen_ai.evaluation.score.value': score } }));
}

/** Whether processEpisode's conventions pass flags the writer's LLM step judged `score` by `name`, under `credit`. */
function writerFlagged(name: string, score: number, credit?: CreditOptionsInput): boolean {
  const { spans, writer } = run();
  const episode = episodeOf(spans, 1);
  const input = creditInputOf({ ...episode, evaluations: [...episode.evaluations, ...evaluationsFromLogs(verdictOn(writer, name, score))] }, { evaluationName: 'task_success', ...(credit !== undefined ? { credit } : {}) });
  return input.steps.find((s) => s.stepId === writer.spanId)!.flaggedErroneous === true;
}

describe('a step verdict is read as the run verdict is', () => {
  it('a 1–5 Likert judge (normalization {min: 1, max: 5}): its worst score 1 flags the step (before: never flagged), 3 (R = 0.5 = τ) does not', () => {
    const likert = { normalization: { helpfulness: { min: 1, max: 5 } } };
    expect([1, 2, 3, 4, 5].map((s) => writerFlagged('helpfulness', s, likert))).toEqual([true, true, false, false, false]);
  });

  it('on [−1, 1]: −0.5 (R = 0.25) flags, a neutral 0 (R = 0.5) no longer does', () => {
    const signed = { normalization: { stance: { min: -1, max: 1 } } };
    expect([-1, -0.5, 0, 0.5].map((s) => writerFlagged('stance', s, signed))).toEqual([true, true, false, false]);
  });

  it('on the default [0, 1] range, a score below τ = 0.5 flags (0.2 was not flagged before); 0 still flags, 0.5 and 1 do not', () => {
    expect([0, 0.2, 0.49, 0.5, 1].map((s) => writerFlagged('correctness', s))).toEqual([true, true, true, false, false]);
  });

  it('τ per evaluation name applies to steps: successThreshold.helpfulness 0.2 on 1–5 flags only the worst score', () => {
    const credit = { normalization: { helpfulness: { min: 1, max: 5 } }, successThreshold: { helpfulness: 0.2 } };
    expect([1, 2].map((s) => writerFlagged('helpfulness', s, credit))).toEqual([true, false]);
    // a name whose τ is 0 never flags (nor fails a run): the way to keep a metric out of step flags
    expect(writerFlagged('tone', 0, { successThreshold: { tone: 0 } })).toBe(false);
  });

  it('normalize: false keeps the range’s units: τ = 3 on 1–5 flags 2, not 3; lower-is-better is reflected first', () => {
    const raw = { normalize: false, normalization: { helpfulness: { min: 1, max: 5 } }, successThreshold: { helpfulness: 3 } };
    expect([2, 3].map((s) => writerFlagged('helpfulness', s, raw))).toEqual([true, false]);
    const lower = { normalization: { hallucination: { min: 0, max: 1, higherIsBetter: false } } };
    expect([0, 0.4, 0.6, 1].map((s) => writerFlagged('hallucination', s, lower))).toEqual([false, false, true, true]);
  });

  it('flags the step exactly when the same evaluation of the run would make it a failure', async () => {
    const cases: { credit: CreditOptionsInput; scores: number[] }[] = [
      { credit: {}, scores: [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5] },
      { credit: { normalization: { quality: { min: 1, max: 5 } } }, scores: [0, 1, 2, 2.99, 3, 4, 5, 6] },
      { credit: { normalization: { quality: { min: -1, max: 1 } }, defaultSuccessThreshold: 0.7 }, scores: [-1, 0, 0.39, 0.4, 1] },
      { credit: { normalization: { quality: { min: 0, max: 10, higherIsBetter: false } }, successThreshold: { quality: 0.8 } }, scores: [0, 1.9, 2, 2.1, 10] },
      { credit: { normalize: false, normalization: { quality: { min: 1, max: 5 } }, successThreshold: { quality: 4 } }, scores: [1, 3.9, 4, 5, 7] },
    ];
    for (const { credit, scores } of cases) {
      for (const score of scores) {
        const { spans, root } = run();
        // the oracle: the credit stage's own outcome for a run judged `score`
        const episode = { ...episodeOf(spans, 1), evaluations: evaluationsFromLogs(verdictOn(root, 'quality', score)) };
        const [head] = await processEpisode(episode, { credit });
        const failure = (head as EpisodeCredit).outcome === 'failure';
        expect({ credit, score, flagged: writerFlagged('quality', score, credit) }).toEqual({ credit, score, flagged: failure });
      }
    }
  });

  it('end to end: in a failed run the Likert-1 step is the first error, by its evaluator flag', async () => {
    const { spans, root, writer } = run();
    const logs = [...verdictOn(writer, 'helpfulness', 1), ...verdictOn(root, 'task_success', 0)];
    const { credit } = await creditEventsOf(spans, logs, { evaluationName: 'task_success', credit: { normalization: { helpfulness: { min: 1, max: 5 } } } });
    expect(credit.outcome).toBe('failure');
    expect(credit.first_error).toMatchObject({ step_id: writer.spanId, evidence: ['evaluator flag'] });
  });
});
