/** Test games and oracles for the credit tests. */
import { expect } from 'vitest';
import { exactShapley, KernelEstimator, PermutationEstimator, RegressionAdjustedEstimator, SvarmEstimator, TreeMsrEstimator, UnbiasedKernelEstimator } from '../../src/credit/index.js';
import type { AnytimeRun, Game, ShapleyEstimate, ShapleyEstimator } from '../../src/credit/types.js';

/** Every sampled estimator, by the name the events give it, each made fresh (the tests that hold all of them to one property). */
export const SAMPLERS: readonly (readonly [string, () => ShapleyEstimator])[] = [
  ['permutation', () => new PermutationEstimator()],
  ['svarm', () => new SvarmEstimator()],
  ['regression-adjusted', () => new RegressionAdjustedEstimator()],
  ['kernel', () => new KernelEstimator()],
  ['unbiased-kernel', () => new UnbiasedKernelEstimator()],
  ['tree-msr', () => new TreeMsrEstimator()],
];

/** A game given by its full value table (index = bitmask, player 0 = lowest bit). */
export function tableGame(values: readonly number[], id = 'table'): Game {
  const n = Math.round(Math.log2(values.length));
  return {
    id,
    players: Array.from({ length: n }, (_, i) => `p${i}`),
    value: (c) => {
      let m = 0;
      for (let i = 0; i < n; i++) if (c[i]) m |= 1 << i;
      return values[m]!;
    },
  };
}

/** Brute-force Shapley from the permutation definition (average over all n! orders). */
export function shapleyByPermutations(values: readonly number[]): number[] {
  const n = Math.round(Math.log2(values.length));
  const phi = new Array<number>(n).fill(0);
  let count = 0;
  const perm: number[] = [];
  const used = new Array<boolean>(n).fill(false);
  const rec = () => {
    if (perm.length === n) {
      count++;
      let m = 0;
      for (const p of perm) {
        phi[p] = phi[p]! + values[m | (1 << p)]! - values[m]!;
        m |= 1 << p;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      used[i] = true;
      perm.push(i);
      rec();
      perm.pop();
      used[i] = false;
    }
  };
  rec();
  return phi.map((x) => x / count);
}

function factorial(k: number): number {
  let f = 1;
  for (let i = 2; i <= k; i++) f *= i;
  return f;
}

/** Brute-force Shapley from the subset formula with factorials (independent of the code's weights). */
export function shapleyBySubsets(values: readonly number[]): number[] {
  const n = Math.round(Math.log2(values.length));
  const phi = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < values.length; m++) {
      if (m & (1 << i)) continue;
      let s = 0;
      for (let k = 0; k < n; k++) if (m & (1 << k)) s++;
      phi[i] = phi[i]! + (factorial(s) * factorial(n - s - 1)) / factorial(n) * (values[m | (1 << i)]! - values[m]!);
    }
  }
  return phi;
}

/** Weighted voting game: v(S) = 1 when Σ_{i∈S} w_i ≥ quota. */
export function votingTable(weights: readonly number[], quota: number): number[] {
  const n = weights.length;
  return Array.from({ length: 2 ** n }, (_, m) => {
    let s = 0;
    for (let i = 0; i < n; i++) if (m & (1 << i)) s += weights[i]!;
    return s >= quota ? 1 : 0;
  });
}

/** Additive part + pairwise synergies + a size-dependent term: a typical "smooth" game. */
export function mixedTable(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const w = Array.from({ length: n }, () => rnd() * 2 - 0.5);
  const pair = Array.from({ length: n }, () => Array.from({ length: n }, () => (rnd() - 0.5) * 0.6));
  return Array.from({ length: 2 ** n }, (_, m) => {
    let v = 0;
    let size = 0;
    for (let i = 0; i < n; i++) {
      if (!(m & (1 << i))) continue;
      size++;
      v += w[i]!;
      for (let j = i + 1; j < n; j++) if (m & (1 << j)) v += pair[i]![j]!;
    }
    return v + Math.sqrt(size) * 0.8;
  });
}

/** Each player's estimates over `runs` seeded runs at `budget` (a fresh game id per seed, so no shared cache). */
export async function estimatesOverSeeds(make: () => ShapleyEstimator, table: readonly number[], budget: number, runs: number): Promise<number[][]> {
  const values: number[][] = [];
  for (let seed = 1; seed <= runs; seed++) {
    const est = await make().estimate(tableGame(table, `u${seed}`), { budget, seed });
    est.values.forEach((v, i) => (values[i] ??= []).push(v));
  }
  return values;
}

/**
 * Unbiasedness check: over `runs` seeds at `budget`, the mean estimate of every player is within
 * 4 standard errors of the exact value, the standard error of each player's mean taken from the
 * spread of that player's estimates over the runs. (It was the estimator's own widest half-width
 * over every player and seed: 10–20× the observed standard error, so a bias of a tenth of the
 * credits passed.)
 */
export async function expectMeanNearExact(make: () => ShapleyEstimator, table: readonly number[], budget: number, runs = 60): Promise<void> {
  const exact = (await exactShapley(tableGame(table))).values;
  const values = await estimatesOverSeeds(make, table, budget, runs);
  values.forEach((xs, i) => {
    const mean = xs.reduce((a, b) => a + b, 0) / runs;
    const se = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (runs - 1) / runs);
    // a player every run gets exactly has no spread: its mean is the exact value, to rounding
    expect(Math.abs(mean - exact[i]!), `player ${i}: mean ${mean} over ${runs} runs, exact ${exact[i]}, standard error ${se}`).toBeLessThanOrEqual(4 * se + 1e-9);
  });
}

/**
 * Share of (seed, player) intervals that hold the exact value: `seeds` seeded runs of a fresh
 * estimator on the table's game (a fresh game id per seed, so no shared cache); `check` sees each estimate.
 */
export async function intervalCoverage(make: () => ShapleyEstimator, table: readonly number[], budget: number, seeds = 25, check?: (est: ShapleyEstimate) => void): Promise<number> {
  const exact = (await exactShapley(tableGame(table))).values;
  let covered = 0;
  let total = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const est = await make().estimate(tableGame(table, `c${seed}`), { budget, seed });
    check?.(est);
    est.intervals.forEach((iv, i) => {
      total++;
      if (iv.low <= exact[i]! && exact[i]! <= iv.high) covered++;
    });
  }
  return covered / total;
}

/**
 * A judge that goes down: an additive game of `players` players (v(S) = |S|) whose value function
 * throws after `calls` evaluations. An estimator must report `partial` with the error, its
 * credits still summing to v(N) − v(∅) = `players`.
 */
export function judgeGoingDown(players: number, calls: number): Game {
  let made = 0;
  return {
    id: 'failing',
    players: Array.from({ length: players }, (_, i) => String.fromCharCode(97 + i)),
    value: (c) => {
      if (++made > calls) throw new Error('judge down');
      return c.reduce((a, x) => a + x, 0);
    },
  };
}

/** `estimate` of a judge going down after `calls` (see `judgeGoingDown`): partial, the error in the note, efficient. */
export async function expectPartialOnFailingJudge(make: () => ShapleyEstimator, players: number, calls: number): Promise<void> {
  const bad = await make().estimate(judgeGoingDown(players, calls), { budget: 100, seed: 1 });
  expect(bad.status).toBe('partial');
  expect(bad.note).toMatch(/judge down/);
  expect(Math.abs(bad.values.reduce((a, b) => a + b, 0) - players)).toBeLessThan(1e-12);
}

/** Mean squared error per player of one estimate. */
export function squaredError(est: ShapleyEstimate, exact: readonly number[]): number {
  return est.values.reduce((a, v, i) => a + (v - exact[i]!) ** 2, 0) / exact.length;
}

/** Mean over seeds of the per-player mean squared error; a fresh game (id) per seed, so no shared cache. */
export async function mse(make: () => ShapleyEstimator, game: (seed: number) => Game, exact: readonly number[], budget: number, seeds: number): Promise<number> {
  let total = 0;
  for (let seed = 1; seed <= seeds; seed++) total += squaredError(await make().estimate(game(seed), { budget, seed }), exact);
  return total / seeds;
}

/**
 * The anytime contract of a sampling run started with `budget`: snapshots come in rounds that each
 * spend more evaluations (the last may only find the budget spent) within the budget, and
 * `continue(budget)` takes more samples and leaves `current()` at its result.
 */
export async function expectAnytimeRun(run: AnytimeRun & { readonly samples: number }, budget: number): Promise<void> {
  const evals: number[] = [];
  for await (const snap of run.snapshots()) evals.push(snap.evaluations);
  expect(evals.length).toBeGreaterThan(2);
  for (let k = 1; k < evals.length - 1; k++) expect(evals[k]!).toBeGreaterThan(evals[k - 1]!);
  expect(evals.at(-1)!).toBeGreaterThanOrEqual(evals.at(-2)!);
  expect(evals.at(-1)!).toBeLessThanOrEqual(budget);
  const before = run.samples;
  const more = await run.continue(budget);
  expect(run.samples).toBeGreaterThan(before);
  expect(more.evaluations).toBeLessThanOrEqual(2 * budget);
  expect(run.current().values).toEqual(more.values);
}
