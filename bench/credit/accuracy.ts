/**
 * Section 1: Shapley accuracy per value-function evaluation. Our estimators (src/credit) and
 * shapiq's approximators play the same JSON games at the same budgets and seeds; both are scored
 * by mean squared error and max absolute error against the exact values (bench/games/exact.ts).
 * Pure orchestration; the Python side is behind `baseline.ts`.
 */
import type { Game } from '../../src/credit/types.js';
import { valueOf } from '../games/evaluate.js';
import { exactShapley } from '../games/exact.js';
import { GAME_GENERATORS } from '../games/generate.js';
import type { GameSpec } from '../games/spec.js';
import { createRng, type Rng } from '../lib/rng.js';
import { geomean, maxAbsError, mean, mse } from '../lib/stats.js';
import type { ShapiqOutput } from './baseline.js';
import type { OurEstimator } from './our-estimators.js';

export interface AccuracyConfig {
  sizes: readonly number[];
  families: readonly (keyof typeof GAME_GENERATORS)[];
  /** Game instances per (family, n). */
  instances: number;
  /** Seeds per (game, estimator, budget). */
  reps: number;
  /** Budgets as multiples of n (evaluations = multiple · n). */
  budgetMultiples: readonly number[];
  seed: number;
}

export interface BenchGame {
  spec: GameSpec;
  exact: number[];
  exactMethod: string;
  /** Σ φ_i² / n: scale for relative MSE, so families of different scale can be averaged. */
  scale: number;
  budgets: number[];
}

export interface AccuracyRun {
  game: string;
  family: string;
  n: number;
  side: 'ours' | 'shapiq';
  estimator: string;
  budget: number;
  seed: number;
  /** Evaluations actually made (value-function calls counted by the harness). */
  evaluations: number;
  mse?: number;
  relMse?: number;
  maxError?: number;
  seconds: number;
  error?: string;
}

export function buildGames(config: AccuracyConfig, extra: readonly GameSpec[] = []): BenchGame[] {
  const rng: Rng = createRng(config.seed).fork('credit-accuracy-games');
  const specs: GameSpec[] = [];
  for (const n of config.sizes) {
    for (const family of config.families) {
      for (let i = 0; i < config.instances; i++) {
        const id = `${family.replace(/ /g, '-')}-n${n}-i${i}`;
        specs.push(GAME_GENERATORS[family](n, rng.fork(id), id));
      }
    }
  }
  specs.push(...extra);
  return specs.map((spec) => {
    const { values, method } = exactShapley(spec);
    const scale = values.reduce((s, x) => s + x * x, 0) / spec.n;
    const budgets = config.budgetMultiples.map((m) => m * spec.n).filter((b) => b < 2 ** spec.n);
    return { spec, exact: values, exactMethod: method, scale, budgets };
  });
}

/** Seeds used for repetition r: the same for both sides. */
export function repSeeds(config: AccuracyConfig): number[] {
  const rng = createRng(config.seed).fork('credit-accuracy-seeds');
  return Array.from({ length: config.reps }, () => rng.int(1, 2 ** 31 - 2));
}

function score(game: BenchGame, values: readonly number[]) {
  const m = mse(values, game.exact);
  return { mse: m, relMse: game.scale > 0 ? m / game.scale : Number.NaN, maxError: maxAbsError(values, game.exact) };
}

/**
 * Runs each of our estimators on each game, budget and seed. The seeds of one (game, budget,
 * estimator) run concurrently: the estimators are async (they yield between rounds), and section 1
 * reports errors and evaluation counts, not wall time.
 */
export async function runOurs(games: readonly BenchGame[], estimators: readonly OurEstimator[], seeds: readonly number[]): Promise<AccuracyRun[]> {
  const runs: AccuracyRun[] = [];
  for (const g of games) {
    const v = valueOf(g.spec);
    const players = Array.from({ length: g.spec.n }, (_, i) => `p${i}`);
    for (const budget of g.budgets) {
      for (const est of estimators) {
        const batch = await Promise.all(
          seeds.map(async (seed): Promise<AccuracyRun> => {
            let calls = 0;
            const game: Game = {
              id: `${g.spec.id}/${est.name}/${budget}/${seed}`,
              players,
              value: (c) => {
                calls++;
                return v(c);
              },
            };
            const base = { game: g.spec.id, family: g.spec.family, n: g.spec.n, side: 'ours' as const, estimator: est.name, budget, seed };
            const t0 = performance.now();
            try {
              const r = await est.estimate(game, { budget, seed });
              return { ...base, evaluations: calls, seconds: (performance.now() - t0) / 1000, ...score(g, r.values) };
            } catch (err) {
              return { ...base, evaluations: calls, seconds: (performance.now() - t0) / 1000, error: (err as Error).message };
            }
          }),
        );
        runs.push(...batch);
      }
    }
  }
  return runs;
}

/** Turns the shapiq runner's rows into scored runs. */
export function scoreShapiq(games: readonly BenchGame[], output: ShapiqOutput): AccuracyRun[] {
  const byId = new Map(games.map((g) => [g.spec.id, g]));
  return output.results.map((r) => {
    const g = byId.get(r.game);
    if (!g) throw new Error(`shapiq output names unknown game ${r.game}`);
    const base = { game: r.game, family: g.spec.family, n: g.spec.n, side: 'shapiq' as const, estimator: r.approximator, budget: r.budget, seed: r.seed, evaluations: r.evaluations, seconds: r.seconds };
    if (r.error !== undefined || !r.values) return { ...base, error: r.error ?? 'no values' };
    if (r.values.length !== g.spec.n || r.values.some((x) => !Number.isFinite(x))) return { ...base, error: 'non-finite or wrong-length values' };
    return { ...base, ...score(g, r.values) };
  });
}

export interface CellSummary {
  estimator: string;
  side: 'ours' | 'shapiq';
  meanMse: number;
  meanRelMse: number;
  meanMaxError: number;
  meanEvaluations: number;
  okRuns: number;
  failedRuns: number;
  /** Runs numerically exact (relative MSE ≤ EXACT_FLOOR). */
  exactRuns: number;
}

/** Per (game, budget): each estimator's mean over seeds. */
export function summarizeCells(runs: readonly AccuracyRun[]): Map<string, CellSummary[]> {
  const groups = new Map<string, AccuracyRun[]>();
  for (const r of runs) {
    const k = `${r.game}|${r.budget}|${r.side}|${r.estimator}`;
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(r);
  }
  const cells = new Map<string, CellSummary[]>();
  for (const list of groups.values()) {
    const first = list[0] as AccuracyRun;
    const ok = list.filter((r) => r.mse !== undefined);
    const key = `${first.game}|${first.budget}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = []));
    cell.push({
      estimator: first.estimator,
      side: first.side,
      meanMse: ok.length === list.length ? mean(ok.map((r) => r.mse as number)) : Number.NaN,
      meanRelMse: ok.length === list.length ? mean(ok.map((r) => r.relMse as number)) : Number.NaN,
      meanMaxError: ok.length === list.length ? mean(ok.map((r) => r.maxError as number)) : Number.NaN,
      meanEvaluations: mean(list.map((r) => r.evaluations)),
      okRuns: ok.length,
      failedRuns: list.length - ok.length,
      exactRuns: ok.filter((r) => (r.relMse as number) <= EXACT_FLOOR).length,
    });
  }
  return cells;
}

export interface BestComparison {
  game: string;
  family: string;
  n: number;
  budget: number;
  ours?: CellSummary;
  shapiq?: CellSummary;
  /** ours.meanMse / shapiq.meanMse (NaN when a side is missing; 0/0 → 1). */
  ratio: number;
}

/** Lowest mean MSE among an estimator list (only estimators that never failed count). */
function best(list: readonly CellSummary[]): CellSummary | undefined {
  return list.filter((c) => Number.isFinite(c.meanMse)).sort((a, b) => a.meanMse - b.meanMse)[0];
}

export function compareBest(games: readonly BenchGame[], cells: Map<string, CellSummary[]>): BestComparison[] {
  const out: BestComparison[] = [];
  for (const g of games) {
    for (const budget of g.budgets) {
      const cell = cells.get(`${g.spec.id}|${budget}`) ?? [];
      const ours = best(cell.filter((c) => c.side === 'ours'));
      const shapiq = best(cell.filter((c) => c.side === 'shapiq'));
      let ratio = Number.NaN;
      const floor = EXACT_FLOOR * Math.max(g.scale, Number.MIN_VALUE);
      if (ours && shapiq) ratio = Math.max(ours.meanMse, floor) / Math.max(shapiq.meanMse, floor);
      out.push({ game: g.spec.id, family: g.spec.family, n: g.spec.n, budget, ours, shapiq, ratio });
    }
  }
  return out;
}

/**
 * Relative MSE below this is numerically exact (float rounding); MSEs are floored at
 * EXACT_FLOOR · mean(φ²) before ratios are taken, so an exact fit on one side gives a large but
 * finite ratio instead of 1e30.
 */
export const EXACT_FLOOR = 1e-12;

/** Geometric mean of the finite ratios of a list. */
export function ratioGeomean(list: readonly BestComparison[]): number {
  return geomean(list.map((c) => c.ratio).filter((r) => Number.isFinite(r) && r > 0));
}
