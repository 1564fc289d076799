/** Follow-up estimators: the permutation budget fallback and the regression-adjusted MSR estimator. */
import { describe, expect, it } from 'vitest';
import {
  exactShapley,
  PermutationEstimator,
  RegressionAdjustedEstimator,
  UnanimityGame,
} from '../../src/credit/index.js';
import { createRng } from '../../src/credit/shapley/stats.js';
import { expectAnytimeRun, expectMeanNearExact, expectPartialOnFailingJudge, intervalCoverage, mixedTable, mse, squaredError, tableGame, votingTable } from './helpers.js';


/** A random sum of unanimity games (closed-form Shapley), seeded. */
function randomUnanimity(n: number, terms: number, seed: number): UnanimityGame {
  const rng = createRng(seed);
  const ts = Array.from({ length: terms }, () => {
    const size = 1 + Math.floor(rng() * 4);
    return { carriers: Array.from({ length: size }, () => Math.floor(rng() * n)), weight: rng() * 2 - 0.5 };
  });
  return new UnanimityGame(`u${seed}`, Array.from({ length: n }, (_, i) => `p${i}`), 0, ts);
}

const VOTING12 = votingTable([4, 3, 3, 2, 2, 1, 1, 1, 5, 2, 1, 3], 14);

describe('PermutationEstimator budget fallback', () => {
  it('MSE at n = 50 decreases from budget 200 to 2000 (stratification dropped, named in the result)', async () => {
    const g = randomUnanimity(50, 120, 7);
    const exact = g.closedForm();
    const small = await mse(() => new PermutationEstimator(), () => g, exact, 200, 6);
    const large = await mse(() => new PermutationEstimator(), () => g, exact, 2000, 6);
    // Variance ∝ 1/budget: a tenfold budget should cut the MSE well below a third.
    expect(large).toBeLessThan(small / 3);
    const est = await new PermutationEstimator().estimate(g, { budget: 2000, seed: 1 });
    expect(est.estimator).toBe('permutation+antithetic');
    expect(est.note).toMatch(/stratification dropped/);
    expect(est.status).toBe('approximate');
  });

  it('a stratified block costs n(n−1) evaluations, antithetic or not: 12 players keep stratification at 2·12·11 + 2', async () => {
    // The reversed shifts' prefixes are arcs of the same cycle, already looked up by the shifts; the
    // fallback counted look-ups (2n(n−1) per block) and dropped stratification here (it asked for 528).
    const table = mixedTable(12, 9);
    let calls = 0;
    const base = tableGame(table, 'strat12');
    const game = { ...base, value: (c: Uint8Array) => (calls++, base.value(c)) };
    const run = new PermutationEstimator().start(game, { budget: 2 * 12 * 11 + 2, seed: 4 });
    const est = await run.continue(2 * 12 * 11 + 2);
    expect(est.estimator).toBe('permutation');
    expect(est.note).toBeUndefined();
    expect(calls).toBe(est.evaluations);
    expect(est.evaluations).toBeLessThanOrEqual(2 * 12 * 11 + 2);
    expect(run.samples).toBe(2); // two whole blocks of 12 shifts and their reverses in 264 evaluations
  });

  it('keeps stratification when the budget pays for two blocks', async () => {
    // 10 players: a budget of 2^8 or more lets an 8-player run see every coalition, and the result is then exact (its note says so)
    const g = tableGame(mixedTable(10, 5));
    const est = await new PermutationEstimator().estimate(g, { budget: 4 * 10 * 9, seed: 3 });
    expect(est.estimator).toBe('permutation');
    expect(est.note).toBeUndefined();
  });
});

describe('RegressionAdjustedEstimator', () => {
  it('is unbiased: the mean estimate over seeds approaches the exact value on random 8-player games', async () => {
    for (const table of [mixedTable(8, 21), votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]) await expectMeanNearExact(() => new RegressionAdjustedEstimator(), table, 60);
  });

  it('is accurate at a moderate budget and exactly efficient', async () => {
    for (const table of [mixedTable(10, 3), VOTING12]) {
      const exact = (await exactShapley(tableGame(table))).values;
      const est = await new RegressionAdjustedEstimator().estimate(tableGame(table, 'acc'), { budget: 800, seed: 9 });
      const sum = est.values.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (est.grandValue - est.emptyValue))).toBeLessThan(1e-12);
      const scale = Math.max(...exact.map(Math.abs));
      // Root-mean-square error below 10% of the largest credit; every player within its interval's reach.
      expect(Math.sqrt(squaredError(est, exact))).toBeLessThan(0.1 * scale);
      est.values.forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(0.2 * scale));
      expect(est.estimator).toBe('regression-adjusted-msr');
      expect(est.status).toBe('approximate');
      expect(est.evaluations).toBeLessThanOrEqual(800);
    }
  });

  it('nominal 95% intervals cover the exact value in ≥ 90% of seeded runs', async () => {
    for (const table of [VOTING12, mixedTable(9, 11)]) expect(await intervalCoverage(() => new RegressionAdjustedEstimator(), table, 600)).toBeGreaterThanOrEqual(0.9);
  });

  it('beats plain permutation sampling in MSE on weighted voting at equal budget', async () => {
    const exact = (await exactShapley(tableGame(VOTING12))).values;
    for (const budget of [400, 1200]) {
      const plain = await mse(() => new PermutationEstimator({ antithetic: false, stratified: false }), (s) => tableGame(VOTING12, `p${s}`), exact, budget, 12);
      const ra = await mse(() => new RegressionAdjustedEstimator(), (s) => tableGame(VOTING12, `r${s}`), exact, budget, 12);
      expect(ra).toBeLessThan(plain);
    }
  });

  it('anytime: snapshots spend more evaluations each round and continue() extends the run', async () => {
    const g = tableGame(mixedTable(10, 4), 'any');
    await expectAnytimeRun(new RegressionAdjustedEstimator({ roundSamples: 20 }).start(g, { budget: 200, seed: 2 }), 200);
  });

  it('stops at a target half-width, and reports a failing game as partial with the error', async () => {
    const est = await new RegressionAdjustedEstimator().estimate(tableGame(mixedTable(8, 2), 't'), { targetHalfWidth: 0.05, seed: 4 });
    for (const iv of est.intervals) expect((iv.high - iv.low) / 2).toBeLessThanOrEqual(0.05 + 1e-9);
    await expectPartialOnFailingJudge(() => new RegressionAdjustedEstimator(), 4, 10);
  });
});
