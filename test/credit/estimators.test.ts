import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  BudgetExhaustedError,
  CachedGame,
  coalitionKey,
  EstimationAbortedError,
  estimateShapley,
  GameEvaluationError,
  exactShapley,
  KernelEstimator,
  leaveOneOut,
  PermutationEstimator,
  RegressionAdjustedEstimator,
  SvarmEstimator,
  TreeMsrEstimator,
  UnbiasedKernelEstimator,
  type Game,
  type ShapleyEstimate,
  type ShapleyEstimator,
} from '../../src/credit/index.js';
import { intervalCoverage, mixedTable, tableGame, votingTable } from './helpers.js';

const VOTING = votingTable([4, 3, 3, 2, 2, 1, 1, 1, 5, 2, 1], 13);
const MIXED = mixedTable(10, 7);

function rmse(est: ShapleyEstimate, exact: readonly number[]): number {
  return Math.sqrt(est.values.reduce((a, v, i) => a + (v - exact[i]!) ** 2, 0) / exact.length);
}

async function meanSquaredError(estimator: ShapleyEstimator, table: number[], budget: number, seeds: number): Promise<number> {
  const exact = (await exactShapley(tableGame(table))).values;
  let total = 0;
  for (let seed = 1; seed <= seeds; seed++) total += rmse(await estimator.estimate(tableGame(table, `s${seed}`), { budget, seed }), exact) ** 2;
  return total / seeds;
}

describe.each([
  ['permutation', () => new PermutationEstimator()],
  ['kernel', () => new KernelEstimator()],
  ['svarm', () => new SvarmEstimator()],
])('%s estimator', (_name, make) => {
  it('error versus exact shrinks as the budget grows', async () => {
    const errs = [];
    for (const budget of [250, 1000, 4000]) errs.push(await meanSquaredError(make(), VOTING, budget, 8));
    expect(errs[1]!).toBeLessThan(errs[0]!);
    expect(errs[2]!).toBeLessThan(errs[1]!);
  });

  it('nominal 95% intervals cover the exact value in ≥ 90% of seeded runs', async () => {
    for (const table of [VOTING, mixedTable(9, 11)]) expect(await intervalCoverage(make, table, 1500, 25, (est) => expect(est.confidence).toBe(0.95))).toBeGreaterThanOrEqual(0.9);
  });

  it('is efficient to rounding for every budget', async () => {
    for (const budget of [60, 300, 2000]) {
      const est = await make().estimate(tableGame(MIXED), { budget, seed: 3 });
      const sum = est.values.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (MIXED[MIXED.length - 1]! - MIXED[0]!))).toBeLessThan(1e-9);
    }
  });

  it('stops at the target half-width before the budget', async () => {
    const est = await make().estimate(tableGame(MIXED), { budget: 100_000, targetHalfWidth: 0.05, seed: 5 });
    expect(est.status).toBe('approximate');
    for (const iv of est.intervals) expect((iv.high - iv.low) / 2).toBeLessThanOrEqual(0.05);
    expect(est.evaluations).toBeLessThan(100_000);
  });

  it('continues an anytime run with more budget and streams snapshots', async () => {
    const est = make();
    const run = est.start(tableGame(VOTING), { seed: 9, budget: 600 });
    const snaps: ShapleyEstimate[] = [];
    for await (const s of run.snapshots()) snaps.push(s);
    expect(snaps.length).toBeGreaterThan(1);
    const first = snaps[snaps.length - 1]!;
    expect(first.evaluations).toBeLessThanOrEqual(600);
    const more = await run.continue(2000);
    expect(more.evaluations).toBeGreaterThan(first.evaluations);
    expect(more.evaluations).toBeLessThanOrEqual(2600);
    const exact = (await exactShapley(tableGame(VOTING))).values;
    expect(rmse(more, exact)).toBeLessThan(0.05);
  });

  it('continue(0) before any sampling: partial, saying the budget allowed nothing (not that evaluations failed), and the run goes on', async () => {
    const run = make().start(tableGame(VOTING), { seed: 9 });
    const none = await run.continue(0);
    expect(none.status).toBe('partial');
    expect(none.evaluations).toBe(0);
    expect(none.note).toMatch(/^v\(N\) and v\(∅\) not evaluated yet: the budget allowed fewer than the 2 evaluations/);
    const more = await run.continue(400);
    expect(more.evaluations).toBeGreaterThan(2);
    expect(more.note ?? '').not.toMatch(/not evaluated yet/);
  });

  it('returns a partial, finite result when the game throws', async () => {
    let calls = 0;
    const base = tableGame(MIXED);
    const failing: Game = { ...base, id: 'failing', value: (c) => (++calls > 40 ? Promise.reject(new Error('judge down')) : base.value(c)) };
    const est = await make().estimate(failing, { budget: 1000, seed: 1 });
    expect(est.status).toBe('partial');
    expect(est.note).toMatch(/judge down/);
    for (const v of est.values) expect(Number.isFinite(v)).toBe(true);
    for (const iv of est.intervals) expect(Number.isFinite(iv.low) && Number.isFinite(iv.high)).toBe(true);
  });

  it('returns partial when a slow game is aborted', async () => {
    const base = tableGame(VOTING);
    const slow: Game = { ...base, id: 'slow', value: (c) => new Promise((r) => setTimeout(() => r(base.value(c) as number), 5).unref()) };
    const est = await make().estimate(slow, { budget: 100_000, targetHalfWidth: 1e-6, seed: 1, signal: AbortSignal.timeout(150) });
    expect(est.status).toBe('partial');
    expect(est.note).toMatch(/abort/i);
  });
});

describe('variance reduction', () => {
  it('antithetic + stratified permutations beat plain permutation sampling at equal budget', async () => {
    // budgets below 2^n: a run that sees every coalition is exact whatever its sampling
    for (const [table, budget] of [[VOTING, 800], [MIXED, 800], [mixedTable(8, 21), 250]] as const) {
      const improved = await meanSquaredError(new PermutationEstimator(), table, budget, 16);
      const plain = await meanSquaredError(new PermutationEstimator({ antithetic: false, stratified: false }), table, budget, 16);
      expect(improved).toBeLessThan(plain);
    }
  });
});

describe('estimateShapley', () => {
  it('uses exact enumeration up to maxExactPlayers and sampling above', async () => {
    const exact = await estimateShapley(tableGame(MIXED));
    expect(exact.estimator).toBe('exact');
    expect(exact.status).toBe('exact');
    const approx = await estimateShapley(tableGame(MIXED), { maxExactPlayers: 8, budget: 2000, seed: 1 });
    expect(approx.estimator).toBe('svarm');
    const permutation = await estimateShapley(tableGame(MIXED), { maxExactPlayers: 8, approximate: 'permutation', budget: 2000, seed: 1 });
    expect(permutation.estimator).toBe('permutation');
    const kernel = await estimateShapley(tableGame(MIXED), { maxExactPlayers: 8, approximate: 'kernel', budget: 2000, seed: 1 });
    expect(kernel.estimator).toBe('kernel');
  });

  it('uses the closed form when the game offers one', async () => {
    const base = tableGame(MIXED);
    const exact = await exactShapley(base);
    const game: Game = { ...base, id: 'cf', closedForm: () => exact.values };
    const est = await estimateShapley(game);
    expect(est.estimator).toBe('closed-form');
    expect(est.evaluations).toBe(2);
  });

  it('keeps antithetic pairs but drops stratification when the budget cannot pay for two blocks', async () => {
    const table = mixedTable(12, 3); // 2·12·11 = 264 > 200
    const est = await estimateShapley(tableGame(table), { budget: 200, seed: 2, approximate: 'permutation' });
    expect(est.estimator).toBe('permutation+antithetic');
    expect(est.status).toBe('approximate');
  });

  it('chooses sampling when 2^n exceeds the budget: SVARM from 4n evaluations, permutation below', async () => {
    const est = await estimateShapley(tableGame(MIXED), { budget: 500, seed: 2 });
    expect(est.estimator).toBe('svarm');
    expect(est.evaluations).toBeLessThanOrEqual(500);
    const small = await estimateShapley(tableGame(MIXED), { budget: 39, seed: 2 }); // n = 10: under 4n
    expect(small.estimator).toMatch(/^permutation/);
    expect(small.evaluations).toBeLessThanOrEqual(39);
  });
});

describe('CachedGame', () => {
  it('evaluates each coalition once, counts hits and enforces the budget', async () => {
    let calls = 0;
    const base = tableGame([0, 1, 2, 3, 4, 5, 6, 7]);
    const cg = new CachedGame({ ...base, value: (c) => (calls++, base.value(c)) }, { budget: 3 });
    const c1 = Uint8Array.from([1, 0, 0]);
    expect(await cg.value(c1)).toBe(1);
    expect(await cg.value(c1)).toBe(1);
    expect(cg.evaluations).toBe(1);
    expect(cg.hits).toBe(1);
    await expect(cg.valueMany([Uint8Array.from([0, 1, 0]), Uint8Array.from([0, 0, 1]), Uint8Array.from([1, 1, 1])])).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(calls).toBe(3);
    expect(cg.peek(Uint8Array.from([0, 1, 0]))).toBe(2);
    cg.addBudget(1);
    expect(await cg.value(Uint8Array.from([1, 1, 1]))).toBe(7);
  });

  it('refuses a coalition of another length instead of caching it under this game (review: a 3-entry mask on a 4-player game was answered, and stored as ∅)', async () => {
    let calls = 0;
    const base = tableGame([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const cg = new CachedGame({ ...base, value: (c) => (calls++, base.value(c)) });
    expect(() => cg.value(new Uint8Array(3))).toThrow(/has 4 players, the coalition has 3 entries: a coalition is a 0\/1 Uint8Array with one entry per player/);
    expect(() => cg.value(new Uint8Array(5))).toThrow(RangeError);
    // peek() too: it skipped the check, and an entry past the end was named "player undefined"
    expect(() => cg.peek(Uint8Array.from([0, 0, 0, 0, 2]))).toThrow(/has \d+ players, the coalition has 5 entries/);
    expect(calls).toBe(0);
    expect(cg.evaluations).toBe(0);
    expect(cg.cachedCount).toBe(0);
  });

  it('coalitionKey (public) reads a non-zero entry as a member, as it always did; binary coalitions key as CachedGame keys them', () => {
    expect(coalitionKey(Uint8Array.from([1, 0, 1, 1, 0]))).toBe('0d');
    expect(coalitionKey(Uint8Array.from([2, 0, 255, 1, 0]))).toBe('0d');
    expect(coalitionKey(Uint8Array.from([0, 0, 0, 0, 1]))).toBe('10');
    expect(coalitionKey(new Uint8Array(0))).toBe('0');
  });

  it('refuses a coalition entry other than 0/1, naming the entry and its player (it was cached as 1 while a game reading `=== 1` evaluated it as 0: every later {a} got v(∅))', async () => {
    let calls = 0;
    // as a module game reads a coalition: members are the entries === 1
    const strict: Game = { id: 'strict', players: ['a', 'b', 'c'], value: (c) => (calls++, ['a', 'b', 'c'].reduce((v, _, i) => v + (c[i] === 1 ? 2 ** i : 0), 10)) };
    const cg = new CachedGame(strict);
    expect(() => cg.value(Uint8Array.from([2, 0, 0]))).toThrow(/^game strict: coalition entry 0 \(player "a"\) is 2: a coalition is a 0\/1 Uint8Array with one entry per player/);
    expect(() => cg.value(Uint8Array.from([1, 0, 255]))).toThrow(RangeError);
    expect(() => cg.peek(Uint8Array.from([0, 3, 0]))).toThrow(/coalition entry 1 \(player "b"\) is 3/);
    await expect(cg.valueMany([Uint8Array.from([1, 0, 0]), Uint8Array.from([0, 0, 7])])).rejects.toThrow(/coalition entry 2 \(player "c"\) is 7/);
    expect(cg.evaluations).toBe(1);
    expect(cg.value(Uint8Array.from([1, 0, 0]))).toBe(11);
    expect(cg.value(Uint8Array.from([0, 0, 0]))).toBe(10);
    expect(calls).toBe(2);
  });

  it('refuses a game that names one player twice, naming the player (results are keyed by name: creditEpisode kept one of the two credits, a module game saw both coalitions as one)', async () => {
    let calls = 0;
    const twice: Game = { id: 'dup', players: ['planner', 'coder', 'planner'], value: (c) => (calls++, c[0]! + 2 * c[1]! + 4 * c[2]!) };
    const message = /^game dup: player "planner" appears twice in players \(indices 0 and 2\); results are keyed by player name, so give every player a distinct name/;
    expect(() => new CachedGame(twice)).toThrow(message);
    expect(() => new CachedGame(twice)).toThrow(RangeError);
    await expect(estimateShapley(twice)).rejects.toThrow(message);
    await expect(exactShapley(twice)).rejects.toThrow(message);
    await expect(leaveOneOut(twice)).rejects.toThrow(message);
    for (const E of [PermutationEstimator, KernelEstimator, UnbiasedKernelEstimator, RegressionAdjustedEstimator, TreeMsrEstimator, SvarmEstimator]) {
      await expect(new E().estimate(twice, { budget: 20, seed: 1 }), E.name).rejects.toThrow(message);
    }
    expect(calls).toBe(0);
    // distinct names, however alike, are fine
    expect((await estimateShapley({ ...twice, players: ['planner', 'coder', 'planner#2'] })).values).toEqual([1, 2, 4]);
  });

  it('names the first two places of a repeated player among few players (compared one by one) and among many (a Map)', () => {
    const value = () => 0;
    for (const n of [5, 16, 17, 40]) {
      const players = Array.from({ length: n }, (_, i) => `p${i}`);
      players[n - 1] = 'p2'; // p2 again, last
      players[n - 2] = 'p2'; // and before that: the first repeat found is at n − 2
      expect(() => new CachedGame({ id: 'g', players, value }), `${n} players`).toThrow(`game g: player "p2" appears twice in players (indices 2 and ${n - 2})`);
      expect(() => new CachedGame({ id: 'g', players: players.map((p, i) => `${p}#${i}`), value })).not.toThrow();
    }
  });

  it('a value function returning something other than a number fails as a game error that says what it returned', async () => {
    const players = ['a', 'b', 'c'];
    const str = new CachedGame({ id: 's', players, value: () => '1' as unknown as number });
    expect(() => str.value(new Uint8Array(3))).toThrow(/game s failed on coalition s:0: value is a string \("1"\), expected a finite number/);
    // JSON.stringify throws on these: the error was a TypeError ('Do not know how to serialize a BigInt'), not a game error
    const big = new CachedGame({ id: 'b', players, value: () => 1n as unknown as number });
    expect(() => big.value(new Uint8Array(3))).toThrow(/game b failed on coalition b:0: value is a bigint \(1n\), expected a finite number/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cyc = new CachedGame({ id: 'c', players, value: async () => cyclic as unknown as number });
    await expect(cyc.value(new Uint8Array(3))).rejects.toThrow(/value is an object \(\[object Object\]\), expected a finite number/);
    const undef = new CachedGame({ id: 'u', players, value: () => undefined as unknown as number });
    expect(() => undef.value(new Uint8Array(3))).toThrow(GameEvaluationError);
    // and through an estimator: a partial result whose note names it (was `TypeError: out.finally is not a function`)
    const r = await estimateShapley({ id: 'u', players, value: () => undefined as unknown as number });
    expect(r.status).toBe('partial');
    expect(r.note).toMatch(/GameEvaluationError: .*value is undefined, expected a finite number/);
    // a thenable that is not a Promise still works
    const thenable = new CachedGame({ id: 't', players, value: (c) => ({ then: (ok: (v: number) => void) => ok(c[0]!) }) as unknown as Promise<number> });
    expect(await thenable.value(Uint8Array.from([1, 0, 0]))).toBe(1);
  });

  it('limits the concurrency of an async game', async () => {
    let active = 0;
    let peak = 0;
    const base = tableGame(MIXED);
    const slow: Game = {
      ...base,
      value: async (c) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 1));
        active--;
        return base.value(c) as number;
      },
    };
    const cg = new CachedGame(slow, { concurrency: 3 });
    const coalitions = Array.from({ length: 40 }, (_, m) => Uint8Array.from({ length: 10 }, (_, i) => (m >> i) & 1));
    const vals = await cg.valueMany(coalitions);
    // at the limit, not under it: evaluated one at a time, a slow judge's calls added up
    expect(peak).toBe(3);
    expect(vals[5]).toBe(MIXED[5]);
  });

  it('puts one abort listener on the signal however many evaluations wait (a listener each set off MaxListenersExceededWarning), and still aborts them all', async () => {
    const base = tableGame(MIXED);
    const controller = new AbortController();
    let peakListeners = 0;
    const slow: Game = {
      ...base,
      value: async (c) => {
        peakListeners = Math.max(peakListeners, getEventListeners(controller.signal, 'abort').length);
        await new Promise((r) => setTimeout(r, 1));
        return base.value(c) as number;
      },
    };
    const cg = new CachedGame(slow, { concurrency: 2, signal: controller.signal });
    const coalitions = Array.from({ length: 40 }, (_, m) => Uint8Array.from({ length: 10 }, (_, i) => (m >> i) & 1));
    const vals = await cg.valueMany(coalitions);
    expect(vals[5]).toBe(MIXED[5]);
    expect(peakListeners).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // An abort still rejects every waiting evaluation.
    const hang: Game = { ...base, id: 'hang', value: () => new Promise<number>(() => {}) };
    const cg2 = new CachedGame(hang, { concurrency: 2, signal: controller.signal });
    const all = cg2.valueMany(coalitions.slice(0, 12));
    controller.abort(new Error('timeout'));
    await expect(all).rejects.toBeInstanceOf(EstimationAbortedError);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects non-finite values with a GameEvaluationError', async () => {
    const cg = new CachedGame({ id: 'nan', players: ['a'], value: () => Number.NaN });
    expect(() => cg.value(Uint8Array.from([1]))).toThrow(/finite/);
  });
});

describe('leaveOneOut', () => {
  it('is v(N) − v(N∖{i})', async () => {
    const loo = await leaveOneOut(tableGame([0, 1, 2, 5]));
    expect(loo.values).toEqual([3, 4]);
    expect(loo.evaluations).toBe(3);
  });
});

describe('tiny games', () => {
  it.each([0, 1, 2, 3])('every estimator handles %i players exactly enough', async (n) => {
    const table = Array.from({ length: 2 ** n }, (_, m) => m * 0.25 + (m === 2 ** n - 1 ? 1 : 0));
    const exact = await exactShapley(tableGame(table));
    for (const est of [new PermutationEstimator(), new PermutationEstimator({ antithetic: false, stratified: false }), new KernelEstimator(), new SvarmEstimator()]) {
      const r = await est.estimate(tableGame(table, `tiny-${est.name}`), { budget: 400, seed: 4 });
      expect(r.values).toHaveLength(n);
      r.values.forEach((v, i) => expect(Math.abs(v - exact.values[i]!)).toBeLessThan(n <= 1 ? 1e-9 : 0.2));
      for (const iv of r.intervals) expect(Number.isFinite(iv.low) && Number.isFinite(iv.high)).toBe(true);
    }
  });
});

describe('a game of no players', () => {
  it('every sampler reports it exact, as estimateShapley and SVARM do (review: permutation said "interval not estimated: 0 sample block(s), need 2", kernel "no coalition pair evaluated")', async () => {
    const none: Game = { id: 'none', players: [], value: () => 0.5 };
    expect((await estimateShapley(none)).status).toBe('exact');
    for (const est of [new PermutationEstimator(), new KernelEstimator(), new UnbiasedKernelEstimator(), new RegressionAdjustedEstimator(), new TreeMsrEstimator(), new SvarmEstimator()]) {
      const r = await est.estimate({ ...none, id: `none-${est.name}` }, { budget: 10 });
      expect({ estimator: r.estimator, status: r.status, values: r.values, note: r.note }).toEqual({ estimator: r.estimator, status: 'exact', values: [], note: undefined });
    }
  });
});

describe('kernel on a game whose every coalition it evaluated', () => {
  // credit-audit pass: on a 2-player fixture game the ridge of the solve left the estimate 3e-11
  // off and its ±1.8e-12 interval (rounding alone) missed the exact value
  it('its intervals cover the exact values (the solve’s own bias included)', async () => {
    const table = [0, 0.2, 0.6, 1]; // v(∅), v({a}), v({b}), v({a,b})
    const exact = (await exactShapley(tableGame(table))).values;
    for (let seed = 1; seed <= 30; seed++) {
      const est = await new KernelEstimator().estimate(tableGame(table, `k${seed}`), { budget: 40, seed });
      est.intervals.forEach((iv, i) => {
        expect(iv.low).toBeLessThanOrEqual(exact[i]!);
        expect(iv.high).toBeGreaterThanOrEqual(exact[i]!);
      });
    }
  });
});
