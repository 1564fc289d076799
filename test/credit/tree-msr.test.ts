/** The coalition tree (fit, exact Shapley read-out) and the tree-MSR estimator (in-sample and cross-fitted). */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CoalitionTree, CreditOptionsSchema, TreeMsrEstimator, creditEpisode, episodeSeed, exactShapley, type Game } from '../../src/credit/index.js';
import { estimatesOverSeeds, expectAnytimeRun, expectMeanNearExact, expectPartialOnFailingJudge, mixedTable, squaredError, tableGame, votingTable } from './helpers.js';
import { episode, step, threeAgentSteps } from './episode-builder.js';

/** Every coalition of n players as membership vectors, in bitmask order (bit i = player i). */
function allCoalitions(n: number): Uint8Array[] {
  return Array.from({ length: 2 ** n }, (_, mask) => Uint8Array.from({ length: n }, (_, i) => (mask >> i) & 1));
}

/** Airport game: a coalition pays the largest runway cost among its members. */
function airportTable(costs: readonly number[]): number[] {
  return allCoalitions(costs.length).map((c) => costs.reduce((m, x, i) => (c[i] ? Math.max(m, x) : m), 0));
}

describe('CoalitionTree', () => {
  it('reads out the exact Shapley value of the tree it fitted (closed form = enumeration)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            rows: fc.array(fc.tuple(fc.array(fc.boolean(), { minLength: n, maxLength: n }), fc.integer({ min: -5, max: 5 })), { minLength: 1, maxLength: 40 }),
          }),
        ),
        async ({ n, rows }) => {
          const coalitions = rows.map(([c]) => Uint8Array.from(c, (b) => (b ? 1 : 0)));
          const tree = CoalitionTree.fit(coalitions, rows.map(([, y]) => y), n);
          const table = allCoalitions(n).map((c) => tree.predict(c));
          const exact = (await exactShapley(tableGame(table))).values;
          const phi = tree.shapley();
          exact.forEach((x, i) => expect(phi[i]!).toBeCloseTo(x, 9));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fits an airport game exactly from its singletons, v(N) and v(∅) (a decision list)', () => {
    const costs = [7, 3, 9, 3, 1, 5];
    const table = airportTable(costs);
    const n = costs.length;
    const known = [0, 2 ** n - 1, ...costs.map((_, i) => 1 << i)];
    const all = allCoalitions(n);
    const tree = CoalitionTree.fit(known.map((m) => all[m]!), known.map((m) => table[m]!), n);
    all.forEach((c, m) => expect(tree.predict(c)).toBe(table[m]));
  });

  it('grows past 32 levels by default: a 40-player airport game from its singletons, and its exact Shapley value', () => {
    // The default depth was min(players, 32): a decision list of 40 distinct costs was cut at 32.
    const n = 40;
    const costs = Array.from({ length: n }, (_, i) => ((i * 17) % n) + 1);
    const row = (members: number[]) => Uint8Array.from({ length: n }, (_, i) => (members.includes(i) ? 1 : 0));
    const coalitions = [row([]), row(costs.map((_, i) => i)), ...costs.map((_, i) => row([i]))];
    const value = (c: Uint8Array) => costs.reduce((m, x, i) => (c[i] ? Math.max(m, x) : m), 0);
    const tree = CoalitionTree.fit(coalitions, coalitions.map(value), n);
    for (const members of [[0, 5], [3, 7, 11, 39], [12], costs.map((_, i) => i).filter((i) => i % 3 === 0)]) expect(tree.predict(row(members))).toBe(value(row(members)));
    // Airport closed form: the k-th smallest cost's increment is shared by everyone who pays at least it.
    const sorted = [...costs].sort((a, b) => a - b);
    const phi = tree.shapley();
    costs.forEach((c, i) => {
      let expected = 0;
      sorted.forEach((x, k) => {
        if (x <= c) expected += (x - (k > 0 ? sorted[k - 1]! : 0)) / (n - k);
      });
      expect(phi[i]!).toBeCloseTo(expected, 9);
    });
  });

  it('stops at maxDepth and refuses mismatched input', () => {
    const all = allCoalitions(4);
    const table = all.map((c) => c[0]! * 4 + c[1]! * 2 + c[2]!);
    expect(CoalitionTree.fit(all, table, 4, { maxDepth: 1 }).leaves()).toHaveLength(2);
    expect(CoalitionTree.fit(all, table, 4).leaves().length).toBeGreaterThan(2);
    expect(() => CoalitionTree.fit([], [], 3)).toThrow(/at least one/);
    expect(() => CoalitionTree.fit(all, [1], 4)).toThrow(/one value per coalition/);
  });
});

describe('TreeMsrEstimator', () => {
  it('cross-fitted is unbiased: the mean estimate over seeds approaches the exact value on random 8-player games', async () => {
    for (const table of [mixedTable(8, 21), votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]) await expectMeanNearExact(() => new TreeMsrEstimator({ fit: 'cross-fitted' }), table, 60);
  });

  it('in-sample (default) leans toward the tree (biased, docs/credit.md) but is closer than cross-fitted: lower mean squared error over the same seeds on random 8-player games', async () => {
    // its bias is real — measured at budget 60 over 600 seeds on the mixed game, up to 0.048 for a
    // player with an RMSE of 0.059, far outside the standard error — so it is not held to the
    // unbiasedness check above; what it buys is a smaller error than the unbiased point's
    for (const table of [mixedTable(8, 21), votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]) {
      const exact = (await exactShapley(tableGame(table))).values;
      const mseOf = async (fit: 'in-sample' | 'cross-fitted') => {
        const values = await estimatesOverSeeds(() => new TreeMsrEstimator({ fit }), table, 60, 60);
        return values.reduce((a, xs, i) => a + xs.reduce((b, x) => b + (x - exact[i]!) ** 2, 0), 0) / (values.length * 60);
      };
      expect(await mseOf('in-sample')).toBeLessThan(await mseOf('cross-fitted'));
    }
  });

  it('in-sample (default): its interval holds the cross-fitted one of the same pairs, and it is exact where a tree fitted on every pair is (airport, 10 players, 60 and 100 evaluations)', async () => {
    // The point is the surrogate fitted on all pairs plus the in-sample MSR correction (shapiq's
    // RegressionMSR, k_folds = 1); the interval is the cross-fitted one widened to reach it, so it
    // holds the exact value whenever the cross-fitted interval does. Measured before this fit: the
    // cross-fitted point alone was exact on 0 and 5 of these 12 seeds (in-sample: 10 and 12).
    const table = airportTable([12, 40, 7, 33, 90, 21, 55, 3, 68, 47]);
    const exact = (await exactShapley(tableGame(table))).values;
    for (const budget of [60, 100]) {
      const exactRuns = { 'in-sample': 0, 'cross-fitted': 0 };
      for (let seed = 1; seed <= 12; seed++) {
        const inSample = await new TreeMsrEstimator().estimate(tableGame(table, `i${budget}/${seed}`), { budget, seed });
        const crossFitted = await new TreeMsrEstimator({ fit: 'cross-fitted' }).estimate(tableGame(table, `x${budget}/${seed}`), { budget, seed });
        expect(inSample.evaluations).toBe(crossFitted.evaluations);
        inSample.intervals.forEach((iv, i) => {
          expect(iv.low).toBeLessThanOrEqual(crossFitted.intervals[i]!.low + 1e-9);
          expect(iv.high).toBeGreaterThanOrEqual(crossFitted.intervals[i]!.high - 1e-9);
        });
        expect(Math.abs(inSample.values.reduce((a, b) => a + b, 0) - (inSample.grandValue - inSample.emptyValue))).toBeLessThan(1e-9);
        for (const [fit, est] of [['in-sample', inSample], ['cross-fitted', crossFitted]] as const) if (squaredError(est, exact) < 1e-18) exactRuns[fit]++;
      }
      expect(exactRuns['in-sample']).toBeGreaterThanOrEqual(10);
      expect(exactRuns['cross-fitted']).toBeLessThanOrEqual(exactRuns['in-sample'] - 5);
    }
  });

  it('fits its in-sample tree on each coalition once, however often a pair was drawn (airport, 10 players, 100 evaluations)', async () => {
    // Pairs are drawn with replacement; a repeated row only reweighted the squared error and moved
    // greedy splits. These costs and this seed draw 3 repeated pairs: the point was 0.07 off, the
    // tree of the 100 distinct coalitions is exact (as shapiq's sampler, without replacement, gets).
    const costs = [31, 51, 42, 8, 39, 81, 84, 69, 54, 17];
    const table = airportTable(costs);
    const exact = (await exactShapley(tableGame(table))).values;
    const seen: string[] = [];
    const game: Game = { id: 'repeats', players: costs.map((_, i) => `p${i}`), value: (c) => (seen.push(c.join('')), table[c.reduce((m, x, i) => m | (x << i), 0)]!) };
    const est = await new TreeMsrEstimator().estimate(game, { budget: 100, seed: 2094798414 });
    expect(est.evaluations).toBe(100);
    expect(new Set(seen).size).toBe(100);
    est.values.forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(1e-9));
  });

  it('is exact to rounding on an airport game once its trees are (10 players, 400 of 1024 coalitions)', async () => {
    const table = airportTable([12, 40, 7, 33, 90, 21, 55, 3, 68, 47]);
    const exact = (await exactShapley(tableGame(table))).values;
    for (const seed of [1, 2, 3]) {
      const est = await new TreeMsrEstimator().estimate(tableGame(table, `a${seed}`), { budget: 400, seed });
      est.values.forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(1e-9));
      expect(est.evaluations).toBeLessThanOrEqual(400);
      expect(est.estimator).toBe('tree-msr');
    }
  });

  it('is efficient, deterministic by seed, and its 95% intervals cover in ≥ 90% of runs', async () => {
    for (const table of [mixedTable(9, 11), votingTable([4, 3, 3, 2, 2, 1, 1, 1, 5], 12)]) {
      const exact = (await exactShapley(tableGame(table))).values;
      let covered = 0;
      let total = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const est = await new TreeMsrEstimator().estimate(tableGame(table, `c${seed}`), { budget: 600, seed });
        expect(Math.abs(est.values.reduce((a, b) => a + b, 0) - (est.grandValue - est.emptyValue))).toBeLessThan(1e-12);
        est.intervals.forEach((iv, i) => {
          total++;
          if (iv.low <= exact[i]! && exact[i]! <= iv.high) covered++;
        });
      }
      expect(covered / total).toBeGreaterThanOrEqual(0.9);
      const a = await new TreeMsrEstimator().estimate(tableGame(table, 'd1'), { budget: 300, seed: 5 });
      const b = await new TreeMsrEstimator().estimate(tableGame(table, 'd2'), { budget: 300, seed: 5 });
      expect(a.values).toEqual(b.values);
      expect(squaredError(a, exact)).toBeGreaterThanOrEqual(0);
    }
  });

  it('a target stop never rests on held-out trees that merely got a few folds right (10-player voting)', async () => {
    // Seen in review: with 2 pairs per fold the held-out trees of a 0/1 game predicted every one of
    // them, the intervals collapsed to ±1e-12 and the run stopped 0.16 off. Now: ≥ 10 pairs per fold,
    // zero variance trusted only after max(5n, 50) pairs, and the cross-fitted error widened.
    const table = votingTable([4, 3, 3, 2, 2, 1, 1, 1, 5, 2], 13);
    const exact = (await exactShapley(tableGame(table))).values;
    let outside = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const run = new TreeMsrEstimator().start(tableGame(table, `z${seed}`), { targetHalfWidth: 0.02, seed });
      const est = await run.continue(Number.POSITIVE_INFINITY);
      expect(est.status).toBe('approximate');
      const zeroWidth = est.intervals.every((iv) => iv.high - iv.low < 1e-9);
      if (zeroWidth) expect(run.samples).toBeGreaterThanOrEqual(50);
      est.intervals.forEach((iv, i) => (outside += iv.low <= exact[i]! && exact[i]! <= iv.high ? 0 : 1));
    }
    expect(outside / (40 * 10)).toBeLessThanOrEqual(0.1);
  });

  it('a run that stops for its target reports every half-width within it, in-sample as cross-fitted (8-player mixed and voting games)', async () => {
    // The target check scored new pairs against an in-sample tree refitted only when the pairs grew
    // by 10%, the reported result refitted it on every pair: 30 of 180 such runs stopped for the
    // target and reported a half-width above it (up to 1.36×, voting at 0.2).
    for (const fit of ['in-sample', 'cross-fitted'] as const) {
      for (const [name, table] of [['mixed', mixedTable(8, 21)], ['voting', votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]] as const) {
        for (const target of [0.2, 0.1]) {
          for (let seed = 1; seed <= 12; seed++) {
            const est = await new TreeMsrEstimator({ fit }).estimate(tableGame(table, `t-${fit}-${name}-${target}-${seed}`), { targetHalfWidth: target, budget: 20_000, seed });
            expect(est.status, `${fit} ${name} ${target} seed ${seed}`).toBe('approximate');
            const widest = Math.max(...est.intervals.map((iv) => (iv.high - iv.low) / 2));
            expect(widest, `${fit} ${name} target ${target} seed ${seed}`).toBeLessThanOrEqual(target + 1e-9);
          }
        }
      }
    }
  });

  it('small windows skip the border strata and still respect the budget (4 players, 12 evaluations)', async () => {
    const table = mixedTable(4, 3);
    const est = await new TreeMsrEstimator().estimate(tableGame(table, 'small'), { budget: 12, seed: 1 });
    expect(est.evaluations).toBeLessThanOrEqual(12);
    expect(Math.abs(est.values.reduce((a, b) => a + b, 0) - (est.grandValue - est.emptyValue))).toBeLessThan(1e-12);
  });

  it("border strata grow with the window (shapiq's border trick): 10 players at 400 evaluations enumerate sizes 1, 2, 8, 9, at 200 only 1 and 9; cross-fitted stays unbiased with them (8 players at 200)", async () => {
    const table = mixedTable(10, 5);
    for (const [budget, complete] of [
      [400, [1, 2, 8, 9]],
      [200, [1, 9]],
    ] as const) {
      const seen = new Set<string>();
      const base = tableGame(table, `border-${budget}`);
      const game: Game = { ...base, value: (c) => (seen.add(c.join('')), base.value(c)) };
      const est = await new TreeMsrEstimator().estimate(game, { budget, seed: 2 });
      expect(est.evaluations).toBeLessThanOrEqual(budget);
      const bySize = new Array<number>(11).fill(0);
      for (const key of seen) bySize[[...key].filter((x) => x === '1').length]!++;
      const binom = (k: number) => Array.from({ length: k }, (_, i) => (10 - i) / (i + 1)).reduce((a, b) => a * b, 1);
      for (let size = 1; size <= 9; size++) {
        if ((complete as readonly number[]).includes(size)) expect(bySize[size]).toBe(Math.round(binom(size)));
        else expect(bySize[size]).toBeLessThan(Math.round(binom(size)));
      }
    }
    // 8 players at 200: sizes 1, 2, 6, 7 enumerated, 3–5 sampled; the cross-fitted mean is unbiased
    for (const table8 of [mixedTable(8, 21), votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]) await expectMeanNearExact(() => new TreeMsrEstimator({ fit: 'cross-fitted' }), table8, 200);
  });

  it('the first snapshot samples a whole round after v(N), v(∅) and the border strata (10 players: 10 pairs, not 1)', async () => {
    const run = new TreeMsrEstimator().start(tableGame(mixedTable(10, 3), 'first-round'), { budget: 200, seed: 1 });
    for await (const s of run.snapshots()) {
      expect(run.samples).toBeGreaterThanOrEqual(10);
      expect(s.evaluations).toBe(2 + 20 + 2 * 10);
      break;
    }
  });

  it('anytime: snapshots spend more evaluations each round; continue() extends the run', async () => {
    await expectAnytimeRun(new TreeMsrEstimator({ roundSamples: 10 }).start(tableGame(mixedTable(10, 4), 'any'), { budget: 200, seed: 2 }), 200);
  });

  it('in-sample snapshots refit the all-pairs tree as the pairs grow by 10%, not every round: fits grow as log(pairs), not as rounds (12 players, a round per pair)', async () => {
    // Every round's result refitted the in-sample tree on every pair: snapshots cost O(pairs²)
    // (n = 20 at 20,000 evaluations: 40 s, cross-fitted 5.5 s, estimate() 0.8 s). The final result
    // (the run stopped) is still fitted on every pair.
    const table = mixedTable(12, 7);
    const fits = vi.spyOn(CoalitionTree, 'fit');
    try {
      const counts: Record<string, number> = {};
      const finals: Record<string, readonly number[]> = {};
      for (const fit of ['in-sample', 'cross-fitted'] as const) {
        fits.mockClear();
        const run = new TreeMsrEstimator({ fit, roundSamples: 1 }).start(tableGame(table, `fits-${fit}`), { budget: 600, seed: 3 });
        let last;
        for await (const s of run.snapshots()) last = s;
        counts[fit] = fits.mock.calls.length;
        finals[fit] = last!.values;
        expect(run.samples).toBeGreaterThan(200); // 600 − 2 − the border strata (sizes 1, 2, 10, 11: 156)
      }
      // one all-pairs tree per 10% growth (≈ log(pairs)/log(1.1) ≈ 60 here), not one per round (≈ 280)
      expect(counts['in-sample']! - counts['cross-fitted']!).toBeLessThanOrEqual(100);
      // the last snapshot is the all-pairs fit, as estimate() reports it
      const direct = await new TreeMsrEstimator({ fit: 'in-sample' }).estimate(tableGame(table, 'fits-direct'), { budget: 600, seed: 3 });
      finals['in-sample']!.forEach((v, i) => expect(v).toBeCloseTo(direct.values[i]!, 9));
    } finally {
      fits.mockRestore();
    }
  });

  it('reports a failing game as partial with the error, and refuses bad options', async () => {
    await expectPartialOnFailingJudge(() => new TreeMsrEstimator(), 5, 30);
    expect(() => new TreeMsrEstimator({ folds: 1 })).toThrow(/folds must be an integer ≥ 2/);
    expect(() => new TreeMsrEstimator({ maxDepth: -1 })).toThrow(/maxDepth/);
    expect(() => new TreeMsrEstimator({ fit: 'in-fold' as never })).toThrow(/fit must be one of in-sample, cross-fitted, got in-fold/);
  });

  it('credit.treeMsrFit chooses the point creditEpisode reports: each fit gives what TreeMsrEstimator({ fit }) gives with the episode seed', async () => {
    const costs = [0.12, 0.4, 0.07, 0.33, 0.8, 0.21, 0.55, 0.03, 0.68, 0.47]; // v(N) = 0.8 = R: the anchor changes nothing
    const steps = costs.map((_, i) => step({ id: i + 1, agent: `a${i}` }));
    const airport = (id: string, players: readonly string[]): Game => ({ id, players, value: (c) => costs.reduce((m, x, i) => (c[i] ? Math.max(m, x) : m), 0) });
    let differ = 0;
    for (const id of ['1', '3']) {
      const episodeId = id.repeat(32);
      const values: Record<string, number[]> = {};
      for (const fit of ['in-sample', 'cross-fitted'] as const) {
        const out = await creditEpisode(
          { ...episode(steps, 0.8), episodeId },
          { estimator: 'tree-msr', treeMsrFit: fit, budget: 100, gameFactory: ((_: unknown, ctx: { agentIds: readonly string[] }) => ({ kind: 'module', agentGame: airport('job', ctx.agentIds) })) as never },
        );
        const direct = await new TreeMsrEstimator({ fit }).estimate(airport(`direct-${fit}-${id}`, out.agents.map((a) => a.agentId)), { budget: 100, seed: episodeSeed(1, episodeId), targetHalfWidth: 0.02 });
        expect(out.estimator.name).toBe(fit === 'cross-fitted' ? 'tree-msr-cross-fitted' : 'tree-msr'); // events say which fit: one is biased
        values[fit] = out.agents.map((a) => a.credit);
        values[fit]!.forEach((v, i) => expect(v).toBeCloseTo(direct.values[i]!, 12));
      }
      if (values['in-sample']!.some((v, i) => Math.abs(v - values['cross-fitted']![i]!) > 1e-9)) differ++;
    }
    expect(differ).toBeGreaterThan(0);
    expect(() => CreditOptionsSchema.parse({ treeMsrFit: 'in-fold' })).toThrow(/treeMsrFit/);
  });

  it('is selectable as credit.estimator tree-msr', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 0.9), { estimator: 'tree-msr', budget: 200, seed: 3 });
    expect(out.estimate.estimator).toBe('tree-msr');
  });
});
