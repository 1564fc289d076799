import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFiles } from '../../src/cli/generate.js';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { listOtlpFiles } from '../../src/sources/file/otlp-files.js';
import { checkCompareOptions, compareEstimators, lowestErrorPerBudget, renderCompareReport, statusAtTarget } from '../../src/runtime/compare-estimators.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { processOptionsOf } from '../../src/runtime/local-stages.js';
import { creditInputOf } from '../../src/runtime/process-episode.js';
import { generateFleet, generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { tempDir } from '../support/temp-dir.js';

const config = loadConfig({ env: {} }).config;
const options = processOptionsOf(config);

/** Episodes of a generated fleet (real OTel SDK spans, all conventions), closed as the pipeline closes them. */
async function fleetEpisodes(episodes: number, seed: number): Promise<Episode[]> {
  const { spans, logs } = kafkaRecordsFor(await generateFleet({ episodes, seed }), 'otlp_proto');
  const assembler = new EpisodeAssembler({ maxOpenEpisodes: episodes + 8 });
  for (const r of spans) assembler.addSpans(decodeTraces(r.value, 'otlp_proto'));
  for (const r of logs) assembler.addEvaluations(evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')));
  return assembler.flush('shutdown');
}

/** Episodes of generated runs with `agents` agents each (real OTel SDK spans), closed as the pipeline closes them. */
async function largeEpisodes(agents: number, count: number): Promise<Episode[]> {
  const assembler = new EpisodeAssembler({ maxOpenEpisodes: count + 8 });
  for (let i = 0; i < count; i++) {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 300 + i, agents, steps: 2 });
    assembler.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    assembler.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  }
  return assembler.flush('shutdown');
}

describe('compareEstimators (agent-credit compare)', () => {
  it('compares 20- and 40-agent episodes against the closed form of the provenance game (it skipped every episode over credit.maxExactPlayers, 14), and says which reference it used', async () => {
    for (const agents of [20, 40]) {
      const episodes = await largeEpisodes(agents, 1);
      const report = await compareEstimators(episodes, options, { estimators: ['svarm'], budgetsPerPlayer: [10], seeds: 1 });
      expect(report.compared).toBe(1);
      expect(report.references).toEqual({ 'closed-form': 1 });
      expect(report.rows[0]!.meanAgents).toBe(agents);
      expect(report.rows[0]!.meanAbsError).toBeLessThan(0.05);
      // the reference is the pipeline's own closed-form credit
      const closed = (await creditEpisode(creditInputOf(episodes[0]!, options), options.credit)).estimate;
      expect(closed.estimator).toBe('closed-form');
      expect(report.episodeRows[0]!.exact.map((a) => a.value)).toEqual([...closed.values]);
      expect(renderCompareReport(report)).toContain("Reference: exact Shapley values of the configured game — the game's closed form for 1 episode(s).");
    }
  }, 120_000);

  it('a black-box game (no closed form) is enumerated within credit.maxExactPlayers and skipped, saying why, beyond it', async () => {
    // an additive game over the episode's agents, offered without a closed form (a module game)
    const credit = {
      ...options.credit,
      game: 'module' as const,
      gameFactory: (_: unknown, ctx: { agentIds: readonly string[]; systemValue: number; baseline: number }) => {
        const n = ctx.agentIds.length;
        return { agentGame: { id: `additive-${n}`, players: ctx.agentIds, value: (c: Uint8Array) => ctx.baseline + c.reduce((s, x, i) => s + (x ? ((ctx.systemValue - ctx.baseline) * (i + 1)) / ((n * (n + 1)) / 2) : 0), 0) } };
      },
    };
    const small = await compareEstimators((await fleetEpisodes(3, 5)).slice(0, 1), { ...options, credit }, { estimators: ['permutation'], budgetsPerPlayer: [4], seeds: 1 });
    expect(small.references).toEqual({ enumeration: 1 });
    expect(renderCompareReport(small)).toContain('enumeration of all coalitions for 1 episode(s)');
    const large = await compareEstimators(await largeEpisodes(16, 1), { ...options, credit }, { estimators: ['permutation'], budgetsPerPlayer: [4], seeds: 1 });
    expect(large.compared).toBe(0);
    // the reason names the fix: a higher cap (it said only why, and the cap was the researcher's to find)
    expect(large.skipped).toEqual({ 'more agents than credit.maxExactPlayers (14) and the game has no closed form: no exact reference — raise credit.maxExactPlayers (at most 24) to enumerate such episodes, 2^agents value-function calls each': 1 });
    const raised = await compareEstimators(await largeEpisodes(16, 1), { ...options, credit: { ...credit, maxExactPlayers: 16 } }, { estimators: ['permutation'], budgetsPerPlayer: [4], seeds: 1 });
    expect(raised.references).toEqual({ enumeration: 1 });
  }, 60_000);

  it('--json rows: one per (episode, estimator, budget, seed) with per-agent estimate, exact value and interval, from which the pooled figures follow', async () => {
    const episodes = await fleetEpisodes(6, 11);
    const report = await compareEstimators(episodes, options, { estimators: ['permutation', 'svarm'], budgetsPerPlayer: [4, 10], seeds: 2 });
    expect(report.episodeRows).toHaveLength(report.compared);
    expect(report.runRows).toHaveLength(report.compared * 2 * 2 * 2);
    const exactOf = new Map(report.episodeRows.map((e) => [e.episodeId, new Map(e.exact.map((a) => [a.agentId, a.value]))]));
    for (const row of report.rows) {
      const runs = report.runRows.filter((r) => r.estimator === row.estimator && r.budgetPerPlayer === row.budgetPerPlayer);
      expect(runs).toHaveLength(row.runs);
      expect(new Set(runs.map((r) => r.seed))).toEqual(new Set(report.seeds));
      const agents = runs.flatMap((r) => r.agents.map((a) => ({ ...a, episodeId: r.episodeId })));
      for (const a of agents) {
        expect(a.exact).toBe(exactOf.get(a.episodeId)!.get(a.agentId));
        expect(a.low).toBeLessThanOrEqual(a.high);
      }
      const covered = agents.filter((a) => a.low - 1e-9 * Math.max(1, Math.abs(a.exact)) <= a.exact && a.exact <= a.high + 1e-9 * Math.max(1, Math.abs(a.exact))).length;
      expect(covered / agents.length).toBeCloseTo(row.coverage, 12);
      expect(agents.reduce((m, a) => Math.max(m, Math.abs(a.estimate - a.exact)), 0)).toBeCloseTo(row.maxAbsError, 12);
    }
  }, 120_000);

  it('is exported from the runtime entry (agent-credit/runtime), as docs/credit.md names its library form', async () => {
    const runtime = await import('../../src/runtime/index.js');
    expect(runtime.compareEstimators).toBe(compareEstimators);
    expect(runtime.renderCompareReport).toBe(renderCompareReport);
    expect(runtime.COMPARABLE_ESTIMATORS).toContain('svarm');
  });

  it('takes the exact agent credit as reference, and the estimators approach it as the budget grows, within budget', async () => {
    const episodes = await fleetEpisodes(16, 20261202);
    const report = await compareEstimators(episodes, options, { estimators: ['permutation', 'kernel', 'regression-adjusted', 'svarm'], budgetsPerPlayer: [2, 100], seeds: 2 });
    expect(report.episodes).toBe(episodes.length);
    expect(report.compared).toBeGreaterThanOrEqual(8);
    expect(report.compared + Object.values(report.skipped).reduce((a, b) => a + b, 0)).toBe(episodes.length);
    expect(report.rows).toHaveLength(8);
    for (const row of report.rows) {
      expect(row.runs).toBe(report.compared * 2);
      expect(row.meanAgents).toBeGreaterThanOrEqual(2);
      // the budget is k · n evaluations: never more
      expect(row.meanEvaluations).toBeLessThanOrEqual(row.budgetPerPlayer * row.meanAgents + 1e-9);
      expect(row.coverage).toBeGreaterThanOrEqual(0);
      expect(row.coverage).toBeLessThanOrEqual(1);
      expect(row.maxAbsError).toBeGreaterThanOrEqual(row.meanAbsError);
    }
    for (const estimator of ['permutation', 'kernel', 'regression-adjusted', 'svarm'] as const) {
      const [small, large] = [2, 100].map((k) => report.rows.find((r) => r.estimator === estimator && r.budgetPerPlayer === k)!);
      expect(large!.meanAbsError).toBeLessThan(small!.meanAbsError);
      expect(large!.meanAbsError).toBeLessThan(0.02);
    }
    const md = renderCompareReport(report);
    expect(md).toContain(`${report.compared} of ${episodes.length} episodes compared`);
    expect(md.split('\n').filter((l) => l.startsWith('| permutation |'))).toHaveLength(2);
    // the summary names, per budget, the row with the lowest relative MSE
    const best = lowestErrorPerBudget(report.rows);
    expect([...new Set(best.map((b) => b.budgetPerPlayer))]).toEqual([2, 100]);
    for (const b of best) {
      for (const row of report.rows.filter((r) => r.budgetPerPlayer === b.budgetPerPlayer)) expect(b.relativeMse).toBeLessThanOrEqual(row.relativeMse * (1 + 1e-12) + 1e-30);
      expect(md).toMatch(new RegExp(`${b.budgetPerPlayer}·n ([a-z-]+ = )*${b.estimator}( = [a-z-]+)* \\(`));
    }
    // ties (here: every estimator exact) are all named, not the first by order
    const tie = (estimator: string) => ({ ...report.rows[0]!, estimator, budgetPerPlayer: 7, relativeMse: 0 }) as (typeof report.rows)[number];
    expect(lowestErrorPerBudget([tie('permutation'), tie('svarm')]).map((r) => r.estimator)).toEqual(['permutation', 'svarm']);
    // rounding noise of exact values (1e-33 vs 4e-31) is a tie too, shown as such, not as one of the two numbers
    const noise = (estimator: string, relativeMse: number) => ({ ...tie(estimator), relativeMse });
    const rows = [noise('tree-msr', 4e-31), noise('svarm', 1e-33), noise('kernel', 2e-3)];
    expect(lowestErrorPerBudget(rows).map((r) => r.estimator)).toEqual(['tree-msr', 'svarm']);
    expect(renderCompareReport({ ...report, rows })).toContain('7·n tree-msr = svarm (numerically exact)');
  }, 120_000);

  it('its reference equals the closed form the pipeline uses for the provenance game', async () => {
    const episodes = await fleetEpisodes(6, 7);
    let checked = 0;
    for (const episode of episodes) {
      const input = creditInputOf(episode, options);
      if (!input.evaluation) continue;
      const closed = (await creditEpisode(input, options.credit)).estimate;
      const exact = (await creditEpisode(input, { ...options.credit, estimator: 'exact', budget: 2 ** 16 })).estimate;
      expect(closed.estimator).toBe('closed-form');
      expect(exact.estimator).toBe('exact');
      expect(exact.players).toEqual(closed.players);
      exact.values.forEach((v, i) => expect(v).toBeCloseTo(closed.values[i]!, 9));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('judges each run against the configured target half-width, not the ~0 target that makes it spend the whole budget (every sampled run read "partial")', () => {
    const est = (halfWidth: number, status: 'exact' | 'approximate' | 'partial', note?: string) => ({
      players: ['a', 'b'],
      values: [0.3, 0.7],
      intervals: [0.3, 0.7].map((v) => ({ low: v - halfWidth, high: v + halfWidth })),
      confidence: 0.95,
      evaluations: 8,
      status,
      estimator: 'kernel',
      grandValue: 1,
      emptyValue: 0,
      ...(note !== undefined ? { note } : {}),
    });
    const exhausted = 'budget exhausted before every half-width reached 1e-12';
    expect(statusAtTarget(est(2e-11, 'partial', exhausted), 0.02)).toBe('approximate');
    expect(statusAtTarget(est(0.05, 'partial', exhausted), 0.02)).toBe('partial');
    expect(statusAtTarget(est(0, 'partial', 'game failed: boom'), 0.02)).toBe('partial');
    expect(statusAtTarget(est(0, 'exact'), 0.02)).toBe('exact');
  });

  it("the status column is the engine's status at the configured target: a few identical samples do not meet it (MIN_SAMPLES_FOR_TARGET)", async () => {
    // An additive 6-player game: every permutation gives the same marginals, so a short run has
    // zero-variance intervals that "meet" any target; the engine does not stop on fewer than 10
    // samples and reports such a run partial (docs/credit.md: runs stopped after 4 evaluations,
    // 0.3–0.6 off, claimed approximate). Read off the forced run's intervals, the column said approximate.
    const players = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const offsets = [0.05, -0.05, 0.1, -0.1, 0.02, -0.02];
    const credit = {
      ...options.credit,
      game: 'module' as const,
      gameFactory: (_: unknown, ctx: { systemValue: number; baseline: number }) => ({
        agentGame: { id: 'additive', players, value: (c: Uint8Array) => ctx.baseline + c.reduce((s, x, i) => s + (x ? (ctx.systemValue - ctx.baseline) / 6 + offsets[i]! : 0), 0) },
      }),
    };
    const episodes = (await fleetEpisodes(3, 5)).slice(0, 1);
    const report = await compareEstimators(episodes, { ...options, credit }, { estimators: ['permutation'], budgetsPerPlayer: [4], seeds: 1 });
    expect(report.compared).toBe(1);
    const engine = (await creditEpisode(creditInputOf(episodes[0]!, options), { ...credit, estimator: 'permutation', budget: 24, seed: report.seeds[0]! })).estimate;
    expect(engine.status).toBe('partial'); // the run this test is about: the target not trusted on so few samples
    expect(report.rows[0]!.statuses).toEqual({ [engine.status]: 1 });
  });

  it("README's estimator claim holds on README's corpus (12 generated 10-agent episodes, 5 seeds): SVARM lowest at 4·n, tree-MSR lower at 10·n and 40·n", async () => {
    // The corpus and command README and docs/credit.md give (`generate corpus --episodes 12 --seed 1
    // --kinds error-retry,saboteur,redundant --agents 10`, then `compare … --budgets 4,10,40 --seeds 5`).
    // It used 3 other episodes and 2 seeds: tree-MSR's in-sample fit made it lowest at 4·n there
    // (0.068 vs SVARM's 0.094) while README's corpus still has SVARM lowest (0.089 vs 0.16).
    const dir = mkdtempSync(join(tmpdir(), 'agent-credit-compare-'));
    try {
      await generateFiles({ dir, episodes: 12, seed: 1, kinds: ['error-retry', 'saboteur', 'redundant'], agents: 10, encoding: 'proto' });
      const episodes: Episode[] = [];
      await replayFiles(config, listOtlpFiles([dir]), { sinks: [], processEpisode: async (episode) => (episodes.push(episode), []) });
      const report = await compareEstimators(episodes, options, { estimators: ['tree-msr', 'tree-msr-cross-fitted', 'svarm'], budgetsPerPlayer: [4, 10, 40], seeds: 5 });
      expect(report.compared).toBe(12);
      const mse = (estimator: string, k: number) => report.rows.find((r) => r.estimator === estimator && r.budgetPerPlayer === k)!.relativeMse;
      expect(mse('svarm', 4)).toBeLessThan(mse('tree-msr', 4));
      expect(mse('tree-msr', 10)).toBeLessThan(mse('svarm', 10));
      expect(mse('tree-msr', 40)).toBeLessThan(mse('svarm', 40));
      // docs/credit.md's table: the in-sample point (default) lower at 4·n and 10·n (0.16 vs 0.37,
      // 5.5e-5 vs 1.5e-4); at 40·n both numerically exact, the border strata reaching sizes 2 and 8
      // (1.2e-6 and 2.0e-7 before)
      expect(mse('tree-msr', 4)).toBeLessThan(mse('tree-msr-cross-fitted', 4));
      expect(mse('tree-msr', 10)).toBeLessThan(mse('tree-msr-cross-fitted', 10));
      expect(mse('tree-msr', 40)).toBeLessThan(1e-24);
      expect(mse('tree-msr-cross-fitted', 40)).toBeLessThan(1e-24);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('the lowest error of our samplers at 4 evaluations per agent on generated agent episodes — at 10·n and 40·n tree-MSR');
    expect(readme).not.toContain('agent episodes from 4 evaluations per agent on');
  }, 120_000);

  it('the tree-msr row is the in-sample fit whatever credit.treeMsrFit says: with cross-fitted configured both rows ran the cross-fitted fit', async () => {
    const episodes = await largeEpisodes(10, 1);
    const run = (credit: typeof options.credit) => compareEstimators(episodes, { ...options, credit }, { estimators: ['tree-msr', 'tree-msr-cross-fitted'], budgetsPerPlayer: [4], seeds: 1 });
    const configured = await run({ ...options.credit, treeMsrFit: 'cross-fitted' });
    const plain = await run(options.credit);
    const estimates = (r: Awaited<ReturnType<typeof run>>, estimator: string) => r.runRows.find((x) => x.estimator === estimator)!.agents.map((a) => a.estimate);
    // each row is its fit, as the events name them, with or without the configured fit
    expect(estimates(configured, 'tree-msr')).toEqual(estimates(plain, 'tree-msr'));
    expect(estimates(configured, 'tree-msr-cross-fitted')).toEqual(estimates(plain, 'tree-msr-cross-fitted'));
    expect(estimates(configured, 'tree-msr')).not.toEqual(estimates(configured, 'tree-msr-cross-fitted'));
  }, 60_000);

  it("with normalize: false the status column is judged against the engine's target in the score's units (it used the bare 0.02: partial where the engine said approximate)", async () => {
    const episodes = await largeEpisodes(10, 3);
    // a 0–10 score: the engine's target is 0.02 × 10 = 0.2 (its events say target_half_width 0.2)
    const credit = { ...options.credit, normalize: false, normalization: { task_success: { min: 0, max: 10 } }, successThreshold: { task_success: 0.5 } };
    const report = await compareEstimators(episodes, { ...options, credit }, { estimators: ['svarm'], budgetsPerPlayer: [10], seeds: 2 });
    expect(report.compared).toBe(3);
    const mismatches: string[] = [];
    for (const run of report.runRows) {
      const engine = await creditEpisode(creditInputOf(episodes.find((e) => e.episodeId === run.episodeId)!, options), { ...credit, estimator: 'svarm', budget: 10 * run.agents.length, seed: run.seed });
      expect(engine.estimator.targetHalfWidth).toBeCloseTo(0.2, 12);
      if (engine.estimate.status !== run.status) mismatches.push(`${run.episodeId} seed ${run.seed}: compare ${run.status}, engine ${engine.estimate.status}`);
    }
    expect(mismatches).toEqual([]);
    expect(report.rows[0]!.statuses.approximate).toBeGreaterThan(0);
  }, 60_000);

  it('compares each episode once, as its latest revision: a late span\u2019s correction is not a second episode', async () => {
    // 3 generated runs, and a span of run 0 ending two minutes after it: replay credits run 0, then
    // the late span re-opens it as revision 1. The revision it replaces was compared beside it
    // (4 of 4 episodes compared, run 0 weighed twice) — the replay summary counts 3 episodes.
    const dir = tempDir('agent-credit-compare-late-');
    await generateFiles({ dir, episodes: 3, seed: 5, kinds: ['success'], encoding: 'json' });
    const body = JSON.parse(readFileSync(join(dir, '0000-traces.json'), 'utf8')) as { resourceSpans: { scopeSpans: { spans: { spanId: string; name: string; startTimeUnixNano: string; endTimeUnixNano: string }[] }[] }[] };
    const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const end = spans.reduce((m, s) => (BigInt(s.endTimeUnixNano) > m ? BigInt(s.endTimeUnixNano) : m), 0n);
    const late = { ...spans.find((s) => s.name.startsWith('chat'))!, spanId: 'abcdefabcdef0001', startTimeUnixNano: String(end + 120_000_000_000n), endTimeUnixNano: String(end + 121_000_000_000n) };
    const rs = body.resourceSpans[0]!;
    writeFileSync(join(dir, '0000-late.json'), JSON.stringify({ resourceSpans: [{ ...rs, scopeSpans: [{ ...rs.scopeSpans[0]!, spans: [late] }] }] }));
    const closed: Episode[] = [];
    await replayFiles(config, listOtlpFiles([dir]), { sinks: [], processEpisode: async (episode) => (closed.push(episode), []) });
    expect(closed.map((e) => e.revision).sort()).toEqual([0, 0, 0, 1]); // the correction happened
    const corrected = closed.find((e) => e.revision === 1)!;
    const report = await compareEstimators(closed, options, { estimators: ['permutation'], budgetsPerPlayer: [4], seeds: 1 });
    expect(report.episodes).toBe(3);
    expect(report.compared).toBe(3);
    expect(report.rows[0]!.runs).toBe(3);
    expect(report.episodeRows.filter((r) => r.episodeId === corrected.episodeId)).toHaveLength(1);
    // the row is the correction's: its exact credit, not revision 0's
    const exact = (await creditEpisode(creditInputOf(corrected, options), options.credit)).estimate;
    expect(report.episodeRows.find((r) => r.episodeId === corrected.episodeId)!.exact.map((a) => a.value)).toEqual([...exact.values]);
    expect(renderCompareReport(report)).toContain('3 of 3 episodes compared');
  });

  it('refuses options it cannot run, naming the flag', () => {
    expect(() => checkCompareOptions({ estimators: ['bogus' as never], budgetsPerPlayer: [4], seeds: 1 })).toThrow(/--estimators: "bogus" is not one of .*tree-msr-cross-fitted/);
    expect(() => checkCompareOptions({ estimators: ['tree-msr-cross-fitted'], budgetsPerPlayer: [4], seeds: 1 })).not.toThrow();
    expect(() => checkCompareOptions({ estimators: ['kernel'], budgetsPerPlayer: [0], seeds: 1 })).toThrow(/--budgets/);
    expect(() => checkCompareOptions({ estimators: ['kernel'], budgetsPerPlayer: [4], seeds: 0 })).toThrow(/--seeds/);
  });

  it('refuses library options of the wrong type, naming them: a string list was read letter by letter, a baseSeed of x became seeds x0, x1', () => {
    const loose = (o: Record<string, unknown>) => ({ estimators: ['svarm'], budgetsPerPlayer: [4], seeds: 1, ...o }) as never;
    expect(() => checkCompareOptions(loose({ estimators: 'svarm' }))).toThrow(/^estimators: give an array of names, e\.g\. \['svarm', 'permutation'\], got "svarm"$/);
    expect(() => checkCompareOptions(loose({ budgetsPerPlayer: 4 }))).toThrow(/^budgetsPerPlayer: give an array/);
    expect(() => checkCompareOptions(loose({ baseSeed: 'x' }))).toThrow(/^baseSeed: give an integer \(the first seed; leave it out for credit\.seed\), got "x"$/);
    expect(() => checkCompareOptions(loose({ baseSeed: 7 }))).not.toThrow();
  });

  it('refuses an estimator or budget given twice: its rows counted every run twice and runRows listed them twice', async () => {
    expect(() => checkCompareOptions({ estimators: ['svarm', 'kernel', 'svarm'], budgetsPerPlayer: [4], seeds: 1 })).toThrow(/^--estimators: "svarm" is named twice; name each estimator once$/);
    expect(() => checkCompareOptions({ estimators: ['svarm'], budgetsPerPlayer: [4, 10, 4], budgetsText: '4,10,04', seeds: 1 })).toThrow(/^--budgets: 4 is given twice in "4,10,04"; give each budget once$/);
    // the library entry checks them too
    const episodes = await fleetEpisodes(2, 5);
    await expect(compareEstimators(episodes, options, { estimators: ['svarm'], budgetsPerPlayer: [4, 4], seeds: 1 })).rejects.toThrow(/--budgets: 4 is given twice/);
  });
});
