/**
 * The credit accuracy tables (bench/credit): per (game, budget) cell, each estimator's mean over
 * seeds and how many seeds it was numerically exact on — which explains the ~1e7 ratios between
 * two tree surrogates, one exact on every seed and the other on all but one.
 */
import { describe, expect, it } from 'vitest';
import { EXACT_FLOOR, summarizeCells, type AccuracyRun } from '../../bench/credit/accuracy.js';
import { detailTable } from '../../bench/credit/report.js';

const run = (side: 'ours' | 'shapiq', estimator: string, seed: number, relMse: number): AccuracyRun => ({
  game: 'airport-n10-i0', family: 'airport', n: 10, side, estimator, budget: 100, seed, evaluations: 100, mse: relMse * 50, relMse, maxError: Math.sqrt(relMse), seconds: 0.01,
});

describe('accuracy cells', () => {
  it('count the seeds on which an estimator was numerically exact, of those that ran', () => {
    const runs = [
      run('ours', 'tree MSR', 1, 0), run('ours', 'tree MSR', 2, EXACT_FLOOR / 2), run('ours', 'tree MSR', 3, 1e-4),
      { ...run('ours', 'tree MSR', 4, 0), mse: undefined, relMse: undefined, error: 'boom' },
      run('shapiq', 'RegressionMSR(tree)', 1, 0), run('shapiq', 'RegressionMSR(tree)', 2, 0), run('shapiq', 'RegressionMSR(tree)', 3, 0),
    ];
    const cell = summarizeCells(runs).get('airport-n10-i0|100')!;
    const ours = cell.find((c) => c.side === 'ours')!;
    const theirs = cell.find((c) => c.side === 'shapiq')!;
    expect([ours.exactRuns, ours.okRuns, ours.failedRuns]).toEqual([2, 3, 1]);
    expect([theirs.exactRuns, theirs.okRuns]).toEqual([3, 3]);
    const md = detailTable([{ game: 'airport-n10-i0', family: 'airport', n: 10, budget: 100, ours: { ...ours, meanMse: 1e-3 }, shapiq: theirs, ratio: 1e7, seeds: 3, interval: { lo: 1, hi: 3e7 }, verdict: 'indistinct' }]);
    expect(md.split('\n')[0]).toContain('| exact |');
    expect(md).toMatch(/\| 2\/3 \|.*\| 3\/3 \| 3 \| 1\.00e\+7 \| \[1, 3\.00e\+7\] \| n\.s\. \|/);
  });
});
