/** Which way an evaluation name's score points when nothing is configured for it. */

/**
 * Metric names that DeepEval (Toxicity, Bias, Hallucination: 0 is best, the threshold a maximum)
 * and Phoenix (hallucination, toxicity: `hallucinated` / `toxic` score 1) both score lower-is-better
 * on [0, 1]. Unconfigured, their worst verdict is 1: read as higher-is-better, every clean 0.0 on
 * a span flagged its step — harmful in successful runs, the first error of failed ones — and a
 * fully toxic 1.0 did not. Matched on the last segment of the name, letters and digits only, case
 * folded (`Toxicity`, `deepeval.toxicity`, `hallucination_score`). Configuring the name
 * (`normalization.<name>`, `successThreshold.<name>`) replaces this default.
 */
const LOWER_IS_BETTER_METRICS = new Set(['toxicity', 'bias', 'hallucination']);

export function isLowerIsBetterMetric(name: string): boolean {
  const last = name.slice(Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'), name.lastIndexOf(':')) + 1);
  const key = last.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/(metric|score)$/, '');
  return LOWER_IS_BETTER_METRICS.has(key);
}

const UNIT_RANGE = Object.freeze({ min: 0, max: 1 });
const LOWER_IS_BETTER_UNIT_RANGE = Object.freeze({ min: 0, max: 1, higherIsBetter: false });

/**
 * The score range of a name nothing in `normalization` describes: [0, 1], lower-is-better for
 * `isLowerIsBetterMetric` names. Run verdicts (credit) and step flags (conventions) both read it,
 * so a configured threshold judges a step as it judges a run.
 */
export function defaultScoreRange(name: string): { readonly min: number; readonly max: number; readonly higherIsBetter?: boolean } {
  return isLowerIsBetterMetric(name) ? LOWER_IS_BETTER_UNIT_RANGE : UNIT_RANGE;
}
