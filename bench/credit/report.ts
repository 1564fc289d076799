/** Renders section 1 (credit accuracy) as markdown tables and SVG plots (pure). */
import { num, table } from '../lib/markdown.js';
import type { Plot } from '../lib/section.js';
import { geomean, median } from '../lib/stats.js';
import { linePlot, type Series } from '../lib/svg.js';
import type { AccuracyRun, BenchGame, BestComparison, CellSummary } from './accuracy.js';
import { EXACT_FLOOR, ratioGeomean } from './accuracy.js';

export const RATIO_GOAL = 0.5;

function fmtRatio(r: number): string {
  if (Number.isNaN(r)) return 'n/a';
  return `${num(r, 3)}${r <= RATIO_GOAL ? ' ✓' : ' ✗'}`;
}

/** Headline table: per n and budget, geometric means over the games of that size. */
export function headlineTable(comparisons: readonly BestComparison[]): string {
  const keys = [...new Set(comparisons.map((c) => `${c.n}|${c.budget}`))];
  const rows = keys.map((k) => {
    const list = comparisons.filter((c) => `${c.n}|${c.budget}` === k);
    const [n, budget] = k.split('|');
    const finite = list.filter((c) => Number.isFinite(c.ratio));
    const met = finite.filter((c) => c.ratio <= RATIO_GOAL).length;
    const worst = finite.sort((a, b) => b.ratio - a.ratio)[0];
    return [
      n as string,
      budget as string,
      `${Number(budget) / Number(n)}·n`,
      num(geomean(list.map((c) => c.ours?.meanRelMse ?? Number.NaN).filter((x) => !Number.isNaN(x)).map((x) => Math.max(x, EXACT_FLOOR)))),
      num(geomean(list.map((c) => c.shapiq?.meanRelMse ?? Number.NaN).filter((x) => !Number.isNaN(x)).map((x) => Math.max(x, EXACT_FLOOR)))),
      fmtRatio(ratioGeomean(list)),
      fmtRatio(median(finite.map((c) => c.ratio))),
      worst ? `${num(worst.ratio)} (${worst.family})` : 'n/a',
      `${met}/${list.length}`,
    ];
  });
  return table(['n', 'budget', 'per player', 'our best rel. MSE (geomean)', 'shapiq best rel. MSE (geomean)', 'MSE ratio ours/shapiq (geomean)', 'median game ratio', 'worst game ratio', 'games with ratio ≤ 0.5'], rows);
}

/** Per family, n and budget: the two winners, their MSE, max error and the ratio. */
export function detailTable(comparisons: readonly BestComparison[]): string {
  const rows = comparisons.map((c) => [
    c.game,
    String(c.budget),
    c.ours ? `${c.ours.estimator}` : 'n/a',
    num(c.ours?.meanMse),
    num(c.ours?.meanMaxError),
    exactOf(c.ours),
    c.shapiq ? `${c.shapiq.estimator}` : 'n/a',
    num(c.shapiq?.meanMse),
    num(c.shapiq?.meanMaxError),
    exactOf(c.shapiq),
    fmtRatio(c.ratio),
  ]);
  return table(['game', 'budget', 'our best', 'MSE', 'max err', 'exact', 'shapiq best', 'MSE', 'max err', 'exact', 'ratio'], rows);
}

/** "k/N": runs of the cell's best estimator that were numerically exact, of those that ran. */
function exactOf(c: CellSummary | undefined): string {
  return c ? `${c.exactRuns}/${c.okRuns}` : '';
}

/** Every estimator's relative MSE (geomean over games) per n and budget multiple. */
export function allEstimatorsTable(games: readonly BenchGame[], cells: Map<string, CellSummary[]>, multiples: readonly number[]): string {
  const sizes = [...new Set(games.map((g) => g.spec.n))].sort((a, b) => a - b);
  const names = new Map<string, 'ours' | 'shapiq'>();
  for (const list of cells.values()) for (const c of list) names.set(c.estimator, c.side);
  const header = ['estimator', 'side', ...sizes.flatMap((n) => multiples.filter((m) => m * n < 2 ** n).map((m) => `n=${n} ${m}·n`))];
  const rows = [...names].map(([name, side]) => [
    name,
    side,
    ...sizes.flatMap((n) =>
      multiples
        .filter((m) => m * n < 2 ** n)
        .map((m) => {
          const vals = games
            .filter((g) => g.spec.n === n)
            .map((g) => cells.get(`${g.spec.id}|${m * n}`)?.find((c) => c.estimator === name)?.meanRelMse ?? Number.NaN);
          if (vals.some((v) => Number.isNaN(v))) return 'failed';
          return num(geomean(vals.map((v) => Math.max(v, EXACT_FLOOR))));
        }),
    ),
  ]);
  return table(header, rows);
}

/** One plot per n: relative MSE (geomean over games) vs budget, every estimator. */
export function msePlots(games: readonly BenchGame[], cells: Map<string, CellSummary[]>, multiples: readonly number[]): Plot[] {
  const sizes = [...new Set(games.map((g) => g.spec.n))].sort((a, b) => a - b);
  const names = new Map<string, 'ours' | 'shapiq'>();
  for (const list of cells.values()) for (const c of list) names.set(c.estimator, c.side);
  return sizes.map((n) => {
    const series: Series[] = [...names].map(([name, side]) => ({
      name: `${side === 'ours' ? '' : 'shapiq '}${name}`,
      dashed: side === 'shapiq',
      points: multiples
        .filter((m) => m * n < 2 ** n)
        .map((m) => {
          const vals = games
            .filter((g) => g.spec.n === n)
            .map((g) => cells.get(`${g.spec.id}|${m * n}`)?.find((c) => c.estimator === name)?.meanRelMse ?? Number.NaN);
          return [m * n, vals.some((v) => Number.isNaN(v)) ? Number.NaN : geomean(vals.map((v) => Math.max(v, EXACT_FLOOR)))] as const;
        }),
    }));
    return {
      file: `credit-mse-n${n}.svg`,
      alt: `relative MSE vs evaluations, n = ${n}`,
      svg: linePlot(series, { title: `Shapley relative MSE vs budget, n = ${n} (geomean over games)`, xLabel: 'value-function evaluations', yLabel: 'MSE / mean φ²', logX: true, logY: true, width: 860 }),
    };
  });
}

/** Runs that failed, grouped by estimator and message. */
export function failuresList(runs: readonly AccuracyRun[]): string {
  const groups = new Map<string, number>();
  for (const r of runs) if (r.error !== undefined) groups.set(`${r.side} ${r.estimator}: ${r.error.split('\n')[0]?.slice(0, 160)}`, (groups.get(`${r.side} ${r.estimator}: ${r.error.split('\n')[0]?.slice(0, 160)}`) ?? 0) + 1);
  if (groups.size === 0) return 'No estimator run failed.';
  return [...groups].map(([k, c]) => `- ${k} (${c} runs)`).join('\n');
}

/** Runs whose counted evaluations exceeded the budget they were given. */
export function overBudget(runs: readonly AccuracyRun[]): AccuracyRun[] {
  return runs.filter((r) => r.evaluations > r.budget);
}
