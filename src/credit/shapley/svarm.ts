/**
 * Stratified SVARM (Kolpaczki, Bengs, Muschalik & Hüllermeier, "Approximating the Shapley Value
 * without Marginal Contributions", AAAI 2024): Shapley values from coalition values, not from
 * marginal contributions, so every evaluation informs every player.
 *
 *   φ_i = (1/n) Σ_{l=0}^{n-1} (φ⁺_{i,l} − φ⁻_{i,l}),
 *   φ⁺_{i,l} = mean of v(S ∪ {i}) and φ⁻_{i,l} = mean of v(S) over S ⊆ N\{i} with |S| = l.
 *
 * One evaluated coalition A of size s is a sample of φ⁺_{i,s-1} for each i ∈ A and of φ⁻_{i,s} for
 * each i ∉ A. The run has three phases, each an ordinary stream of coalitions (budget-aware,
 * resumable):
 * 1. exact strata: v(N), v(∅), every singleton and every (n-1)-coalition (2n + 2 evaluations)
 *    give φ⁺_{i,0}, φ⁺_{i,n-2}, φ⁺_{i,n-1}, φ⁻_{i,0}, φ⁻_{i,1}, φ⁻_{i,n-1} exactly; for n ≤ 3 that
 *    is the whole game (status `exact`);
 * 2. warm-up: for each size s ∈ 2..n-2, one random permutation cut into chunks of s players
 *    (a φ⁺ sample of that size for every player) and one cut into chunks of n-s players whose
 *    complements are evaluated (a φ⁻ sample for every player);
 * 3. coalitions of size s ∈ 2..n-2, uniform given the size; the size is drawn half from the
 *    paper's distribution ∝ 1/min(s, n-s) (its distribution for odd n; for even n its middle size
 *    is weighted slightly differently) and half by expected variance reduction (`reallocate`).
 * Each stratum's samples are uniform over it, so each stratum mean is unbiased.
 *
 * Additive part (`additivePart`): after phase 1 the strata are kept for the residual games
 * r = v − c·Σ_{j∈S} α_j, c ∈ {0, ½, 1}, and the estimate (c·α plus SVARM of r) with the smallest
 * estimated total variance is reported — additive-heavy games gain, games of interactions keep c = 0.
 *
 * Intervals: the strata of one player take disjoint samples, so Var φ̂_i = (1/n²) Σ Var(stratum
 * means). A stratum's variance is its sample variance / count, inflated by (t_{c-1}/z)² for its
 * own small sample, and never above Popoviciu's bound R²/(4c) with R the range of the values seen;
 * a stratum with fewer than 2 samples counts with R²/4, one whose values were all equal with the
 * variance an unseen value could have (stats.ts unseenEventVariance). A stratum not sampled yet (small budgets)
 * takes the mean of all evaluated coalitions of its size (the symmetric guess), else the straight
 * line between v(∅) and v(N); the result's note says how many.
 *
 * Efficiency: stratum means do not sum to v(N) - v(∅) by themselves. The residual is spread in
 * proportion to each player's variance (the minimum-variance correction under independent
 * errors; exact players keep their value), so credit is conserved like the other estimators'.
 * Anytime: the result depends on the `continue()` budgets (rounds are planned per round), not only
 * on the seed; the other samplers do not.
 */
import { BudgetExhaustedError } from '../errors.js';
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { MIN_SAMPLES_FOR_TARGET, enforceSum, normalQuantile, randomCoalition, randomPermutation, roundingFloor, showsNoVariation, tQuantile, unseenEventVariance } from './stats.js';
import { SampledRun, samplingBudget } from './sampled-run.js';
import { checkEstimatorOptions } from './check-options.js';
import { ENDPOINTS_NOT_EVALUATED_NOTE, NO_INTERVAL_NOTE, OVERFLOW_NOTE } from './result.js';

export interface SvarmEstimatorOptions {
  /** Coalitions evaluated per round (between stopping checks and snapshots). Default max(n, 16). */
  coalitionsPerRound?: number;
}

export class SvarmEstimator implements ShapleyEstimator {
  readonly name = 'svarm';
  constructor(readonly options: SvarmEstimatorOptions = {}) {
    checkEstimatorOptions(options, 'SvarmEstimator', { coalitionsPerRound: 1 });
  }
  start(game: Game, options: EstimateOptions = {}): SvarmRun {
    return new SvarmRun(game, this.options, options);
  }
  async estimate(game: Game, options: EstimateOptions = {}): Promise<ShapleyEstimate> {
    return this.start(game, options).continue(samplingBudget(options));
  }
}

/** Running sums of `weights` (a CDF when they sum to 1). */
function cumulative(weights: readonly number[]): number[] {
  let acc = 0;
  return weights.map((w) => (acc += w));
}

/** See permutation.ts: ends runs on fully cached (small) games. */
const LOOKUPS_PER_EVALUATION = 20;

/** Running mean and M2 per stratum, indexed player · n + l. */
class StrataMoments {
  readonly count: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(size: number) {
    this.count = new Float64Array(size);
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }
  add(k: number, x: number): void {
    const c = this.count[k]! + 1;
    this.count[k] = c;
    const d = x - this.mean[k]!;
    this.mean[k] = this.mean[k]! + d / c;
    this.m2[k] = this.m2[k]! + d * (x - this.mean[k]!);
  }
}

/**
 * The strata of the residual game r(S) = v(S) − Σ_{j∈S} α_j, kept up to date sample by sample
 * (O(n) each), with the pooled per-size sums (imputation) and the range of r seen.
 */
class ResidualStrata {
  readonly plus: StrataMoments;
  readonly minus: StrataMoments;
  readonly sizeSum: Float64Array;
  readonly sizeCount: Float64Array;
  lo = Number.POSITIVE_INFINITY;
  hi = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly n: number,
    readonly alpha: Float64Array,
  ) {
    this.plus = new StrataMoments(n * n);
    this.minus = new StrataMoments(n * n);
    this.sizeSum = new Float64Array(n + 1);
    this.sizeCount = new Float64Array(n + 1);
  }
  add(s: Uint8Array, v: number): void {
    const n = this.n;
    let size = 0;
    let r = v;
    for (let i = 0; i < n; i++) {
      if (s[i]) {
        size++;
        r -= this.alpha[i]!;
      }
    }
    for (let i = 0; i < n; i++) {
      if (s[i]) this.plus.add(i * n + size - 1, r);
      else this.minus.add(i * n + size, r);
    }
    this.sizeSum[size] = this.sizeSum[size]! + r;
    this.sizeCount[size] = this.sizeCount[size]! + 1;
    if (r < this.lo) this.lo = r;
    if (r > this.hi) this.hi = r;
  }
}

export class SvarmRun extends SampledRun {
  private readonly perRound: number;
  /** Base size distribution (∝ 1/min(s, n−s)) over s = 2..n−2, and the one phase 3 draws from. */
  private readonly baseWeights: number[];
  private sizeCdf: number[];
  /** Coalitions planned but not yet evaluated (phase 1 and 2, and a batch cut by the budget). */
  private queue: Uint8Array[] = [];
  private phase: 'exact' | 'warm-up' | 'iid' = 'exact';
  /** Phase-1 coalitions; they are the first `exactTotal` entries of `coalitions`. */
  private readonly exactTotal: number;
  /** Phase-1 coalitions and values, in order: the additive part and the strata rebuilt from them. */
  private readonly coalitions: Uint8Array[] = [];
  private readonly values: number[] = [];
  /** Coalition values recorded so far (all phases). */
  private recorded = 0;
  /** Residual strata per additive-part coefficient: only α = 0 until phase 1 is done, then 0, ½, 1. */
  private sets: ResidualStrata[];
  /** The residual strata the last estimate used (phase 3 allocates sizes from their variances). */
  private bestSet: ResidualStrata | undefined;
  private cached: { samples: number; values: number[]; halfWidths: number[]; imputed: number } | undefined;
  private readonly inflations: number[] = [];
  /** `recorded` when phase 3's size weights were last computed. */
  private reallocatedAt = 0;

  constructor(game: Game, opts: SvarmEstimatorOptions, est: EstimateOptions) {
    super(game, est, LOOKUPS_PER_EVALUATION);
    const n = this.n;
    this.perRound = opts.coalitionsPerRound ?? Math.max(n, 16);
    const w: number[] = [];
    for (let s = 2; s <= n - 2; s++) w.push(1 / Math.min(s, n - s));
    const tot = w.reduce((a, b) => a + b, 0);
    this.baseWeights = w.map((x) => x / tot);
    this.sizeCdf = cumulative(this.baseWeights);
    this.queue = this.exactPhase();
    this.exactTotal = this.queue.length;
    this.sets = [new ResidualStrata(n, new Float64Array(n))];
  }

  /** Samples after phase 1 (what the target's minimum sample count counts). */
  private get sampled(): number {
    return Math.max(0, this.recorded - this.exactTotal);
  }

  private get exactDone(): boolean {
    return this.recorded >= this.exactTotal;
  }

  /** Every singleton, and every (n-1)-coalition when that is another size (n ≥ 3). */
  private exactPhase(): Uint8Array[] {
    const n = this.n;
    const out: Uint8Array[] = [];
    if (n < 2) return out;
    for (let j = 0; j < n; j++) {
      const s = new Uint8Array(n);
      s[j] = 1;
      out.push(s);
    }
    if (n >= 3) {
      for (let j = 0; j < n; j++) {
        const s = new Uint8Array(n).fill(1);
        s[j] = 0;
        out.push(s);
      }
    }
    return out;
  }

  /** One permutation cut into chunks of `size` players (the last chunk topped up with earlier players). */
  private chunks(size: number): Uint8Array[] {
    const n = this.n;
    const perm = randomPermutation(this.rng, n);
    const out: Uint8Array[] = [];
    for (let start = 0; start < n; start += size) {
      const s = new Uint8Array(n);
      let members = 0;
      for (let k = start; k < Math.min(n, start + size); k++, members++) s[perm[k]!] = 1;
      // Top up from the permutation's start: those players are as random as any others.
      for (let k = 0; members < size; k++) {
        if (s[perm[k]!] === 0) {
          s[perm[k]!] = 1;
          members++;
        }
      }
      out.push(s);
    }
    return out;
  }

  private warmUpPhase(): Uint8Array[] {
    const n = this.n;
    const out: Uint8Array[] = [];
    for (let s = 2; s <= n - 2; s++) {
      out.push(...this.chunks(s));
      for (const b of this.chunks(n - s)) out.push(b.map((x) => 1 - x));
    }
    return out;
  }

  private sampleCoalition(): Uint8Array {
    const n = this.n;
    const u = this.rng();
    let k = this.sizeCdf.findIndex((c) => u < c);
    if (k < 0) k = this.sizeCdf.length - 1;
    return randomCoalition(this.rng, n, k + 2).coalition;
  }

  /** The next `count` coalitions to evaluate, moving through the phases. */
  private nextBatch(count: number): Uint8Array[] {
    while (this.queue.length < count) {
      if (this.phase === 'exact') {
        this.phase = 'warm-up';
        this.queue.push(...this.warmUpPhase());
      } else {
        this.phase = 'iid';
        if (this.n < 4) break; // nothing to sample: phase 1 is the whole game
        while (this.queue.length < count) this.queue.push(this.sampleCoalition());
      }
    }
    return this.queue.slice(0, count);
  }

  private record(s: Uint8Array, v: number): void {
    for (const set of this.sets) set.add(s, v);
    if (this.exactDone) {
      this.recorded++;
      return;
    }
    this.coalitions.push(s);
    this.values.push(v);
    if (++this.recorded === this.exactTotal) {
      // Phase 1 done: the additive part is known; strata for each coefficient from the samples so far.
      const alpha = this.additivePart();
      if (alpha.some((a) => a !== 0)) {
        this.sets = [0, 0.5, 1].map((c) => {
          const set = new ResidualStrata(this.n, alpha.map((a) => a * c));
          this.coalitions.forEach((x, k) => set.add(x, this.values[k]!));
          return set;
        });
      }
    }
  }

  /**
   * Phase 3 draws sizes half from the base distribution and half in proportion to how much one
   * more coalition of that size is expected to cut the total variance (Neyman-style allocation
   * from the strata's current variances): Σ_i P(i ∈ A)·σ²⁺/(c⁺(c⁺+1)) + P(i ∉ A)·σ²⁻/(c⁻(c⁻+1)).
   * Sizes depend only on earlier samples, so every stratum's samples stay uniform over it.
   */
  private reallocate(): void {
    const n = this.n;
    // Re-weighed when the samples grew by a tenth: the variances move slowly, and a full estimate
    // per round cost ~5× the sampling itself at n = 50.
    if (n < 5 || this.phase !== 'iid' || this.recorded < 1.1 * this.reallocatedAt) return;
    this.reallocatedAt = this.recorded;
    this.compute(); // picks bestSet
    if (!this.bestSet) return;
    const { plus, minus } = this.bestSet;
    const varianceAt = (m: StrataMoments, k: number, fallback: number): number => {
      const c = m.count[k]!;
      return c >= 2 ? Math.max(0, m.m2[k]! / (c - 1)) : fallback;
    };
    const gains: number[] = [];
    for (let size = 2; size <= n - 2; size++) {
      let pooled = 0;
      let pooledCount = 0;
      for (let i = 0; i < n; i++) {
        for (const [m, k] of [[plus, i * n + size - 1], [minus, i * n + size]] as const) {
          if (m.count[k]! >= 2) {
            pooled += m.m2[k]! / (m.count[k]! - 1);
            pooledCount++;
          }
        }
      }
      const fallback = pooledCount > 0 ? pooled / pooledCount : 0;
      let g = 0;
      for (let i = 0; i < n; i++) {
        const cp = Math.max(1, plus.count[i * n + size - 1]!);
        const cm = Math.max(1, minus.count[i * n + size]!);
        g += ((size / n) * varianceAt(plus, i * n + size - 1, fallback)) / (cp * (cp + 1));
        g += (((n - size) / n) * varianceAt(minus, i * n + size, fallback)) / (cm * (cm + 1));
      }
      gains.push(g);
    }
    const total = gains.reduce((a, b) => a + b, 0);
    if (!(total > 0)) return;
    this.sizeCdf = cumulative(this.baseWeights.map((b, k) => 0.5 * b + (0.5 * gains[k]!) / total));
  }

  private async round(): Promise<void> {
    this.reallocate();
    const batch = this.nextBatch(this.perRound);
    if (batch.length === 0) {
      this.stop = 'target'; // every stratum exact (n ≤ 3)
      return;
    }
    let vals: number[];
    try {
      vals = await this.cg.valueMany(batch);
    } catch (err) {
      if (!(err instanceof BudgetExhaustedError)) throw err;
      // Apply what was affordable, in order; the rest stays queued for `continue`.
      let k = 0;
      for (; k < batch.length; k++) {
        const v = this.cg.peek(batch[k]!);
        if (v === undefined) break;
        this.record(batch[k]!, v);
      }
      this.queue.splice(0, k);
      throw err;
    }
    this.lookupsLeft -= batch.length;
    batch.forEach((s, k) => this.record(s, vals[k]!));
    this.queue.splice(0, batch.length);
  }


  /**
   * The additive part α of the game, known exactly once phase 1 is done: α_j = average of
   * v({j}) − v(∅) and v(N) − v(N∖{j}) (equal for an additive game). SVARM then estimates the
   * Shapley values of the residual game r(S) = v(S) − Σ_{j∈S} α_j and adds α back (φ is linear).
   * Stratum means of v carry the variance of the additive part, which marginal contributions do
   * not: on games with a strong additive part plain SVARM lost to permutation sampling by 2–6×
   * (random unanimity sums with many one-player terms); the residual has none of it. Zero before
   * phase 1 completes.
   */
  private additivePart(): Float64Array {
    const n = this.n;
    const alpha = new Float64Array(n);
    if (!this.exactDone || n < 2) return alpha;
    for (let j = 0; j < n; j++) {
      const single = this.values[j]! - this.empty;
      const loo = n >= 3 ? this.grand - this.values[n + j]! : single;
      alpha[j] = (single + loo) / 2;
    }
    return alpha;
  }

  /** (t_{c−1} / z)² for a stratum of c samples, memoized (a quantile per stratum per round was most of the run's own time). */
  private inflation(c: number): number {
    let f = this.inflations[c];
    if (f === undefined) {
      const p = 0.5 + this.confidence / 2;
      f = (tQuantile(p, c - 1) / normalQuantile(p)) ** 2;
      this.inflations[c] = f;
    }
    return f;
  }

  /** Whether stratum (i, l) of the given sign is known exactly (phase 1 done, or an endpoint). */
  private isExact(sign: 'plus' | 'minus', l: number): boolean {
    const n = this.n;
    if (l === 0 || l === n - 1) return sign === 'plus' ? l === n - 1 || this.exactDone : l === 0 || this.exactDone;
    if (!this.exactDone) return false;
    return sign === 'plus' ? l === n - 2 : l === 1;
  }

  private compute(): { values: number[]; halfWidths: number[]; imputed: number } {
    const samples = this.recorded;
    if (this.cached?.samples === samples) return this.cached;
    // The additive part helps games with a strong additive component and hurts games made of
    // interactions (it adds |S ∩ T|-dependent spread to strata where v is flat); which one a game
    // is shows in the strata's own variance, so the run takes the coefficient (0, ½ or 1) with
    // the smallest estimated total variance.
    let best: ReturnType<SvarmRun['solve']> | undefined;
    for (const set of this.sets) {
      const r = this.solve(set);
      if (!best || r.totalVariance < best.totalVariance) {
        best = r;
        this.bestSet = set;
      }
    }
    this.cached = { samples, values: best!.values, halfWidths: best!.halfWidths, imputed: best!.imputed };
    return this.cached;
  }

  /** Estimate, half-widths and total variance with the additive part `alpha` taken out. */
  private solve(set: ResidualStrata): { values: number[]; halfWidths: number[]; imputed: number; totalVariance: number } {
    const n = this.n;
    const z = normalQuantile(0.5 + this.confidence / 2);
    const { plus, minus, sizeSum, sizeCount, alpha } = set;
    const alphaSum = alpha.reduce((a, b) => a + b, 0);
    const rGrand = this.grand - alphaSum;
    const rEmpty = this.empty;
    const hi = Math.max(set.hi, rGrand, rEmpty);
    const lo = Math.min(set.lo, rGrand, rEmpty);
    const range = hi - lo;
    const range2 = range * range;
    const stratum = (m: StrataMoments, exact: boolean, k: number, size: number): { mean: number; variance: number; imputed: boolean } => {
      // the endpoints' strata: r(N) and r(∅)
      if (size === n && m === plus) return { mean: rGrand, variance: 0, imputed: false };
      if (size === 0 && m === minus) return { mean: rEmpty, variance: 0, imputed: false };
      const c = m.count[k]!;
      if (exact && c > 0) return { mean: m.mean[k]!, variance: 0, imputed: false };
      if (c === 0) {
        // no coalition of this size yet: the straight line between r(∅) and r(N)
        const pooled = sizeCount[size]! > 0 ? sizeSum[size]! / sizeCount[size]! : rEmpty + ((rGrand - rEmpty) * size) / n;
        return { mean: pooled, variance: range2 / 4, imputed: true };
      }
      if (c < 2) return { mean: m.mean[k]!, variance: range2 / 4, imputed: false };
      const sampleVar = Math.max(0, m.m2[k]! / (c - 1));
      const mean = m.mean[k]!;
      // All c values equal (the rare event of the stratum not drawn yet): not variance 0, but what
      // an unseen value anywhere in the range seen could still contribute (stats.ts unseenEventVariance).
      const perSample = showsNoVariation(sampleVar, range) ? unseenEventVariance(Math.max(hi - mean, mean - lo), c, this.confidence) : sampleVar * this.inflation(c);
      return { mean, variance: Math.min(perSample / c, range2 / (4 * c)), imputed: false };
    };
    const raw: number[] = [];
    const variances: number[] = [];
    let imputed = 0;
    for (let i = 0; i < n; i++) {
      let phi = 0;
      let variance = 0;
      for (let l = 0; l < n; l++) {
        const p = stratum(plus, this.isExact('plus', l), i * n + l, l + 1);
        const q = stratum(minus, this.isExact('minus', l), i * n + l, l);
        phi += p.mean - q.mean;
        variance += p.variance + q.variance;
        imputed += (p.imputed ? 1 : 0) + (q.imputed ? 1 : 0);
      }
      raw.push(alpha[i]! + phi / n);
      variances.push(variance / (n * n));
    }
    // Minimum-variance efficiency correction: the residual goes where the uncertainty is.
    const target = this.grand - this.empty;
    const residual = target - raw.reduce((a, b) => a + b, 0);
    const totalVar = variances.reduce((a, b) => a + b, 0);
    // Variances that overflowed (values above ~1e154) give no weights — Infinity/Infinity made every
    // credit NaN —, so the residual is then spread equally by enforceSum.
    const adjusted = totalVar > 0 && Number.isFinite(totalVar) ? raw.map((x, i) => x + (residual * variances[i]!) / totalVar) : raw;
    const values = enforceSum(adjusted, target);
    const floor = roundingFloor(values);
    const halfWidths = variances.map((v) => z * Math.sqrt(v) + floor);
    return { values, halfWidths, imputed, totalVariance: totalVar };
  }

  private allExact(): boolean {
    return this.endpointsKnown && this.exactDone && this.n < 4;
  }

  private targetMet(): boolean {
    const t = this.target;
    if (t === undefined || this.sampled < MIN_SAMPLES_FOR_TARGET) return false;
    return this.compute().halfWidths.every((h) => h <= t);
  }

  protected advance(rounds: number): Promise<void> {
    return this.inRounds(rounds, () => this.allExact() || this.targetMet(), () => this.round());
  }

  protected snapshotStep(): number {
    return 1;
  }

  current(): ShapleyEstimate {
    const n = this.n;
    const total = this.grand - this.empty;
    let values: number[];
    let halfWidths: number[];
    let status: ShapleyEstimate['status'] = 'approximate';
    let note = this.note;
    if (n === 1) {
      values = [total];
      halfWidths = [0];
      status = this.endpointsKnown ? 'exact' : 'partial';
    } else if (!this.endpointsKnown) {
      values = Array.from({ length: n }, () => 0);
      halfWidths = values.map(() => Number.POSITIVE_INFINITY);
      status = 'partial';
      note ??= ENDPOINTS_NOT_EVALUATED_NOTE;
    } else {
      const r = this.compute();
      values = r.values;
      halfWidths = r.halfWidths;
      // Every stratum evaluated whole (n < 4): the values are the Shapley values, as exact
      // enumeration's are, and an exact result has no interval (the events promise ci_low = credit
      // = ci_high). The rounding floor solve() adds made `exact` events carry ±1e-12 intervals.
      if (this.allExact()) {
        status = 'exact';
        halfWidths = values.map(() => 0);
      } else if (this.stop === 'error') status = 'partial';
      else if (this.recorded < 2) {
        // Every stratum but the endpoints' is a guess: no interval, as the other samplers say of
        // fewer than 2 samples. It was `approximate`, and with v(N) = v(∅) its "range bound" was
        // the range of those two values, 0: a zero-width interval around a guess.
        status = 'partial';
        note ??= `${NO_INTERVAL_NOTE}: ${this.recorded} coalition(s) evaluated besides v(N) and v(∅), need 2`;
      } else if (this.stop === 'budget' && this.target !== undefined && !this.targetMet()) {
        status = 'partial';
        note = `budget exhausted before every half-width reached ${this.target}`;
      }
      if (status === 'approximate' && !halfWidths.every(Number.isFinite)) {
        status = 'partial';
        note = note === undefined ? OVERFLOW_NOTE : `${OVERFLOW_NOTE}; ${note}`;
      }
      if (r.imputed > 0) {
        const strata = 2 * n * n;
        const more = `${r.imputed} of ${strata} strata not sampled yet (their mean taken from all evaluated coalitions of that size; counted with the range bound in the interval)`;
        note = note === undefined ? more : `${note}; ${more}`;
      }
    }
    // Without v(N) and v(∅) the width of no information; an overflowed interval stays ±Infinity, as
    // the other samplers report it (creditEpisode then takes the equal split).
    return this.resultOf('svarm', values, this.endpointsKnown ? halfWidths : halfWidths.map(() => Math.abs(total) + this.valueScale), status, note);
  }
}
