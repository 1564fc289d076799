/**
 * Unbiased KernelSHAP (Covert & Lee 2021, "Improving KernelSHAP: Practical Shapley Value Estimation
 * via Linear Regression", §3.2), paired: the KernelSHAP solution with the exact A = E[z zᵀ] in
 * place of its sample estimate, so the estimate is linear in the sampled b̂ and unbiased at every
 * sample size — where `KernelEstimator` (kernel.ts) solves with the sampled Â and is biased by
 * O(1/m).
 *
 * Why it is the surrogate-free MSR sampler of regression-adjusted.ts. Coalitions T are drawn with
 * the Shapley kernel's size probability p(t) = 1/(t(n−t)·K), K = Σ_{s=1}^{n−1} 1/(s(n−s)), so
 * A_ii = E[z_i] = ½ and A_ij = E[z_i z_j] = c for i ≠ j: A = (½ − c)·I + c·11ᵀ, and
 * ½ − c = Σ_t p(t)·t(n−t)/(n(n−1)) = 1/(K·n). The constrained solution
 * φ = A⁻¹(b̂ − ν1) with Σφ = v(N) − v(∅) is then, per player,
 *   φ_i = (v(N) − v(∅))/n + K·n·(b̂_i − mean_j b̂_j),   b̂ = mean of z·(v(T) − v(∅)),
 * i.e. the mean over samples of X_i = (v(N) − v(∅))/n + K·(v(T) − v(∅))·(n·[i∈T] − t) — exactly the
 * MSR sample of `RegressionAdjustedRun` with the constant surrogate u ≡ v(∅). Paired sampling (T
 * and N∖T, averaged) is the variance reduction Covert & Lee pair with it. shapiq's
 * `UnbiasedKernelSHAP` rests on the same identity (SHAP-IQ of order 1) and also enumerates the
 * smallest and largest coalition sizes when its budget allows; bench/RESULTS.md compares the two.
 *
 * Intervals: samples are i.i.d., so the per-player sample variance gives a t interval (no bootstrap
 * as the biased variant needs); below ten samples the half-width is floored by Hoeffding's bound on
 * one sample's range (`smallSampleFloor`), and a player whose samples were all equal (every pair
 * had v(T) = v(N∖T): sparse games) gets the variance of a pair not seen yet (`unseenEventVariance`),
 * not 0. Efficiency holds exactly (Σ_i X_i = v(N) − v(∅) for every
 * sample). Compared with the fitted surrogate (`regression-adjusted`), the variance scales with
 * |v − v(∅)| rather than with the residual of an additive fit: higher on nearly additive games, but
 * with no fit to pay for and no surrogate to warm up.
 */
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { RegressionAdjustedRun } from './regression-adjusted.js';
import { samplingBudget } from './sampled-run.js';
import { checkEstimatorOptions } from './check-options.js';

export interface UnbiasedKernelEstimatorOptions {
  /** Paired samples per snapshot round. Default n. */
  roundSamples?: number;
}

export class UnbiasedKernelEstimator implements ShapleyEstimator {
  readonly name = 'unbiased-kernel';
  constructor(readonly options: UnbiasedKernelEstimatorOptions = {}) {
    checkEstimatorOptions(options, 'UnbiasedKernelEstimator', { roundSamples: 1 });
  }

  /** Starts an anytime run; nothing is evaluated until `continue` or `snapshots`. */
  start(game: Game, options: EstimateOptions = {}): RegressionAdjustedRun {
    return new RegressionAdjustedRun(game, this.name, this.options, options, 'constant');
  }

  /** Runs to the stopping rule: target half-width, or `budget` (default 5000 when neither is set). */
  async estimate(game: Game, options: EstimateOptions = {}): Promise<ShapleyEstimate> {
    return this.start(game, options).continue(samplingBudget(options));
  }
}
