/**
 * Tree-MSR Shapley estimator (anytime): regression-adjusted MSR (./regression-adjusted.ts) with a
 * regression tree as the surrogate (./coalition-tree.ts), cross-fitted.
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
 * tree (every singleton splits a decision list), and they join every tree's training data. The
 * other sizes are sampled: t with probability p(t) ∝ 1/√(t(n−t)) (the size law Witter et al. and
 * shapiq use with tree proxies: more mid-size coalitions than the Shapley kernel gives), T uniform
 * of size t, paired with N∖T; each coalition's term is divided by p(t).
 *
 * Cross-fitting keeps it unbiased while every tree uses most of the data: the pairs are dealt
 * into `folds` folds (pair k → fold k mod folds); fold f's pairs are scored with a tree fitted on
 * v(N), v(∅) and every other fold's coalitions. The estimate is the pair-weighted mean of the
 * folds' means; its variance the matching sum of the folds' sample variances (intervals are
 * Student-t, conditional on the trees, like the other samplers'). Trees are refitted only when
 * new pairs arrived since the last estimate; a run with fewer than 2 pairs per fold uses the null
 * surrogate (plain MSR).
 *
 * Efficiency: every coalition's term sums to 0 over the players, so every sample sums to
 * v(N) − v(∅); rounding is projected away per sample and `enforceSum` spreads what is left.
 * Cost: 2 evaluations per pair (fewer with cache hits) plus v(N), v(∅) and the 2n border
 * coalitions; `folds` tree fits per estimate, each O(coalitions · n · depth).
 */
import { emptyCoalition, fullCoalition } from '../games/coalition.js';
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { CoalitionTree } from './coalition-tree.js';
import { buildEstimate } from './result.js';
import { MIN_SAMPLES_FOR_TARGET, RunningMoments, createRng, enforceSum, intervalMultiplier, randomCoalition, roundingFloor } from './stats.js';
import { SampledRun, samplingBudget } from './sampled-run.js';

export interface TreeMsrEstimatorOptions {
  /** Cross-fitting folds (≥ 2). Default 5. */
  folds?: number;
  /** Deepest tree path. Default min(players, 32). */
  maxDepth?: number;
  /** Pairs per snapshot round (and between target checks). Default n. */
  roundSamples?: number;
}

export class TreeMsrEstimator implements ShapleyEstimator {
  readonly name = 'tree-msr';
  constructor(readonly options: TreeMsrEstimatorOptions = {}) {
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

interface Fitted {
  pairs: number;
  mean: Float64Array;
  standardError: Float64Array;
}

export class TreeMsrRun extends SampledRun {
  private readonly rng: () => number;
  private readonly confidence: number;
  private readonly target: number | undefined;
  private readonly folds: number;
  private readonly maxDepth: number | undefined;
  private readonly roundSamples: number;
  private grand = 0;
  private empty = 0;
  private endpointsKnown = false;
  private readonly pairs: Pair[] = [];
  /** Sizes 1 and n−1 evaluated exactly (see the file header), with their values; undefined: not used. */
  private border: { coalitions: Uint8Array[]; values: number[] } | undefined;
  /** Sampled sizes: lowSize..n−lowSize (1 without the border, 2 with it). */
  private lowSize = 1;
  private pendingPair: Uint8Array | undefined;
  private fitted: Fitted | undefined;
  /** Unnormalized CDF of the sampled sizes' distribution: sizeCdf[k] = Σ_{s ≤ lowSize+k} 1/√(s(n−s)). */
  private sizeCdf: number[] = [];

  constructor(
    game: Game,
    private readonly name: string,
    opts: TreeMsrEstimatorOptions,
    est: EstimateOptions,
  ) {
    super(game, est, LOOKUPS_PER_EVALUATION);
    this.rng = createRng(est.seed ?? 0x5eed);
    this.confidence = est.confidence ?? 0.95;
    this.target = est.targetHalfWidth;
    this.folds = opts.folds ?? 5;
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

  protected async ensureEndpoints(): Promise<void> {
    if (this.endpointsKnown) return;
    const [g, e] = await this.cg.valueMany([fullCoalition(this.n), emptyCoalition(this.n)]);
    this.grand = g!;
    this.empty = e!;
    this.endpointsKnown = true;
    const n = this.n;
    if (n >= 4 && this.limit - this.cg.evaluations >= 4 * n) {
      const coalitions: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const single = new Uint8Array(n);
        single[i] = 1;
        coalitions.push(single, single.map((x) => 1 - x));
      }
      const values = await this.cg.valueMany(coalitions);
      this.lookupsLeft -= coalitions.length;
      this.border = { coalitions, values: values as number[] };
      this.setSampledSizes(2);
    }
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
    const f = this.fit();
    const k = intervalMultiplier(this.confidence, f.pairs);
    for (let i = 0; i < this.n; i++) if (k * f.standardError[i]! > this.target) return false;
    return true;
  }

  protected advance(untilEvaluations: number): Promise<void> {
    return this.windowed(async () => {
      let sinceCheck = 0;
      for (;;) {
        // The target needs tree fits: checked once per round of pairs, not after every pair.
        if (sinceCheck === 0 && this.targetMet()) break;
        if (this.cg.evaluations >= untilEvaluations && this.pairs.length > 0) return;
        if (this.lookupsLeft <= 0) {
          this.stop = 'budget';
          return;
        }
        await this.samplePair();
        sinceCheck = (sinceCheck + 1) % this.roundSamples;
      }
      this.stop = 'target';
    });
  }

  protected snapshotStep(): number {
    return this.cg.evaluations + 2 * this.roundSamples;
  }

  /** Cross-fitted means and standard errors over the pairs so far (cached until new pairs arrive). */
  private fit(): Fitted {
    const m = this.pairs.length;
    if (this.fitted?.pairs === m) return this.fitted;
    const n = this.n;
    const folds = m >= 2 * this.folds ? this.folds : 1;
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    for (let f = 0; f < folds; f++) {
      const scored = this.pairs.filter((_, k) => k % folds === f);
      const surrogate = folds === 1 ? undefined : this.treeWithout(f, folds);
      const moments = new RunningMoments(n);
      for (const p of scored) moments.add(this.sample(p, surrogate));
      const weight = scored.length / m;
      for (let i = 0; i < n; i++) {
        mean[i] = mean[i]! + weight * moments.mean[i]!;
        // Var(Σ w_f·mean_f) = Σ w_f²·s_f²/m_f.
        const se = scored.length > 1 ? moments.standardError(i) : 0;
        variance[i] = variance[i]! + weight * weight * se * se;
      }
    }
    this.fitted = { pairs: m, mean, standardError: variance.map(Math.sqrt) };
    return this.fitted;
  }

  /** The tree fitted on v(N), v(∅) and the coalitions of every fold but `fold`. */
  private treeWithout(fold: number, folds: number): { tree: CoalitionTree; phi: Float64Array } {
    const coalitions: Uint8Array[] = [fullCoalition(this.n), emptyCoalition(this.n), ...(this.border?.coalitions ?? [])];
    const values: number[] = [this.grand, this.empty, ...(this.border?.values ?? [])];
    this.pairs.forEach((p, k) => {
      if (k % folds === fold) return;
      coalitions.push(p.coalition, p.complement);
      values.push(p.value, p.complementValue);
    });
    const tree = CoalitionTree.fit(coalitions, values, this.n, this.maxDepth !== undefined ? { maxDepth: this.maxDepth } : {});
    return { tree, phi: tree.shapley() };
  }

  /** One pair's MSR sample of φ(v) with surrogate g (none: g ≡ 0). */
  private sample(p: Pair, g: { tree: CoalitionTree; phi: Float64Array } | undefined): Float64Array {
    const n = this.n;
    const at = (c: Uint8Array) => (g ? g.tree.predict(c) : 0);
    const rTotal = this.grand - at(fullCoalition(n)) - (this.empty - at(emptyCoalition(n)));
    const x = new Float64Array(n);
    // Sampled sizes: each coalition's term r(C)·([i∈C]/t − [i∉C]/(n−t)) / p(t), the pair's mean.
    for (const [coal, v] of [
      [p.coalition, p.value],
      [p.complement, p.complementValue],
    ] as const) {
      let t = 0;
      for (let j = 0; j < n; j++) t += coal[j]!;
      const w = (0.5 * (v - at(coal))) / this.sizeProbability(t);
      addTerm(x, coal, t, w);
    }
    // Border sizes, exactly: E over the n coalitions of size 1 (and of size n−1) = their mean.
    if (this.border) {
      const { coalitions, values } = this.border;
      for (let k = 0; k < coalitions.length; k++) addTerm(x, coalitions[k]!, k % 2 === 0 ? 1 : n - 1, (values[k]! - at(coalitions[k]!)) / n);
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! + rTotal / n;
      sum += x[i]!;
    }
    const gap = (sum - rTotal) / n; // rounding only: every term above sums to 0 over the players
    for (let i = 0; i < n; i++) x[i] = x[i]! - gap + (g ? g.phi[i]! : 0);
    return x;
  }

  current(): ShapleyEstimate {
    const n = this.n;
    const count = this.pairs.length;
    const total = this.grand - this.empty;
    const range = Math.abs(total) + Math.abs(this.grand) + Math.abs(this.empty);
    let values: number[];
    let halfWidths: number[];
    if (n === 1) {
      values = [total];
      halfWidths = [0];
    } else if (count === 0) {
      values = Array.from({ length: n }, () => total / n);
      halfWidths = values.map(() => range);
    } else {
      const f = this.fit();
      values = enforceSum(Array.from(f.mean), total);
      const k = count > 1 ? intervalMultiplier(this.confidence, count) : 0;
      const floor = roundingFloor(values);
      halfWidths = values.map((_, i) => (count > 1 ? k * f.standardError[i]! + floor : range));
    }
    let status: ShapleyEstimate['status'];
    let note = this.note;
    if (!this.endpointsKnown) {
      status = 'partial';
      note ??= 'no evaluation succeeded';
    } else if (n === 1) status = 'exact';
    else if (this.stop === 'error') status = 'partial';
    else if (count < 2) {
      status = 'partial';
      note ??= `interval not estimated: ${count} sample(s), need 2`;
    } else if (this.stop === 'budget' && this.target !== undefined && !this.targetMet()) {
      status = 'partial';
      note = `budget exhausted before every half-width reached ${this.target}`;
    } else status = 'approximate';
    return buildEstimate({
      players: this.cg.players,
      values,
      halfWidths,
      confidence: this.confidence,
      evaluations: this.evaluations,
      status,
      estimator: this.name,
      grandValue: this.grand,
      emptyValue: this.empty,
      note,
    });
  }
}

/** x_i += w·([i∈C]/t − [i∉C]/(n−t)) for the coalition C of size t (0 < t < n). */
function addTerm(x: Float64Array, coalition: Uint8Array, t: number, w: number): void {
  const n = x.length;
  const inside = w / t;
  const outside = w / (n - t);
  for (let i = 0; i < n; i++) x[i] = x[i]! + (coalition[i] ? inside : -outside);
}
