/** Renders section 1 (credit accuracy) as markdown tables and SVG plots (pure). */
import { num, table } from '../lib/markdown.js';
import type { Plot } from '../lib/section.js';
import { geomean, median } from '../lib/stats.js';
import { linePlot, type Series } from '../lib/svg.js';
import type { AccuracyRun, BenchGame, BestComparison, CellSummary, CellVerdict } from './accuracy.js';
import { EXACT_FLOOR, RATIO_GOAL, ratioGeomean, ratioGeomeanInterval } from './accuracy.js';
import { createRng } from '../lib/rng.js';
import type { Interval } from '../lib/stats.js';

export { RATIO_GOAL };

function fmtRatio(r: number): string {
  if (Number.isNaN(r)) return 'n/a';
  return `${num(r, 3)}${r <= RATIO_GOAL ? ' ✓' : ' ✗'}`;
}

/**
 * "[lo, hi]" of a bootstrap interval; "n/a" when it could not be computed. Up to 6 significant
 * digits where 3 would blur it: [0.99997, 0.99999] excludes 1 and must not print as [1, 1].
 */
export function fmtInterval(i: Interval | undefined): string {
  if (!i || !Number.isFinite(i.lo) || !Number.isFinite(i.hi)) return 'n/a';
  // more digits while distinct bounds print alike, or a bound on one side of 1 prints as 1
  const blurred = (d: number) =>
    (i.lo !== i.hi && num(i.lo, d) === num(i.hi, d)) || (i.hi < 1 && Number(num(i.hi, d)) >= 1) || (i.lo > 1 && Number(num(i.lo, d)) <= 1);
  let digits = 3;
  while (digits < 6 && blurred(digits)) digits++;
  return `[${num(i.lo, digits)}, ${num(i.hi, digits)}]`;
}

const VERDICT_LABEL: Record<CellVerdict, string> = { met: 'met ✓', missed: 'missed ✗', indistinct: 'n.s.', 'n/a': 'n/a' };

/** "met / missed / n.s." counts of a list of cells (cells without a ratio are left out). */
export function verdictCounts(list: readonly BestComparison[]): { met: number; missed: number; indistinct: number; compared: number } {
  const count = (v: CellVerdict) => list.filter((c) => c.verdict === v).length;
  const met = count('met');
  const missed = count('missed');
  const indistinct = count('indistinct');
  return { met, missed, indistinct, compared: met + missed + indistinct };
}

/**
 * Headline table: per n and budget, geometric means over the games of that size, the geomean
 * ratio's bootstrap interval (seeds resampled; `seed` seeds the resampling) and the cells' verdicts.
 */
export function headlineTable(comparisons: readonly BestComparison[], opts: { seed?: number } = {}): string {
  const root = createRng(opts.seed ?? 1).fork('credit-accuracy-bootstrap-geomean');
  const keys = [...new Set(comparisons.map((c) => `${c.n}|${c.budget}`))];
  const rows = keys.map((k) => {
    const list = comparisons.filter((c) => `${c.n}|${c.budget}` === k);
    const [n, budget] = k.split('|');
    const finite = list.filter((c) => Number.isFinite(c.ratio));
    const v = verdictCounts(list);
    const seeds = [...new Set(finite.map((c) => c.seeds))].join('/');
    const worst = finite.slice().sort((a, b) => b.ratio - a.ratio)[0];
    return [
      n as string,
      budget as string,
      `${Number(budget) / Number(n)}·n`,
      num(geomean(list.map((c) => c.ours?.meanRelMse ?? Number.NaN).filter((x) => !Number.isNaN(x)).map((x) => Math.max(x, EXACT_FLOOR)))),
      num(geomean(list.map((c) => c.shapiq?.meanRelMse ?? Number.NaN).filter((x) => !Number.isNaN(x)).map((x) => Math.max(x, EXACT_FLOOR)))),
      seeds || 'n/a',
      fmtRatio(ratioGeomean(list)),
      fmtInterval(ratioGeomeanInterval(list, root.fork(k))),
      fmtRatio(median(finite.map((c) => c.ratio))),
      worst ? `${num(worst.ratio)} (${worst.family})` : 'n/a',
      `${v.met} / ${v.missed} / ${v.indistinct} of ${list.length}`,
    ];
  });
  return table(
    ['n', 'budget', 'per player', 'our best rel. MSE (geomean)', 'shapiq best rel. MSE (geomean)', 'seeds', 'MSE ratio ours/shapiq (geomean)', '95% bootstrap interval', 'median game ratio', 'worst game ratio', `games: met / missed / n.s. (goal ≤ ${RATIO_GOAL})`],
    rows,
  );
}

/**
 * The section's verdict sentence: how many cells met, missed or could not be told from 1, and the
 * largest ratios of the missed and of the indistinct cells, with their intervals and exact-seed counts.
 */
export function cellVerdicts(comparisons: readonly BestComparison[]): string {
  const v = verdictCounts(comparisons);
  const missed = comparisons.filter((c) => c.verdict === 'missed');
  const met = comparisons.filter((c) => c.verdict === 'met');
  const ns = comparisons.filter((c) => c.verdict === 'indistinct');
  const worse = missed.filter((c) => (Number.isFinite(c.interval.lo) ? c.interval.lo > 1 : c.ratio > 1)).length;
  const metBelow = met.filter((c) => c.interval.hi <= RATIO_GOAL).length;
  const bothExact = ns.filter((c) => c.ours && c.shapiq && c.ours.exactRuns === c.ours.okRuns && c.shapiq.exactRuns === c.shapiq.okRuns).length;
  const describe = (c: BestComparison) =>
    `${c.game} at ${c.budget} evaluations: ${num(c.ratio)} ${fmtInterval(c.interval)} over ${c.seeds} seeds (${c.ours?.estimator} vs shapiq ${c.shapiq?.estimator}${exactCounts(c)})`;
  const top = (list: readonly BestComparison[]) => list.slice().sort((a, b) => b.ratio - a.ratio).slice(0, 5).map(describe).join('; ');
  return [
    `Goal (ratio ≤ ${RATIO_GOAL}) **met** on ${v.met} of ${v.compared} (game, budget) cells (${metBelow} of them with the whole interval ≤ ${RATIO_GOAL}), **missed** on ${v.missed} (ours worse than shapiq — interval above 1 — on ${worse}, better by less than ${1 / RATIO_GOAL}× on ${v.missed - worse}), **not distinguishable from 1** at their number of seeds on ${v.indistinct}${bothExact ? ` (${bothExact} of them with both sides exact on every seed)` : ''}.`,
    missed.length ? `Largest missed: ${top(missed)}.` : '',
    ns.length ? `Largest ratios not distinguishable from 1: ${top(ns)}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** ", exact on k/N vs k'/N seeds" when a side was exact on some seed. */
function exactCounts(c: BestComparison): string {
  if (!c.ours || !c.shapiq || (c.ours.exactRuns === 0 && c.shapiq.exactRuns === 0)) return '';
  return `, exact on ${exactOf(c.ours)} vs ${exactOf(c.shapiq)} seeds`;
}

/** Per family, n and budget: the two winners, their MSE, max error, exact seeds, the ratio, its interval and verdict. */
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
    String(c.seeds),
    num(c.ratio, 3),
    fmtInterval(c.interval),
    VERDICT_LABEL[c.verdict],
  ]);
  return table(['game', 'budget', 'our best', 'MSE', 'max err', 'exact', 'shapiq best', 'MSE', 'max err', 'exact', 'seeds', 'ratio', '95% bootstrap interval', 'verdict'], rows);
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
