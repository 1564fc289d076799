/**
 * Seed noise in the credit accuracy section (bench/credit): per-size seed counts, the percentile
 * bootstrap interval of a cell's MSE ratio over seeds, and the per-cell verdict (met / missed /
 * not distinguishable from 1). A ratio of 1e7 between two tree surrogates that are exact on most
 * seeds is a coin flip at 4 seeds; its interval reaches 1 and the cell is not counted as missed.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyCell,
  compareBest,
  EXACT_FLOOR,
  pairedRatio,
  pairUp,
  ratioGeomeanInterval,
  ratioInterval,
  repSeeds,
  seedsForSize,
  summarizeCells,
  type AccuracyConfig,
  type AccuracyRun,
  type BenchGame,
  type CellSummary,
  type PairedMses,
} from '../../bench/credit/accuracy.js';
import { cellVerdicts, detailTable, fmtInterval, headlineTable } from '../../bench/credit/report.js';
import { createRng } from '../../bench/lib/rng.js';
import { bootstrapInterval, mean } from '../../bench/lib/stats.js';

/** A `next` that replays `values` in a loop. */
const replay = (values: readonly number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('bootstrapInterval', () => {
  it('takes the percentiles of the statistic over resampled indices (known draws)', () => {
    // size 2, 4 resamples; draws → indices [0,0], [0,1], [1,0], [1,1] → means of [0, 10]: 0, 5, 5, 10
    const xs = [0, 10];
    const seen: number[][] = [];
    const i = bootstrapInterval(2, (idx) => (seen.push([...idx]), mean(idx.map((k) => xs[k] as number))), {
      resamples: 4,
      level: 0.5,
      next: replay([0, 0, 0, 0.5, 0.5, 0, 0.9, 0.9]),
    });
    expect(seen).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
    // quantiles 0.25 and 0.75 of [0, 5, 5, 10], linear interpolation
    expect(i).toEqual({ lo: 3.75, hi: 6.25 });
  });

  it('with a seeded generator: reproducible, and close to the normal interval of a mean', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const stat = (idx: readonly number[]) => mean(idx.map((k) => xs[k] as number));
    const a = bootstrapInterval(xs.length, stat, { next: createRng(7).next });
    const b = bootstrapInterval(xs.length, stat, { next: createRng(7).next });
    expect(a).toEqual(b);
    // mean 5.5, standard error ≈ 2.87/√10 ≈ 0.91 → about [3.7, 7.3]
    expect(a.lo).toBeGreaterThan(3.3);
    expect(a.lo).toBeLessThan(4.1);
    expect(a.hi).toBeGreaterThan(6.9);
    expect(a.hi).toBeLessThan(7.7);
  });

  it('is degenerate for a constant statistic and NaN without units', () => {
    expect(bootstrapInterval(5, () => 3, { next: createRng(1).next })).toEqual({ lo: 3, hi: 3 });
    const none = bootstrapInterval(0, () => 3, { next: createRng(1).next });
    expect(Number.isNaN(none.lo) && Number.isNaN(none.hi)).toBe(true);
  });
});

describe('classifyCell', () => {
  const nan = { lo: Number.NaN, hi: Number.NaN };
  it.each([
    [0.3, { lo: 0.1, hi: 0.9 }, 'met'],
    [0.3, { lo: 0.1, hi: 1.2 }, 'indistinct'],
    [0.5, { lo: 0.4, hi: 0.99 }, 'met'],
    [0.7, { lo: 0.6, hi: 0.9 }, 'missed'],
    [5, { lo: 2, hi: 9 }, 'missed'],
    [1.17e7, { lo: 1, hi: 4.7e7 }, 'indistinct'],
    [1, { lo: 1, hi: 1 }, 'indistinct'],
    [0.3, nan, 'met'],
    [Number.NaN, nan, 'n/a'],
  ] as const)('ratio %s with interval %j → %s', (ratio, interval, verdict) => {
    expect(classifyCell(ratio, interval)).toBe(verdict);
  });
});

describe('ratio interval of a cell', () => {
  const floor = EXACT_FLOOR * 50;
  const paired = (ours: number[], shapiq: number[]): PairedMses => ({ seeds: ours.map((_, i) => i + 1), ours: [ours], shapiq: [shapiq], floor });

  it('reaches 1 when ours is exact on 3 of 4 seeds and shapiq on all: not distinguishable from 1', () => {
    const p = paired([0, 0, 0, 4e-4], [0, 0, 0, 0]);
    expect(pairedRatio(p)).toBeCloseTo(1e-4 / floor);
    const i = ratioInterval(p, createRng(3));
    expect(i.lo).toBe(1); // resamples without seed 4: both floored
    expect(i.hi).toBeGreaterThan(1e6);
    expect(classifyCell(pairedRatio(p), i)).toBe('indistinct');
  });

  it('is a point when every seed gives the same ratio, and resamples both sides together', () => {
    const i = ratioInterval(paired([0.1, 0.2, 0.4], [1, 2, 4]), createRng(3));
    expect(i.lo).toBeCloseTo(0.1, 12);
    expect(i.hi).toBeCloseTo(0.1, 12);
    expect(classifyCell(0.1, ratioInterval(paired([0.1, 0.1], [1, 1]), createRng(3)))).toBe('met');
  });
});

describe('the best estimator in a bootstrap resample', () => {
  const floor = EXACT_FLOOR;
  // our two estimators win on opposite halves of the seeds; every seed's MSEs sum to 10
  const p: PairedMses = { seeds: [1, 2, 3, 4], ours: [[1, 1, 9, 9], [9, 9, 1, 1]], shapiq: [[2, 2, 2, 2]], floor };

  it('is chosen again on the resampled seeds, not kept from all seeds', () => {
    expect(pairedRatio(p)).toBeCloseTo(2.5, 12); // both mean 5 on all seeds
    expect(pairedRatio(p, [2, 2, 3, 3])).toBeCloseTo(0.5, 12); // the second wins here (the first, kept, gave 4.5)
    expect(pairedRatio(p, [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    const i = ratioInterval(p, createRng(3));
    // a resample's best mean is at most 5 (the two means sum to 10): no ratio above the point
    expect(i.hi).toBeLessThanOrEqual(2.5 + 1e-12);
    expect(i.lo).toBeGreaterThanOrEqual(0.5 - 1e-12);
    expect(i.lo).toBeLessThan(2.5);
  });

  it('is chosen on both sides, among the seeds every candidate ran', () => {
    const cell = (estimator: string, side: 'ours' | 'shapiq', seeds: number[], mses: number[]): CellSummary => ({
      estimator, side, meanMse: mses.reduce((a, b) => a + b, 0) / mses.length, meanRelMse: 0, meanMaxError: 0, meanEvaluations: 0, okRuns: seeds.length, failedRuns: 0, exactRuns: 0, seeds, mses,
    });
    const paired = pairUp([cell('a', 'ours', [1, 2, 3], [1, 2, 3]), cell('b', 'ours', [2, 3, 4], [20, 30, 40])], [cell('x', 'shapiq', [3, 2, 1], [3, 2, 1]), cell('y', 'shapiq', [1, 2, 3], [0.5, 5, 5])], floor)!;
    expect(paired.seeds).toEqual([2, 3]);
    expect(paired.ours).toEqual([[2, 3], [20, 30]]);
    expect(paired.shapiq).toEqual([[2, 3], [5, 5]]);
    expect(pairedRatio(paired)).toBeCloseTo(2.5 / 2.5, 12);
    expect(pairedRatio(paired, [0, 0])).toBeCloseTo(2 / 2, 12);
    expect(pairUp([cell('a', 'ours', [1], [1])], [cell('x', 'shapiq', [2], [1])], floor)).toBeUndefined();
  });
});

const config: AccuracyConfig = { sizes: [10, 50], families: ['airport'], instances: 1, reps: 4, repsBySize: { 10: 40, 20: 20 }, budgetMultiples: [10], seed: 20261125 };

describe('seeds per size', () => {
  it('are prefixes of one list drawn from the bench seed; the first 4 are those of a 4-seed run', () => {
    const all = repSeeds(config);
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
    expect(seedsForSize(config, 10)).toEqual(all);
    expect(seedsForSize(config, 20)).toEqual(all.slice(0, 20));
    expect(seedsForSize(config, 50)).toEqual(all.slice(0, 4));
    expect(repSeeds({ ...config, repsBySize: undefined })).toEqual(all.slice(0, 4));
    expect(repSeeds(config)).toEqual(all);
  });
});

describe('compareBest with intervals', () => {
  const game = (id: string, seeds: number[]): BenchGame => ({
    spec: { format: 'agent-credit-bench-game/1', id, family: 'airport', n: 10, source: 'test', kind: 'airport', costs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    exact: [],
    exactMethod: 'test',
    scale: 50,
    budgets: [100],
    seeds,
  });
  const run = (g: string, side: 'ours' | 'shapiq', estimator: string, seed: number, relMse: number): AccuracyRun => ({
    game: g, family: 'airport', n: 10, side, estimator, budget: 100, seed, evaluations: 100, mse: relMse * 50, relMse, maxError: Math.sqrt(relMse), seconds: 0.01,
  });
  const seeds = [11, 12, 13, 14];
  const runs = [
    // coin flip: ours exact on 3/4, shapiq on 4/4
    ...seeds.map((s, i) => run('flip', 'ours', 'tree MSR', s, i === 3 ? 1e-5 : 0)),
    ...seeds.map((s) => run('flip', 'shapiq', 'RegressionMSR(tree)', s, 0)),
    // clear win: ours 10× better on every seed
    ...seeds.map((s, i) => run('win', 'ours', 'kernel', s, 0.01 * (i + 1))),
    ...seeds.map((s, i) => run('win', 'shapiq', 'KernelSHAP', s, 0.1 * (i + 1))),
    // clear loss, with a worse estimator on our side that is not the best
    ...seeds.map((s, i) => run('loss', 'ours', 'kernel', s, 0.3 * (i + 1))),
    ...seeds.map((s, i) => run('loss', 'ours', 'permutation', s, 0.9 * (i + 1))),
    ...seeds.map((s, i) => run('loss', 'shapiq', 'KernelSHAP', s, 0.1 * (i + 1))),
  ];
  const games = ['flip', 'win', 'loss'].map((id) => game(id, seeds));
  const comparisons = compareBest(games, summarizeCells(runs), { seed: 5 });

  it('gives each cell its seed count, interval and verdict', () => {
    const by = Object.fromEntries(comparisons.map((c) => [c.game, c]));
    expect(by.flip!.ratio).toBeGreaterThan(1e6);
    expect(by.flip!.seeds).toBe(4);
    expect(by.flip!.interval.lo).toBe(1);
    expect(by.flip!.verdict).toBe('indistinct');
    expect(by.win!.interval.lo).toBeCloseTo(0.1, 12);
    expect(by.win!.interval.hi).toBeCloseTo(0.1, 12);
    expect(by.win!.verdict).toBe('met');
    expect(by.loss!.ours!.estimator).toBe('kernel');
    expect(by.loss!.ratio).toBeCloseTo(3);
    expect(by.loss!.verdict).toBe('missed');
    // reproducible from the seed
    expect(compareBest(games, summarizeCells(runs), { seed: 5 }).map((c) => c.interval)).toEqual(comparisons.map((c) => c.interval));
  });

  it('gives the geometric mean over games an interval from one seed resample per replicate', () => {
    const i = ratioGeomeanInterval(comparisons.filter((c) => c.game !== 'flip'), createRng(2));
    // win 0.1 and loss 3 on every seed → geomean √0.3 whatever the resample
    expect(i.lo).toBeCloseTo(Math.sqrt(0.3));
    expect(i.hi).toBeCloseTo(Math.sqrt(0.3));
    const other = compareBest([game('win', [11, 12, 13, 15])], summarizeCells(runs.map((r) => (r.game === 'win' && r.seed === 14 ? { ...r, seed: 15 } : r))));
    expect(Number.isNaN(ratioGeomeanInterval([...other, comparisons[2]!], createRng(2)).lo)).toBe(true);
  });

  it('reports met / missed / n.s. in the verdict, the summary and the detail table', () => {
    const text = cellVerdicts(comparisons);
    expect(text).toContain('**met** on 1 of 3');
    expect(text).toContain('**missed** on 1 (ours worse than shapiq — interval above 1 — on 1');
    expect(text).toContain('**not distinguishable from 1** at their number of seeds on 1');
    expect(text).toMatch(/flip at 100 evaluations: .* \[1, .*\] over 4 seeds \(tree MSR vs shapiq RegressionMSR\(tree\), exact on 3\/4 vs 4\/4 seeds\)/);
    const summary = headlineTable(comparisons, { seed: 5 });
    expect(summary.split('\n')[0]).toContain('| games: met / missed / n.s. (goal ≤ 0.5) |');
    expect(summary.split('\n')[2]).toMatch(/\| 1 \/ 1 \/ 1 of 3 \|$/);
    const detail = detailTable(comparisons);
    expect(detail).toMatch(/\| win \| 100 \|.*\| 4 \| 0\.1 \| \[0\.1, 0\.1\] \| met ✓ \|/);
    expect(detail).toMatch(/\| loss \| 100 \|.*\| missed ✗ \|/);
  });
});

describe('fmtInterval', () => {
  it('prints 3 significant digits, more where an interval that excludes 1 would print as containing it', () => {
    expect(fmtInterval({ lo: 0.0177, hi: 3.351 })).toBe('[0.0177, 3.35]');
    expect(fmtInterval({ lo: 1, hi: 1 })).toBe('[1, 1]');
    expect(fmtInterval({ lo: 0.999972, hi: 0.999991 })).toBe('[0.99997, 0.99999]');
    expect(fmtInterval({ lo: 1.00002, hi: 1.3 })).toBe('[1.00002, 1.3]');
    expect(fmtInterval({ lo: Number.NaN, hi: Number.NaN })).toBe('n/a');
  });
});
