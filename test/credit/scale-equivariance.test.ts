/**
 * Shapley values scale with the game (φ(c·v) = c·φ(v)), and so should a sampled result: its
 * status and note may not depend on the unit the value function reports in. The check that turns
 * intervals made of rounding floors alone into `partial` ("the samples showed no variation …")
 * used an absolute 1e-9, so every run on a game whose values are ~1e-9 was `partial` with a note
 * saying every coalition fits one additive game — of a weighted voting game, whose samples varied.
 */
import { describe, expect, it } from 'vitest';
import { KernelEstimator, PermutationEstimator, RegressionAdjustedEstimator, SvarmEstimator, TreeMsrEstimator, UnbiasedKernelEstimator } from '../../src/credit/index.js';
import type { Game, ShapleyEstimator } from '../../src/credit/types.js';

const weights = [3, 1, 1, 2, 4, 1, 2, 1];
const voting = (scale: number): Game => ({
  id: `voting-${scale}`,
  players: weights.map((_, i) => `p${i}`),
  value: (c) => scale * (weights.reduce((s, w, i) => s + (c[i] ? w : 0), 0) >= 8 ? 1 : 0),
});

describe('a game scaled by 1e-9 or 1e-10', () => {
  const samplers: ShapleyEstimator[] = [new PermutationEstimator(), new KernelEstimator(), new UnbiasedKernelEstimator(), new RegressionAdjustedEstimator(), new TreeMsrEstimator(), new SvarmEstimator()];
  for (const estimator of samplers) {
    it(`${estimator.name}: same status as the unscaled game, values scaled`, async () => {
      for (const scale of [1e-9, 1e-10]) {
        for (let seed = 1; seed <= 5; seed++) {
          const unit = await estimator.estimate(voting(1), { budget: 80, seed });
          const small = await estimator.estimate(voting(scale), { budget: 80, seed });
          expect(small.status, `${estimator.name} × ${scale}, seed ${seed}: ${small.note}`).toBe(unit.status);
          small.values.forEach((v, i) => expect(Math.abs(v - scale * unit.values[i]!)).toBeLessThanOrEqual(1e-6 * scale));
        }
      }
    });
  }
});
