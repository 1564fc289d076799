/**
 * Section 1: Shapley accuracy per value-function evaluation. Our estimators (src/credit) and
 * shapiq's approximators play the same JSON games at the same budgets and seeds; both are scored
 * by mean squared error and max absolute error against the exact values (bench/games/exact.ts).
 * Per (game, budget), each side's best estimator is compared by the ratio of mean MSEs, with a
 * bootstrap interval over seeds and a verdict (met / missed / not distinguishable from 1).
 * Pure orchestration; the Python side is behind `baseline.ts`.
 */
import type { Game } from '../../src/credit/types.js';
import { valueOf } from '../games/evaluate.js';
import { exactShapley } from '../games/exact.js';
import { GAME_GENERATORS } from '../games/generate.js';
import type { GameSpec } from '../games/spec.js';
import { createRng, type Rng } from '../lib/rng.js';
import { bootstrapInterval, geomean, maxAbsError, mean, mse, type Interval } from '../lib/stats.js';
import type { ShapiqOutput } from './baseline.js';
import type { OurEstimator } from './our-estimators.js';

export interface AccuracyConfig {
  sizes: readonly number[];
  families: readonly (keyof typeof GAME_GENERATORS)[];
  /** Game instances per (family, n). */
  instances: number;
  /** Seeds per (game, estimator, budget), for sizes not in `repsBySize`. */
  reps: number;
  /** Seeds per (game, estimator, budget) at a size n, where it differs from `reps` (more seeds where runs are cheap). */
  repsBySize?: Readonly<Record<number, number>>;
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
  /** Seeds of every (estimator, budget) run on this game, the same for both sides: `seedsForSize(config, n)`. */
  seeds: number[];
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
  const seeds = repSeeds(config);
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
    return { spec, exact: values, exactMethod: method, scale, budgets, seeds: seedsForSize(config, spec.n, seeds) };
  });
}

/** Seeds per (game, estimator, budget) at size n. */
export function repsAt(config: AccuracyConfig, n: number): number {
  return config.repsBySize?.[n] ?? config.reps;
}

/**
 * The seed list of the whole section: as many seeds as the largest per-size count, drawn from the
 * bench seed. Repetition r uses seed r on both sides; a size with k seeds uses the first k, so a
 * size's seeds do not depend on the other sizes' counts and the first `reps` are those of a run
 * with `reps` seeds everywhere.
 */
export function repSeeds(config: AccuracyConfig): number[] {
  const rng = createRng(config.seed).fork('credit-accuracy-seeds');
  const count = Math.max(config.reps, ...Object.values(config.repsBySize ?? {}));
  return Array.from({ length: count }, () => rng.int(1, 2 ** 31 - 2));
}

/** The seeds of the games of size n (a prefix of `repSeeds`). */
export function seedsForSize(config: AccuracyConfig, n: number, all: readonly number[] = repSeeds(config)): number[] {
  return all.slice(0, repsAt(config, n));
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
export async function runOurs(games: readonly BenchGame[], estimators: readonly OurEstimator[]): Promise<AccuracyRun[]> {
  const runs: AccuracyRun[] = [];
  for (const g of games) {
    const seeds = g.seeds;
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
  /** The seeds of the runs that succeeded and their MSEs (same order): what the bootstrap resamples. */
  seeds: number[];
  mses: number[];
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
      seeds: ok.map((r) => r.seed),
      mses: ok.map((r) => r.mse as number),
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
  /** Seeds both sides ran (and the bootstrap resamples). */
  seeds: number;
  /** Percentile bootstrap interval of `ratio` over seeds (see `ratioInterval`); NaN bounds when not computable. */
  interval: Interval;
  verdict: CellVerdict;
  /** Per seed (the seeds every candidate of both sides ran), each candidate estimator's MSE, and the floor of the ratio: the bootstrap's input. */
  paired?: PairedMses;
}

/** The goal: our best MSE at most this fraction of shapiq's best, per (game, budget). */
export const RATIO_GOAL = 0.5;

/** Resamples per bootstrap interval, and its coverage. */
export const BOOTSTRAP = { resamples: 2000, level: 0.95 } as const;

export interface PairedMses {
  seeds: number[];
  /**
   * Each side's candidates — every estimator that ran the cell without failing —, one MSE per
   * seed each (`ours[e][i]`: estimator e on `seeds[i]`). The side's value on a set of seeds is
   * its best candidate's mean there, so a resample chooses "best" again, as the point estimate did.
   */
  ours: number[][];
  shapiq: number[][];
  /** EXACT_FLOOR · mean(φ²): MSEs are floored here before the ratio is taken. */
  floor: number;
}

/**
 * Per-cell verdict against RATIO_GOAL, from the ratio and its bootstrap interval:
 * - `met`: ratio ≤ goal and the interval lies below 1 (ours distinguishably better, by the goal's factor at the point estimate);
 * - `missed`: ratio > goal and the interval excludes 1 (above 1: ours worse; below 1: ours better, by less than the goal's factor);
 * - `indistinct`: the interval contains 1 — at this many seeds the two sides cannot be told apart
 *   (e.g. tree surrogates exact on most seeds of both sides, or both exact on every seed);
 * - `n/a`: no ratio (a side did not run). Without an interval (no common seeds) the point decides.
 */
export type CellVerdict = 'met' | 'missed' | 'indistinct' | 'n/a';

export function classifyCell(ratio: number, interval: Interval, goal: number = RATIO_GOAL): CellVerdict {
  if (!Number.isFinite(ratio)) return 'n/a';
  const known = Number.isFinite(interval.lo) && Number.isFinite(interval.hi);
  if (known && interval.lo <= 1 && interval.hi >= 1) return 'indistinct';
  return ratio <= goal ? 'met' : 'missed';
}

/**
 * max(best mean of ours, floor) / max(best mean of shapiq, floor) over the seeds at `idx` (all
 * seeds when omitted), each side's best being its candidate with the lowest mean MSE on those seeds.
 */
export function pairedRatio(p: PairedMses, idx?: readonly number[]): number {
  const pick = (xs: readonly number[]) => (idx ? mean(idx.map((i) => xs[i] as number)) : mean(xs));
  const bestOf = (candidates: readonly (readonly number[])[]) => Math.min(...candidates.map(pick));
  return Math.max(bestOf(p.ours), p.floor) / Math.max(bestOf(p.shapiq), p.floor);
}

/**
 * Percentile bootstrap interval of the MSE ratio of one cell: seeds are resampled with replacement
 * (a seed drawn brings both sides' runs with it), each side's best estimator is chosen again on
 * the resample (the lowest mean MSE among its candidates), and the floored ratio of mean MSEs is
 * recomputed. It describes how far the ratio moves with the seeds drawn, on this game instance,
 * choice of "best" included: kept fixed, the estimator that won on these very seeds was treated
 * as known in advance, and a side with more candidates (ours: 8) gained from the luck of the draw.
 */
export function ratioInterval(p: PairedMses, rng: Rng, opts: { resamples?: number; level?: number } = {}): Interval {
  return bootstrapInterval(p.seeds.length, (idx) => pairedRatio(p, idx), { resamples: opts.resamples ?? BOOTSTRAP.resamples, level: opts.level ?? BOOTSTRAP.level, next: rng.next });
}

/**
 * Every candidate's MSEs on the seeds all candidates of both sides ran (in the order of the first
 * of ours), or undefined if there are none. Candidates: the estimators that never failed on the
 * cell (those `best` chooses from).
 */
export function pairUp(ours: readonly CellSummary[], shapiq: readonly CellSummary[], floor: number): PairedMses | undefined {
  if (ours.length === 0 || shapiq.length === 0) return undefined;
  const bySeed = [...ours, ...shapiq].map((c) => new Map(c.seeds.map((s, i) => [s, c.mses[i] as number])));
  const seeds = ours[0]!.seeds.filter((s) => bySeed.every((m) => m.has(s)));
  if (seeds.length === 0) return undefined;
  const rows = (from: number, count: number) => bySeed.slice(from, from + count).map((m) => seeds.map((s) => m.get(s) as number));
  return { seeds, ours: rows(0, ours.length), shapiq: rows(ours.length, shapiq.length), floor };
}

/** The estimators of a list that never failed on the cell: `best`'s choices. */
function candidates(list: readonly CellSummary[]): CellSummary[] {
  return list.filter((c) => Number.isFinite(c.meanMse));
}

/** Lowest mean MSE among an estimator list (only estimators that never failed count). */
function best(list: readonly CellSummary[]): CellSummary | undefined {
  return candidates(list).sort((a, b) => a.meanMse - b.meanMse)[0];
}

/**
 * Each side's best estimator per (game, budget), their ratio, its bootstrap interval and the verdict.
 * `seed` seeds the resampling: each cell's generator is forked from it by the cell's key, so an
 * interval does not depend on which other cells were compared.
 */
export function compareBest(games: readonly BenchGame[], cells: Map<string, CellSummary[]>, opts: { seed?: number; resamples?: number } = {}): BestComparison[] {
  const root = createRng(opts.seed ?? 1).fork('credit-accuracy-bootstrap');
  const out: BestComparison[] = [];
  for (const g of games) {
    for (const budget of g.budgets) {
      const cell = cells.get(`${g.spec.id}|${budget}`) ?? [];
      const ours = best(cell.filter((c) => c.side === 'ours'));
      const shapiq = best(cell.filter((c) => c.side === 'shapiq'));
      let ratio = Number.NaN;
      let interval: Interval = { lo: Number.NaN, hi: Number.NaN };
      let paired: PairedMses | undefined;
      const floor = EXACT_FLOOR * Math.max(g.scale, Number.MIN_VALUE);
      if (ours && shapiq) {
        ratio = Math.max(ours.meanMse, floor) / Math.max(shapiq.meanMse, floor);
        paired = pairUp(candidates(cell.filter((c) => c.side === 'ours')), candidates(cell.filter((c) => c.side === 'shapiq')), floor);
        if (paired) interval = ratioInterval(paired, root.fork(`${g.spec.id}|${budget}`), { resamples: opts.resamples });
      }
      const seeds = paired?.seeds.length ?? 0;
      out.push({ game: g.spec.id, family: g.spec.family, n: g.spec.n, budget, ours, shapiq, ratio, seeds, interval, verdict: classifyCell(ratio, interval), paired });
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

/**
 * Percentile bootstrap interval of `ratioGeomean` over a list of cells that share their seeds (the
 * games of one size): each resample draws one set of seed indices and applies it to every cell, so
 * whatever the seeds share across games (the same seed drives the same sample on games of one n)
 * is kept. NaN bounds if a cell has no paired data or the cells' seeds differ.
 */
export function ratioGeomeanInterval(list: readonly BestComparison[], rng: Rng, opts: { resamples?: number; level?: number } = {}): Interval {
  const nan = { lo: Number.NaN, hi: Number.NaN };
  const cells = list.filter((c) => Number.isFinite(c.ratio) && c.ratio > 0);
  if (cells.length === 0 || cells.some((c) => !c.paired)) return nan;
  const seeds = (cells[0] as BestComparison).paired!.seeds.join(',');
  if (cells.some((c) => c.paired!.seeds.join(',') !== seeds)) return nan;
  return bootstrapInterval(cells[0]!.paired!.seeds.length, (idx) => geomean(cells.map((c) => pairedRatio(c.paired!, idx))), {
    resamples: opts.resamples ?? BOOTSTRAP.resamples,
    level: opts.level ?? BOOTSTRAP.level,
    next: rng.next,
  });
}
