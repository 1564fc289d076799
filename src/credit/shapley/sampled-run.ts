/**
 * What every anytime sampling run shares (permutation, paired kernel, regression-adjusted and
 * tree MSR, SVARM): v(N) and v(∅) evaluated once, the evaluation window (`limit` on the shared
 * CachedGame budget, plus a look-up cap that ends runs whose coalitions are all cached),
 * `continue(extraBudget)`, `snapshots()`, the mapping of a sampling step's outcome to a stop reason
 * (target met, budget spent, game failed — the failure is kept as a note, never thrown), and for
 * the one-mean-per-player samplers the sampling loop and the reported estimate. Subclasses supply
 * what follows the endpoints (`afterEndpoints`), one sampling loop and `current()`.
 */
import { CachedGame } from '../games/cached-game.js';
import { coalitionFromMask, emptyCoalition, fullCoalition } from '../games/coalition.js';
import { BudgetExhaustedError } from '../errors.js';
import type { AnytimeRun, EstimateOptions, Game, ShapleyEstimate } from '../types.js';
import { ENDPOINTS_NOT_EVALUATED_NOTE, NO_INTERVAL_NOTE, OVERFLOW_NOTE, buildEstimate, errorNote } from './result.js';
import { createRng, enforceSum, roundingFloor, smallSampleFloor } from './stats.js';
import { checkEstimateOptions, checkSamplingStops } from './check-options.js';
import { shapleyFromTable } from './exact.js';

/**
 * Most players a run reads every coalition of from its cache (`exactFromCache`): 2^20 look-ups.
 * The default cache holds 65,536 values (16 players); a larger one may hold more.
 */
const MAX_PLAYERS_FROM_CACHE = 20;

/** How the note of a sampled result computed from every coalition's cached value begins. */
export const EXACT_FROM_CACHE_NOTE = 'every coalition value known';

export type StopReason = 'target' | 'budget' | 'error' | undefined;

/** Sampling budget used by `snapshots()` when the caller gave neither a budget nor a target. */
export const DEFAULT_SAMPLING_BUDGET = 5000;

/** The evaluation budget of a run: the given one; unlimited when only a target half-width is set; else the default. */
export function samplingBudget(options: { budget?: number; targetHalfWidth?: number }): number {
  return options.budget ?? (options.targetHalfWidth !== undefined ? Number.POSITIVE_INFINITY : DEFAULT_SAMPLING_BUDGET);
}

export abstract class SampledRun implements AnytimeRun {
  protected readonly cg: CachedGame;
  protected readonly n: number;
  protected readonly startEvaluations: number;
  /** Evaluation count (on the shared cache) this run may reach. */
  protected limit: number;
  /** Coalition look-ups (hits + misses) still allowed: ends runs whose coalitions are all cached. */
  protected lookupsLeft = Number.POSITIVE_INFINITY;
  protected stop: StopReason;
  protected note: string | undefined;
  /** Set once `snapshots()` has opened the run's budget (`est.budget`): it is not opened twice. */
  private snapshotBudgetOpened = false;

  constructor(
    game: Game,
    protected readonly est: EstimateOptions,
    /** Look-ups allowed per evaluation of budget. */
    private readonly lookupsPerEvaluation: number,
  ) {
    checkEstimateOptions(est, 'estimate options');
    // refused here, not by the first continue(): estimate() calls it, and the error named continue
    checkSamplingStops(samplingBudget(est), est.targetHalfWidth, 'estimate options: budget');
    this.cg = CachedGame.wrap(game, est.signal ? { signal: est.signal } : {});
    this.rng = createRng(est.seed ?? 0x5eed);
    this.confidence = est.confidence ?? 0.95;
    this.target = est.targetHalfWidth;
    this.valueScale = est.valueScale ?? 1;
    this.n = game.players.length;
    this.startEvaluations = this.cg.evaluations;
    this.limit = this.cg.evaluations;
  }

  get evaluations(): number {
    return this.cg.evaluations - this.startEvaluations;
  }

  /** The run's random stream (seeded by `est.seed`), interval confidence and target half-width. */
  protected readonly rng: () => number;
  protected readonly confidence: number;
  protected readonly target: number | undefined;
  /** Width of the value function's scale (`est.valueScale`, 1 normalized): the interval of no information spans it. */
  protected readonly valueScale: number;
  /** v(N), v(∅), once evaluated (`ensureEndpoints`). */
  protected grand = 0;
  protected empty = 0;
  protected endpointsKnown = false;

  abstract current(): ShapleyEstimate;

  /** Evaluates v(N) and v(∅) once, then `afterEndpoints`. */
  protected async ensureEndpoints(): Promise<void> {
    if (this.endpointsKnown) return;
    const [g, e] = await this.cg.valueMany([fullCoalition(this.n), emptyCoalition(this.n)]);
    this.grand = g!;
    this.empty = e!;
    this.endpointsKnown = true;
    await this.afterEndpoints();
  }

  /** What a sampler does once v(N) and v(∅) are known (record them, evaluate exact strata). */
  protected async afterEndpoints(): Promise<void> {}
  /** Samples until `step` is done (its unit is the subclass's), the target is met or the window ends. */
  protected abstract advance(step: number): Promise<void>;
  /** The `advance` argument for one snapshot round. */
  protected abstract snapshotStep(): number;

  async continue(extraBudget: number): Promise<ShapleyEstimate> {
    checkSamplingStops(extraBudget, this.target, 'continue(extraBudget): extraBudget');
    this.openWindow(Math.max(this.limit, this.cg.evaluations), Math.max(0, extraBudget));
    await this.advance(Number.POSITIVE_INFINITY);
    return this.current();
  }

  async *snapshots(): AsyncIterable<ShapleyEstimate> {
    if (this.limit <= this.cg.evaluations) {
      // The run's budget is spent once: a second snapshots() on a finished run opened it again and
      // took that many more evaluations (a 20-player run at budget 300: 600 value-function calls for
      // two loops over the same run). It yields the finished result; `continue` adds budget.
      if (this.snapshotBudgetOpened) {
        yield this.current();
        return;
      }
      checkSamplingStops(samplingBudget(this.est), this.target, 'snapshots(): the run\'s budget');
      this.openWindow(this.cg.evaluations, samplingBudget(this.est));
      this.snapshotBudgetOpened = true;
    }
    // v(N), v(∅) and a sampler's exact strata first: a round's step counts from after them, so the
    // first round samples a round too (it held one sample: at n = 10 tree-MSR's 22 endpoint and
    // border evaluations used up the 20 of its first round; diff review).
    await this.windowed(async () => {});
    for (;;) {
      await this.advance(this.snapshotStep());
      yield this.current();
      if (this.stop !== undefined) return;
    }
  }

  private openWindow(from: number, budget: number): void {
    this.limit = from + budget;
    this.lookupsLeft = this.lookupsPerEvaluation * budget;
  }

  /**
   * The run's estimate from its samples (`sampledResult`, then `buildEstimate`), for the samplers
   * that report one mean per player; `noteSuffix` is appended to the note (e.g. which sampling ran).
   */
  protected sampledEstimate(
    estimator: string,
    r: Pick<SampledResultInput, 'count' | 'unit' | 'range' | 'mean' | 'halfWidth' | 'targetMet' | 'sampleSpread'> & { noteSuffix?: string | undefined },
  ): ShapleyEstimate {
    const { values, halfWidths, status, note } = sampledResult({
      ...r,
      n: this.n,
      total: this.grand - this.empty,
      scale: this.valueScale,
      endpointsKnown: this.endpointsKnown,
      stop: this.stop,
      note: this.note,
      target: this.target,
      confidence: this.confidence,
    });
    return this.resultOf(estimator, values, halfWidths, status, r.noteSuffix === undefined ? note : note === undefined ? r.noteSuffix : `${note}; ${r.noteSuffix}`);
  }

  /** The run's result with the given values: players, confidence, evaluations and endpoints are the run's. */
  protected resultOf(estimator: string, values: number[], halfWidths: number[], status: ShapleyEstimate['status'], note: string | undefined): ShapleyEstimate {
    // Every coalition's value is known (a small game the run evaluated whole, or a CachedGame that
    // holds them all): the Shapley value is the enumeration's sum over them, at no evaluation. The
    // samples' estimate was reported instead, `approximate` with an interval — 5 players at budget
    // 1000, all 32 coalitions evaluated: the unbiased kernel 0.04 off, the paired kernel 0.004.
    if (status !== 'exact' && this.endpointsKnown) {
      const exact = this.exactFromCache();
      if (exact !== undefined) {
        status = 'exact';
        values = exact;
        halfWidths = exact.map(() => 0);
        note = `${EXACT_FROM_CACHE_NOTE} (all 2^${this.n} = ${2 ** this.n} cached): the exact Shapley value, computed from them, not from the samples`;
      }
    }
    // Every sampler's interval scales with the spread of the values its samples used (a marginal, a
    // residual, an unseen event within that range), so when all of them were v(N) = v(∅) (a zero
    // total: a failed run scored at its baseline) every interval was the rounding floor alone,
    // ±1e-12 around the constant game's 0 credits, `approximate`, while a coalition not drawn may
    // differ (one 3-player coalition worth 1 among 8 players: [0, 0] against φ = 1/168 and −1/280
    // in 47 of 50 permutation runs at budget 4n, as many with every other sampler). No interval
    // then, as below two samples: `partial`. A game seen whole is known constant. With v(N) ≠ v(∅)
    // the range seen is at least |v(N) − v(∅)|, and the floors keep intervals open.
    // (Zero-width: no more than the floors added for rounding — 1e-12, the kernel's solve 1e-9.)
    // With v(N) ≠ v(∅) the same holds of SVARM, which scales its intervals by the spread of the
    // residual after the additive part it takes out: when every coalition evaluated fits one
    // additive game that residual is 0 on all of them, so every interval was the floor alone,
    // `approximate`, though a coalition not drawn may not fit it (12 players, additive but for one
    // 6-player coalition: ±1e-12 intervals missing by 1.8e-4 in 30 of 30 runs at budget 60, 26 of
    // 30 at 1000). The other samplers' floors use the range of v and keep such intervals open.
    // Also when already `partial` for a target the budget ended before: with fewer than ten samples
    // the target is not trusted, and such a run (permutation at budget 4n with credit.targetHalfWidth)
    // said "budget exhausted before every half-width reached 0.02" over ±1e-12 intervals.
    const beforeTarget = status === 'partial' && note?.startsWith('budget exhausted before every half-width') === true;
    if ((status === 'approximate' || beforeTarget) && this.n >= 2) {
      // Relative to the credits' scale (1 only when every credit is 0): with an absolute 1e-9 every
      // run on a game whose values are ~1e-9 (a rare-event probability, a small unit) was `partial`
      // with this note, though its samples varied (weighted voting × 1e-9: 20 of 20 runs, 5 samplers).
      const scale = Math.max(...values.map(Math.abs));
      const floor = roundingFloor(values) + 1e-9 * (scale > 0 ? scale : 1);
      if (halfWidths.every((h) => h <= floor * (1 + 1e-6))) {
        status = 'partial';
        const what = this.grand === this.empty ? `every value they used was v(N) = v(∅) = ${this.grand}` : 'every coalition evaluated fits one additive game';
        const more = `${NO_INTERVAL_NOTE}: the samples showed no variation (${what}), nothing to scale an interval by — a coalition not drawn may differ`;
        note = note === undefined ? more : `${more}; ${note}`;
      }
    }
    if (status === 'approximate' && !halfWidths.every(Number.isFinite)) {
      status = 'partial';
      note = note === undefined ? OVERFLOW_NOTE : `${OVERFLOW_NOTE}; ${note}`;
    }
    // No interval estimated (fewer than 2 samples, or samples that showed no variation): the
    // half-widths were what the samples gave, the rounding floor (±1e-12) or 0, so the events'
    // ci_low/ci_high equalled the credit and a trainer weighting signals by interval width read the
    // least-known credits as the best known (8-player zero-total game at budget 4n: all 8 missed,
    // every sampler). The interval of no information instead: every credit within ± the range of v
    // seen (each φ_i is a weighted mean of marginals within ± that range, as permutation's floor
    // takes it), a range at least |v(N) − v(∅)| + the value scale, the width the samplers report
    // before any sample (the range seen is 0 when every value was v(N) = v(∅)); around the
    // estimate, so ± (that range + |φ̂_i|) — a one-sample unbiased-kernel estimate lies outside it.
    // The scale is `valueScale`, not 1: on a 0–100 score (creditEpisode with normalize: false) a
    // zero-total run got ±1, and one 2-agent coalition worth 100 among 8 agents (φ = 1.79) was
    // outside it with every sampler. Reporting only: the values, and so conservation, are untouched.
    if (status === 'partial' && note?.includes(NO_INTERVAL_NOTE) === true) {
      const seen = this.cg.valueRange();
      const none = Math.max(seen === undefined ? 0 : seen.max - seen.min, Math.abs(this.grand - this.empty) + this.valueScale);
      halfWidths = halfWidths.map((h, i) => Math.max(h, none + Math.abs(values[i]!)));
    }
    return buildEstimate({
      players: this.cg.players,
      values,
      halfWidths,
      confidence: this.confidence,
      evaluations: this.evaluations,
      status,
      estimator,
      grandValue: this.grand,
      emptyValue: this.empty,
      note,
    });
  }

  /** Whether the cache holds the value of every one of the 2^n coalitions (n ≥ 2). */
  protected allCoalitionsKnown(): boolean {
    return this.n >= 2 && this.n <= MAX_PLAYERS_FROM_CACHE && this.cg.cachedCount >= 2 ** this.n;
  }

  /** Exact Shapley values from the cached value of every coalition; undefined when one is not cached. */
  private exactFromCache(): number[] | undefined {
    if (!this.allCoalitionsKnown()) return undefined;
    const total = 2 ** this.n;
    const v = new Float64Array(total);
    for (let m = 0; m < total; m++) {
      const x = this.cg.peek(coalitionFromMask(m, this.n));
      if (x === undefined) return undefined;
      v[m] = x;
    }
    return shapleyFromTable(v, this.n);
  }

  /**
   * One sample at a time (permutation, regression-adjusted and tree MSR) inside the evaluation
   * window: until `targetMet()`, until the evaluations reach `untilEvaluations` once there is at
   * least one sample, or until the look-up cap ends the run.
   */
  protected sampleUntil(untilEvaluations: number, targetMet: () => boolean, samples: () => number, sample: () => Promise<void>): Promise<void> {
    return this.windowed(async () => {
      while (!targetMet()) {
        if (this.allCoalitionsKnown()) break; // nothing left to learn: the result is exact
        if (this.cg.evaluations >= untilEvaluations && samples() > 0) return;
        if (this.lookupsLeft <= 0) {
          this.stop = 'budget';
          return;
        }
        await sample();
      }
      this.stop = 'target';
    });
  }

  /**
   * `rounds` rounds of sampling (kernel, SVARM) inside the evaluation window: stops for `done`
   * (the target, or nothing left to sample), the look-up cap, or a stop reason `round` set itself.
   */
  protected inRounds(rounds: number, done: () => boolean, round: () => Promise<void>): Promise<void> {
    return this.windowed(async () => {
      for (let r = 0; r < rounds; r++) {
        if (done() || this.allCoalitionsKnown()) {
          this.stop = 'target';
          return;
        }
        if (this.lookupsLeft <= 0) {
          this.stop = 'budget';
          return;
        }
        await round();
        if (this.stop !== undefined) return;
      }
      if (done()) this.stop = 'target';
    });
  }

  /**
   * Runs one sampling loop inside the evaluation window: endpoints first, a one-player game is
   * done at once, budget exhaustion and game failures become stop reasons. `loop` sets
   * `this.stop` itself when it ends for the target or the look-up cap.
   */
  protected async windowed(loop: () => Promise<void>): Promise<void> {
    if (this.stop === 'error') return;
    this.stop = undefined;
    const saved = this.cg.budget;
    this.cg.setBudget(Math.min(saved, this.limit));
    try {
      await this.ensureEndpoints();
      if (this.n <= 1) {
        this.stop = 'target';
        return;
      }
      await loop();
    } catch (err) {
      if (err instanceof BudgetExhaustedError) this.stop = 'budget';
      else {
        this.stop = 'error';
        this.note = errorNote(err);
      }
    } finally {
      this.cg.setBudget(saved);
    }
  }
}

/** What `sampledResult` needs from a sampling run to report its estimate. */
export interface SampledResultInput {
  n: number;
  /** Samples (or sample blocks) the estimate rests on. */
  count: number;
  /** What one sample is called in the note, e.g. `sample`, `sample block`. */
  unit: string;
  /** v(N) − v(∅): the values are made to sum to it. */
  total: number;
  /** Width of the value function's scale (`valueScale`): the half-width when nothing was evaluated. */
  scale: number;
  /** Half-width reported while there is no interval (no samples, or one). */
  range: number;
  /**
   * Width of the interval one sample's per-player value is known to lie in (permutation: a marginal
   * contribution lies within ± the range of v seen, so 2 × that range). Below ten samples it bounds
   * the half-width from below (`smallSampleFloor`); unset where no such bound holds.
   */
  sampleSpread?: number;
  /** Confidence of the intervals (for `smallSampleFloor`). */
  confidence?: number;
  /** Per-player mean of the samples (read only when count > 0). */
  mean: () => ArrayLike<number>;
  /** Interval half-width of player i without the rounding floor (read only when count > 1). */
  halfWidth: (i: number) => number;
  endpointsKnown: boolean;
  stop: StopReason;
  note: string | undefined;
  target: number | undefined;
  targetMet: () => boolean;
}

/**
 * Values, half-widths, status and note of a sampling run, as every sampler reports them: one
 * player takes the whole total, no player nothing (exact); without samples an equal split with the whole range as
 * half-width; else the means made efficient (`enforceSum`) with their half-widths plus the
 * rounding floor. `partial` when nothing was evaluated, the game failed, fewer than 2 samples give
 * no interval, or the budget ended before a requested target.
 */
function sampledResult(r: SampledResultInput): { values: number[]; halfWidths: number[]; status: ShapleyEstimate['status']; note: string | undefined } {
  let values: number[];
  let halfWidths: number[];
  if (r.n <= 1) {
    // one player takes the whole total; a game of no players has nothing to estimate
    values = r.n === 1 ? [r.total] : [];
    halfWidths = values.map(() => 0);
  } else if (r.count === 0) {
    values = Array.from({ length: r.n }, () => r.total / r.n);
    // Nothing evaluated (the budget, or the episode's timeout before v(N) and v(∅)): no range seen
    // either, and `range` was 0 — a [0, 0] interval around a guess. The equal-split fallback's
    // width (|v(N) − v(∅)| + the value scale, as SVARM, the kernel and exact enumeration report it) instead.
    halfWidths = values.map(() => (r.endpointsKnown ? r.range : Math.abs(r.total) + r.scale));
  } else {
    values = enforceSum(Array.from(r.mean()), r.total);
    const floor = roundingFloor(values);
    // never wider than the half-width of no information (`range`: |φ_i| ≤ range of v)
    const small = r.sampleSpread === undefined ? 0 : Math.min(smallSampleFloor(r.sampleSpread, r.count, r.confidence ?? 0.95), r.range);
    halfWidths = values.map((_, i) => (r.count > 1 ? Math.max(r.halfWidth(i), small) + floor : r.range));
  }
  let status: ShapleyEstimate['status'];
  let note = r.note;
  if (!r.endpointsKnown) {
    status = 'partial';
    note ??= ENDPOINTS_NOT_EVALUATED_NOTE;
  } else if (r.n <= 1) status = 'exact';
  else if (r.stop === 'error') status = 'partial';
  else if (r.count < 2) {
    status = 'partial';
    note ??= `${NO_INTERVAL_NOTE}: ${r.count} ${r.unit}(s), need 2`;
  } else if (r.stop === 'budget' && r.target !== undefined && !r.targetMet()) {
    status = 'partial';
    note = `budget exhausted before every half-width reached ${r.target}`;
  } else status = 'approximate';
  return { values, halfWidths, status, note };
}
