/** Section 1 driver: games → (our estimators ‖ shapiq in two Python processes) → scores → markdown. */
import { join } from 'node:path';
import { num, table } from '../lib/markdown.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { BOOTSTRAP, buildGames, compareBest, EXACT_FLOOR, RATIO_GOAL, ratioGeomean, repsAt, repSeeds, runOurs, scoreShapiq, summarizeCells, type AccuracyConfig, type AccuracyRun, type BenchGame } from './accuracy.js';
import { ensureShapiqVenv, runShapiq, type PythonEnv, type ShapiqOutput } from './baseline.js';
import { loadOurEstimators, type OurEstimator } from './our-estimators.js';
import { allEstimatorsTable, cellVerdicts, detailTable, failuresList, headlineTable, msePlots, overBudget } from './report.js';
import { provenanceGames } from './provenance-games.js';
import { closedFormCheck } from './closed-form-check.js';

function accuracyConfig(ctx: Pick<BenchContext, 'quick' | 'seed'>): AccuracyConfig {
  return ctx.quick
    ? { sizes: [10], families: ['random unanimity', 'weighted voting', 'glove', 'airport'], instances: 1, reps: 2, budgetMultiples: [4, 10], seed: ctx.seed }
    : // Seeds per size: where both sides' runs are cheap, enough of them that a cell where tree surrogates are exact on most
      // seeds is not decided by which side drew its one inexact seed. Measured on 2 cores (2026-12-05): shapiq's runs took
      // 1.1 s per seed at n = 10, 3.1 s at n = 20, 27 s at n = 50 (ours far less); 40/16/4 seeds took the section from 106 s
      // to 144 s wall (148 → 234 CPU-s) against 4/4/4.
      { sizes: [10, 20, 50], families: ['random unanimity', 'weighted voting', 'glove', 'airport'], instances: 1, reps: 4, repsBySize: { 10: 40, 20: 16 }, budgetMultiples: [4, 10, 20, 40], seed: ctx.seed };
}

export async function creditAccuracySection(ctx: BenchContext, injected?: OurEstimator[]): Promise<SectionResult> {
  const t0 = performance.now();
  const config = accuracyConfig(ctx);
  const notes: string[] = [];
  const prov = await provenanceGames(config.sizes, ctx.seed);
  if (prov.note) notes.push(prov.note);
  const games: BenchGame[] = buildGames(config, prov.specs);
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
          runShapiq(env, { games: shard.map((g) => g.spec), budgets: Object.fromEntries(shard.map((g) => [g.spec.id, g.budgets])), seeds: Object.fromEntries(shard.map((g) => [g.spec.id, g.seeds])) }, ctx.workDir, `shard${s}`),
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
  const sizes = [...new Set(games.map((g) => g.spec.n))].sort((a, b) => a - b);
  const allSeeds = repSeeds(config);
  const seedsText = sizes.map((n) => `${repsAt(config, n)} at n = ${n}`).join(', ');
  ctx.log(`credit: ${games.length} games, ${loaded.estimators.length} of our estimators, seeds: ${seedsText}`);
  const tOurs = performance.now();
  const ours: AccuracyRun[] = await runOurs(games, loaded.estimators);
  ctx.log(`credit: our estimators done in ${((performance.now() - tOurs) / 1000).toFixed(1)} s`);
  shapiq = await shapiqPromise;
  const theirs: AccuracyRun[] = shapiq ? shapiq.outputs.flatMap((o) => scoreShapiq(games, o)) : [];
  const runs = [...ours, ...theirs];
  const cells = summarizeCells(runs);
  const comparisons = compareBest(games, cells, { seed: ctx.seed });
  const over = overBudget(runs);

  const headline: Record<string, number> = {};
  for (const n of sizes) {
    const list = comparisons.filter((c) => c.n === n);
    if (list.some((c) => Number.isFinite(c.ratio))) headline[`mse_ratio_geomean_n${n}`] = ratioGeomean(list);
  }
  const oursOk = ours.filter((r) => r.mse !== undefined);
  if (oursOk.length) headline.our_runs = oursOk.length;
  const theirsOk = theirs.filter((r) => r.mse !== undefined);
  if (theirsOk.length) headline.shapiq_runs = theirsOk.length;
  const compared = comparisons.filter((c) => c.verdict !== 'n/a');
  if (compared.length) {
    headline.cells_met = compared.filter((c) => c.verdict === 'met').length;
    headline.cells_missed = compared.filter((c) => c.verdict === 'missed').length;
    headline.cells_indistinct = compared.filter((c) => c.verdict === 'indistinct').length;
  }

  // shapiq's own run time per seed and size (its two processes run sequentially inside): what more seeds cost
  const shapiqCost = sizes
    .map((n) => {
      const list = theirs.filter((r) => r.n === n);
      return list.length ? `${num(list.reduce((a, r) => a + r.seconds, 0) / repsAt(config, n), 2)} s at n = ${n}` : '';
    })
    .filter(Boolean)
    .join(', ');
  const gamesTable = table(
    ['game', 'family', 'n', 'exact oracle', 'v(N)', 'budgets', 'source'],
    games.map((g) => [g.spec.id, g.spec.family, String(g.spec.n), g.exactMethod, num(g.exact.reduce((a, b) => a + b, 0)), g.budgets.join(', '), g.spec.source]),
  );
  const verdict = compared.length === 0 ? 'No comparison could be made (one side did not run; see notes).' : cellVerdicts(comparisons);
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
    `Games (JSON specs in the raw output; format \`bench/games/spec.ts\`), each played by our estimators and by shapiq at the same budgets (multiples ${config.budgetMultiples.join(', ')} of n, below 2^n) with the same seeds on both sides: ${seedsText} (the first k of one list drawn from the bench seed — ${allSeeds.slice(0, 4).join(', ')}, … —, so a size with fewer seeds uses a prefix of another's; every game's seeds are in the raw JSON). More seeds where runs are cheap${shapiqCost ? ` — shapiq's runs (all approximators, games and budgets of a size, summed) took ${shapiqCost} per seed` : ''}. Error = mean over seeds of the MSE (and of the max absolute error) against exact values. "Best" is chosen per game and budget, separately on each side, after the fact — this favours the side with more estimators (shapiq). Relative MSE = MSE / mean(φ²), used only to average across games. MSEs are floored at ${EXACT_FLOOR} · mean(φ²) (numerically exact) before ratios are taken. "Exact" counts the seeds on which the best estimator was numerically exact: a tree surrogate (tree MSR, RegressionMSR) is exact when its sample pins the tree down, so a ratio near 1e7 is one side exact on every seed and the other on all but one — with tree surrogates exact on most seeds of both sides, which side that is changes with the seeds drawn.`,
    `**Seed noise.** Each cell's ratio comes with a 95% percentile bootstrap interval over its seeds: the seeds are resampled with replacement ${BOOTSTRAP.resamples} times (a seed drawn brings both sides' runs on it), each side's best estimator is chosen again on the resample (its lowest mean MSE there), and the floored ratio of mean MSEs is recomputed; the interval holds the middle 95% of those ratios. It measures how much the ratio moves with the seeds drawn on this one game instance, the choice of "best" included (ours picks from 8 estimators, shapiq from fewer: kept fixed, the winner on these very seeds was treated as known in advance) — not over other instances of the family. It is not a calibrated confidence interval: with few seeds a percentile bootstrap is too narrow (it can only recombine the seeds observed), so an interval that excludes 1 at 4 seeds is weak evidence. Verdict per cell: **met** = ratio ≤ ${RATIO_GOAL} and the interval below 1; **missed** = ratio > ${RATIO_GOAL} and the interval excludes 1 (above 1: ours worse; below: better by less than ${1 / RATIO_GOAL}×); **n.s.** = the interval contains 1 (not distinguishable from 1 at this many seeds — which includes both sides exact on every seed). The geometric means over games get an interval the same way (one seed resample applied to every game of the size).`,
    shapiq ? `Baseline: shapiq ${shapiq.outputs[0]?.shapiq_version} on Python ${shapiq.outputs[0]?.python}, numpy ${shapiq.outputs[0]?.numpy}; approximators: ${[...new Set(theirs.map((r) => r.estimator))].join(', ')}. ShaplEIG (needs torch/gpytorch) and ProxySHAP/ProxySPEX with xgboost/lightgbm proxies (not installed) are not run; RegressionMSR runs with its sklearn \`tree\` proxy.` : '',
    notes.map((n) => `- ${n}`).join('\n'),
    `**Verdict.** ${verdict}`,
    cfText,
    '### Summary per size and budget',
    headlineTable(comparisons, { seed: ctx.seed }),
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
    data: { config, seeds: allSeeds, closedForm: cf.rows, games: games.map((g) => ({ spec: g.spec, exact: g.exact, exactMethod: g.exactMethod, seeds: g.seeds })), runs, commands: shapiq?.env.commands },
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
