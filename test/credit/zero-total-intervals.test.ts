/**
 * A zero total (v(N) = v(∅): a failed run scored at its baseline) whose sampled coalitions all had
 * that value: every sampler's interval scales with the spread of the values its samples used, so
 * each was the rounding floor alone, ±1e-12 around the constant game's 0 credits, `approximate` —
 * a claimed error of 0 while a coalition not drawn differed and the exact values were not 0.
 */
import { describe, expect, it } from 'vitest';
import { exactShapley, PermutationEstimator, SvarmEstimator } from '../../src/credit/index.js';
import { SAMPLERS, tableGame } from './helpers.js';

const samplers = SAMPLERS;

describe('zero total, every sampled coalition at v(N) = v(∅)', () => {
  it('no sampler reports an approximate zero-width interval that misses the exact value; such a run is partial and says why', async () => {
    const n = 8;
    // v = 1 on the one coalition {p0, p1, p2}, 0 elsewhere: φ = 1/168 for p0..p2, −1/280 for the others
    const values = Array.from({ length: 1 << n }, (_, s) => (s === 0b111 ? 1 : 0));
    const game = tableGame(values);
    const exact = (await exactShapley(game)).values;
    for (const [name, make] of samplers) {
      let partial = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const est = await make().estimate(game, { budget: 4 * n, seed });
        if (est.status === 'approximate') {
          est.intervals.forEach(({ low, high }, i) => {
            if (high - low < 1e-6) expect(low <= exact[i]! && exact[i]! <= high, `${name} seed ${seed} p${i}: [${low}, ${high}] against ${exact[i]}`).toBe(true);
          });
        } else if (est.status === 'partial' && est.note?.includes('the samples showed no variation')) partial++;
      }
      expect(partial, name).toBeGreaterThan(10);
    }
  });

  it('a zero total whose samples vary stays approximate, and a constant game seen whole is exact', async () => {
    const n = 9; // 40·n < 2^n: no run sees every coalition (then the result is exact)
    // v({p0}) = 1, v({p1}) = −1 (every sampler's exact strata or samples meet singletons at this budget)
    const varied = Array.from({ length: 1 << n }, (_, s) => (s === 1 ? 1 : s === 2 ? -1 : (s & 3) === 3 ? 0.5 : 0));
    for (const [name, make] of samplers) {
      const est = await make().estimate(tableGame(varied), { budget: 40 * n, seed: 1 });
      expect(est.status, name).toBe('approximate');
    }
    const constant = Array.from({ length: 1 << 3 }, () => 0.25);
    const est = await new PermutationEstimator().estimate(tableGame(constant), { budget: 20, seed: 1 });
    expect(est.status).toBe('exact');
    expect(est.intervals).toEqual([0, 0, 0].map(() => ({ low: 0, high: 0 })));
  });

  it('SVARM: a game every evaluated coalition of which fits one additive game is not reported approximate with zero-width intervals (its residual after the additive part showed no variation)', async () => {
    // additive but for one 6-player coalition: φ off the weights by ±1/(12·462) ≈ 1.8e-4
    const w = [0.5, -0.2, 1.3, 0.05, 0.7, -0.9, 0.4, 0.25, 1.1, -0.3, 0.6, 0.15];
    const n = w.length;
    const values = Array.from({ length: 1 << n }, (_, s) => w.reduce((a, x, i) => a + (s & (1 << i) ? x : 0), 0) + (s === 0b111111 ? 1 : 0));
    const game = tableGame(values);
    const exact = (await exactShapley(game)).values;
    for (const budget of [60, 200]) {
      let partial = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const est = await new SvarmEstimator().estimate(game, { budget, seed });
        if (est.status === 'approximate') {
          est.intervals.forEach(({ low, high }, i) => {
            if (high - low < 1e-6) expect(low <= exact[i]! && exact[i]! <= high, `budget ${budget} seed ${seed} p${i}: [${low}, ${high}] against ${exact[i]}`).toBe(true);
          });
        } else if (est.status === 'partial' && est.note?.includes('every coalition evaluated fits one additive game')) partial++;
      }
      expect(partial, `budget ${budget}`).toBeGreaterThan(5);
    }
  });
});
