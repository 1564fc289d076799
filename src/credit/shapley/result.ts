/** Building `ShapleyEstimate` values (the one result type) consistently. */
import type { EstimateStatus, ShapleyEstimate } from '../types.js';

export interface EstimateParts {
  players: readonly string[];
  values: readonly number[];
  /** Half-width per player; 0 for exact. Must be finite. */
  halfWidths: readonly number[];
  confidence: number;
  evaluations: number;
  status: EstimateStatus;
  estimator: string;
  grandValue: number;
  emptyValue: number;
  note?: string | undefined;
}

export function buildEstimate(p: EstimateParts): ShapleyEstimate {
  return {
    players: p.players,
    values: p.values,
    intervals: p.values.map((v, i) => {
      const h = p.halfWidths[i] ?? 0;
      return { low: v - h, high: v + h };
    }),
    confidence: p.confidence,
    evaluations: p.evaluations,
    status: p.status,
    estimator: p.estimator,
    grandValue: p.grandValue,
    emptyValue: p.emptyValue,
    ...(p.note !== undefined ? { note: p.note } : {}),
  };
}

/** The suffix `equalSplitFallback` gives the estimator's name: the run, its game failing before any sample. */
export const EQUAL_SPLIT_FALLBACK = '/equal-split-fallback';

/** The estimator a run was, without the suffix its fallback adds (event ids name the run, not how it ended). */
export function estimatorOfRun(name: string): string {
  return name.endsWith(EQUAL_SPLIT_FALLBACK) ? name.slice(0, -EQUAL_SPLIT_FALLBACK.length) : name;
}

/**
 * The estimate when nothing better is known (the game failed before any sample): v(N) - v(∅)
 * split equally (the Shapley value of the symmetric game with those two values), status
 * `partial`, interval = ±|range| where range bounds any player's credit in a game whose values lie
 * in [min, max] of the two known values plus `scale`, reported at the run's `confidence` (the
 * interval holds whatever it is).
 */
export function equalSplitFallback(
  players: readonly string[],
  grandValue: number,
  emptyValue: number,
  scale: number,
  estimator: string,
  evaluations: number,
  note: string,
  confidence: number,
): ShapleyEstimate {
  const n = players.length;
  const share = n > 0 ? (grandValue - emptyValue) / n : 0;
  const h = Math.abs(grandValue - emptyValue) + Math.abs(scale);
  return buildEstimate({
    players,
    values: players.map(() => share),
    halfWidths: players.map(() => h),
    // the caller's: a hard-coded 0.95 made a failed run at confidence 0.99 report 0.95 intervals
    confidence,
    evaluations,
    status: 'partial',
    estimator: `${estimator}${EQUAL_SPLIT_FALLBACK}`,
    grandValue,
    emptyValue,
    note,
  });
}

/**
 * Note of a run that has not evaluated v(N) and v(∅) and saw no game failure: its budget allowed
 * fewer than those two evaluations (e.g. `continue(0)`). It said "no evaluation succeeded", which
 * sent researchers looking for a failing game.
 */
export const ENDPOINTS_NOT_EVALUATED_NOTE = 'v(N) and v(∅) not evaluated yet: the budget allowed fewer than the 2 evaluations every estimate starts with (continue with more budget)';

/**
 * Note of a sampled result whose arithmetic overflowed: finite values above ~1e154 (a value
 * function's "impossible" sentinel, ±1e308) square past the largest double in a variance, and the
 * run reported `approximate` with ±Infinity intervals (SVARM: NaN credits). `creditEpisode` turns
 * such a result into the equal split; a library caller gets this note and `partial`.
 */
/**
 * How a note begins when a result has no estimated interval: its half-widths are then the interval
 * of no information (SampledRun.resultOf), and the events' ci_low/ci_high descriptions name this text.
 */
export const NO_INTERVAL_NOTE = 'interval not estimated';

export const OVERFLOW_NOTE = `${NO_INTERVAL_NOTE}: the value function's values overflow the estimator's arithmetic (a variance past the largest double: values above ~1e154) — return values on a smaller scale`;

/** Readable reason from an estimator failure. */
export function errorNote(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
