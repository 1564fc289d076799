/**
 * The target half-width may stop an anytime run only after MIN_SAMPLES_FOR_TARGET samples: on
 * small games a few samples are often identical, their variance 0, and a zero-width interval then
 * "met" any target — runs stopped after 4 evaluations, 0.3–0.6 off, reporting `approximate`.
 */
import { describe, expect, it } from 'vitest';
import { KernelEstimator, PermutationEstimator, RegressionAdjustedEstimator, TreeMsrEstimator, type ShapleyEstimator } from '../../src/credit/index.js';
import { shapleyByPermutations, tableGame } from './helpers.js';

// Three and four players, not additive (the shapes of small agent teams' provenance games).
const GAMES: readonly (readonly number[])[] = [
  [0, 0.1, 0.2, 0.5, 0.05, 0.45, 0.3, 1],
  [0, 0, 0, 0.2, 0, 0.3, 0.1, 0.6, 0.1, 0.2, 0.4, 0.7, 0.2, 0.6, 0.5, 1],
];

const ESTIMATORS: readonly [string, () => ShapleyEstimator][] = [
  ['permutation', () => new PermutationEstimator()],
  ['kernel', () => new KernelEstimator()],
  ['regression-adjusted', () => new RegressionAdjustedEstimator()],
  ['tree-msr', () => new TreeMsrEstimator()],
];

describe('target half-width stopping', () => {
  it.each(ESTIMATORS)('%s: an unreachable target never stops a run on a few identical samples', async (_name, make) => {
    for (const [g, table] of GAMES.entries()) {
      const exact = shapleyByPermutations(table);
      const n = exact.length;
      for (let seed = 1; seed <= 20; seed++) {
        const est = await make().estimate(tableGame(table, `g${g}-s${seed}`), { budget: 40 * n, targetHalfWidth: 1e-12, seed });
        const err = Math.max(...est.values.map((v, i) => Math.abs(v - exact[i]!)));
        // a run that claims its (zero-width) target must be exact; any run spends more than a few evaluations
        if (est.status === 'approximate') expect(err, `seed ${seed}: claims its target, ${err} off`).toBeLessThan(1e-9);
        expect(est.evaluations, `seed ${seed}`).toBeGreaterThan(4);
        // and each estimate's 95% interval holds the exact value, or the error is small anyway
        est.values.forEach((v, i) => {
          const ci = est.intervals[i]!;
          expect(err < 0.05 || (ci.low <= exact[i]! && exact[i]! <= ci.high), `seed ${seed} player ${i}: ${v} vs ${exact[i]} in [${ci.low}, ${ci.high}]`).toBe(true);
        });
      }
    }
  });
});
