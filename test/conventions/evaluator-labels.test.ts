/**
 * The labels real evaluators send with `gen_ai.evaluation.result` (or as OpenInference
 * annotations), scored by the built-in label table (src/conventions/labels.ts):
 * - Arize Phoenix evals: rails `factual`/`hallucinated`, `toxic`/`non-toxic`, `relevant`/`unrelated`,
 *   `correct`/`incorrect`, `good`/`bad` (phoenix/evals/default_templates.py); their scores are
 *   `scores=[1, 0]` in rail order, so `hallucinated` and `toxic` score **1** and `factual` 0
 *   (also phoenix 2.x HallucinationClassificationEvaluatorConfig: choices {hallucinated: 1.0, factual: 0.0});
 * - the DeepEval evaluator of the OTel GenAI utilities (splunk-otel-python-contrib
 *   opentelemetry-util-genai-evals-deepeval): `Hallucinated`/`Not Hallucinated`, `Toxic`/`Not Toxic`,
 *   `Biased`/`Not Biased`, `Relevant`/`Irrelevant` beside DeepEval's lower-is-better scores;
 * - the semantic conventions' own examples: `relevant`, `not_relevant`, `correct`, `incorrect`, `pass`, `fail`.
 * Before, none of the evaluator-specific ones was in the table: label-only, the verdict was
 * unusable (episode skipped); a step-level `factual` verdict (score 0) flagged its step as an
 * error, a `hallucinated` one (score 1) flagged nothing; a run verdict `hallucinated` with score 1
 * was a success without a word.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { scoreOfLabel } from '../../src/conventions/labels.js';
import { stepsFromSpans } from '../../src/conventions/steps.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { LogRecord } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from './fixtures.js';

const BAD = ['hallucinated', 'Hallucinated', 'toxic', 'Toxic', 'Biased', 'irrelevant', 'Irrelevant', 'unrelated', 'not_relevant', 'bad'];
const GOOD = ['factual', 'Not Hallucinated', 'non-toxic', 'Not Toxic', 'Not Biased', 'relevant', 'Relevant', 'good'];

function labelOnlyRecord(label: string): LogRecord {
  return {
    timeUnixNano: 1n,
    observedTimeUnixNano: 1n,
    severityNumber: 9,
    eventName: 'gen_ai.evaluation.result',
    attributes: { 'gen_ai.evaluation.name': 'hallucination', 'gen_ai.evaluation.score.label': label },
    traceId: '0123456789abcdef0123456789abcdef',
    spanId: '0123456789abcdef',
    resource: { attributes: {} },
    scope: { name: 'test' },
  } as unknown as LogRecord;
}

describe('labels of real evaluators are scored with their meaning', () => {
  it('failure labels score 0, success labels 1, as sent (case-insensitive)', () => {
    for (const l of BAD) expect([l, scoreOfLabel(l)]).toEqual([l, 0]);
    for (const l of GOOD) expect([l, scoreOfLabel(l)]).toEqual([l, 1]);
  });

  it('a label-only verdict of those evaluators decodes to a usable score', () => {
    const evs = evaluationsFromLogs([...BAD, ...GOOD].map(labelOnlyRecord));
    expect(evs.map((e) => [e.label, e.score])).toEqual([...BAD.map((l) => [l, 0]), ...GOOD.map((l) => [l, 1])]);
  });

  it("a step verdict is read by its label, not Phoenix's inverted score: factual (score 0) flags nothing, hallucinated (score 1) flags the step", () => {
    const spans = runSpans('genai')[0]!;
    const verdict = evaluationsFromLogs(fixtureLogs('genai')).find((e) => e.traceId === spans[0]!.traceId)!;
    const { steps } = stepsFromSpans(spans);
    const llm = steps.find((s) => s.kind === 'llm')!;
    const onStep = (label: string, score: number): Evaluation => ({ ...verdict, name: 'hallucination', spanId: llm.stepId, label, score });
    expect(stepsFromSpans(spans, { evaluations: [onStep('factual', 0)] }).steps.find((s) => s.stepId === llm.stepId)!.flaggedErroneous).not.toBe(true);
    expect(stepsFromSpans(spans, { evaluations: [onStep('hallucinated', 1)] }).steps.find((s) => s.stepId === llm.stepId)!.flaggedErroneous).toBe(true);
    expect(stepsFromSpans(spans, { evaluations: [onStep('non-toxic', 0)] }).steps.find((s) => s.stepId === llm.stepId)!.flaggedErroneous).not.toBe(true);
  });

  it('a run verdict whose score says success and whose label says hallucinated is credited by the score, with a warning that says so', async () => {
    const spans = runSpans('genai')[0]!;
    const verdict = evaluationsFromLogs(fixtureLogs('genai')).find((e) => e.traceId === spans[0]!.traceId)!;
    const episode = (name: string) => ({ episodeId: 'e1', revision: 0, traceIds: [spans[0]!.traceId], spans, logs: [], evaluations: [{ ...verdict, name, score: 1, label: 'hallucinated' }], closeReason: 'root-ended' as const, lateSpans: 0, duplicateSpans: 0 });
    const [head] = await processEpisode(episode('groundedness') as never);
    expect(head).toMatchObject({ event_type: 'episode_credit', outcome: 'success' });
    const warnings = head?.event_type === 'episode_credit' ? head.diagnostics.warnings : [];
    expect(warnings.some((w) => w.includes('label "hallucinated" says failure') && w.includes('the score decides'))).toBe(true);
    // Phoenix's own hallucination verdict (hallucinated scores 1, lower-is-better) agrees with its label: a failure, no warning
    const [phoenix] = await processEpisode(episode('hallucination') as never);
    expect(phoenix).toMatchObject({ event_type: 'episode_credit', outcome: 'failure' });
    expect(phoenix?.event_type === 'episode_credit' && phoenix.diagnostics.warnings.some((w) => w.includes('the score decides'))).toBe(false);
  });
});
