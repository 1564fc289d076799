/**
 * Several evaluation names scoring the run in one go, with `evaluation.name` unset. The DeepEval
 * evaluator of the OTel GenAI utilities (splunk-otel-python-contrib,
 * opentelemetry-util-genai-evals-deepeval) emits bias, toxicity, answer_relevancy, hallucination and
 * sentiment for every agent invocation, the root one included; the earliest name is the verdict,
 * and among simultaneous ones the first sent — bias, where 0 is best: a run that also carried
 * task_success 1 was credited as a failure (R = 0), and nothing said several names were there.
 * The documented rule stays; the episode's warnings now name the candidates and the setting.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import type { Evaluation } from '../../src/model/agents.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from '../conventions/fixtures.js';

describe('several evaluation names score the run and evaluation.name is unset', () => {
  const spans = runSpans('genai')[0]!;
  const verdict = evaluationsFromLogs(fixtureLogs('genai')).find((e) => e.traceId === spans[0]!.traceId)!;
  const ep = (evaluations: Evaluation[]) => ({ episodeId: 'e1', revision: 0, traceIds: [spans[0]!.traceId], spans, logs: [], evaluations, closeReason: 'root-ended' as const, lateSpans: 0, duplicateSpans: 0 }) as never;
  const deepeval = [
    { ...verdict, name: 'bias', score: 0, label: 'Not Biased' },
    { ...verdict, name: 'toxicity', score: 0, label: 'Not Toxic' },
    { ...verdict, name: 'task_success', score: 1, label: 'pass' },
  ];

  it('the episode says which names scored it, which one was used and the setting that chooses', async () => {
    const [head] = await processEpisode(ep(deepeval));
    expect(head).toMatchObject({ event_type: 'episode_credit', evaluation: { name: 'bias' } });
    const warnings = head?.event_type === 'episode_credit' ? head.diagnostics.warnings : [];
    expect(warnings.some((w) => /3 evaluation names scored the run \(bias, toxicity, task_success\).*bias.*evaluation\.name/.test(w))).toBe(true);
  });

  it('the names are listed by time, as the rule reads them, whatever order their records arrived in (two evaluators, two services)', async () => {
    const timed = [
      { ...verdict, name: 'task_success', score: 1, label: 'pass', timeUnixNano: verdict.timeUnixNano + 2n },
      { ...verdict, name: 'toxicity', score: 0, label: 'Not Toxic', timeUnixNano: verdict.timeUnixNano + 1n },
    ];
    const warningsOf = async (evaluations: Evaluation[]) => {
      const [head] = await processEpisode(ep(evaluations));
      return head?.event_type === 'episode_credit' ? head.diagnostics.warnings : [];
    };
    const inTimeOrder = await warningsOf([timed[1]!, timed[0]!]);
    expect(inTimeOrder.some((w) => w.startsWith('2 evaluation names scored the run (toxicity, task_success); with evaluation.name unset the earliest, "toxicity"'))).toBe(true);
    expect(await warningsOf(timed)).toEqual(inTimeOrder);
  });

  it('with evaluation.name set, or with one name, nothing is said', async () => {
    const [named] = await processEpisode(ep(deepeval), { evaluationName: 'task_success' });
    expect(named).toMatchObject({ evaluation: { name: 'task_success' }, outcome: 'success' });
    const quiet = (h: typeof named) => (h?.event_type === 'episode_credit' ? h.diagnostics.warnings : []).every((w) => !w.includes('evaluation names scored the run'));
    expect(quiet(named)).toBe(true);
    const [single] = await processEpisode(ep([verdict]));
    expect(quiet(single)).toBe(true);
  });
});
