/**
 * `estimateShapley`: picks the estimator for a game.
 * 1. the game's closed form (`closedForm()`), when offered: exact, no coalition enumeration
 *    (v(N) and v(∅) are still evaluated for the result's endpoints);
 * 2. exact enumeration when n ≤ maxExactPlayers (default 14) and 2^n fits the budget;
 * 3. otherwise the approximate estimator named in `approximate`, or by default stratified SVARM
 *    when the budget is at least 4n evaluations and permutation sampling below (`defaultSampler`);
 *    the permutation estimator itself drops position stratification (keeps antithetic pairs) when
 *    the budget cannot pay for two stratified blocks (see permutation.ts; the result's estimator
 *    name says so).
 * Never throws for game failures or budget exhaustion: the result is then `partial` with a note.
 */
import { CachedGame } from '../games/cached-game.js';
import { emptyCoalition, fullCoalition } from '../games/coalition.js';
import type { EstimateOptions, Game, ShapleyEstimate } from '../types.js';
import { ExactEstimator } from './exact.js';
import { KernelEstimator, type KernelEstimatorOptions } from './kernel.js';
import { PermutationEstimator, type PermutationEstimatorOptions } from './permutation.js';
import { RegressionAdjustedEstimator, type RegressionAdjustedEstimatorOptions } from './regression-adjusted.js';
import { SvarmEstimator, type SvarmEstimatorOptions } from './svarm.js';
import { TreeMsrEstimator, type TreeMsrEstimatorOptions } from './tree-msr.js';
import { UnbiasedKernelEstimator, type UnbiasedKernelEstimatorOptions } from './unbiased-kernel.js';
import { isSamplerName, SAMPLERS, type SamplerName } from './samplers.js';
import { buildEstimate, equalSplitFallback, errorNote } from './result.js';
import { enforceSum } from './stats.js';
import { checkEstimateOptions, ESTIMATE_SHAPLEY_OPTIONS } from './check-options.js';

export interface EstimateShapleyOptions extends EstimateOptions {
  maxExactPlayers?: number;
  approximate?: SamplerName;
  permutation?: PermutationEstimatorOptions;
  kernel?: KernelEstimatorOptions;
  unbiasedKernel?: UnbiasedKernelEstimatorOptions;
  regressionAdjusted?: RegressionAdjustedEstimatorOptions;
  treeMsr?: TreeMsrEstimatorOptions;
  svarm?: SvarmEstimatorOptions;
  /** Use `closedForm()` when the game offers it. Default true. */
  useClosedForm?: boolean;
}

export async function estimateShapley(game: Game, options: EstimateShapleyOptions = {}): Promise<ShapleyEstimate> {
  checkEstimateOptions(options, 'estimateShapley', ESTIMATE_SHAPLEY_OPTIONS);
  checkChoiceOptions(options);
  // wrapped first: CachedGame checks the game (a TypeError naming what is missing)
  const cg = CachedGame.wrap(game, options.signal ? { signal: options.signal } : {});
  const n = game.players.length;
  const maxExact = options.maxExactPlayers ?? 14;
  if ((options.useClosedForm ?? true) && cg.closedForm) {
    const before = cg.evaluations;
    try {
      const [grand, empty] = await cg.valueMany([fullCoalition(n), emptyCoalition(n)]);
      const phi = [...cg.closedForm()];
      if (phi.length !== n || phi.some((x) => !Number.isFinite(x))) throw new Error(`closedForm() returned ${phi.length} values for ${n} players or a non-finite value`);
      return buildEstimate({
        players: game.players,
        values: enforceSum(phi, grand! - empty!),
        halfWidths: phi.map(() => 0),
        confidence: 1 - 1e-9,
        evaluations: cg.evaluations - before,
        status: 'exact',
        estimator: 'closed-form',
        grandValue: grand!,
        emptyValue: empty!,
      });
    } catch (err) {
      return equalSplitFallback(game.players, cg.peek(fullCoalition(n)) ?? 0, cg.peek(emptyCoalition(n)) ?? 0, options.valueScale ?? 1, 'closed-form', cg.evaluations - before, errorNote(err), options.confidence ?? 0.95);
    }
  }
  if (n <= maxExact && (options.budget === undefined || 2 ** n <= options.budget)) {
    return new ExactEstimator({ maxPlayers: maxExact }).estimate(cg, options);
  }
  const approximate = options.approximate ?? defaultSampler(n, options.budget);
  const estimator =
    approximate === 'kernel'
      ? new KernelEstimator(options.kernel)
      : approximate === 'unbiased-kernel'
        ? new UnbiasedKernelEstimator(options.unbiasedKernel)
        : approximate === 'regression-adjusted'
          ? new RegressionAdjustedEstimator(options.regressionAdjusted)
          : approximate === 'tree-msr'
            ? new TreeMsrEstimator(options.treeMsr)
            : approximate === 'svarm'
              ? new SvarmEstimator(options.svarm)
              : new PermutationEstimator(options.permutation);
  return estimator.estimate(cg, options);
}

/**
 * The sampler when none is named: stratified SVARM once the budget pays for its exact strata
 * (2n + 2 evaluations) and as much again for sampling (≥ 4n), else permutation sampling. On
 * generated agent episodes (`agent-credit compare`, docs/credit.md) SVARM has the lowest error of
 * our samplers at 4·n and tree-MSR at 10·n and 40·n, but tree-MSR's error from few evaluations is
 * the worst of them and varies most across games (bench/RESULTS.md): SVARM is the safe default.
 * At 2·n SVARM cannot finish its exact strata and permutation sampling is better.
 */
function defaultSampler(n: number, budget: number | undefined): 'svarm' | 'permutation' {
  return budget === undefined || budget >= 4 * n ? 'svarm' : 'permutation';
}

/**
 * `approximate` and `maxExactPlayers` decide which estimator runs. Unchecked, any `approximate`
 * other than a sampler's name — `'auto'` or `'exact'` as `credit.estimator` spells them, the result
 * name `'regression-adjusted-msr'`, a typo — ran the permutation sampler without a word (`'auto'`
 * even where leaving it out runs SVARM), and a `maxExactPlayers` of NaN, -1 or `'12'` turned exact enumeration off.
 */
function checkChoiceOptions(options: EstimateShapleyOptions): void {
  const { approximate, maxExactPlayers } = options;
  if (approximate !== undefined && !(typeof approximate === 'string' && isSamplerName(approximate))) {
    throw new RangeError(`estimateShapley: approximate must be one of ${SAMPLERS.join(', ')}, got ${shown(approximate)}; leave it out for the default choice (SVARM from 4·n evaluations, permutation below)`);
  }
  if (maxExactPlayers !== undefined && !(typeof maxExactPlayers === 'number' && Number.isInteger(maxExactPlayers) && maxExactPlayers >= 0)) {
    throw new RangeError(`estimateShapley: maxExactPlayers must be a whole number ≥ 0 (the most players enumerated exactly), got ${shown(maxExactPlayers)}; leave it out for 14`);
  }
}

/** A value as the caller wrote it: a string quoted (`'12'` is not 12), anything else as String() gives it (NaN, not JSON's null). */
const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
