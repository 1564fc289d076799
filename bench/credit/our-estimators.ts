/**
 * Our Shapley estimators as the accuracy benchmark sees them: a name and
 * `estimate(game, { budget, seed })`. Loaded from src/credit at run time so that the benchmark
 * reports "missing" (with the reason) instead of failing to compile while src/credit is being
 * written. Which classes are looked for, and with which options, is listed in CANDIDATES.
 */
import type { EstimateOptions, Game, ShapleyEstimate } from '../../src/credit/types.js';
import { loadOptional } from '../lib/optional.js';

export interface OurEstimator {
  name: string;
  estimate(game: Game, options: EstimateOptions): Promise<ShapleyEstimate>;
}

export interface LoadedEstimators {
  estimators: OurEstimator[];
  /** Candidates that were not found or could not be constructed, with why. */
  missing: { name: string; reason: string }[];
}

interface Candidate {
  /** Name in tables. */
  name: string;
  /** Export of src/credit/index.ts. */
  exportName: string;
  /** Constructor options (the estimator's own, as documented in src/credit). */
  options?: Record<string, unknown>;
}

/** Our estimators under test. Constructor options are the documented ones of src/credit. */
const CANDIDATES: readonly Candidate[] = [
  { name: 'permutation (antithetic+stratified)', exportName: 'PermutationEstimator' },
  { name: 'permutation (plain)', exportName: 'PermutationEstimator', options: { antithetic: false, stratified: false } },
  { name: 'kernel (paired)', exportName: 'KernelEstimator' },
  { name: 'unbiased kernel (paired)', exportName: 'UnbiasedKernelEstimator' },
  { name: 'regression-adjusted MSR', exportName: 'RegressionAdjustedEstimator' },
  { name: 'tree MSR (in-sample)', exportName: 'TreeMsrEstimator' },
  { name: 'tree MSR (cross-fitted)', exportName: 'TreeMsrEstimator', options: { fit: 'cross-fitted' } },
  { name: 'stratified SVARM', exportName: 'SvarmEstimator' },
];

type EstimatorLike = { estimate(game: Game, options: EstimateOptions): Promise<ShapleyEstimate> | ShapleyEstimate };

/** Where each export is looked for: the package entry first, then the estimator's own file. */
const MODULES = ['../src/credit/index.js', '../src/credit/shapley/permutation.js', '../src/credit/shapley/kernel.js'];

export async function loadOurEstimators(): Promise<LoadedEstimators> {
  const exportsFound: Record<string, unknown> = {};
  const failures: string[] = [];
  for (const m of MODULES) {
    const r = await loadOptional<Record<string, unknown>>(m);
    if ('mod' in r) for (const [k, v] of Object.entries(r.mod)) exportsFound[k] ??= v;
    else failures.push(r.missing);
  }
  const estimators: OurEstimator[] = [];
  const missing: LoadedEstimators['missing'] = [];
  for (const c of CANDIDATES) {
    const ctor = exportsFound[c.exportName];
    if (typeof ctor !== 'function') {
      missing.push({ name: c.name, reason: `no export ${c.exportName} in src/credit (${failures.join('; ') || 'modules loaded'})` });
      continue;
    }
    try {
      const instance = new (ctor as new (o?: Record<string, unknown>) => EstimatorLike)(c.options);
      if (typeof instance.estimate !== 'function') throw new Error(`${c.exportName} has no estimate(game, options)`);
      estimators.push({ name: c.name, estimate: async (game, options) => instance.estimate(game, options) });
    } catch (err) {
      missing.push({ name: c.name, reason: (err as Error).message });
    }
  }
  return { estimators, missing };
}
