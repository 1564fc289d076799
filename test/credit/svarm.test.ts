/** Stratified SVARM: exact strata, its (small, documented) bias, intervals, the small-budget path, and where it wins. */
import { describe, expect, it } from 'vitest';
import { exactShapley, PermutationEstimator, SvarmEstimator, UnanimityGame, type Game } from '../../src/credit/index.js';
import { createRng } from '../../src/credit/shapley/stats.js';
import { expectMeanNearExact, mixedTable, mse, tableGame, votingTable } from './helpers.js';


/** The game without its closed form: the estimator must sample it. */
function blackBox(g: UnanimityGame, id: string): Game {
  return { id, players: g.players, value: (c) => g.value(c) };
}

describe('SvarmEstimator', () => {
  it.each([2, 3])('is exact on %i players from v(∅), v(N), the singletons and the (n−1)-coalitions', async (n) => {
    const table = mixedTable(n, 5);
    const exact = (await exactShapley(tableGame(table))).values;
    const est = await new SvarmEstimator().estimate(tableGame(table, `tiny${n}`), { budget: 100, seed: 1 });
    expect(est.status).toBe('exact');
    expect(est.evaluations).toBe(2 ** n);
    est.values.forEach((v, i) => expect(v).toBeCloseTo(exact[i]!, 12));
  });

  // SVARM is not exactly unbiased (docs/credit.md, SVARM *Bias*: the additive part, the efficiency
  // weights and the size allocation use variances estimated from the same samples). This test
  // said "is unbiased", and 60 seeds cannot tell: on the voting game below 1,200 seeds put one
  // player's mean error at −0.0070, 7.9 standard errors (RMSE 0.028), while over these 60 it is
  // within 3.7. What it checks is that the bias stays small against the spread of one estimate.
  it('has a bias small against its spread: over 60 seeds each player\'s mean estimate is within 4 standard errors of the exact value (not exactly unbiased: docs/credit.md)', async () => {
    for (const table of [mixedTable(8, 21), votingTable([3, 1, 2, 2, 4, 1, 1, 2], 8)]) await expectMeanNearExact(() => new SvarmEstimator(), table, 120);
  });

  it('conserves credit (Σφ = v(N) − v(∅)) and leaves players of exact strata alone at every budget', async () => {
    const table = mixedTable(10, 3);
    for (const budget of [15, 40, 200, 900]) {
      const est = await new SvarmEstimator().estimate(tableGame(table, `eff${budget}`), { budget, seed: 4 });
      const sum = est.values.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (table[table.length - 1]! - table[0]!))).toBeLessThan(1e-9);
      expect(est.evaluations).toBeLessThanOrEqual(budget);
      for (const iv of est.intervals) expect(Number.isFinite(iv.low) && Number.isFinite(iv.high)).toBe(true);
    }
  });

  it('says when strata are not sampled yet (small budget), and its intervals then still cover', async () => {
    const table = votingTable([4, 3, 3, 2, 2, 1, 1, 1, 5, 2, 1, 3], 14);
    const exact = (await exactShapley(tableGame(table))).values;
    let covered = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const est = await new SvarmEstimator().estimate(tableGame(table, `small${seed}`), { budget: 40, seed });
      expect(est.note).toMatch(/strata not sampled yet/);
      est.intervals.forEach((iv, i) => (covered += iv.low <= exact[i]! && exact[i]! <= iv.high ? 1 : 0));
    }
    expect(covered / (10 * 12)).toBeGreaterThanOrEqual(0.95);
  });

  it('is partial, as every other sampler is, while nothing but v(N) and v(∅) (or one coalition more) was evaluated', async () => {
    // v(N) = v(∅) = 0, v({p0}) = 1, v({p1}) = −1: φ = (1, −1). At budget 2 the run knows only the
    // endpoints; it reported [0, 0] ± 1e-12 as `approximate` (the imputed strata's range bound was
    // the range of v(N) and v(∅), 0).
    const est = await new SvarmEstimator().estimate(tableGame([0, 1, -1, 0], 'endpoints-only'), { budget: 2, seed: 1 });
    expect(est.status).toBe('partial');
    expect(est.note).toMatch(/interval not estimated: 0 coalition/);
    const voting = tableGame(votingTable([3, 1, 1, 1, 1], 4), 'one-more');
    for (const budget of [2, 3]) expect((await new SvarmEstimator().estimate(voting, { budget, seed: 1 })).status).toBe('partial');
    expect((await new SvarmEstimator().estimate(tableGame(votingTable([3, 1, 1, 1, 1], 4), 'two-more'), { budget: 4, seed: 1 })).status).toBe('approximate');
  });

  it('is deterministic for a seed and resumable', async () => {
    const g = () => tableGame(mixedTable(9, 2), 'det');
    const a = await new SvarmEstimator().estimate(g(), { budget: 300, seed: 8 });
    const b = await new SvarmEstimator().estimate(g(), { budget: 300, seed: 8 });
    expect(b.values).toEqual(a.values);
    const run = new SvarmEstimator().start(g(), { seed: 8 });
    const first = await run.continue(100);
    const more = await run.continue(200);
    expect(first.evaluations).toBeLessThanOrEqual(100);
    expect(more.evaluations).toBeGreaterThan(first.evaluations);
    expect(more.evaluations).toBeLessThanOrEqual(300);
  });

  it("beats permutation sampling at equal budget on shapiq's sum-of-unanimity games (n = 20)", async () => {
    // as in bench/games (shapiq's SOUM): n terms, carrier size uniform in 1..n, weight in [0, 1)
    for (const seed of [3, 4]) {
      const rng = createRng(seed);
      const terms = Array.from({ length: 20 }, () => {
        const size = 1 + Math.floor(rng() * 20);
        const order = Array.from({ length: 20 }, (_, i) => i).sort(() => rng() - 0.5);
        return { carriers: order.slice(0, size), weight: rng() };
      });
      const game = new UnanimityGame(`soum${seed}`, Array.from({ length: 20 }, (_, i) => `p${i}`), 0, terms);
      const exact = game.closedForm();
      for (const budget of [80, 200]) {
        const perm = await mse(() => new PermutationEstimator(), (s) => blackBox(game, `p${seed}-${budget}-${s}`), exact, budget, 8);
        const svarm = await mse(() => new SvarmEstimator(), (s) => blackBox(game, `s${seed}-${budget}-${s}`), exact, budget, 8);
        expect(svarm).toBeLessThan(perm);
      }
    }
  });

  it('takes the additive part out: an additive game is exact once the singletons and (n−1)-coalitions are in', async () => {
    const w = [0.5, -0.2, 1.3, 0.05, 0.7, -0.9, 0.4, 0.25, 1.1, -0.3, 0.6, 0.15];
    const game: Game = { id: 'additive', players: w.map((_, i) => `p${i}`), value: (c) => w.reduce((a, x, i) => a + (c[i] ? x : 0), 0) };
    const est = await new SvarmEstimator().estimate(game, { budget: 60, seed: 3 });
    est.values.forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 9));
    // exact values, but the run cannot tell the game from one that differs on a coalition not
    // drawn: no interval estimated, and the interval is the one of no information, not ±1e-12
    expect(est.status).toBe('partial');
    expect(est.note).toContain('every coalition evaluated fits one additive game');
    est.intervals.forEach((iv, i) => expect(iv.low < w[i]! - 1 && w[i]! + 1 < iv.high).toBe(true));
  });
});
