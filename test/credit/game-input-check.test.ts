/**
 * Estimators given what is not a Game: `estimateShapley({})` threw "Cannot read properties of
 * undefined (reading 'length')", a game without `value` gave an equal split marked partial, and
 * `players: 'abc'` was read as three players a, b, c. They now throw a TypeError naming the field.
 */
import { describe, expect, it } from 'vitest';
import { CachedGame, exactShapley, estimateShapley, ExactEstimator, KernelEstimator, leaveOneOut, PermutationEstimator, RegressionAdjustedEstimator, SvarmEstimator, TreeMsrEstimator, UnbiasedKernelEstimator } from '../../src/credit/index.js';
import type { Game } from '../../src/credit/types.js';

const asGame = (g: unknown) => g as Game;
const value = (c: Uint8Array) => c.reduce((s, x) => s + x, 0);

describe('a game that is not a Game', () => {
  const runs: [string, (g: Game) => Promise<unknown>][] = [
    ['estimateShapley', (g) => estimateShapley(g)],
    ['exactShapley', (g) => exactShapley(g)],
    ['leaveOneOut', (g) => leaveOneOut(g)],
    ...[new ExactEstimator(), new PermutationEstimator(), new KernelEstimator(), new UnbiasedKernelEstimator(), new SvarmEstimator(), new RegressionAdjustedEstimator(), new TreeMsrEstimator()].map(
      (e) => [e.constructor.name, (g: Game) => e.estimate(g, { budget: 40 })] as [string, (g: Game) => Promise<unknown>],
    ),
  ];
  for (const [name, run] of runs) {
    it(`${name}: names what is missing`, async () => {
      await expect(run(asGame(undefined))).rejects.toThrow(/Shapley estimation needs a Game \{ id: string, players: string\[\], value/);
      await expect(run(asGame({}))).rejects.toThrow(/game\.id is undefined; it needs a string/);
      await expect(run(asGame({ id: 'g', players: ['a', 'b'] }))).rejects.toThrow(/game g: value is undefined; it needs a function/);
      await expect(run(asGame({ id: 'g', players: 'ab', value }))).rejects.toThrow(/game g: players is the string "ab"; it needs an array/);
      await expect(run(asGame({ id: 'g', players: ['a', 2], value }))).rejects.toThrow(/game g: players\[1\] is number 2/);
    });
  }

  it('CachedGame refuses it too, and a Game still estimates', async () => {
    expect(() => new CachedGame(asGame({ id: 'g', players: ['a'], value: 1 }))).toThrow(TypeError);
    const est = await estimateShapley({ id: 'ok', players: ['a', 'b'], value });
    expect(est.values).toEqual([1, 1]);
  });
});
