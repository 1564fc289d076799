/**
 * Tree-MSR Shapley estimator (anytime): regression-adjusted MSR (./regression-adjusted.ts) with a
 * regression tree as the surrogate (./coalition-tree.ts); intervals cross-fitted, the point in-sample
 * by default.
 *
 * The identity it samples (MSR, "maximum sample reuse"): for any game r,
 *   φ_i(r) = (r(N) − r(∅))/n + Σ_{t=1}^{n−1} E_{|T|=t} [ r(T)·([i∈T]/t − [i∉T]/(n−t)) ],
 * so one coalition informs every player. Applied to the residual r = v − g of a surrogate g whose
 * Shapley value is known, φ(v) = φ(g) + φ(r). A tree's φ(g) is exact and cheap, and a tree often
 * represents the game itself (decision lists such as airport games, unions of conjunctions such as
 * unanimity and provenance games): then r vanishes and so does the variance.
 *
 * Border strata: when the window pays for it (≥ 4n evaluations, n ≥ 4), the 2n coalitions of sizes
 * 1 and n−1 are evaluated first and their terms of the sum are computed exactly (the border trick
 * of shapiq's samplers; also SVARM's exact strata). They are the most informative coalitions for a
 * tree (every singleton splits a decision list), and they join every tree's training data. Then
 * sizes 2 and n−2, 3 and n−3, … while the draws the rest of the window would spend on such a size
 * are expected to reach all its C(n, s) coalitions (shapiq's rule; a middle size always stays
 * sampled): at n = 10, 400 evaluations enumerate sizes 2 and 8 too. Measured (bench games, 4
 * seeds, the only cells it changes at n ≤ 50): random unanimity n = 10 at 400, MSE 9.7e-4 → 5.2e-5;
 * weighted voting 2.5e-4 → 4.2e-4 and glove 3.8e-4 → 3.2e-4 (the 90 evaluations it costs were
 * worth more sampled there); on 12 generated 10-agent episodes at 40·n 1.2e-6 → numerically exact.
 * The other sizes are sampled: t with probability p(t) ∝ 1/√(t(n−t)) (the size law Witter et al. and
 * shapiq use with tree proxies: more mid-size coalitions than the Shapley kernel gives), T uniform
 * of size t, paired with N∖T; each coalition's term is divided by p(t).
 *
 * Cross-fitting keeps it unbiased while every tree uses most of the data: the pairs are dealt
 * into K folds (pair k → fold k mod K, K = min(`folds`, ⌊pairs/10⌋), so every fold holds ≥ 10
 * pairs); fold f's pairs are scored with a tree fitted on v(N), v(∅), the border and pairs of the
 * other folds only. The estimate is the pair-weighted mean of the folds' means; its variance
 * Σ_f w_f²·s_f²/m_f with Satterthwaite's degrees of freedom for the Student-t interval. Trees are
 * refitted when the pairs grew by 10% (or K changed), so the whole run costs O(log pairs) fits;
 * pairs in between are scored against the trees of their fold (fitted without them: still
 * independent). Below 20 pairs the surrogate is null (plain MSR, one group).
 * Review measurements (2026-12-03) that shaped this: with 2 pairs per fold, held-out trees of 0/1
 * games often predicted all of them, intervals collapsed to zero width and a target stop fired
 * 0.25 off; with m−1 degrees of freedom coverage was 0.84–0.89 at small budgets. The folds' means
 * are not independent (each fold trains the others' trees): the standard error is widened by 1.25,
 * an empirical calibration (CROSS_FIT_SE_FACTOR).
 *
 * In-sample point (`fit: 'in-sample'`, the default): the reported values are those of the surrogate
 * fitted on every coalition evaluated (v(N), v(∅), the border and all pairs) plus the MSR mean of
 * its residuals on the same pairs — shapiq's RegressionMSR with k_folds = 1, which Witter et al.
 * recommend, at any number of pairs (the cross-fitted trees start at 20). Where a tree represents
 * the game it is exact with all the data, not a (K − 1)/K share of it or none; elsewhere its residuals are fitted, so the MSR correction shrinks and the point is biased
 * toward the tree's own values. Its interval is the cross-fitted one, widened by |in-sample −
 * cross-fitted| per player: it contains the cross-fitted interval, so it holds the exact value
 * whenever that does (coverage at least the cross-fitted one's), and the target stop uses it.
 * Measured (bench games, 4 seeds, 48 cells at n = 10 and 20): lower MSE than cross-fitted in 30
 * cells, geomean ratio 0.096 (exact where a tree fits: airport, provenance); 1.6–3.6× higher on
 * glove games at n = 20 (not tree-like); on 12 generated 10-agent episodes relative MSE 0.16 /
 * 5.5e-5 at 4·n / 10·n, numerically exact at 40·n (cross-fitted 0.37 / 1.5e-4), intervals holding
 * the exact value 98–100% (90–100%) — docs/credit.md has the commands. `fit: 'cross-fitted'` keeps
 * the unbiased cross-fitted mean.
 *
 * Efficiency: every coalition's term sums to 0 over the players, so every sample sums to
 * v(N) − v(∅); rounding is projected away per sample and `enforceSum` spreads what is left.
 * Cost: 2 evaluations per pair (fewer with cache hits) plus v(N), v(∅) and the 2n border
 * coalitions; `folds` tree fits per estimate (geometrically: O(log pairs) per run) and, in-sample, one
 * more as often (snapshot rounds included) plus one per stopped run's result and per target check
 * that passes, each O(coalitions · n · depth).
 */
import { coalitionKey, emptyCoalition, fullCoalition } from '../games/coalition.js';
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { CoalitionTree, binomial } from './coalition-tree.js';
import { TREE_MSR_FITS, type TreeMsrFit } from './samplers.js';
import { MIN_SAMPLES_FOR_TARGET, RunningMoments, randomCoalition, showsNoVariation, smallSampleFloor, tQuantile, unseenEventVariance } from './stats.js';
import { SampledRun, samplingBudget } from './sampled-run.js';
import { checkEstimatorOptions } from './check-options.js';

export interface TreeMsrEstimatorOptions {
  /** Cross-fitting folds (≥ 2; fewer while there are < 10 pairs per fold). Default 5. */
  folds?: number;
  /**
   * Where the point estimate comes from (see "In-sample point" in the file header). `in-sample`
   * (default): the surrogate fitted on every coalition evaluated, as shapiq's RegressionMSR; its
   * interval is the cross-fitted one widened to reach it. `cross-fitted`: the cross-fitted mean
   * and its interval, unchanged.
   */
  fit?: TreeMsrFit;
  /** Deepest tree path. Default min(players, 50). */
  maxDepth?: number;
  /** Pairs per snapshot round. Default n. */
  roundSamples?: number;
}


export class TreeMsrEstimator implements ShapleyEstimator {
  readonly name = 'tree-msr';
  constructor(readonly options: TreeMsrEstimatorOptions = {}) {
    checkEstimatorOptions(options, 'TreeMsrEstimator', { roundSamples: 1 }, ['folds', 'fit', 'maxDepth']);
    if (options.fit !== undefined && !(TREE_MSR_FITS as readonly unknown[]).includes(options.fit)) {
      throw new RangeError(`TreeMsrEstimator option fit must be one of ${TREE_MSR_FITS.join(', ')}, got ${String(options.fit)}`);
    }
    const folds = options.folds ?? 5;
    if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`TreeMsrEstimator option folds must be an integer ≥ 2, got ${folds}`);
    const depth = options.maxDepth;
    if (depth !== undefined && (!Number.isInteger(depth) || depth < 0)) throw new RangeError(`TreeMsrEstimator option maxDepth must be an integer ≥ 0, got ${depth}`);
  }

  /** Starts an anytime run; nothing is evaluated until `continue` or `snapshots`. */
  start(game: Game, options: EstimateOptions = {}): TreeMsrRun {
    return new TreeMsrRun(game, this.name, this.options, options);
  }

  /** Runs to the stopping rule: target half-width, or `budget` (default 5000 when neither is set). */
  async estimate(game: Game, options: EstimateOptions = {}): Promise<ShapleyEstimate> {
    return this.start(game, options).continue(samplingBudget(options));
  }
}

/** Look-ups (hits + misses) allowed per budgeted evaluation: ends runs on fully cached games. */
const LOOKUPS_PER_EVALUATION = 20;

interface Pair {
  coalition: Uint8Array;
  complement: Uint8Array;
  value: number;
  complementValue: number;
}

/**
 * Widening of the cross-fitted standard error. Σ_f w_f²·s_f²/m_f treats the folds as independent,
 * but each fold's pairs train the others' trees; measured per-player coverage of nominal 95%
 * intervals (300 seeds; 8-player weighted voting and mixed games, budgets 60 and 120; target-only
 * runs at half-width 0.1) was 0.86–0.93 unwidened, 0.92–0.98 with 1.25 (1.118 = √(5/4) gave 0.89–0.96).
 */
const CROSS_FIT_SE_FACTOR = 1.25;

/** Pairs per fold before the folds' trees are used (and the target may be met). */
const PAIRS_PER_FOLD = MIN_SAMPLES_FOR_TARGET;

/** One fold's surrogate (fitted without the fold's pairs), its exact terms, and the fold's samples. */
interface Fold {
  tree: CoalitionTree | undefined;
  /** φ(g) + the border strata's exact terms of r = v − g + (r(N) − r(∅))/n: every sample's constant part. */
  constant: Float64Array;
  moments: RunningMoments;
}

interface Estimate {
  mean: Float64Array;
  standardError: Float64Array;
  /** Satterthwaite degrees of freedom per player. */
  df: Float64Array;
  /** Added to the cross-fitted half-width: |in-sample point − cross-fitted mean| (0 when cross-fitted). */
  shift: Float64Array;
}

export class TreeMsrRun extends SampledRun {
  private readonly folds: number;
  private readonly fit: TreeMsrFit;
  private readonly maxDepth: number | undefined;
  private readonly roundSamples: number;
  private readonly pairs: Pair[] = [];
  /** Sizes 1 and n−1 evaluated exactly (see the file header), with their values; undefined: not used. */
  private border: { coalitions: Uint8Array[]; values: number[]; sizes: number[] } | undefined;
  /** Sampled sizes: lowSize..n−lowSize (1 without the border; past the enumerated sizes with it). */
  private lowSize = 1;
  private pendingPair: Uint8Array | undefined;
  private foldStates: Fold[] = [];
  /** Pairs the current trees were fitted on (−1: none yet). */
  private fittedAt = -1;
  /** In-sample fit: the surrogate fitted on every pair so far (`fit: 'in-sample'`), and its pairs. */
  private inSample: { fold: Fold; fittedAt: number; scored: number } | undefined;
  /** Pairs scored into the folds' moments so far. */
  private scored = 0;
  /** Unnormalized CDF of the sampled sizes' distribution: sizeCdf[k] = Σ_{s ≤ lowSize+k} 1/√(s(n−s)). */
  private sizeCdf: number[] = [];

  constructor(
    game: Game,
    private readonly name: string,
    opts: TreeMsrEstimatorOptions,
    est: EstimateOptions,
  ) {
    super(game, est, LOOKUPS_PER_EVALUATION);
    this.folds = opts.folds ?? 5;
    this.fit = opts.fit ?? 'in-sample';
    this.maxDepth = opts.maxDepth;
    this.roundSamples = Math.max(1, opts.roundSamples ?? this.n);
    this.setSampledSizes(1);
  }

  private setSampledSizes(low: number): void {
    this.lowSize = low;
    this.sizeCdf = [];
    let acc = 0;
    for (let t = low; t <= this.n - low; t++) {
      acc += 1 / Math.sqrt(t * (this.n - t));
      this.sizeCdf.push(acc);
    }
  }

  /** Probability of drawing size t (lowSize ≤ t ≤ n − lowSize). */
  private sizeProbability(t: number): number {
    return 1 / Math.sqrt(t * (this.n - t)) / this.sizeCdf[this.sizeCdf.length - 1]!;
  }

  /** Number of paired samples the estimate rests on. */
  get samples(): number {
    return this.pairs.length;
  }

  /**
   * The border strata, when the window pays for them (see the file header): sizes 1 and n−1 from
   * 4n evaluations on, then sizes s and n−s for s = 2, 3, … while the draws the rest of the window
   * would spend on size s are expected to reach all C(n, s) of its coalitions (shapiq's border
   * trick). At least one size in the middle is always sampled.
   */
  protected override async afterEndpoints(): Promise<void> {
    const n = this.n;
    if (n < 4 || this.limit - this.cg.evaluations < 4 * n) return;
    const border: { coalitions: Uint8Array[]; values: number[]; sizes: number[] } = { coalitions: [], values: [], sizes: [] };
    let low = 1;
    for (;;) {
      const batch: Uint8Array[] = [];
      const sizes: number[] = [];
      for (const c of coalitionsOfSize(n, low)) {
        batch.push(c, c.map((x) => 1 - x));
        sizes.push(low, n - low);
      }
      const values = await this.cg.valueMany(batch);
      this.lookupsLeft -= batch.length;
      // loops, not push(...): a batch past ~125k (a large budget) threw a RangeError
      for (const c of batch) border.coalitions.push(c);
      for (const v of values as number[]) border.values.push(v);
      for (const s of sizes) border.sizes.push(s);
      low++;
      // Enumerating `low` must leave a size to sample: low + 1 … n − low − 1.
      if (2 * low + 2 > n) break;
      // Expected draws of size `low` from the rest of the window: each pair draws size t or n − t
      // with probability ∝ 1/√(t(n−t)) over low..n−low and adds its complement.
      let z = 0;
      for (let t = low; t <= n - low; t++) z += 1 / Math.sqrt(t * (n - t));
      const expected = ((this.limit - this.cg.evaluations) / Math.sqrt(low * (n - low))) / z;
      if (expected < binomial(n, low)) break;
    }
    this.border = border;
    this.setSampledSizes(low);
  }

  private sampleSize(): number {
    const u = this.rng() * this.sizeCdf[this.sizeCdf.length - 1]!;
    let k = 0;
    while (k < this.sizeCdf.length - 1 && this.sizeCdf[k]! < u) k++;
    return this.lowSize + k;
  }

  private async samplePair(): Promise<void> {
    const c = this.pendingPair ?? randomCoalition(this.rng, this.n, this.sampleSize()).coalition;
    this.pendingPair = c; // kept across a budget stop, so a resumed run evaluates the same pair
    const comp = c.map((x) => 1 - x);
    const [vc, vcomp] = await this.cg.valueMany([c, comp]);
    this.lookupsLeft -= 2;
    this.pendingPair = undefined;
    this.pairs.push({ coalition: c, complement: comp, value: vc!, complementValue: vcomp! });
  }

  private targetMet(): boolean {
    if (this.target === undefined || this.pairs.length < MIN_SAMPLES_FOR_TARGET) return false;
    // The same interval as reported: a player with no residual variance carries the bound for
    // residuals not seen yet (`estimateNow`), so a few folds of held-out trees that happen to be
    // right everywhere they were tested no longer stop a run (seen: 20 pairs, ±1e-12, 0.16 off).
    // In-sample, a tree refitted only as the pairs grow by 10% says when checking is worth it; the
    // stop then rests on the tree refitted on every pair, as `current()` reports it (the stale one
    // alone stopped runs whose reported half-widths exceeded the target by up to 1.36×).
    if (!this.withinTarget(this.estimateNow(false))) return false;
    return this.fit === 'cross-fitted' || this.withinTarget(this.estimateNow(true));
  }

  private withinTarget(e: Estimate): boolean {
    for (let i = 0; i < this.n; i++) if (tQuantile(0.5 + this.confidence / 2, e.df[i]!) * e.standardError[i]! + e.shift[i]! > this.target!) return false;
    return true;
  }

  protected advance(untilEvaluations: number): Promise<void> {
    // Scoring is incremental (trees are refitted geometrically), so the target is checked per pair.
    return this.sampleUntil(untilEvaluations, () => this.targetMet(), () => this.pairs.length, () => this.samplePair());
  }

  protected snapshotStep(): number {
    return this.cg.evaluations + 2 * this.roundSamples;
  }

  /** Folds in use for m pairs: ≥ PAIRS_PER_FOLD pairs each, or 1 (null surrogate) below two folds. */
  private foldsFor(m: number): number {
    const k = Math.min(this.folds, Math.floor(m / PAIRS_PER_FOLD));
    return k >= 2 ? k : 1;
  }

  /** Brings the folds up to date with the pairs: refits when due, scores the pairs not scored yet. */
  private update(): void {
    const m = this.pairs.length;
    const k = this.foldsFor(m);
    if (k !== this.foldStates.length || (k > 1 && m >= 1.1 * this.fittedAt)) {
      this.foldStates = Array.from({ length: k }, (_, f) => this.foldState(k === 1 ? undefined : this.treeWithout(f, k)));
      this.fittedAt = m;
      this.scored = 0;
    }
    for (; this.scored < m; this.scored++) {
      const fold = this.foldStates[this.scored % k]!;
      fold.moments.add(this.sample(this.pairs[this.scored]!, fold));
    }
  }

  /**
   * The in-sample point over the pairs so far (see the file header): the surrogate fitted on all of
   * them, refitted when `fresh` or when the pairs grew by 10%; pairs in between are scored against it.
   */
  private inSampleMean(fresh: boolean): Float64Array {
    const m = this.pairs.length;
    let state = this.inSample;
    if (!state || (m > state.fittedAt && (fresh || m >= 1.1 * state.fittedAt))) {
      state = this.inSample = { fold: this.foldState(this.treeWithout(-1, 1)), fittedAt: m, scored: 0 };
    }
    for (; state.scored < m; state.scored++) state.fold.moments.add(this.sample(this.pairs[state.scored]!, state.fold));
    return state.fold.moments.mean;
  }

  /**
   * Cross-fitted means, standard errors and degrees of freedom over the pairs so far; with
   * `fit: 'in-sample'`, the in-sample point as the mean and its distance to the cross-fitted mean
   * as `shift` (refitted on every pair when `fresh`: a stopped run's result and the target stop).
   */
  private estimateNow(fresh: boolean): Estimate {
    const e = this.crossFitted();
    if (this.fit === 'in-sample' && this.pairs.length > 0) {
      const point = this.inSampleMean(fresh);
      for (let i = 0; i < this.n; i++) {
        e.shift[i] = Math.abs(point[i]! - e.mean[i]!);
        e.mean[i] = point[i]!;
      }
    }
    return e;
  }

  /** Cross-fitted means, standard errors and degrees of freedom over the pairs so far. */
  private crossFitted(): Estimate {
    this.update();
    const n = this.n;
    const m = this.pairs.length;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    const dfDenominator = new Float64Array(n);
    for (const fold of this.foldStates) {
      const size = fold.moments.count;
      if (size === 0) continue;
      const w = size / m;
      for (let i = 0; i < n; i++) {
        mean[i] = mean[i]! + w * fold.moments.mean[i]!;
        // Var(Σ w_f·mean_f) = Σ w_f²·s_f²/m_f; Satterthwaite: df = (Σ a_f)² / Σ a_f²/(m_f − 1).
        const a = size > 1 ? (w * w * fold.moments.variance(i)) / size : 0;
        variance[i] = variance[i]! + a;
        if (size > 1) dfDenominator[i] = dfDenominator[i]! + (a * a) / (size - 1);
      }
    }
    const df = variance.map((v, i) => (dfDenominator[i]! > 0 ? (v * v) / dfDenominator[i]! : m - 1));
    // The folds' means are not independent (each fold's pairs train the other folds' trees): the
    // standard error is widened by CROSS_FIT_SE_FACTOR when trees are in use (see its comment).
    const factor = this.foldStates.length > 1 ? CROSS_FIT_SE_FACTOR : 1;
    const standardError = variance.map((v) => factor * Math.sqrt(v));
    // A player whose held-out samples show no variation (every held-out residual 0: the trees
    // predicted every held-out coalition) is not known exactly: the trees may be wrong on coalitions
    // not drawn yet. After m such pairs a share up to ln(2/δ)/m of the sampling law may still be
    // wrong (unseenEventVariance), and a wrong pair moves a sample by at most `residualReach`.
    // Review: airport(15) at budgets 150 and 600 had coverage 0.84, most misses zero-width.
    const reach = this.residualReach();
    for (let i = 0; i < n; i++) {
      if (m < 2 || !showsNoVariation(variance[i]!, reach)) continue;
      standardError[i] = Math.sqrt(unseenEventVariance(reach, m, this.confidence) / m);
      df[i] = m - 1;
    }
    return { mean, standardError, df, shift: new Float64Array(n) };
  }

  /**
   * The most one pair's sample can move off its fold's constant for any player: a pair (C, N∖C) of
   * size t adds ½(r(C) − r(N∖C)) / (p(t)·t) (or ·(n − t)), and residuals of a tree whose leaves are
   * means of values seen lie within ± the range of v seen; largest at the smallest sampled size.
   */
  private residualReach(): number {
    let lo = Math.min(this.grand, this.empty);
    let hi = Math.max(this.grand, this.empty);
    for (const v of this.border?.values ?? []) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (const p of this.pairs) {
      lo = Math.min(lo, p.value, p.complementValue);
      hi = Math.max(hi, p.value, p.complementValue);
    }
    const t = this.lowSize;
    return (hi - lo) / (this.sizeProbability(t) * Math.min(t, this.n - t));
  }

  /** The tree fitted on v(N), v(∅), the border and the pairs of every fold but `fold` (of k; −1: all pairs). */
  private treeWithout(fold: number, k: number): CoalitionTree {
    const coalitions: Uint8Array[] = [fullCoalition(this.n), emptyCoalition(this.n), ...(this.border?.coalitions ?? [])];
    const values: number[] = [this.grand, this.empty, ...(this.border?.values ?? [])];
    // Each coalition once: pairs are drawn with replacement (the MSR mean needs i.i.d. draws), but
    // a repeated row tells a tree nothing new about a deterministic game and only reweights the
    // squared error, which moved greedy splits: on airport(10) at 100 evaluations 3 repeated pairs
    // turned an exact tree into one 0.07 off (shapiq's sampler draws without replacement).
    const seen = new Set<string>();
    const add = (c: Uint8Array, v: number) => {
      const key = coalitionKey(c);
      if (seen.has(key)) return;
      seen.add(key);
      coalitions.push(c);
      values.push(v);
    };
    this.pairs.forEach((p, i) => {
      if (i % k === fold) return;
      add(p.coalition, p.value);
      add(p.complement, p.complementValue);
    });
    return CoalitionTree.fit(coalitions, values, this.n, this.maxDepth !== undefined ? { maxDepth: this.maxDepth } : {});
  }

  /** A fold with surrogate `tree` (none: g ≡ 0): the exact part of every sample, computed once. */
  private foldState(tree: CoalitionTree | undefined): Fold {
    const n = this.n;
    const g = (c: Uint8Array) => (tree ? tree.predict(c) : 0);
    const rTotal = this.grand - g(fullCoalition(n)) - (this.empty - g(emptyCoalition(n)));
    const constant = tree ? tree.shapley() : new Float64Array(n);
    // Border sizes, exactly: E over the C(n, s) coalitions of an enumerated size s = their mean.
    if (this.border) {
      const { coalitions, values, sizes } = this.border;
      for (let j = 0; j < coalitions.length; j++) addTerm(constant, coalitions[j]!, sizes[j]!, (values[j]! - g(coalitions[j]!)) / binomial(n, sizes[j]!));
    }
    for (let i = 0; i < n; i++) constant[i] = constant[i]! + rTotal / n;
    return { tree, constant, moments: new RunningMoments(n) };
  }

  /** One pair's MSR sample of φ(v) against its fold's surrogate. */
  private sample(p: Pair, fold: Fold): Float64Array {
    const n = this.n;
    const x = Float64Array.from(fold.constant);
    // Sampled sizes: each coalition's term r(C)·([i∈C]/t − [i∉C]/(n−t)) / p(t), the pair's mean.
    for (const [coal, v] of [
      [p.coalition, p.value],
      [p.complement, p.complementValue],
    ] as const) {
      let t = 0;
      for (let j = 0; j < n; j++) t += coal[j]!;
      const w = (0.5 * (v - (fold.tree ? fold.tree.predict(coal) : 0))) / this.sizeProbability(t);
      addTerm(x, coal, t, w);
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[i]!;
    const gap = (sum - (this.grand - this.empty)) / n; // rounding only: every term sums to 0 over the players
    for (let i = 0; i < n; i++) x[i] = x[i]! - gap;
    return x;
  }

  current(): ShapleyEstimate {
    const count = this.pairs.length;
    // A stopped run's result (continue(), the last snapshot) is fitted on every pair; a snapshot
    // round's uses the tree refitted as the pairs grew by 10%: refitting every round made snapshots
    // O(pairs²) (n = 20 at 20,000 evaluations: 40 s against 5.5 s cross-fitted).
    const e = count > 0 ? this.estimateNow(this.stop !== undefined) : undefined;
    const range = Math.abs(this.grand - this.empty) + Math.abs(this.grand) + Math.abs(this.empty);
    // Below ten pairs there is one fold and no tree (foldsFor), so every pair's sample lies within
    // ± residualReach()/2 of the fold's constant, and the cross-fitted half-width is held at
    // Hoeffding's bound for such a mean (`smallSampleFloor`), as the other samplers' are; the
    // in-sample shift is added after it, so the interval still contains the cross-fitted one.
    // Without it the t interval of two to nine pairs covered 0.87 (weighted voting, 5 and 6
    // players at budgets 2n; review of the bounds).
    const small = count >= 2 && count < MIN_SAMPLES_FOR_TARGET ? Math.min(smallSampleFloor(this.residualReach(), count, this.confidence), range) : 0;
    // The fit is part of the name events carry (estimator.name, and the event id's method): the
    // cross-fitted mean is unbiased, the in-sample point is not — a trainer must be able to tell.
    return this.sampledEstimate(this.fit === 'cross-fitted' ? `${this.name}-cross-fitted` : this.name, {
      count,
      unit: 'sample',
      range,
      mean: () => e!.mean,
      halfWidth: (i) => Math.max(tQuantile(0.5 + this.confidence / 2, e!.df[i]!) * e!.standardError[i]!, small) + e!.shift[i]!,
      targetMet: () => this.targetMet(),
    });
  }
}

/** The C(n, k) coalitions of size k, in lexicographic order of their members. */
function* coalitionsOfSize(n: number, k: number): Generator<Uint8Array> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    const c = new Uint8Array(n);
    for (const i of idx) c[i] = 1;
    yield c;
    let j = k - 1;
    while (j >= 0 && idx[j] === n - k + j) j--;
    if (j < 0) return;
    idx[j]!++;
    for (let m = j + 1; m < k; m++) idx[m] = idx[m - 1]! + 1;
  }
}

/** x_i += w·([i∈C]/t − [i∉C]/(n−t)) for the coalition C of size t (0 < t < n). */
function addTerm(x: Float64Array, coalition: Uint8Array, t: number, w: number): void {
  const n = x.length;
  const inside = w / t;
  const outside = w / (n - t);
  for (let i = 0; i < n; i++) x[i] = x[i]! + (coalition[i] ? inside : -outside);
}
