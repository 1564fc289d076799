/**
 * Wrong `EstimateOptions` from a library caller are refused with the option's name and what to
 * give instead (review of the package as a research library): `budget: NaN` made every sampler
 * loop forever, `budget: Infinity` with no target half-width too, `confidence: 95` failed as
 * `normalQuantile: p must be in (0,1), got 48`, and a negative budget or target came back as a
 * `partial` result as if the game had failed.
 */
import { describe, expect, it } from 'vitest';
import {
  CachedGame,
  ExactEstimator,
  KernelEstimator,
  PermutationEstimator,
  RegressionAdjustedEstimator,
  SvarmEstimator,
  TreeMsrEstimator,
  UnbiasedKernelEstimator,
  estimateShapley,
  exactShapley,
  type Game,
} from '../../src/credit/index.js';

const game = (n: number): Game => ({ id: `sum${n}`, players: Array.from({ length: n }, (_, i) => `p${i}`), value: (c) => c.reduce((a, b) => a + b, 0) });
const SAMPLERS = [PermutationEstimator, KernelEstimator, UnbiasedKernelEstimator, RegressionAdjustedEstimator, TreeMsrEstimator, SvarmEstimator];

describe('estimate options are checked at the entry points', () => {
  it('a NaN, negative or fractional budget is a RangeError naming the budget (NaN used to hang every sampler)', async () => {
    for (const budget of [Number.NaN, -5, 1.5]) {
      await expect(estimateShapley(game(20), { budget })).rejects.toThrow(/estimateShapley: budget must be a whole number of value-function evaluations ≥ 0/);
      for (const E of SAMPLERS) expect(() => new E().start(game(20), { budget }), `${E.name} ${budget}`).toThrow(RangeError);
      await expect(new ExactEstimator().estimate(game(4), { budget })).rejects.toThrow(/budget must be/);
      await expect(exactShapley(game(4), { budget })).rejects.toThrow(/exactShapley: budget must be/);
    }
  });

  it('an infinite budget needs a target half-width to stop a sampler; exact enumeration takes it', async () => {
    await expect(estimateShapley(game(20), { budget: Number.POSITIVE_INFINITY })).rejects.toThrow(/^estimate options: budget is Infinity and the run has no targetHalfWidth, so it would never stop/);
    expect(() => new PermutationEstimator().start(game(20), { budget: Number.POSITIVE_INFINITY })).toThrow(/^estimate options: budget is Infinity/);
    await expect(new SvarmEstimator().estimate(game(20), { budget: Number.POSITIVE_INFINITY })).rejects.toThrow(/never stop/);
    const run = new PermutationEstimator().start(game(20), { seed: 1 });
    await expect(run.continue(Number.POSITIVE_INFINITY)).rejects.toThrow(/continue\(extraBudget\): extraBudget is Infinity .* never stop/);
    await expect(run.continue(Number.NaN)).rejects.toThrow(/extraBudget must be a whole number/);
    // with a target, or on a game small enough to enumerate, Infinity is a valid budget
    expect((await estimateShapley(game(6), { budget: Number.POSITIVE_INFINITY })).status).toBe('exact');
    const targeted = await new PermutationEstimator().estimate(game(8), { budget: Number.POSITIVE_INFINITY, targetHalfWidth: 0.5, seed: 1 });
    expect(targeted.values.reduce((a, b) => a + b, 0)).toBeCloseTo(8, 9);
  });

  it('confidence outside (0, 1) and a target half-width ≤ 0 are refused with what to give', async () => {
    await expect(estimateShapley(game(20), { budget: 100, confidence: 95 })).rejects.toThrow(/confidence must be a number in \(0, 1\), e\.g\. 0\.95 for 95% intervals, got 95/);
    for (const E of SAMPLERS) expect(() => new E().start(game(20), { confidence: 0 })).toThrow(/confidence must be/);
    await expect(estimateShapley(game(20), { budget: 100, targetHalfWidth: -1 })).rejects.toThrow(/targetHalfWidth must be a finite number > 0/);
    await expect(estimateShapley(game(20), { budget: 100, seed: Number.NaN })).rejects.toThrow(/seed must be a finite number/);
  });

  it('a number given as a string is shown as one: "confidence must be a number in (0, 1), e.g. 0.95 …, got 0.95" refused the value it suggested', async () => {
    const loose = (o: Record<string, unknown>) => o as never;
    await expect(estimateShapley(game(20), loose({ budget: 100, confidence: '0.95' }))).rejects.toThrow(/confidence must be a number in \(0, 1\), e\.g\. 0\.95 for 95% intervals, got a string \("0\.95"\)$/);
    await expect(estimateShapley(game(20), loose({ budget: '100' }))).rejects.toThrow(/budget must be a whole number .*, got a string \("100"\)$/);
    await expect(estimateShapley(game(20), loose({ budget: 100, targetHalfWidth: '0.02' }))).rejects.toThrow(/targetHalfWidth must be .*, got a string \("0\.02"\); leave it out/);
    await expect(estimateShapley(game(20), loose({ budget: 100, seed: '7' }))).rejects.toThrow(/seed must be a finite number, got a string \("7"\)$/);
    expect(() => new SvarmEstimator(loose({ coalitionsPerRound: '5' }))).toThrow(/coalitionsPerRound must be a whole number ≥ 1, got a string \("5"\); leave it out/);
    // numbers read as before
    await expect(estimateShapley(game(20), { budget: Number.NaN })).rejects.toThrow(/got NaN$/);
  });

  it('a misspelt option is refused with the one meant (it was ignored: a different run than asked for)', async () => {
    // plain JavaScript: the type check that would catch these is not there
    const loose = (o: Record<string, unknown>) => o as never;
    await expect(estimateShapley(game(20), loose({ budget: 100, targetHalfwidth: 0.01 }))).rejects.toThrow(/^estimateShapley: unknown option targetHalfwidth — did you mean targetHalfWidth\? — accepted: budget, targetHalfWidth, confidence, seed, signal, valueScale, maxExactPlayers/);
    await expect(estimateShapley(game(20), loose({ budget: 100, sead: 7 }))).rejects.toThrow(/unknown option sead — did you mean seed\?/);
    for (const E of SAMPLERS) expect(() => new E().start(game(20), loose({ budget: 100, budjet: 5 })), E.name).toThrow(/^estimate options: unknown option budjet — did you mean budget\? — accepted: budget, targetHalfWidth, confidence, seed, signal, valueScale$/);
    await expect(new SvarmEstimator().estimate(game(20), loose({ budget: 100, confidance: 0.9 }))).rejects.toThrow(/unknown option confidance — did you mean confidence\?/);
    await expect(new ExactEstimator().estimate(game(4), loose({ seeed: 1 }))).rejects.toThrow(/^ExactEstimator\.estimate: unknown option seeed/);
    await expect(exactShapley(game(4), loose({ maxPlayer: 20 }))).rejects.toThrow(/^exactShapley: unknown option maxPlayer — did you mean maxPlayers\? — accepted: maxPlayers, signal, budget$/);
    // estimateShapley's own keys still pass on to the estimator it picks
    const r = await estimateShapley(game(20), { budget: 200, seed: 1, approximate: 'kernel', maxExactPlayers: 4, kernel: {}, useClosedForm: false });
    expect(r.estimator).toBe('kernel');
  });

  it("estimateShapley's approximate and maxExactPlayers are checked: an unknown sampler name ran permutation sampling without a word", async () => {
    const loose = (o: Record<string, unknown>) => o as never;
    // 'auto' (credit.estimator's word) ran permutation where leaving it out runs SVARM; the result name regression-adjusted-msr, a typo, 'exact' likewise
    for (const approximate of ['auto', 'exact', 'regression-adjusted-msr', 'unbiased_kernel', 7]) {
      await expect(estimateShapley(game(20), loose({ budget: 400, approximate })), String(approximate)).rejects.toThrow(
        /^estimateShapley: approximate must be one of permutation, kernel, unbiased-kernel, regression-adjusted, tree-msr, svarm, got .*; leave it out for the default choice/,
      );
    }
    await expect(estimateShapley(game(20), loose({ budget: 400, approximate: 'auto' }))).rejects.toThrow(/got "auto"/);
    for (const maxExactPlayers of [Number.NaN, -1, 2.5, '12']) {
      await expect(estimateShapley(game(6), loose({ budget: 400, maxExactPlayers })), String(maxExactPlayers)).rejects.toThrow(/^estimateShapley: maxExactPlayers must be a whole number ≥ 0 .*, got (NaN|-1|2\.5|"12"); leave it out for 14$/);
    }
    // the valid ones still choose as documented
    expect((await estimateShapley(game(20), { budget: 400, approximate: 'regression-adjusted', seed: 1 })).estimator).toBe('regression-adjusted-msr');
    expect((await estimateShapley(game(6), { budget: 400, maxExactPlayers: 0, seed: 1 })).estimator).toBe('svarm');
  });

  it("an estimator's own options are checked when it is made: a round size of 0 hung the kernel sampler, a misspelt key was ignored", () => {
    const loose = (o: Record<string, unknown>) => o as never;
    // sampled no pair per round and looped for ever
    expect(() => new KernelEstimator({ pairsPerRound: 0 })).toThrow(/^KernelEstimator option pairsPerRound must be a whole number ≥ 1, got 0; leave it out for the default$/);
    expect(() => new KernelEstimator({ bootstrap: Number.NaN })).toThrow(/bootstrap must be a whole number ≥ 0, got NaN/);
    // stopped after v(N) and v(∅) with a partial result, the budget unspent
    expect(() => new SvarmEstimator({ coalitionsPerRound: 0 })).toThrow(/^SvarmEstimator option coalitionsPerRound must be a whole number ≥ 1/);
    // NaN made the whole run one snapshot round
    for (const E of [UnbiasedKernelEstimator, RegressionAdjustedEstimator, TreeMsrEstimator]) expect(() => new E({ roundSamples: Number.NaN }), E.name).toThrow(/option roundSamples must be a whole number ≥ 1, got NaN/);
    expect(() => new PermutationEstimator({ roundEvaluations: 2.5 })).toThrow(/roundEvaluations must be a whole number ≥ 1/);
    expect(() => new PermutationEstimator(loose({ stratifed: false }))).toThrow(/^PermutationEstimator: unknown option stratifed — did you mean stratified\? — accepted: antithetic, stratified, roundEvaluations$/);
    expect(() => new TreeMsrEstimator(loose({ fold: 3 }))).toThrow(/^TreeMsrEstimator: unknown option fold — did you mean folds\?/);
    // through estimateShapley's per-sampler options too
    return expect(estimateShapley(game(20), { budget: 100, approximate: 'kernel', kernel: { pairsPerRound: 0 } })).rejects.toThrow(/pairsPerRound must be/);
  });

  it('PermutationEstimator roundEvaluations sets the snapshot rounds (it was never read: one block per round whatever it said)', async () => {
    const count = async (roundEvaluations?: number) => {
      let k = 0;
      for await (const _ of new PermutationEstimator(roundEvaluations === undefined ? {} : { roundEvaluations }).start(game(12), { budget: 2000, seed: 1 }).snapshots()) k++;
      return k;
    };
    const perBlock = await count();
    expect(perBlock).toBeGreaterThan(8);
    expect(await count(1000)).toBeLessThanOrEqual(3);
    expect(await count(1)).toBeGreaterThanOrEqual(perBlock); // one block a round (the default step is a block's cost, which cache hits lower)
  });

  it('CachedGame options are checked: maxEntries 0 failed inside lru-cache, a negative budget read as exhausted, a misspelt key was ignored', async () => {
    const loose = (o: Record<string, unknown>) => o as never;
    expect(() => new CachedGame(game(3), { maxEntries: 0 })).toThrow(/^CachedGame option maxEntries must be a whole number ≥ 1, got 0; leave it out for the default$/);
    expect(() => new CachedGame(game(3), { budget: -1 })).toThrow(/^CachedGame option budget must be a whole number of evaluations ≥ 0 \(or Infinity: no limit\), got -1$/);
    expect(() => new CachedGame(game(3), { concurrency: 0 })).toThrow(/concurrency must be a whole number ≥ 1/);
    expect(() => new CachedGame(game(3), loose({ maxEntires: 10 }))).toThrow(/^CachedGame: unknown option maxEntires — did you mean maxEntries\?/);
    const cg = new CachedGame(game(3), { budget: 0 });
    expect(() => cg.value(new Uint8Array([1, 0, 0]))).toThrow(/budget exhausted/);
    expect(await new CachedGame(game(3), { budget: Number.POSITIVE_INFINITY, maxEntries: 4, concurrency: 1 }).value(new Uint8Array([1, 1, 0]))).toBe(2);
  });

  it('nothing evaluated (budget 0 or 1, or the signal aborted before v(N) and v(∅)): every sampler gives the equal split with a wide interval, not [0, 0]', async () => {
    for (const Sampler of SAMPLERS) {
      const runs = [await new Sampler().estimate(game(5), { budget: 1, seed: 1 }), await new Sampler().estimate(game(5), { budget: 100, seed: 1, signal: AbortSignal.abort() })];
      for (const r of runs) {
        expect(r.status, Sampler.name).toBe('partial');
        // [0, 0] for permutation, unbiased kernel, regression-adjusted and tree-MSR without the fix
        for (const { low, high } of r.intervals) expect(high - low, Sampler.name).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('valid options are unchanged: budget 0 and 1 still give the documented partial result', async () => {
    for (const budget of [0, 1]) {
      const r = await estimateShapley(game(5), { budget });
      expect(r.status).toBe('partial');
      expect(r.note).toMatch(/budget allowed fewer than the 2 evaluations/);
    }
  });
});
