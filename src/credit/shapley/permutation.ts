/**
 * Permutation-sampling Shapley estimator (anytime).
 *
 * A sample is a *block* of permutations; player i's sample value is the mean of its marginal
 * contributions v(Pre_π(i) ∪ {i}) - v(Pre_π(i)) over the block. Blocks are i.i.d., so Welford's
 * running mean/variance over blocks gives an unbiased estimate and a t interval (a player whose
 * blocks were all equal gets the unseen-event variance instead of 0, see `standardError`).
 * - position stratification (`stratified`, default on): a block holds the n cyclic shifts of a
 *   uniformly random permutation, so every player occupies every position (coalition size) exactly
 *   once per block — each permutation is still uniform (unbiased), and the size stratum of every
 *   player is balanced, removing the between-size variance.
 * - antithetic pairs (`antithetic`, default on): every permutation is paired with its reverse;
 *   a player's predecessors in the reverse are its successors in the original, which makes the two
 *   marginals negatively correlated for most games (exactly cancelling for additive parts).
 * Block cost: (1 or n) × (1 or 2) permutations × (n-1) look-ups. The prefixes of the n cyclic
 * shifts are the n(n-1) proper arcs of the cycle, and a reversed shift's prefixes are arcs too (those
 * of another shift), so a stratified block evaluates n(n-1) coalitions with or without antithetic
 * pairs; an unstratified one 2(n-1) or n-1. Fewer with cache hits.
 * Budget fallback: a stratified block costs n(n-1) evaluations — 2,450 at n = 50 — so a small
 * budget would never finish one and return the flat prior at every budget. When a run starts (no block taken yet) with a finite budget that cannot pay for two stratified blocks, it
 * drops stratification for the whole run (blocks stay i.i.d.); the result's estimator name then
 * reads `permutation+antithetic` (or `permutation-plain`) and its note says why.
 *
 * Efficiency: every permutation's marginals telescope to v(N) - v(∅), so every block and hence the
 * running mean sums to v(N) - v(∅) exactly up to rounding; the final estimate adds the rounding
 * residual equally to all players (`enforceSum`) — no statistical adjustment is needed.
 *
 * Budget: evaluations are cache misses. When the budget ends inside a block, the block is kept
 * pending (its evaluated coalitions are cached) and finished first by `continue`.
 */
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { MIN_SAMPLES_FOR_TARGET, RunningMoments, intervalMultiplier, randomPermutation, showsNoVariation, unseenEventVariance } from './stats.js';
import { DEFAULT_SAMPLING_BUDGET, SampledRun, samplingBudget } from './sampled-run.js';
import { checkEstimatorOptions } from './check-options.js';

export interface PermutationEstimatorOptions {
  /** Pair every permutation with its reverse. Default true. */
  antithetic?: boolean;
  /** Blocks of n cyclic shifts (each player once in each position). Default true. */
  stratified?: boolean;
  /** Evaluations per round between snapshots; default: about one block. */
  roundEvaluations?: number;
}

/** Default evaluation budget when neither budget nor target half-width is given (defined with the shared run). */
export { DEFAULT_SAMPLING_BUDGET };

export class PermutationEstimator implements ShapleyEstimator {
  readonly name: string;
  constructor(readonly options: PermutationEstimatorOptions = {}) {
    checkEstimatorOptions(options, 'PermutationEstimator', { roundEvaluations: 1 }, ['antithetic', 'stratified']);
    const a = options.antithetic ?? true;
    const s = options.stratified ?? true;
    this.name = a && s ? 'permutation' : `permutation${a ? '+antithetic' : ''}${s ? '+stratified' : ''}${!a && !s ? '-plain' : ''}`;
  }

  /** Starts an anytime run; nothing is evaluated until `continue` or `snapshots`. */
  start(game: Game, options: EstimateOptions = {}): PermutationRun {
    return new PermutationRun(game, this.name, this.options, options);
  }

  /** Runs to the stopping rule: target half-width, or `budget` (default 5000 when neither is set). */
  async estimate(game: Game, options: EstimateOptions = {}): Promise<ShapleyEstimate> {
    return this.start(game, options).continue(samplingBudget(options));
  }
}

/**
 * When most coalitions are cached (small games), sampling costs no evaluations and would never
 * exhaust the budget: a run also stops after this many look-ups (hits + misses) per budgeted
 * evaluation.
 */
const LOOKUPS_PER_EVALUATION = 20;

export class PermutationRun extends SampledRun {
  private readonly moments: RunningMoments;
  private readonly antithetic: boolean;
  private stratified: boolean;
  /** `roundEvaluations`: evaluations per snapshot round (blocks are whole: a round ends with the block that reaches it); undefined = one block's cost. */
  private readonly roundEvaluations: number | undefined;
  /** Set when stratification was dropped for budget (see the file comment). */
  private samplingNote: string | undefined;
  private runName: string;
  private pending: number[][] | undefined;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = Number.NEGATIVE_INFINITY;
  /** Smallest and largest single marginal contribution seen per player (not block means). */
  private readonly minMarginal: Float64Array;
  private readonly maxMarginal: Float64Array;

  constructor(
    game: Game,
    private readonly name: string,
    opts: PermutationEstimatorOptions,
    est: EstimateOptions,
  ) {
    super(game, est, LOOKUPS_PER_EVALUATION);
    this.moments = new RunningMoments(this.n);
    this.minMarginal = new Float64Array(this.n).fill(Number.POSITIVE_INFINITY);
    this.maxMarginal = new Float64Array(this.n).fill(Number.NEGATIVE_INFINITY);
    this.antithetic = opts.antithetic ?? true;
    this.stratified = opts.stratified ?? true;
    this.roundEvaluations = opts.roundEvaluations;
    this.runName = name;
  }

  /** Number of blocks (i.i.d. samples) the estimate rests on. */
  get samples(): number {
    return this.moments.count;
  }

  private targetMet(): boolean {
    if (this.target === undefined || this.moments.count < MIN_SAMPLES_FOR_TARGET) return false;
    const k = intervalMultiplier(this.confidence, this.moments.count);
    for (let i = 0; i < this.n; i++) if (k * this.standardError(i) > this.target) return false;
    return true;
  }

  /**
   * Standard error of player i's mean (count ≥ 2). A player whose blocks were all equal gets the
   * variance an event not seen yet could still have (`unseenEventVariance`), not 0: on skewed
   * games (the cheapest airport user, small voters) every block of a small budget is 0, and the t
   * interval collapsed to zero width. The deviation such an event could have is the spread of the
   * player's own marginals when they varied inside blocks (antithetic pairs cancelling exactly:
   * additive and quadratic parts), else what a marginal can reach, ± the range of v seen.
   */
  private standardError(i: number): number {
    const count = this.moments.count;
    const variance = this.moments.variance(i);
    const range = this.maxValue - this.minValue;
    if (!showsNoVariation(variance, range)) return Math.sqrt(variance / count);
    const own = this.maxMarginal[i]! - this.minMarginal[i]!;
    const mean = this.moments.mean[i]!;
    const deviation = own > 1e-9 * range ? own : Math.min(2 * range, range + Math.abs(mean));
    return Math.sqrt(Math.max(variance, unseenEventVariance(deviation, count, this.confidence)) / count);
  }

  /**
   * Evaluations one block costs without cache hits: distinct coalitions, not look-ups — a stratified
   * block's reversed shifts look up the same arcs as its shifts (file header). Counting look-ups
   * (2n(n-1)) dropped stratification at budgets that paid for up to four blocks (docs review).
   */
  private blockCost(): number {
    const perPermutation = Math.max(1, this.n - 1);
    return this.stratified ? this.n * perPermutation : (this.antithetic ? 2 : 1) * perPermutation;
  }

  /** Before the first block: drop stratification when the budget cannot pay for two blocks. */
  private chooseSampling(): void {
    if (!this.stratified || this.moments.count > 0 || this.pending !== undefined) return;
    const remaining = this.limit - this.cg.evaluations;
    const needed = 2 * this.blockCost();
    if (!Number.isFinite(remaining) || remaining >= needed) return;
    this.stratified = false;
    this.runName = this.antithetic ? 'permutation+antithetic' : 'permutation-plain';
    this.samplingNote = `stratification dropped: ${remaining} evaluations of the budget left (after v(N) and v(∅)), fewer than two stratified blocks need (${needed})`;
  }

  private nextBlock(): number[][] {
    const base = randomPermutation(this.rng, this.n);
    const perms: number[][] = [];
    const shifts = this.stratified ? this.n : 1;
    for (let j = 0; j < shifts; j++) {
      const p = base.map((_, k) => base[(k + j) % this.n]!);
      perms.push(p);
      if (this.antithetic) perms.push([...p].reverse());
    }
    return perms;
  }

  protected override async afterEndpoints(): Promise<void> {
    this.observe(this.grand);
    this.observe(this.empty);
  }

  private observe(v: number): void {
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** Evaluates one block (the pending one first) and adds it to the running moments. */
  private async sampleBlock(): Promise<void> {
    const n = this.n;
    const perms = this.pending ?? this.nextBlock();
    this.pending = perms;
    const coalitions: Uint8Array[] = [];
    for (const p of perms) {
      const c = new Uint8Array(n);
      for (let k = 0; k < n - 1; k++) {
        c[p[k]!] = 1;
        coalitions.push(c.slice());
      }
    }
    const vals = await this.cg.valueMany(coalitions);
    this.lookupsLeft -= coalitions.length;
    const sample = new Float64Array(n);
    let idx = 0;
    for (const p of perms) {
      let prev = this.empty;
      for (let k = 0; k < n; k++) {
        const cur = k === n - 1 ? this.grand : vals[idx++]!;
        this.observe(cur);
        const j = p[k]!;
        const m = cur - prev;
        if (m < this.minMarginal[j]!) this.minMarginal[j] = m;
        if (m > this.maxMarginal[j]!) this.maxMarginal[j] = m;
        sample[j] = sample[j]! + m;
        prev = cur;
      }
    }
    for (let i = 0; i < n; i++) sample[i] = sample[i]! / perms.length;
    this.moments.add(sample);
    this.pending = undefined;
  }

  /** Samples until the target is met, the run's evaluation limit is reached, or the game fails. */
  protected advance(untilEvaluations: number): Promise<void> {
    return this.sampleUntil(
      untilEvaluations,
      () => this.targetMet(),
      () => this.moments.count,
      () => {
        this.chooseSampling();
        return this.sampleBlock();
      },
    );
  }

  protected snapshotStep(): number {
    // roundEvaluations was declared and documented but never read: snapshots came one block apart whatever it said
    return this.cg.evaluations + (this.roundEvaluations ?? this.blockCost());
  }

  current(): ShapleyEstimate {
    const count = this.moments.count;
    const k = count > 1 ? intervalMultiplier(this.confidence, count) : 0;
    return this.sampledEstimate(this.runName, {
      count,
      unit: 'sample block',
      range: Number.isFinite(this.maxValue - this.minValue) ? this.maxValue - this.minValue : 0,
      // a block's value for a player is a mean of marginal contributions, each within ± the range of v seen
      sampleSpread: Number.isFinite(this.maxValue - this.minValue) ? 2 * (this.maxValue - this.minValue) : undefined,
      mean: () => this.moments.mean,
      halfWidth: (i) => k * this.standardError(i),
      targetMet: () => this.targetMet(),
      // Which sampling ran is part of every note (the estimator name says it too).
      noteSuffix: this.samplingNote,
    });
  }
}
