/**
 * Estimator comparison on recorded episodes (`agent-credit compare`): for researchers who want to
 * know how the sampled Shapley estimators do on *their* agents' games before choosing one for a
 * black-box value function (http judge, module) where exact enumeration is unaffordable.
 *
 * Per episode (its latest revision: `latestRevisions`): the configured game (provenance, or the http/module game of the config) is solved
 * exactly (the reference) — by its closed form when the game offers one (`closedForm()`: the
 * built-in provenance game, any number of agents), else by enumerating its 2^n coalitions (black-box
 * games, within credit.maxExactPlayers) —, then each estimator runs at each budget (k × agents value-function
 * evaluations, whole budget spent: no early stop) under several seeds. Errors are taken on the
 * agent credits against the reference; interval coverage counts how often an estimator's
 * confidence interval holds the exact value. Pure with respect to I/O: the CLI reads the files.
 */
import { creditCheckedEpisode } from '../credit/credit-episode.js';
import { checkCreditInput } from '../credit/input.js';
import { CreditOptionsSchema, DegenerateEpisodeError, SAMPLERS, type CreditOptionsInput, type EstimateStatus, type SamplerName, type ShapleyEstimate } from '../credit/index.js';
import type { Episode } from '../model/episode.js';
import { creditInputOf, type ProcessEpisodeOptions } from './process-episode.js';

/**
 * What `--estimators` accepts: the samplers by their `credit.estimator` name, and
 * `tree-msr-cross-fitted` — tree-MSR with `credit.treeMsrFit: cross-fitted` — so one run compares
 * its two fits (the in-sample point is biased, the cross-fitted mean is not). The default is
 * the samplers (`DEFAULT_COMPARED`).
 */
export const COMPARABLE_ESTIMATORS = [...SAMPLERS, 'tree-msr-cross-fitted'] as const;
export type ComparableEstimator = (typeof COMPARABLE_ESTIMATORS)[number];
export const DEFAULT_COMPARED: readonly ComparableEstimator[] = SAMPLERS;

/**
 * The creditEpisode options that run a compared estimator. `tree-msr` pins the in-sample fit, as
 * the events name it (`tree-msr`; the cross-fitted one `tree-msr-cross-fitted`): left to the
 * configuration, a `credit.treeMsrFit: cross-fitted` there made the `tree-msr` row run the
 * cross-fitted fit too, and `--estimators tree-msr,tree-msr-cross-fitted` printed one fit twice.
 */
function estimatorOptions(estimator: ComparableEstimator): { estimator: SamplerName; treeMsrFit?: 'in-sample' | 'cross-fitted' } {
  if (estimator === 'tree-msr-cross-fitted') return { estimator: 'tree-msr', treeMsrFit: 'cross-fitted' };
  return estimator === 'tree-msr' ? { estimator, treeMsrFit: 'in-sample' } : { estimator };
}

export interface CompareOptions {
  estimators: readonly ComparableEstimator[];
  /** Budgets as multiples of the episode's agent count (k · n evaluations). */
  budgetsPerPlayer: readonly number[];
  /** `--budgets` / `--seeds` as the user typed them, quoted in errors. */
  budgetsText?: string | undefined;
  seedsText?: string | undefined;
  /** Runs per (estimator, budget, episode), seeds `baseSeed`, `baseSeed + 1`, … */
  seeds: number;
  baseSeed?: number;
  /** Called after each episode (progress). */
  onEpisode?: (done: number, total: number) => void;
}

export interface CompareRow {
  estimator: ComparableEstimator;
  budgetPerPlayer: number;
  /** (episode, seed) runs. */
  runs: number;
  meanAgents: number;
  meanAbsError: number;
  maxAbsError: number;
  /** Mean over runs of Σ(φ̂ − φ)² / Σφ² (runs with Σφ² = 0 left out). */
  relativeMse: number;
  /** Share of (run, agent) intervals that hold the exact value. */
  coverage: number;
  /** Nominal confidence of those intervals. */
  confidence: number;
  meanEvaluations: number;
  /** Runs by status at the configured target half-width (`statusAtTarget`: `approximate`, `partial`, `exact`). */
  statuses: Record<string, number>;
  msPerRun: number;
}

/** How an episode's exact reference was obtained. */
export type ReferenceKind = 'closed-form' | 'enumeration';

/** One compared episode: its exact agent credit and how it was obtained (`--json`: `episodeRows`). */
export interface CompareEpisodeRow {
  episodeId: string;
  agents: number;
  reference: ReferenceKind;
  /** Exact credit per agent, in the game's player order. */
  exact: { agentId: string; value: number }[];
}

/**
 * One estimator run on one episode at one budget and seed (`--json`: `runRows`): per agent the
 * estimate, the exact value and the confidence interval, so per-player coverage and error bars on
 * coverage can be computed.
 */
export interface CompareRunRow {
  episodeId: string;
  estimator: ComparableEstimator;
  budgetPerPlayer: number;
  seed: number;
  evaluations: number;
  status: string;
  confidence: number;
  agents: { agentId: string; estimate: number; exact: number; low: number; high: number }[];
}

export interface CompareReport {
  episodes: number;
  compared: number;
  /** Compared episodes by how their exact reference was obtained. */
  references: Partial<Record<ReferenceKind, number>>;
  /** Episodes left out, by reason. */
  skipped: Record<string, number>;
  seeds: number[];
  /** `credit.targetHalfWidth` the status column is judged against (with `credit.normalize: false`, times each episode's score range, as the engine scales it). */
  targetHalfWidth: number;
  rows: CompareRow[];
  /** Per compared episode: agents, reference kind, exact values. */
  episodeRows: CompareEpisodeRow[];
  /** Per (episode, estimator, budget, seed): per-agent estimate, exact value and interval. */
  runRows: CompareRunRow[];
}

interface Acc {
  runs: number;
  agents: number;
  absSum: number;
  absCount: number;
  maxAbs: number;
  relSum: number;
  relCount: number;
  covered: number;
  intervals: number;
  confidence: number;
  evaluations: number;
  statuses: Record<string, number>;
  ms: number;
}

/** The highest `credit.maxExactPlayers` the options accept (CreditOptionsSchema: one source). */
const MAX_EXACT_PLAYERS: number = CreditOptionsSchema.shape.maxExactPlayers.unwrap().maxValue ?? 24;

const newAcc = (): Acc => ({ runs: 0, agents: 0, absSum: 0, absCount: 0, maxAbs: 0, relSum: 0, relCount: 0, covered: 0, intervals: 0, confidence: 0, evaluations: 0, statuses: {}, ms: 0 });

/** Validates the options; throws an Error naming the flag and the fix. */
export function checkCompareOptions(o: CompareOptions): void {
  // Library callers (plain JavaScript): a string for the list was read letter by letter
  // ('--estimators: "s" is not one of …'), and a baseSeed of 'x' became the seeds 'x0', 'x1', refused
  // deep inside as 'credit.seed: expected a number, got "x0"'.
  if (!Array.isArray(o.estimators)) throw new Error(`estimators: give an array of names, e.g. ['svarm', 'permutation'], got ${JSON.stringify(o.estimators)}`);
  if (!Array.isArray(o.budgetsPerPlayer)) throw new Error(`budgetsPerPlayer: give an array of evaluations per agent, e.g. [4, 10, 40], got ${JSON.stringify(o.budgetsPerPlayer)}`);
  if (o.baseSeed !== undefined && !Number.isInteger(o.baseSeed)) throw new Error(`baseSeed: give an integer (the first seed; leave it out for credit.seed), got ${JSON.stringify(o.baseSeed)}`);
  if (o.estimators.length === 0) throw new Error(`--estimators: name at least one of ${COMPARABLE_ESTIMATORS.join(', ')}`);
  for (const e of o.estimators) if (!COMPARABLE_ESTIMATORS.includes(e)) throw new Error(`--estimators: "${e}" is not one of ${COMPARABLE_ESTIMATORS.join(', ')}`);
  if (o.budgetsPerPlayer.length === 0 || o.budgetsPerPlayer.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new Error(`--budgets: give positive integers (evaluations per agent, e.g. 4,10,40), got ${JSON.stringify(o.budgetsText ?? o.budgetsPerPlayer.join(','))}`);
  }
  // A name or budget given twice shared one accumulator and was printed twice: each of its rows
  // counted every run twice (`--budgets 4,4`, 3 episodes × 2 seeds: two rows of 24 runs, not one of
  // 6) and runRows listed every run twice — pooled figures of a duplicated sample.
  const twice = <T>(xs: readonly T[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const estimatorTwice = twice(o.estimators);
  if (estimatorTwice !== undefined) throw new Error(`--estimators: "${estimatorTwice}" is named twice; name each estimator once`);
  const budgetTwice = twice(o.budgetsPerPlayer);
  if (budgetTwice !== undefined) throw new Error(`--budgets: ${budgetTwice} is given twice in ${JSON.stringify(o.budgetsText ?? o.budgetsPerPlayer.join(','))}; give each budget once`);
  if (!Number.isInteger(o.seeds) || o.seeds < 1) throw new Error(`--seeds: give a positive integer, got ${JSON.stringify(o.seedsText ?? String(o.seeds))}`);
}

/**
 * Each episode once, as its latest revision: replay closes an episode again for a correction (a late
 * span or verdict: revision n + 1) or, in conversation mode, for each next turn, and the earlier
 * revision is what the correction replaces (README, Events) — compared beside it, one episode
 * counted as two and its stale revision weighed in every figure (the replay summary and
 * TrainingLedger count it once). Keyed as the events are: (episode id, first trace id); first-seen order.
 */
export function latestRevisions(episodes: readonly Episode[]): Episode[] {
  const latest = new Map<string, Episode>();
  for (const e of episodes) {
    const key = `${e.episodeId}\u0000${e.traceIds[0] ?? ''}`;
    const held = latest.get(key);
    if (held === undefined || e.revision >= held.revision) latest.set(key, e);
  }
  return [...latest.values()];
}

export async function compareEstimators(allRevisions: readonly Episode[], processOptions: ProcessEpisodeOptions, options: CompareOptions): Promise<CompareReport> {
  checkCompareOptions(options);
  const episodes = latestRevisions(allRevisions);
  const base: CreditOptionsInput = { ...(processOptions.credit ?? {}), leaveOneOut: false };
  // the engine's own defaults (one source: CreditOptionsSchema), not copies of them
  const resolved = CreditOptionsSchema.parse(base);
  const maxExact = resolved.maxExactPlayers;
  const baseSeed = options.baseSeed ?? resolved.seed;
  const seeds = Array.from({ length: options.seeds }, (_, i) => baseSeed + i);
  const accs = new Map<string, Acc>();
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  let compared = 0;
  let done = 0;
  const references: CompareReport['references'] = {};
  const episodeRows: CompareEpisodeRow[] = [];
  const runRows: CompareRunRow[] = [];
  for (const episode of episodes) {
    options.onEpisode?.(done++, episodes.length);
    const input = creditInputOf(episode, processOptions);
    // Checked once here; each estimator run below takes the unchecked path. creditEpisode checked
    // the input's every step again on each of its (estimators × budgets × seeds + 1 or 2) calls:
    // ~1.3 ms of CPU each on a generated 10-agent episode, where a svarm or tree-msr run at 4·n takes 4–8 ms.
    checkCreditInput(input);
    let reference;
    let referenceKind: ReferenceKind;
    // The engine's target for this episode, as its events state it: credit.targetHalfWidth, times
    // the score's range with normalize: false (creditEpisode). The status column is judged against
    // it — against the bare configured value, a 0–10 score's runs read `partial` where the engine,
    // at its 0.2, reports `approximate`.
    let target = resolved.targetHalfWidth;
    try {
      const n = new Set(input.agents.map((a) => a.agentId)).size;
      // The closed form first where the game may offer one: the built-in provenance game always
      // does (any n); a pluggable game only past the enumeration cap (the probe costs its v(N),
      // v(∅) and message game). Budget 1: a game without one is not sampled for nothing.
      const pluggable = processOptions.credit?.gameFactory !== undefined;
      const probed = !pluggable || n > maxExact ? await creditCheckedEpisode(input, { ...base, estimator: 'auto', budget: 1 }) : undefined;
      const probe = probed?.estimate;
      if (probed && probe && probe.estimator === 'closed-form' && probe.status === 'exact') {
        reference = probe;
        target = probed.estimator.targetHalfWidth;
        referenceKind = 'closed-form';
      } else {
        // exact enumeration of the configured game: 2^n coalitions, within credit.maxExactPlayers
        // (a pluggable game may have more players than the episode's agents: its own count decides)
        const players = Math.max(n, probe?.players.length ?? 0);
        if (players > maxExact) {
          // what to do about it: the reason said only why, and the fix (a higher cap, up to the
          // schema's) is a setting the researcher may not know is there
          skip(
            `more agents than credit.maxExactPlayers (${maxExact}) and the game has no closed form: no exact reference — ${
              players <= MAX_EXACT_PLAYERS ? `raise credit.maxExactPlayers (at most ${MAX_EXACT_PLAYERS}) to enumerate such episodes, 2^agents value-function calls each` : `above ${MAX_EXACT_PLAYERS} agents, the most credit.maxExactPlayers allows, none can be enumerated`
            }`,
          );
          continue;
        }
        // (the engine may count more agents than input.agents — agents of messages — so the budget is the cap's)
        const enumerated = await creditCheckedEpisode(input, { ...base, estimator: 'exact', budget: 2 ** maxExact + 2 });
        reference = enumerated.estimate;
        target = enumerated.estimator.targetHalfWidth;
        referenceKind = 'enumeration';
      }
    } catch (err) {
      if (err instanceof DegenerateEpisodeError) {
        skip(`no credit (${err.reason})`);
        continue;
      }
      throw err;
    }
    if (reference.status !== 'exact') {
      skip(`exact reference not reached (${referenceReason(reference)})`);
      continue;
    }
    const n = reference.players.length;
    if (n < 2) {
      skip('fewer than 2 agents: nothing to estimate');
      continue;
    }
    compared++;
    references[referenceKind] = (references[referenceKind] ?? 0) + 1;
    episodeRows.push({ episodeId: episode.episodeId, agents: n, reference: referenceKind, exact: reference.players.map((agentId, i) => ({ agentId, value: reference.values[i]! })) });
    const exact = new Map(reference.players.map((p, i) => [p, reference.values[i]!] as const));
    const norm = reference.values.reduce((s, v) => s + v * v, 0);
    for (const estimator of options.estimators) {
      for (const k of options.budgetsPerPlayer) {
        const key = `${estimator}\u0000${k}`;
        let acc = accs.get(key);
        if (!acc) accs.set(key, (acc = newAcc()));
        for (const seed of seeds) {
          const t = performance.now();
          // targetHalfWidth ~0: every estimator spends its whole budget, so rows compare equal cost
          const est = (await creditCheckedEpisode(input, { ...base, ...estimatorOptions(estimator), budget: k * n, seed, targetHalfWidth: 1e-12 })).estimate;
          acc.ms += performance.now() - t;
          acc.runs++;
          acc.agents += n;
          acc.evaluations += est.evaluations;
          acc.confidence = est.confidence;
          let status = statusAtTarget(est, target);
          // Intervals within the target are not enough: the engine trusts the target only after
          // MIN_SAMPLES_FOR_TARGET samples (a few identical first samples "meet" any target), which
          // the estimate does not show. So such a claim is checked by the engine's own run at the
          // configured target (same seed and budget; it stops early when it does meet it).
          if (status === 'approximate' && est.status === 'partial') {
            status = (await creditCheckedEpisode(input, { ...base, ...estimatorOptions(estimator), budget: k * n, seed })).estimate.status;
          }
          acc.statuses[status] = (acc.statuses[status] ?? 0) + 1;
          const run: CompareRunRow = { episodeId: episode.episodeId, estimator, budgetPerPlayer: k, seed, evaluations: est.evaluations, status, confidence: est.confidence, agents: [] };
          runRows.push(run);
          let sq = 0;
          est.players.forEach((p, i) => {
            const phi = exact.get(p);
            if (phi === undefined) return;
            const interval = est.intervals[i];
            run.agents.push({ agentId: p, estimate: est.values[i]!, exact: phi, low: interval?.low ?? Number.NaN, high: interval?.high ?? Number.NaN });
            const err = Math.abs(est.values[i]! - phi);
            sq += err * err;
            acc.absSum += err;
            acc.absCount++;
            acc.maxAbs = Math.max(acc.maxAbs, err);
            const ci = est.intervals[i];
            if (ci) {
              acc.intervals++;
              const slack = 1e-9 * Math.max(1, Math.abs(phi));
              if (ci.low - slack <= phi && phi <= ci.high + slack) acc.covered++;
            }
          });
          if (norm > 0) {
            acc.relSum += sq / norm;
            acc.relCount++;
          }
        }
      }
    }
  }
  options.onEpisode?.(done, episodes.length);
  const rows: CompareRow[] = [];
  for (const estimator of options.estimators) {
    for (const k of options.budgetsPerPlayer) {
      const a = accs.get(`${estimator}\u0000${k}`) ?? newAcc();
      rows.push({
        estimator,
        budgetPerPlayer: k,
        runs: a.runs,
        meanAgents: a.runs ? a.agents / a.runs : 0,
        meanAbsError: a.absCount ? a.absSum / a.absCount : 0,
        maxAbsError: a.maxAbs,
        relativeMse: a.relCount ? a.relSum / a.relCount : 0,
        coverage: a.intervals ? a.covered / a.intervals : 0,
        confidence: a.confidence,
        meanEvaluations: a.runs ? a.evaluations / a.runs : 0,
        statuses: a.statuses,
        msPerRun: a.runs ? a.ms / a.runs : 0,
      });
    }
  }
  return { episodes: episodes.length, compared, references, skipped, seeds, targetHalfWidth: resolved.targetHalfWidth, rows, episodeRows, runRows };
}

/**
 * Why an episode's exact reference was not reached, without what is the episode's own: a failing
 * game's note names its game and coalition (`game <episode id>#anchored(R,b) failed on coalition
 * …: <cause>`), which made one skip reason per episode — a judge that was down listed every
 * episode on its own. The cause is what tells; the episodes with it are counted under it.
 */
function referenceReason(reference: ShapleyEstimate): string {
  return (reference.note ?? reference.status).replace(/\bgame .+? failed on coalition .+?: /g, 'the game failed on a coalition: ');
}

/**
 * The run's status against the configured `credit.targetHalfWidth`. Compare forces the whole budget
 * with a ~0 target, so every sampled run would read `partial` ("budget exhausted before every
 * half-width reached 1e-12") — which says nothing. A run whose intervals all meet the configured
 * target is `approximate` (the engine would have stopped there, earlier); one that does not is
 * `partial`, as the engine would report it at this budget. Other statuses are kept. An
 * `approximate` read off the intervals is only a candidate: the engine also needs
 * MIN_SAMPLES_FOR_TARGET samples, so `compareEstimators` confirms it with the engine's run.
 */
export function statusAtTarget(est: ShapleyEstimate, target: number): EstimateStatus {
  if (est.status !== 'partial' || !est.note?.startsWith('budget exhausted before every half-width')) return est.status;
  const widest = est.intervals.reduce((w, ci) => Math.max(w, (ci.high - ci.low) / 2), 0);
  return widest <= target ? 'approximate' : 'partial';
}

/** Which references the compared episodes used, e.g. "closed form (provenance game) for 3 episodes". */
function referenceText(refs: CompareReport['references']): string {
  const parts = [refs['closed-form'] ? `the game's closed form for ${refs['closed-form']} episode(s)` : '', refs.enumeration ? `enumeration of all coalitions for ${refs.enumeration} episode(s)` : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none (no episode compared)';
}

const fmt = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toFixed(4).replace(/\.?0+$/, '') : x.toExponential(2));

/** The report as Markdown: what was compared, then one row per (estimator, budget). */
export function renderCompareReport(r: CompareReport): string {
  const skipped = Object.entries(r.skipped).map(([why, n]) => `${n} ${why}`);
  const lines = [
    `Estimator comparison: ${r.compared} of ${r.episodes} episodes compared${skipped.length ? ` (left out: ${skipped.join('; ')})` : ''}; seeds ${r.seeds.join(', ')}.`,
    `Reference: exact Shapley values of the configured game — ${referenceText(r.references)}. Each estimator spends its whole budget (k × agents evaluations), or fewer where the game has fewer coalitions (2^agents: a 2-agent game has 4) or the estimator is exact before it (the evaluations column says what was spent). Status: \`approximate\` when every interval is within credit.targetHalfWidth at that budget and the engine, run at that target, reports it so (it trusts the target only after 10 samples), \`partial\` when not.`,
    '',
    `| estimator | budget | runs | agents (mean) | mean abs error | max abs error | relative MSE | CI coverage | evaluations (mean) | status at half-width ${r.targetHalfWidth} | ms per run |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of r.rows) {
    const status = Object.entries(row.statuses).map(([s, n]) => `${s} ${n}`).join(', ') || '—';
    const coverage = row.runs ? `${(100 * row.coverage).toFixed(1)}% (nominal ${(100 * row.confidence).toFixed(0)}%)` : '—';
    // A row with no run measured nothing: its zeros (the JSON's, which keeps its number type) read
    // as an estimator without error, as coverage's 0 would have read as never covering.
    const cell = (x: number) => (row.runs ? fmt(x) : '—');
    lines.push(`| ${row.estimator} | ${row.budgetPerPlayer}·n | ${row.runs} | ${cell(row.meanAgents)} | ${cell(row.meanAbsError)} | ${cell(row.maxAbsError)} | ${cell(row.relativeMse)} | ${coverage} | ${cell(row.meanEvaluations)} | ${status} | ${cell(row.msPerRun)} |`);
  }
  const best = lowestErrorPerBudget(r.rows);
  if (best.length > 0) {
    const perBudget = [...new Set(best.map((b) => b.budgetPerPlayer))].map((k) => {
      const tied = best.filter((b) => b.budgetPerPlayer === k);
      const exact = tied.every((b) => b.relativeMse <= NUMERICALLY_EXACT_RELATIVE_MSE);
      return `${k}·n ${tied.map((b) => b.estimator).join(' = ')} (${exact ? 'numerically exact' : fmt(Math.max(...tied.map((b) => b.relativeMse)))})`;
    });
    lines.push('', `Lowest relative MSE per budget: ${perBudget.join('; ')}. With credit.estimator: auto the engine samples with svarm from 4·n evaluations and permutation below; set credit.estimator to pin one${best.some((b) => b.estimator === 'tree-msr-cross-fitted') ? ' (tree-msr-cross-fitted: credit.estimator tree-msr with credit.treeMsrFit cross-fitted)' : ''}.`);
  }
  return lines.join('\n');
}

/**
 * Relative MSE below which an estimate counts as numerically exact: float rounding of exact
 * values leaves 1e-33…1e-30 (mean φ² normalized), which must not rank one exact estimator above another.
 */
const NUMERICALLY_EXACT_RELATIVE_MSE = 1e-24;

/**
 * Per budget, the rows with the lowest relative MSE (rows without runs left out); several when they
 * tie (within 1e-12 relative, or all numerically exact), so the report does not crown one of them
 * by order or by rounding noise.
 */
export function lowestErrorPerBudget(rows: readonly CompareRow[]): CompareRow[] {
  const best = new Map<number, CompareRow[]>();
  const floored = (r: CompareRow) => Math.max(r.relativeMse, NUMERICALLY_EXACT_RELATIVE_MSE);
  for (const row of rows) {
    if (row.runs === 0 || !Number.isFinite(row.relativeMse)) continue;
    const cur = best.get(row.budgetPerPlayer);
    const mse = floored(row);
    const lead = cur === undefined ? Number.POSITIVE_INFINITY : floored(cur[0]!);
    const tol = 1e-12 * lead;
    if (!cur || mse < lead - tol) best.set(row.budgetPerPlayer, [row]);
    else if (Math.abs(mse - lead) <= tol) cur.push(row);
  }
  return [...best.values()].flat().sort((a, b) => a.budgetPerPlayer - b.budgetPerPlayer);
}
