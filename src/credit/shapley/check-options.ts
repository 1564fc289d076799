/**
 * Checks the `EstimateOptions` a caller hands an estimator, so a wrong value is refused with its
 * name and what to give instead. Before, `budget: NaN` made every sampler loop forever (no
 * comparison with NaN ends a run), `budget: Infinity` without a target half-width too, a
 * `confidence` of 95 failed deep inside as `normalQuantile: p must be in (0,1), got 48`, and a
 * negative target or budget came back as a `partial` result as if the game had been the problem.
 * `creditEpisode` validates its own options (CreditOptionsSchema); this guards the library entry
 * points (`estimateShapley`, `exactShapley`, the estimators' `estimate`/`start`/`continue`).
 */
import { didYouMean } from '../../config/errors.js';
import { describeValue } from '../games/cached-game.js';
import type { EstimateOptions } from '../types.js';

/** The keys of `EstimateOptions`: what an estimator's `estimate` / `start` takes. */
export const ESTIMATE_OPTIONS: readonly string[] = ['budget', 'targetHalfWidth', 'confidence', 'seed', 'signal', 'valueScale'];
/**
 * `estimateShapley`'s keys. It hands its options object on whole to the estimator it picks, so an
 * estimator lets these pass too (they mean nothing to it).
 */
export const ESTIMATE_SHAPLEY_OPTIONS: readonly string[] = [...ESTIMATE_OPTIONS, 'maxExactPlayers', 'approximate', 'permutation', 'kernel', 'unbiasedKernel', 'regressionAdjusted', 'treeMsr', 'svarm', 'useClosedForm'];

/**
 * Throws a `RangeError` naming a key of `options` that is not in `accepted` (nor in `passing`, keys
 * let through unnamed). A misspelt key was ignored: `targetHalfwidth: 0.01` spent the whole budget,
 * `sead: 7` ran with the default seed — a different run than asked for, without a word (plain
 * JavaScript callers have no type check to catch it).
 */
export function checkOptionKeys(options: object, accepted: readonly string[], where: string, passing: readonly string[] = []): void {
  for (const key of Object.keys(options)) {
    if (!accepted.includes(key) && !passing.includes(key)) throw new RangeError(`${where}: unknown option ${key}${didYouMean(key, accepted)} — accepted: ${accepted.join(', ')}`);
  }
}

/**
 * Checks an estimator's own options (its constructor's): only the keys it takes (`counts` and
 * `other`), and each of `counts` — sizes of a round — a whole number ≥ its minimum. Unchecked,
 * `KernelEstimator({ pairsPerRound: 0 })` sampled nothing per round and looped for ever,
 * `SvarmEstimator({ coalitionsPerRound: 0 })` stopped after v(N) and v(∅) with a `partial` result,
 * a `roundSamples` of NaN made the whole run one round, and a misspelt key was ignored.
 */
export function checkEstimatorOptions(options: object, where: string, counts: Readonly<Record<string, number>>, other: readonly string[] = []): void {
  checkOptionKeys(options, [...other, ...Object.keys(counts)], where);
  for (const [key, min] of Object.entries(counts)) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw new RangeError(`${where} option ${key} must be a whole number ≥ ${min}, got ${describeValue(v)}; leave it out for the default`);
  }
}

/**
 * Throws a `RangeError` naming the option when `options` cannot describe a run. A value is shown
 * with its type when it is not a number (`describeValue`): a string read from argv or the
 * environment, `confidence: '0.95'`, was refused as "must be a number in (0, 1), e.g. 0.95 …, got
 * 0.95" — the message seemed to refuse the very value it suggested.
 */
export function checkEstimateOptions(options: EstimateOptions, where: string, accepted: readonly string[] = ESTIMATE_OPTIONS): void {
  checkOptionKeys(options, accepted, where, ESTIMATE_SHAPLEY_OPTIONS);
  const { budget, targetHalfWidth, confidence, seed, valueScale } = options;
  if (budget !== undefined) checkBudget(budget, `${where}: budget`);
  if (targetHalfWidth !== undefined && !(typeof targetHalfWidth === 'number' && targetHalfWidth > 0 && Number.isFinite(targetHalfWidth))) {
    throw new RangeError(`${where}: targetHalfWidth must be a finite number > 0 (the largest per-player interval half-width to stop at, e.g. 0.02), got ${describeValue(targetHalfWidth)}; leave it out to spend the budget`);
  }
  if (confidence !== undefined && !(typeof confidence === 'number' && confidence > 0 && confidence < 1)) {
    throw new RangeError(`${where}: confidence must be a number in (0, 1), e.g. 0.95 for 95% intervals, got ${describeValue(confidence)}`);
  }
  if (seed !== undefined && !(typeof seed === 'number' && Number.isFinite(seed))) {
    throw new RangeError(`${where}: seed must be a finite number, got ${describeValue(seed)}`);
  }
  if (valueScale !== undefined && !(typeof valueScale === 'number' && valueScale > 0 && Number.isFinite(valueScale))) {
    throw new RangeError(`${where}: valueScale must be a finite number > 0 (max − min of the scale the value function answers on, e.g. 100 for a 0–100 score), got ${describeValue(valueScale)}; leave it out for 1`);
  }
}

/** A sampling run must end: by its budget, or by its target half-width. */
export function checkSamplingStops(budget: number, targetHalfWidth: number | undefined, where: string): void {
  checkBudget(budget, where);
  if (budget === Number.POSITIVE_INFINITY && targetHalfWidth === undefined) {
    throw new RangeError(`${where} is Infinity and the run has no targetHalfWidth, so it would never stop: give a finite budget (evaluations) or a targetHalfWidth`);
  }
}

function checkBudget(budget: number, what: string): void {
  if (!(typeof budget === 'number' && budget >= 0 && (Number.isInteger(budget) || budget === Number.POSITIVE_INFINITY))) {
    throw new RangeError(`${what} must be a whole number of value-function evaluations ≥ 0 (or Infinity with a targetHalfWidth), got ${describeValue(budget)}`);
  }
}
