import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExactEstimator, exactShapley, TooManyPlayersError } from '../../src/credit/index.js';
import { shapleyByPermutations, shapleyBySubsets, tableGame } from './helpers.js';

const valueArb = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
const tableArb = (minN: number, maxN: number) =>
  fc.integer({ min: minN, max: maxN }).chain((n) => fc.array(valueArb, { minLength: 2 ** n, maxLength: 2 ** n }));

describe('exactShapley', () => {
  it('matches the permutation definition on random games (n ≤ 6)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(1, 6), async (table) => {
        const est = await exactShapley(tableGame(table));
        const ref = shapleyByPermutations(table);
        est.values.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 9));
        expect(est.status).toBe('exact');
        expect(est.evaluations).toBe(table.length);
      }),
      { numRuns: 150 },
    );
  });

  it('matches the factorial subset formula on random games up to 8 players', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(7, 8), async (table) => {
        const est = await exactShapley(tableGame(table));
        const ref = shapleyBySubsets(table);
        est.values.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 9));
      }),
      { numRuns: 30 },
    );
  });

  it('is efficient: Σφ = v(N) − v(∅)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(1, 8), async (table) => {
        const est = await exactShapley(tableGame(table));
        const sum = est.values.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - (table[table.length - 1]! - table[0]!))).toBeLessThan(1e-9);
        expect(est.grandValue).toBe(table[table.length - 1]);
        expect(est.emptyValue).toBe(table[0]);
      }),
      { numRuns: 200 },
    );
  });

  it('is symmetric: players with equal marginals everywhere get equal credit', async () => {
    // Symmetrize a random table in players 0 and 1: v(S) := v(swap01(S)) averaged.
    await fc.assert(
      fc.asyncProperty(tableArb(2, 7), async (table) => {
        const swap = (m: number) => {
          const b0 = m & 1;
          const b1 = (m >> 1) & 1;
          return (m & ~3) | (b0 << 1) | b1;
        };
        const sym = table.map((v, m) => (v + table[swap(m)]!) / 2);
        const est = await exactShapley(tableGame(sym));
        expect(Math.abs(est.values[0]! - est.values[1]!)).toBeLessThan(1e-9);
      }),
      { numRuns: 150 },
    );
  });

  it('gives a null player zero', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(1, 6), async (table) => {
        // Add a player (the new highest bit) that never changes the value.
        const ext = [...table, ...table];
        const est = await exactShapley(tableGame(ext));
        expect(Math.abs(est.values[est.values.length - 1]!)).toBeLessThan(1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('is linear: φ(a·v + w) = a·φ(v) + φ(w)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.tuple(
            fc.array(valueArb, { minLength: 2 ** n, maxLength: 2 ** n }),
            fc.array(valueArb, { minLength: 2 ** n, maxLength: 2 ** n }),
            fc.double({ min: -3, max: 3, noNaN: true }),
          ),
        ),
        async ([v, w, a]) => {
          const combo = v.map((x, m) => a * x + w[m]!);
          const [pv, pw, pc] = await Promise.all([exactShapley(tableGame(v)), exactShapley(tableGame(w)), exactShapley(tableGame(combo))]);
          pc.values.forEach((x, i) => expect(Math.abs(x - (a * pv.values[i]! + pw.values[i]!))).toBeLessThan(1e-9));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses more than maxPlayers with an error that names the alternatives', async () => {
    const game = tableGame(new Array(2 ** 5).fill(0));
    await expect(exactShapley(game, { maxPlayers: 4 })).rejects.toBeInstanceOf(TooManyPlayersError);
    await expect(exactShapley(game, { maxPlayers: 4 })).rejects.toThrow(/use estimateShapley .*SvarmEstimator.*TreeMsrEstimator.*raise maxPlayers/);
  });

  it('evaluates an async game once per coalition', async () => {
    let calls = 0;
    const table = [0, 1, 2, 4, 1, 3, 3, 7];
    const base = tableGame(table);
    const game = { ...base, value: async (c: Uint8Array) => (calls++, base.value(c)) };
    const est = await exactShapley(game);
    expect(calls).toBe(8);
    expect(est.values).toEqual(shapleyByPermutations(table).map((x) => expect.closeTo(x, 12)));
  });

  it('ExactEstimator: a budget below 2^n or too many players falls back to an equal split that still sums to v(N) − v(∅)', async () => {
    // 4 players, v(S) = |S|² + 1: v(N) − v(∅) = 16. In bitmask order v(N) is the last coalition, so a
    // cut enumeration once fell back on v(N) = 0 (credits summing to 0 − 1 = −1 instead of 16).
    const table = Array.from({ length: 16 }, (_, m) => {
      const size = [0, 1, 2, 3].filter((i) => m & (1 << i)).length;
      return size * size + 1;
    });
    for (const [opts, budget] of [[{}, 10], [{ maxPlayers: 3 }, undefined]] as const) {
      const est = await new ExactEstimator(opts).estimate(tableGame(table), budget === undefined ? {} : { budget });
      expect(est.status).toBe('partial');
      expect(est.estimator).toBe('exact/equal-split-fallback');
      expect(est.grandValue).toBe(17);
      expect(est.emptyValue).toBe(1);
      expect(est.values).toEqual([4, 4, 4, 4]);
      // a budget that cannot pay for the enumeration is not spent on one: only the endpoints
      expect(est.evaluations).toBe(2);
      if (budget !== undefined) expect(est.note).toMatch(/exact enumeration needs 14 more coalition values \(2\^4 in all\), the budget leaves 8: not started/);
    }
    const full = await new ExactEstimator().estimate(tableGame(table), { budget: 16 });
    expect(full.status).toBe('exact');
    expect(full.evaluations).toBe(16);
    expect(full.values.reduce((a, b) => a + b, 0)).toBeCloseTo(16, 12);
  });
});
