/**
 * Finite values so large that a variance overflows (above ~1e154; ±1e308 is a common "impossible"
 * sentinel): `creditEpisode` falls back to the equal split, but the library estimators returned
 * `approximate` results with ±Infinity intervals, and SVARM NaN credits (its efficiency weights
 * were Infinity/Infinity) — for `estimateShapley` / `SvarmEstimator` callers, credits that are not
 * numbers and do not sum to v(N) − v(∅), under a status that claims an interval.
 */
import { describe, expect, it } from 'vitest';
import { KernelEstimator, PermutationEstimator, RegressionAdjustedEstimator, SvarmEstimator, TreeMsrEstimator, UnbiasedKernelEstimator, estimateShapley } from '../../src/credit/index.js';
import { OVERFLOW_NOTE } from '../../src/credit/shapley/result.js';
import type { Game, ShapleyEstimator } from '../../src/credit/types.js';

/** 6 players: a majority of 3 is worth 1e200, player 0 adds 1e199. */
const huge: Game = {
  id: 'huge',
  players: ['a', 'b', 'c', 'd', 'e', 'f'],
  value: (c) => (c.reduce((s, x) => s + x, 0) >= 3 ? 1e200 : 0) + (c[0] ? 1e199 : 0),
};

describe('values whose variance overflows', () => {
  const samplers: ShapleyEstimator[] = [new PermutationEstimator(), new UnbiasedKernelEstimator(), new RegressionAdjustedEstimator(), new TreeMsrEstimator(), new SvarmEstimator()];
  for (const estimator of samplers) {
    it(`${estimator.name}: finite credits summing to v(N) − v(∅), partial with the overflow note, not approximate`, async () => {
      for (const budget of [20, 200]) {
        const est = await estimator.estimate({ ...huge, id: `huge-${estimator.name}-${budget}` }, { budget, seed: 3 });
        expect(est.values.every(Number.isFinite), `${estimator.name} at ${budget}: ${est.values}`).toBe(true);
        const sum = est.values.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - (est.grandValue - est.emptyValue))).toBeLessThanOrEqual(1e-12 * Math.abs(est.grandValue));
        if (est.intervals.some((i) => !Number.isFinite(i.low) || !Number.isFinite(i.high)) || estimator.name === 'svarm') {
          expect(est.status, `${estimator.name} at ${budget}`).toBe('partial');
          expect(est.note).toContain(OVERFLOW_NOTE);
        }
      }
    });
  }

  it('estimateShapley (SVARM from 4·n): no NaN credit', async () => {
    const est = await estimateShapley({ ...huge, id: 'huge-auto' }, { budget: 40, seed: 1, maxExactPlayers: 0 });
    expect(est.estimator).toBe('svarm');
    expect(est.values.every(Number.isFinite)).toBe(true);
    expect(est.status).toBe('partial');
  });

  it('the paired kernel, once it has evaluated every coalition, is exact with finite intervals (its bootstrap never overflowed here)', async () => {
    const est = await new KernelEstimator().estimate({ ...huge, id: 'huge-kernel' }, { budget: 200, seed: 3 });
    expect(est.intervals.every((i) => Number.isFinite(i.low) && Number.isFinite(i.high))).toBe(true);
    expect(est.status).toBe('exact');
  });
});
