/**
 * The equal-split fallback (a failed closed form or exact run) reported confidence 0.95 whatever
 * the caller asked: a research script at 0.99 read a fallback interval as a 95 % one.
 */
import { describe, expect, it } from 'vitest';
import { ExactEstimator, estimateShapley } from '../../src/credit/index.js';
import type { Game } from '../../src/credit/types.js';

const failing: Game = {
  id: 'fails',
  players: ['a', 'b', 'c'],
  value: (c) => {
    if (c[0] && !c[1] && !c[2]) throw new Error('judge down');
    return c.reduce((s, x) => s + x, 0);
  },
};

describe('equal-split fallback confidence', () => {
  it('exact: the fallback reports the confidence asked for', async () => {
    const est = await new ExactEstimator().estimate({ ...failing, id: 'exact-0.99' }, { confidence: 0.99 });
    expect(est.estimator).toBe('exact/equal-split-fallback');
    expect(est.confidence).toBe(0.99);
  });

  it('closed form: the fallback reports the confidence asked for', async () => {
    const game: Game = { ...failing, id: 'closed-0.8', closedForm: () => [1, 2] };
    const est = await estimateShapley(game, { confidence: 0.8 });
    expect(est.estimator).toBe('closed-form/equal-split-fallback');
    expect(est.confidence).toBe(0.8);
  });

  it('without a confidence: 0.95, as before', async () => {
    const est = await new ExactEstimator().estimate({ ...failing, id: 'exact-default' });
    expect(est.confidence).toBe(0.95);
  });
});
