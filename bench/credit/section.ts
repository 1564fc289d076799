/** Section 1 driver: games → (our estimators ‖ shapiq in two Python processes) → scores → markdown. */
import { join } from 'node:path';
import { num, table } from '../lib/markdown.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { buildGames, compareBest, EXACT_FLOOR, ratioGeomean, repSeeds, runOurs, scoreShapiq, summarizeCells, type AccuracyConfig, type AccuracyRun, type BenchGame } from './accuracy.js';
import { ensureShapiqVenv, runShapiq, type PythonEnv, type ShapiqOutput } from './baseline.js';
import { loadOurEstimators, type OurEstimator } from './our-estimators.js';
import { allEstimatorsTable, detailTable, failuresList, headlineTable, msePlots, overBudget, RATIO_GOAL } from './report.js';
import { provenanceGames } from './provenance-games.js';
import { closedFormCheck } from './closed-form-check.js';

function accuracyConfig(ctx: Pick<BenchContext, 'quick' | 'seed'>): AccuracyConfig {
  return ctx.quick
    ? { sizes: [10], families: ['random unanimity', 'weighted voting', 'glove', 'airport'], instances: 1, reps: 2, budgetMultiples: [4, 10], seed: ctx.seed }
    : { sizes: [10, 20, 50], families: ['random unanimity', 'weighted voting', 'glove', 'airport'], instances: 1, reps: 4, budgetMultiples: [4, 10, 20, 40], seed: ctx.seed };
}

export async function creditAccuracySection(ctx: BenchContext, injected?: OurEstimator[]): Promise<SectionResult> {
  const t0 = performance.now();
  const config = accuracyConfig(ctx);
  const notes: string[] = [];
  const prov = await provenanceGames(config.sizes, ctx.seed);
  if (prov.note) notes.push(prov.note);
  const games: BenchGame[] = buildGames(config, prov.specs);
  const seeds = repSeeds(config);
  const loaded = injected ? { estimators: injected, missing: [] } : await loadOurEstimators();
  for (const m of loaded.missing) notes.push(`Our estimator **${m.name}** not measured: ${m.reason}.`);

  // shapiq runs in two Python processes (one per core) while our estimators run here.
  let shapiq: { env: PythonEnv; outputs: ShapiqOutput[] } | undefined;
  let shapiqPromise: Promise<typeof shapiq> = Promise.resolve(undefined);
  if (ctx.baseline) {
    shapiqPromise = (async () => {
      const env = await ensureShapiqVenv(join(ctx.repo, 'bench', '.venv'));
      ctx.log(`credit: shapiq ${env.shapiqVersion} (${env.python})`);
      const shards = [0, 1].map((s) => games.filter((_, i) => i % 2 === s));
      const outputs = await Promise.all(
        shards.map((shard, s) =>
          runShapiq(env, { games: shard.map((g) => g.spec), budgets: Object.fromEntries(shard.map((g) => [g.spec.id, g.budgets])), seeds }, ctx.workDir, `shard${s}`),
        ),
      );
      return { env, outputs };
    })().catch((err: Error) => {
      notes.push(`shapiq baseline not run: ${err.message}`);
      return undefined;
    });
  } else {
    notes.push('shapiq baseline not run (`--no-baseline`, or `--quick` without an existing bench/.venv).');
  }
  ctx.log(`credit: ${games.length} games, ${loaded.estimators.length} of our estimators, ${seeds.length} seeds`);
  const ours: AccuracyRun[] = await runOurs(games, loaded.estimators, seeds);
  shapiq = await shapiqPromise;
  const theirs: AccuracyRun[] = shapiq ? shapiq.outputs.flatMap((o) => scoreShapiq(games, o)) : [];
  const runs = [...ours, ...theirs];
  const cells = summarizeCells(runs);
  const comparisons = compareBest(games, cells);
  const over = overBudget(runs);

  const sizes = [...new Set(games.map((g) => g.spec.n))];
  const headline: Record<string, number> = {};
  for (const n of sizes) {
    const list = comparisons.filter((c) => c.n === n);
    if (list.some((c) => Number.isFinite(c.ratio))) headline[`mse_ratio_geomean_n${n}`] = ratioGeomean(list);
  }
  const oursOk = ours.filter((r) => r.mse !== undefined);
  if (oursOk.length) headline.our_runs = oursOk.length;
  const theirsOk = theirs.filter((r) => r.mse !== undefined);
  if (theirsOk.length) headline.shapiq_runs = theirsOk.length;

  const gamesTable = table(
    ['game', 'family', 'n', 'exact oracle', 'v(N)', 'budgets', 'source'],
    games.map((g) => [g.spec.id, g.spec.family, String(g.spec.n), g.exactMethod, num(g.exact.reduce((a, b) => a + b, 0)), g.budgets.join(', '), g.spec.source]),
  );
  const failed = comparisons.filter((c) => Number.isFinite(c.ratio) && c.ratio > RATIO_GOAL);
  const verdict =
    comparisons.every((c) => Number.isNaN(c.ratio))
      ? 'No comparison could be made (one side did not run; see notes).'
      : failed.length === 0
        ? `Goal met: our best MSE is ≤ ${RATIO_GOAL}× shapiq's best on every game and budget.`
        : `Goal (ratio ≤ ${RATIO_GOAL}) **missed** on ${failed.length} of ${comparisons.filter((c) => Number.isFinite(c.ratio)).length} (game, budget) cells; worst: ${failed
            .sort((a, b) => b.ratio - a.ratio)
            .slice(0, 5)
            .map((c) => `${c.game} at ${c.budget} evaluations: ${num(c.ratio)} (${c.ours?.estimator} vs shapiq ${c.shapiq?.estimator})`)
            .join('; ')}.`;
  const plots = msePlots(games, cells, config.budgetMultiples);
  // an estimator whose error does not move with the budget at some n is not using the extra budget
  const flat: string[] = [];
  for (const est of loaded.estimators) {
    for (const n of new Set(games.map((g) => g.spec.n))) {
      const vals = config.budgetMultiples
        .filter((m) => m * n < 2 ** n)
        .map((m) => ours.filter((r) => r.estimator === est.name && r.n === n && r.budget === m * n && r.mse !== undefined).map((r) => r.mse as number).join(','));
      if (vals.length > 1 && vals.every((v) => v === vals[0]) && vals[0] !== '') flat.push(`${est.name} at n = ${n}`);
    }
  }
  if (flat.length) notes.push(`Identical estimates at every budget (the extra evaluations changed nothing — e.g. a sampling unit larger than the largest budget, ${Math.max(...config.budgetMultiples)}·n): ${flat.join('; ')}.`);
  const cf = await closedFormCheck(games);
  const cfText = cf.missing
    ? `Closed-form path not checked: ${cf.missing}.`
    : `**Context: the provenance path does not sample.** On games that are sums of unanimity games (random unanimity, provenance) the engine's \`estimateShapley\` takes the game's closed form (\`UnanimityGame.closedForm()\`, as for the provenance game in production): ${cf.rows
        .map((r) => `${r.game}: ${r.estimator}, ${r.evaluations} evaluations, max error ${num(r.maxError)}`)
        .join('; ')}. The sampled comparison above is what matters for black-box games (http judge, user module).`;
  const md = [
    `Games (JSON specs in the raw output; format \`bench/games/spec.ts\`), each played by our estimators and by shapiq at the same budgets (multiples ${config.budgetMultiples.join(', ')} of n, below 2^n) with the same ${seeds.length} seeds (${seeds.join(', ')}). Error = mean over seeds of the MSE (and of the max absolute error) against exact values. "Best" is chosen per game and budget, separately on each side, after the fact — this favours the side with more estimators (shapiq). Relative MSE = MSE / mean(φ²), used only to average across games. MSEs are floored at ${EXACT_FLOOR} · mean(φ²) (numerically exact) before ratios are taken. "Exact" counts the seeds on which the best estimator was numerically exact: a tree surrogate (tree MSR, RegressionMSR) is exact when its sample pins the tree down, so a ratio near 1e7 is usually one side exact on every seed and the other on all but one — a matter of few seeds as much as of method.`,
    shapiq ? `Baseline: shapiq ${shapiq.outputs[0]?.shapiq_version} on Python ${shapiq.outputs[0]?.python}, numpy ${shapiq.outputs[0]?.numpy}; approximators: ${[...new Set(theirs.map((r) => r.estimator))].join(', ')}. ShaplEIG (needs torch/gpytorch) and ProxySHAP/ProxySPEX with xgboost/lightgbm proxies (not installed) are not run; RegressionMSR runs with its sklearn \`tree\` proxy.` : '',
    notes.map((n) => `- ${n}`).join('\n'),
    `**Verdict.** ${verdict}`,
    cfText,
    '### Summary per size and budget',
    headlineTable(comparisons),
    ...plots.map((p) => `![${p.alt}](plots/${p.file})`),
    '### Every estimator (relative MSE, geomean over the games of each size)',
    allEstimatorsTable(games, cells, config.budgetMultiples),
    '### Per game and budget',
    detailTable(comparisons),
    '### Games',
    gamesTable,
    '### Failures and budget checks',
    failuresList(runs),
    over.length ? `**Over budget**: ${over.length} runs used more evaluations than their budget (first: ${over[0]?.side} ${over[0]?.estimator} ${over[0]?.evaluations} > ${over[0]?.budget}).` : 'Every run stayed within its evaluation budget (evaluations counted by the harness, not self-reported).',
  ].filter((s) => s !== '');
  const anyOurs = oursOk.length > 0;
  return {
    title: 'Credit accuracy per evaluation',
    status: anyOurs && theirsOk.length ? 'ran' : anyOurs || theirsOk.length ? 'partial' : 'not-run',
    markdown: md.join('\n\n'),
    plots,
    data: { config, seeds, closedForm: cf.rows, games: games.map((g) => ({ spec: g.spec, exact: g.exact, exactMethod: g.exactMethod })), runs, commands: shapiq?.env.commands },
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
