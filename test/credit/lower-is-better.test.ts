/**
 * Scores where lower is better. DeepEval's hallucination, toxicity and bias metrics score 0 for a
 * clean answer and pass at or below their threshold ("a float representing the maximum passing
 * threshold", deepeval.com/docs/metrics-toxicity); Arize Phoenix scores `hallucinated` and `toxic`
 * 1; Mastra's toxicity is "0 = not toxic, 1 = toxic". The semantic conventions say it outright: "a
 * score value of 1 could mean 'relevant' in one evaluation system and 'not relevant' in another".
 * Before, such a verdict could not be stated: `normalization` refused max < min, so a hallucination
 * score of 0.9 was R = 0.9, a success, and a clean step's 0.0 flagged it as an error.
 * `credit.normalization.<name>.higherIsBetter: false` reflects the score within its range.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { creditEpisode, CreditOptionsError } from '../../src/credit/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from '../conventions/fixtures.js';
import { episode, threeAgentSteps } from './episode-builder.js';

const hallucination = (score: number, label?: string): Evaluation => ({ name: 'hallucination', score, ...(label !== undefined ? { label } : {}), source: 'log-event', timeUnixNano: 0n });
const LOWER = { hallucination: { min: 0, max: 1, higherIsBetter: false } };

describe('a lower-is-better score (normalization.<name>.higherIsBetter: false)', () => {
  it('is reflected within its range: DeepEval hallucination 0.9 is R = 0.1, a failure; 0.1 is R = 0.9, a success', async () => {
    const bad = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.9) }), { normalization: LOWER });
    expect(bad.systemValue).toBeCloseTo(0.1, 12);
    expect(bad.outcome).toBe('failure');
    expect(bad.evaluation.rawScore).toBe(0.9);
    const good = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.1) }), { normalization: LOWER });
    expect(good.systemValue).toBeCloseTo(0.9, 12);
    expect(good.outcome).toBe('success');
    // DeepEval passes at score ≤ threshold: its default 0.5 is R = 0.5, a success at τ = 0.5
    expect((await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.5) }), { normalization: LOWER })).outcome).toBe('success');
  });

  it('unconfigured, DeepEval and Phoenix’s lower-is-better names (toxicity, bias, hallucination) are read lower-is-better on [0, 1]; other names higher-is-better', async () => {
    // read higher-is-better, a run whose only verdict was a clean toxicity 0.0 failed (R = 0), a hallucinated 0.9 succeeded
    const run = (name: string, score: number) => creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: { name, score, source: 'log-event', timeUnixNano: 0n } }), {});
    const clean = await run('Toxicity', 0);
    expect([clean.systemValue, clean.outcome]).toEqual([1, 'success']);
    const hallucinated = await run('hallucination', 0.9);
    expect(hallucinated.systemValue).toBeCloseTo(0.1, 12);
    expect(hallucinated.outcome).toBe('failure');
    expect((await run('deepeval.bias', 0.2)).outcome).toBe('success');
    expect((await run('relevancy', 0.2)).outcome).toBe('failure');
    // configured, the name follows its configuration
    const configured = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.9) }), { normalization: { hallucination: { min: 0, max: 1 } } });
    expect(configured.outcome).toBe('success');
  });

  it('a Likert scale where 1 is best, and normalize: false keeps the range’s units (R = min + max − score)', async () => {
    const rank = (score: number): Evaluation => ({ name: 'rank', score, source: 'log-event', timeUnixNano: 0n });
    const normalized = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: rank(2) }), { normalization: { rank: { min: 1, max: 5, higherIsBetter: false } } });
    expect(normalized.systemValue).toBeCloseTo(0.75, 12);
    const raw = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: rank(2) }), { normalize: false, normalization: { rank: { min: 1, max: 5, higherIsBetter: false } }, successThreshold: { rank: 3 } });
    expect(raw.systemValue).toBe(4);
    expect(raw.outcome).toBe('success');
  });

  it('normalize: false states the sampling target and the prefix drop in the range’s units too, as the bound and the blame', async () => {
    // a 0–100 score: 0.02 and 0.2 were taken as points — a prefix wobble of 0.5 points was the
    // "first error" and the sampling target 0.02 points (on the normalized scale, 0.0002)
    const pct = (score: number): Evaluation => ({ name: 'pct', score, source: 'log-event', timeUnixNano: 0n });
    const steps = threeAgentSteps();
    const options = { normalize: false, normalization: { pct: { min: 0, max: 100 } }, successThreshold: { pct: 50 } } as const;
    const wobble = await creditEpisode(episode(steps, undefined, { evaluation: pct(10) }), { ...options, prefixScorer: (m) => m.map((_, i) => (i === 1 ? 59.5 : 60)) });
    expect(wobble.outcome).toBe('failure');
    expect(wobble.firstError?.evidence.some((e) => e.startsWith('prefix value drop'))).toBe(false);
    const drop = await creditEpisode(episode(steps, undefined, { evaluation: pct(10) }), { ...options, prefixScorer: (m) => m.map((_, i) => (i >= 1 ? 20 : 60)) });
    expect(drop.firstError?.evidence).toEqual(['prefix value drop 60.00→20.00']);
    expect(drop.estimator.targetHalfWidth).toBe(2); // 0.02 of the range
    const normalized = await creditEpisode(episode(steps, undefined, { evaluation: pct(10) }), { normalization: { pct: { min: 0, max: 100 } } });
    expect(normalized.estimator.targetHalfWidth).toBe(0.02);
  });

  it('its label agrees with the reflected score: no contradiction warning for (0.9, Hallucinated); a label-only verdict is already oriented', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.9, 'Hallucinated') }), { normalization: LOWER });
    expect(out.outcome).toBe('failure');
    expect(out.warnings.some((w) => w.includes('the score decides'))).toBe(false);
    const labelOnly = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: { name: 'hallucination', label: 'factual', source: 'log-event', timeUnixNano: 0n } }), { normalization: LOWER });
    expect(labelOnly.systemValue).toBe(1);
  });

  it('a reversed range is refused, the message naming the key and the fix (a swapped min/max must not silently invert credit)', async () => {
    const err = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: hallucination(0.9) }), { normalization: { hallucination: { min: 1, max: 0 } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditOptionsError);
    expect((err as Error).message).toMatch(/credit\.normalization\.hallucination: .*min < max.*higherIsBetter: false/);
  });

  it('is accepted by the config file; a reversed range there names the key and the fix', () => {
    const loaded = loadConfig({ text: 'credit:\n  normalization:\n    hallucination: { min: 0, max: 1, higherIsBetter: false }\n', env: {} });
    expect(loaded.config.credit.normalization['hallucination']).toEqual({ min: 0, max: 1, higherIsBetter: false });
    let message = '';
    try {
      loadConfig({ text: 'credit:\n  normalization:\n    hallucination: { min: 1, max: 0 }\n', env: {} });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/credit\.normalization\.hallucination: .*higherIsBetter: false/);
  });

  it('flags a step by the reflected score: a clean DeepEval step (0.0) is no error, a hallucinating one (1.0) is', async () => {
    const spans = runSpans('genai')[0]!;
    const verdict = evaluationsFromLogs(fixtureLogs('genai')).find((e) => e.traceId === spans[0]!.traceId)!;
    const { creditInputOf } = await import('../../src/runtime/process-episode.js');
    const base = { episodeId: 'e1', revision: 0, traceIds: [spans[0]!.traceId], spans, logs: [], closeReason: 'root-ended' as const, lateSpans: 0, duplicateSpans: 0 };
    const llm = creditInputOf({ ...base, evaluations: [verdict] } as never).steps.find((s) => s.kind === 'llm')!;
    const flagged = (score: number) =>
      creditInputOf({ ...base, evaluations: [verdict, { ...verdict, name: 'hallucination', spanId: llm.stepId, score, label: undefined } as Evaluation] } as never, { credit: { normalization: LOWER } }).steps.find((s) => s.stepId === llm.stepId)!.flaggedErroneous === true;
    expect(flagged(0)).toBe(false);
    expect(flagged(1)).toBe(true);
    // without the setting: hallucination is one of the names read lower-is-better by default, so
    // only its worst score 1 flags; a name not known to be flags only at ≤ 0
    const unconfigured = (name: string, score: number) =>
      creditInputOf({ ...base, evaluations: [verdict, { ...verdict, name, spanId: llm.stepId, score, label: undefined } as Evaluation] } as never).steps.find((s) => s.stepId === llm.stepId)!.flaggedErroneous === true;
    expect([unconfigured('hallucination', 0), unconfigured('hallucination', 0.9), unconfigured('hallucination', 1)]).toEqual([false, false, true]);
    expect([unconfigured('groundedness', 0), unconfigured('groundedness', 1)]).toEqual([true, false]);
    expect(processEpisode).toBeDefined();
  });
});
