/**
 * Shared types of the credit engine (shapiq-style: one Game interface, one estimator result type).
 * Pure: no I/O here.
 */

/**
 * A cooperative game over `players.length` players. A coalition is a 0/1 mask indexed like
 * `players`. `value` may be async (an external judge); implementations must be deterministic for a
 * given coalition (callers cache). `value(empty)` is the baseline v(∅), `value(all)` is v(N).
 */
export interface Game {
  /** Identifies the game instance (e.g. the episode id); part of every cache key. */
  readonly id: string;
  /** Distinct names: results are keyed by them (`CachedGame`, and so every estimator, refuses a repeated one). */
  readonly players: readonly string[];
  value(coalition: Uint8Array): number | Promise<number>;
  /**
   * Optional exact Shapley values in `players` order, when the game knows them in closed form
   * (e.g. a sum of unanimity games). `estimateShapley` uses it instead of evaluating coalitions.
   */
  closedForm?(): readonly number[];
  /**
   * Optional exact leave-one-out values v(N) − v(N \ {i}) in `players` order, when the game knows
   * them without evaluating coalitions (a sum of unanimity games: Σ_{T∋i} w_T).
   */
  leaveOneOut?(): readonly number[];
}

export type EstimateStatus = 'exact' | 'approximate' | 'partial';

/** Result of any Shapley estimator (exact, closed form, sampled), per player in `players` order. */
export interface ShapleyEstimate {
  readonly players: readonly string[];
  /** phi_i; always sums to v(N) - v(∅) (efficiency enforced explicitly for sampled estimators). */
  readonly values: readonly number[];
  /** Confidence interval per player at `confidence` (degenerate [v, v] when exact). */
  readonly intervals: readonly { readonly low: number; readonly high: number }[];
  readonly confidence: number;
  /** Value-function evaluations the result rests on (cache misses of this estimator run). */
  readonly evaluations: number;
  readonly status: EstimateStatus;
  /**
   * Estimator name: `exact`, `closed-form`, `svarm`, `permutation` (`permutation+antithetic` /
   * `permutation-plain` when it dropped stratification), `kernel`, `unbiased-kernel`,
   * `regression-adjusted-msr`, `tree-msr` (`tree-msr-cross-fitted` with `fit: 'cross-fitted'`);
   * `<name>/equal-split-fallback` when nothing usable was
   * evaluated (then `partial`).
   */
  readonly estimator: string;
  readonly grandValue: number;
  readonly emptyValue: number;
  /**
   * Why the result is partial (budget, timeout, game error — naming the coalition and the
   * error), when it is; on an `approximate` result, what the sampler changed (e.g. stratification
   * dropped for a small budget).
   */
  readonly note?: string;
}

export interface EstimateOptions {
  /** Max value-function evaluations (cache misses). */
  budget?: number;
  /** Stop once every per-player half-width is at most this. */
  targetHalfWidth?: number;
  /** Interval confidence, default 0.95. */
  confidence?: number;
  /** Seed for the sampler's PRNG (results are deterministic given seed and game). */
  seed?: number;
  signal?: AbortSignal;
  /**
   * Width of the scale the value function's values are on (max − min), default 1 (a normalized
   * score). A result that has no interval from its samples (`partial`, note `interval not
   * estimated`, or nothing evaluated) reports the interval of no information, at least
   * ±(|v(N) − v(∅)| + valueScale) around each credit: a coalition not drawn may lie anywhere on the
   * scale. `creditEpisode` passes the score's range (`normalization`) with `normalize: false`.
   */
  valueScale?: number;
}

/**
 * One interface for every Shapley estimator (shapiq's `Approximator`): `estimate` runs to the
 * stopping rule (target half-width or budget) and returns the result; it never throws for game
 * failures or budget exhaustion (it returns a `partial` result with a note instead).
 */
export interface ShapleyEstimator {
  readonly name: string;
  estimate(game: Game, options?: EstimateOptions): Promise<ShapleyEstimate>;
}

/**
 * An estimation in progress ("anytime"): it can be resumed with more budget and streams its
 * intermediate results. Results carry `evaluations` (cumulative cache misses of the run).
 */
export interface AnytimeRun {
  /** The estimate from the samples taken so far. */
  current(): ShapleyEstimate;
  /** Samples until the target half-width is met or `extraBudget` more evaluations are spent. */
  continue(extraBudget: number): Promise<ShapleyEstimate>;
  /**
   * Samples in rounds, yielding the estimate after each round, until the stopping rule holds. The
   * run's `budget` is spent once: on a run an earlier `snapshots()` finished it yields the current
   * estimate without evaluating (`continue` adds budget).
   */
  snapshots(): AsyncIterable<ShapleyEstimate>;
}
