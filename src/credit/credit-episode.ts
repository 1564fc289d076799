/**
 * `creditEpisode`: one closed episode → agent credit (Shapley), per-message rewards, first error,
 * blame/repair transfers and preference pairs (method.md §1–§3). Pure apart from the game's own
 * value function (which may call out, e.g. an http judge). Game failures and timeouts never throw
 * out of here: they give a `partial`, flagged result. Input that is no `CreditInput` throws
 * `CreditInputError`; an episode without a usable evaluation (none, a non-finite score) throws
 * `DegenerateEpisodeError`; other degenerate inputs give the documented
 * degenerate results listed in docs/credit.md.
 */
import type { Agent, AgentStep, Evaluation } from '../model/agents.js';
import type { CloseReason } from '../model/episode.js';
import { type CausalGraph, buildCausalGraph, duplicatesOf, isErroneous, isMessage } from './causal-graph.js';
import type { z } from 'zod';
import { describeIssue } from '../config/errors.js';
import { CreditOptionsError, DegenerateEpisodeError, EstimationAbortedError } from './errors.js';
import { defaultScoreRange } from '../conventions/metric-direction.js';
import { normalizedLabelTable, scoreOfLabel } from '../conventions/labels.js';
import { AnchoredGame, type OutOfScale } from './games/anchored-game.js';
import { CachedGame } from './games/cached-game.js';
import { checkDistinctPlayers, emptyCoalition } from './games/coalition.js';
import { provenanceGames, outputMessages, type ProvenanceAnalysis } from './games/provenance.js';
import { checkCreditInput, type CreditInput } from './input.js';
import { type CreditOptions, type CreditOptionsInput, CreditOptionsSchema, type EpisodeGames, orientedScore } from './options.js';
import { estimateShapley } from './shapley/estimate.js';
import { ExactEstimator } from './shapley/exact.js';
import { isSamplerName } from './shapley/samplers.js';
import { leaveOneOut } from './shapley/leave-one-out.js';
import { buildEstimate, equalSplitFallback, errorNote } from './shapley/result.js';
import { blameAndRepair, type FailureRole } from './signals/blame-repair.js';
import { FAILED_OUTPUT_EVIDENCE, type FirstError, firstErrorStep, flaggedInvocationOutputs } from './signals/first-error.js';
import { type RewardComponents, messageRewardsAt } from './signals/message-rewards.js';
import { type PreferencePairDraft, preferencePairs } from './signals/preference-pairs.js';
import { episodeSeed } from './episode-seed.js';
import type { Game, ShapleyEstimate } from './types.js';

export interface AgentCreditResult {
  readonly agentId: string;
  readonly agentName: string;
  /** φ_i */
  readonly credit: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly leaveOneOut?: number;
  /** Number of the agent's messages. */
  readonly steps: number;
}

export interface MessageOutcome {
  readonly step: AgentStep;
  readonly reward: number;
  readonly delta: number;
  readonly components: RewardComponents;
  readonly agentCredit: number;
  readonly failureRole?: FailureRole;
  /** Role `repair` or `critic`: the step id of the error it corrects (t* or an independent error). */
  readonly repairsStepId?: string | undefined;
}

export interface EvaluationUsed {
  readonly name: string;
  /** Normalized score R. */
  readonly score: number;
  readonly rawScore?: number;
  readonly label?: string;
  /** The evaluator's explanation, when it gave one. */
  readonly explanation?: string;
  readonly source: Evaluation['source'];
}

export interface CreditOutcome {
  readonly episodeId: string;
  readonly revision: number;
  readonly traceIds: readonly string[];
  readonly closeReason: CloseReason;
  readonly lateSpans: number;
  readonly duplicateSpans: number;
  readonly outcome: 'success' | 'failure';
  readonly evaluation: EvaluationUsed;
  /** R = v(N) */
  readonly systemValue: number;
  /** b = v(∅) */
  readonly baseline: number;
  readonly successThreshold: number;
  /** C · (R_max − R_min) */
  readonly rewardBound: number;
  /**
   * `messageEffects`: how δ_m were obtained — `closed-form` (the game's own leave-one-out),
   * `leave-one-out` (|M|+1 coalitions evaluated), `shapley` (message-level Shapley), or `none`
   * (no message game, or it failed: δ_m = 0 and rewards are an equal split of agent credit — a
   * failed or flagged step held below 0 by the sign rule — plus failure transfers). `none` with messages present is worth a trainer's notice: marginal_effect
   * then carries no signal.
   */
  readonly game: { kind: 'provenance' | 'http' | 'module'; removalProtocol: 'mask' | 'null' | 'replay'; players: 'agents'; messageEffects: MessageEffects };
  readonly estimate: ShapleyEstimate;
  readonly estimator: { name: string; status: ShapleyEstimate['status']; evaluations: number; budget: number; targetHalfWidth: number; confidence: number; note?: string };
  readonly agents: readonly AgentCreditResult[];
  readonly messages: readonly MessageOutcome[];
  readonly firstError?: FirstError;
  readonly pairs: readonly PreferencePairDraft[];
  readonly warnings: readonly string[];
  /** Provenance game details (roles, carriers, output) when the built-in game was used. */
  readonly provenance?: ProvenanceAnalysis;
}

export type MessageEffects = 'closed-form' | 'leave-one-out' | 'shapley' | 'none';

interface Score {
  used: EvaluationUsed;
  R: number;
  scale: number;
}

/**
 * The range of an evaluation name: `normalization.<name>`, else `defaultScoreRange` — [0, 1],
 * lower-is-better for the names DeepEval and Phoenix both score so (toxicity, bias, hallucination):
 * read higher-is-better, a run whose only verdict was DeepEval's toxicity 0.0 was a failure (R = 0)
 * and a hallucination of 0.9 a success.
 */
function scoreRangeOf(options: CreditOptions, name: string): { readonly min: number; readonly max: number; readonly higherIsBetter?: boolean } {
  return options.normalization[name] ?? defaultScoreRange(name);
}

/**
 * The warning for a pluggable game that answered values off R's scale. v(N) = R and v(∅) = b are
 * anchored there, so a judge answering in its own units (0–100, a 1–5 Likert) while R is
 * normalized gave credits of tens with estimator status `exact`, and only "exceeds the reward
 * bound" warnings hinted at it.
 */
function outOfScaleWarning(noted: OutOfScale, name: string, R: number, options: CreditOptions): string {
  const range = scoreRangeOf(options, name);
  const first = noted.first!;
  const scale = options.normalize ? '[0, 1]' : `[${range.min}, ${range.max}]`;
  const why = options.normalize
    ? `R = ${R} is the verdict mapped to [0, 1] from credit.normalization.${name} [${range.min}, ${range.max}]${range.higherIsBetter === false ? ' (lower is better, reflected)' : ''}`
    : `R = ${R} is the raw score on credit.normalization.${name}`;
  return `the value function answered ${noted.count} value(s) outside the score's scale ${scale} (first: ${first.value} for a coalition of ${first.members} of ${first.players} players), while v(N) = R and v(∅) = b are on it (${why}): these credits mix two scales and are not meaningful — make the judge or module answer on that scale`;
}

function scoreOf(input: CreditInput, options: CreditOptions, warnings: string[]): Score {
  const ev: Evaluation | undefined = input.evaluation;
  if (!ev) throw new DegenerateEpisodeError('no-evaluation', input.episodeId, 'the episode has no evaluation; configure an evaluation source (log events, evaluator spans, root attribute) or close on evaluation arrival');
  const range = scoreRangeOf(options, ev.name);
  const scale = options.normalize ? 1 : range.max - range.min;
  let R: number;
  let raw: number | undefined;
  if (ev.score !== undefined && ev.scoreFromLabel === true) {
    // a label's score (from labelScores, finite: the table and scoreOfLabel refuse others) is
    // already normalized: not mapped through normalization.<name>
    let normalized = ev.score;
    if (normalized < 0 || normalized > 1) {
      warnings.push(`evaluation ${ev.name} label ${JSON.stringify(ev.label)} scores ${normalized} in labelScores, outside [0, 1]; clamped`);
      normalized = Math.min(1, Math.max(0, normalized));
    }
    R = options.normalize ? normalized : range.min + normalized * (range.max - range.min);
  } else if (ev.score !== undefined) {
    raw = ev.score;
    if (!Number.isFinite(raw)) throw new DegenerateEpisodeError('non-finite-score', input.episodeId, `evaluation ${ev.name} has score ${raw}; the producer must send a finite gen_ai.evaluation.score.value`);
    // a lower-is-better score (higherIsBetter: false) is reflected within its range first
    // a percent string ("80%", scoreIsFraction) is a fraction of the range: on {min: 0, max: 100} it is 80, not 0.8
    const inRange = ev.scoreIsFraction === true ? range.min + raw * (range.max - range.min) : raw;
    const oriented = orientedScore(inRange, range);
    R = options.normalize ? (oriented - range.min) / (range.max - range.min) : oriented;
    const lo = options.normalize ? 0 : range.min;
    const hi = options.normalize ? 1 : range.max;
    if (R < lo || R > hi) {
      // a percent is shown as sent and as placed on the range: "score 1.5 is outside [0, 100]" contradicted itself
      const shown = ev.scoreIsFraction === true ? `${Number((raw * 100).toPrecision(12))}% (${Number(inRange.toPrecision(12))} on the range)` : String(raw);
      warnings.push(`evaluation ${ev.name} score ${shown} is outside normalization.${ev.name} [${range.min}, ${range.max}]${range.higherIsBetter === false ? ' (lower is better)' : ''}; clamped`);
      R = Math.min(hi, Math.max(lo, R));
    }
  } else {
    const mapped = scoreOfLabel(ev.label, labelTableOf(options));
    if (mapped === undefined) {
      throw new DegenerateEpisodeError('unknown-label', input.episodeId, `evaluation ${ev.name} has no score and label ${JSON.stringify(ev.label)} is not in labelScores; add it to the labelScores option`);
    }
    R = options.normalize ? mapped : range.min + mapped * (range.max - range.min);
  }
  // Built by assignment, in the order the spread literal had: a literal with spreads in the middle
  // is built property by property at run time, and each one got a map of its own in this V8.
  const used: Omit<Mutable<EvaluationUsed>, 'source'> & Partial<Mutable<EvaluationUsed>> = { name: ev.name, score: R };
  if (raw !== undefined) used.rawScore = raw;
  if (ev.label !== undefined) used.label = ev.label;
  if (ev.explanation !== undefined) used.explanation = ev.explanation;
  used.source = ev.source;
  return { used: used as EvaluationUsed, R, scale };
}

function dedupe<T>(items: readonly T[], key: (t: T) => string, what: string, warnings: string[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  let dups = 0;
  for (const it of items) {
    const k = key(it);
    if (seen.has(k)) {
      dups++;
      continue;
    }
    seen.add(k);
    out.push(it);
  }
  if (dups > 0) warnings.push(duplicatesIgnored(dups, what));
  return out;
}

const duplicatesIgnored = (count: number, what: string) => `${count} duplicate ${what} ignored (first occurrence kept)`;

/**
 * Unknown option keys are errors, as in processEpisode and the config file: a research script
 * comparing estimators with `{ estimater: 'kernel' }` (a JavaScript caller, or options built from
 * JSON) got the default estimator's credit without a word.
 */
const StrictCreditOptionsSchema = CreditOptionsSchema.strict();
const CREDIT_OPTION_KEYS = Object.keys(CreditOptionsSchema.shape);

/** What `parseCreditOptions` returned: `creditEpisode` takes these as they are. */
const parsedOptions = new WeakSet<CreditOptions>();

/**
 * `optionsInput` checked (strict) and completed with the defaults; a bad option throws
 * CreditOptionsError naming the key. `creditEpisode` does not parse what this returned again: a
 * caller crediting many episodes with the same options (processEpisode) parses them once — the
 * parse, which clones the defaults' records, was ~4 % of an episode's processing. Not to be changed
 * after.
 */
export function parseCreditOptions(optionsInput: CreditOptionsInput | CreditOptions = {}): CreditOptions {
  const parsed = StrictCreditOptionsSchema.safeParse(optionsInput);
  // a bad option was a raw ZodError (a JSON dump of issues) for library callers: name the key instead
  if (!parsed.success) {
    const issue = { ...parsed.error.issues[0]!, path: ['credit', ...parsed.error.issues[0]!.path] } as z.core.$ZodIssue;
    throw new CreditOptionsError(describeIssue(issue, { credit: optionsInput }, { acceptedKeys: (path) => (path.length === 1 ? CREDIT_OPTION_KEYS : []) }));
  }
  parsedOptions.add(parsed.data);
  return parsed.data;
}

/** `options.labelScores` with its keys as `scoreOfLabel` looks them up, built once per table. */
function labelTableOf(options: CreditOptions): Readonly<Record<string, number>> {
  let table = labelTables.get(options.labelScores);
  if (table === undefined) labelTables.set(options.labelScores, (table = normalizedLabelTable(options.labelScores)));
  return table;
}
const labelTables = new WeakMap<object, Readonly<Record<string, number>>>();

/**
 * Credit of one closed episode. `input` is checked (CreditInputError naming each bad field), then
 * `options` (CreditOptionsError naming the key).
 */
export async function creditEpisode(input: CreditInput, optionsInput: CreditOptionsInput | CreditOptions = {}): Promise<CreditOutcome> {
  checkCreditInput(input);
  return creditCheckedEpisode(input, optionsInput);
}

/**
 * `creditEpisode` without the input check: for processEpisode, which builds `input` itself from a
 * decoded episode (the schema check of every step would cost the Kafka job's per-episode path).
 */
export async function creditCheckedEpisode(input: CreditInput, optionsInput: CreditOptionsInput | CreditOptions = {}): Promise<CreditOutcome> {
  const options = parsedOptions.has(optionsInput as CreditOptions) ? (optionsInput as CreditOptions) : parseCreditOptions(optionsInput);
  const warnings: string[] = input.warnings !== undefined ? input.warnings.slice() : [];
  const { used, R, scale } = scoreOf(input, options, warnings);
  // Steps whose ids are distinct (every episode processEpisode builds) are taken as they are: the
  // causal graph's index of the ids then has an entry per step. A Set of the ids (and a copy of the
  // steps) was made per episode to find repeats that are not there.
  let steps: readonly AgentStep[] = input.steps;
  let graph: CausalGraph = buildCausalGraph(steps);
  if (graph.indexOf.size !== steps.length) {
    steps = dedupe(input.steps, (s) => s.stepId, 'step ids', warnings);
    graph = buildCausalGraph(steps);
  }
  // the agents' map finds their repeats (first occurrence kept), as dedupe does
  const agentMap = new Map<string, Agent>();
  let repeatedAgents = 0;
  for (const a of input.agents) {
    if (agentMap.has(a.agentId)) repeatedAgents++;
    else agentMap.set(a.agentId, a);
  }
  if (repeatedAgents > 0) warnings.push(duplicatesIgnored(repeatedAgents, 'agent ids'));
  for (const s of steps) if (isMessage(s) && !agentMap.has(s.agentId)) agentMap.set(s.agentId, { agentId: s.agentId, agentName: s.agentName });
  const agents = [...agentMap.values()];
  const messages = graph.order.filter(isMessage);
  // A failing verdict on a step that is no message (an agent invocation, a chain) falls on that
  // step's last LLM call, in both outcomes: harmful like a flagged message (a −h term in the
  // provenance game, a reward held below 0), and the first error's evidence in a failed run. Only
  // the failed run's first error read it before: a successful run's verdict changed nothing.
  const flaggedSpans = flaggedInvocationOutputs(graph);
  const flaggedOutputs = stepIdsAt(graph, flaggedSpans.outputs);
  // One with no message below it (a guardrail, an embedding, a task around plain code) has nothing
  // the method rewards to fall on: it was dropped without a word, and a trainer could not tell.
  // One warning, naming the first few: a guardrail judged on every check must not fill the event.
  const unplaced = flaggedSpans.unplaced;
  if (unplaced.length > 0) {
    const named = unplaced.slice(0, 5).map((s) => `${s.kind} span "${s.name}" (agent ${s.agentName})`).join(', ') + (unplaced.length > 5 ? `, … ${unplaced.length - 5} more` : '');
    const one = unplaced.length === 1;
    warnings.push(
      `${one ? 'a failing step-level verdict' : 'failing step-level verdicts'} on ${named} ${one ? 'makes' : 'make'} no step harmful and no first error: ${one ? 'that span is no message' : 'those spans are no messages'} (LLM call, tool call or hand-off) and ${one ? 'holds' : 'hold'} none for ${one ? 'it' : 'them'} to fall on — evaluate the LLM call or tool call ${one ? 'it concerns' : 'they concern'}`,
    );
  }
  const threshold = options.successThreshold[used.name] ?? options.defaultSuccessThreshold;
  // Constants stated on the normalized scale, in the score's units when R is the raw score
  // (normalize: false), as the bound and the blame: a sampling target of 0.02 or a prefix drop of
  // 0.2 on a 0–100 score sampled the whole budget and called a 0.2-point wobble the first error.
  const unit = options.normalize ? 1 : scale;
  const rewardBound = options.boundC * unit;
  const targetHalfWidth = options.targetHalfWidth * unit;
  // The built-in provenance game is synchronous and cheap (every await resolves in microtasks,
  // before any timer): only a pluggable game needs the deadline — its timer for calls that wait,
  // and a look at the clock before each evaluation (DeadlineGame) for one that computes.
  const deadline = options.gameFactory ? creditDeadline(options.timeoutMs) : undefined;
  const signal = deadline?.signal;

  // Games.
  let kind: CreditOutcome['game']['kind'] = options.game;
  let games: EpisodeGames;
  let provenance: ProvenanceAnalysis | undefined;
  let b = typeof options.baseline === 'number' ? options.baseline : 0;
  const evaluatedStepId = input.evaluation?.spanId;
  const outOfScale: OutOfScale = { count: 0 };

  // Failure case. Localized before the provenance game is built: a first error that the telemetry
  // does not mark but a prefix-value drop located is a harmful message of that game, so its agent's
  // credit carries the blame as it does for an error status or a flag (with one message, the
  // agent's blame transfer would otherwise have nowhere to go). Pluggable games localize after
  // their baseline is known (prefix values start from it).
  const outcome: 'success' | 'failure' = R < threshold ? 'failure' : 'success';
  // A verdict whose label says the opposite of its score (`score 5, label fail`): the score decides,
  // but a trainer reading only the outcome should be told (consumer review).
  if (used.rawScore !== undefined && used.label !== undefined) {
    const mapped = scoreOfLabel(used.label, labelTableOf(options));
    const range = scoreRangeOf(options, used.name);
    const byLabel = mapped === undefined || options.normalize ? mapped : range.min + mapped * (range.max - range.min);
    if (byLabel !== undefined && (byLabel < threshold ? 'failure' : 'success') !== outcome) {
      warnings.push(`evaluation ${used.name}: label ${JSON.stringify(used.label)} says ${outcome === 'success' ? 'failure' : 'success'} but score ${used.rawScore} (R = ${R}) makes it a ${outcome} at threshold ${threshold}; the score decides`);
    }
  }
  let firstError: FirstError | undefined;
  let unmarkedFirstError: string | undefined;
  const feOpts: { dropThreshold: number; prefixScores?: readonly number[]; prefixBaseline?: number } = { dropThreshold: options.prefixDropThreshold * unit };
  let localized = false;
  const localizeFailure = async (prefixGame?: Game): Promise<void> => {
    if (localized) return;
    localized = true;
    if (outcome !== 'failure' || messages.length === 0) return;
    if (options.prefixScorer) {
      try {
        const ps = await options.prefixScorer(messages);
        if (ps.length === messages.length && ps.every(Number.isFinite)) Object.assign(feOpts, { prefixScores: ps, prefixBaseline: b });
        else warnings.push(`prefixScorer returned ${ps.length} values for ${messages.length} messages (or a non-finite one); ignored`);
      } catch (err) {
        warnings.push(`prefixScorer failed: ${errorNote(err)}`);
      }
    } else if (options.prefixValues === 'message-game') {
      if (!prefixGame) warnings.push(`prefixValues 'message-game' needs a pluggable game with a message game (this episode's ${kind} game has none): no prefix values`);
      else {
        try {
          const ps = await prefixValuesOf(new CachedGame(prefixGame, { signal, concurrency: options.concurrency, budget: options.budget }), messages);
          Object.assign(feOpts, { prefixScores: ps, prefixBaseline: b });
        } catch (err) {
          warnings.push(`prefix values from the message game failed: ${errorNote(err)}`);
        }
      }
    }
    const output = outputMessages(graph, evaluatedStepId)[0];
    firstError = firstErrorStep(graph, output !== undefined ? { failedOutputStepId: output, ...feOpts } : feOpts);
    if (!firstError) warnings.push('failed run without an identifiable first error');
    // Only a located one: the failed-output fallback is a guess, and as a harm term it would raise
    // every useful message's weight — upstream agents would earn more for a failed run than for a
    // successful one (credit not monotone in R).
    else if (!isErroneous(graph.order[firstError.index]!) && !firstError.evidence.includes(FAILED_OUTPUT_EVIDENCE)) unmarkedFirstError = firstError.stepId;
  };

  if (options.gameFactory) {
    try {
      games = await options.gameFactory(input, { messages, agentIds: agents.map((a) => a.agentId), systemValue: R, baseline: b, ...(signal ? { signal } : {}) });
      // credit and δ_m are mapped back by player name: two players of one name would lose one's value
      checkDistinctPlayers(games.agentGame);
      if (games.messageGame) checkDistinctPlayers(games.messageGame);
      games = { ...games, agentGame: new DeadlineGame(games.agentGame, deadline!), ...(games.messageGame ? { messageGame: new DeadlineGame(games.messageGame, deadline!) } : {}) };
      kind = games.kind ?? (options.game === 'provenance' ? 'module' : options.game);
    } catch (err) {
      warnings.push(`gameFactory failed (${errorNote(err)}); falling back to the provenance game`);
      await localizeFailure();
      games = provenanceFor();
      kind = 'provenance';
    }
    if (options.baseline === 'game') {
      try {
        b = await new CachedGame(games.agentGame, { signal }).value(emptyCoalition(games.agentGame.players.length));
      } catch (err) {
        warnings.push(`baseline 'game': v(∅) could not be evaluated (${errorNote(err)}); using 0`);
        b = 0;
      }
    }
    if (options.anchor) {
      // the game's values must be on R's scale: noted here, warned about once the credit is done
      const range = scoreRangeOf(options, used.name);
      const scale = options.normalize ? { min: 0, max: 1, noted: outOfScale } : { min: range.min, max: range.max, noted: outOfScale };
      games = { ...games, agentGame: new AnchoredGame(games.agentGame, R, b, scale), ...(games.messageGame ? { messageGame: new AnchoredGame(games.messageGame, R, b, scale) } : {}) };
    }
  } else {
    if (options.game !== 'provenance') warnings.push(`game '${options.game}' needs a gameFactory; using the provenance game`);
    if (options.baseline === 'game') warnings.push(`baseline 'game' needs a pluggable game; the provenance game uses 0`);
    await localizeFailure();
    games = provenanceFor();
    kind = 'provenance';
  }
  function provenanceFor(): EpisodeGames {
    const pg = provenanceGames(input.episodeId, steps, agents, {
      systemValue: R,
      baseline: b,
      scale: unit,
      harmWeight: options.harmWeight,
      evaluatedStepId,
      graph,
      ...(unmarkedFirstError !== undefined || flaggedOutputs.size > 0 ? { harmfulStepIds: [...flaggedOutputs, ...(unmarkedFirstError !== undefined ? [unmarkedFirstError] : [])] } : {}),
    });
    provenance = pg.analysis;
    return { agentGame: pg.agentGame, messageGame: pg.messageGame, kind: 'provenance' };
  }

  // What events report must be what the game did: the provenance game masks.
  const removalProtocol = kind === 'provenance' ? 'mask' : (games.removalProtocol ?? options.removalProtocol);
  if (kind === 'provenance' && options.removalProtocol !== 'mask') {
    warnings.push(`removalProtocol '${options.removalProtocol}' does not apply to the provenance game, which masks: reported as mask`);
  }

  // Agent credit.
  let estimate: ShapleyEstimate;
  let loo: readonly number[] | undefined;
  if (agents.length === 0) {
    warnings.push(`empty episode: no agents; R - b = ${R - b} is not attributed`);
    estimate = buildEstimate({ players: [], values: [], halfWidths: [], confidence: options.confidence, evaluations: 0, status: 'exact', estimator: 'none', grandValue: R, emptyValue: b, note: 'empty episode' });
  } else {
    const agentCG = new CachedGame(games.agentGame, { signal, concurrency: options.concurrency });
    // valueScale: the score's range (unit), so a result with no interval from its samples reports
    // one that spans the scale — on a 0–100 score (normalize: false) it was ±(|R − b| + 1)
    const est = { budget: options.budget, targetHalfWidth, confidence: options.confidence, seed: episodeSeed(options.seed, input.episodeId), signal, valueScale: unit };
    if (options.estimator === 'exact' && agents.length <= options.maxExactPlayers) {
      estimate = await new ExactEstimator({ maxPlayers: options.maxExactPlayers }).estimate(agentCG, est);
    } else {
      const forced = isSamplerName(options.estimator) ? options.estimator : undefined;
      // est's members written out (a member added to est goes here too), not spread: `{ ...est,
      // more }` got a map of its own per episode in this V8 (see messageOutcomes below), and the
      // estimators' option reads went megamorphic
      estimate = await estimateShapley(agentCG, {
        budget: est.budget,
        targetHalfWidth: est.targetHalfWidth,
        confidence: est.confidence,
        seed: est.seed,
        signal: est.signal,
        valueScale: est.valueScale,
        maxExactPlayers: forced ? 0 : options.maxExactPlayers,
        useClosedForm: forced === undefined,
        approximate: forced,
        treeMsr: { fit: options.treeMsrFit },
      });
      // named after the run: the fallback is estimateShapley's auto choice (SVARM from 4·n evaluations)
      if (options.estimator === 'exact') warnings.push(`estimator 'exact' refused: ${agents.length} agents > maxExactPlayers ${options.maxExactPlayers}; using ${estimate.estimator}`);
    }
    // A value function's values are checked finite, not sized: values near 1e308 (or any above
    // ~1e154, once squared for a variance) overflow the estimators' sums to ±Infinity or NaN, and
    // the episode failed at the events' finiteness guard as a "bug in the credit engine". The
    // equal split, partial and flagged, as for a game that fails.
    if (!isFiniteEstimate(estimate)) {
      estimate = equalSplitFallback(estimate.players, estimate.grandValue, estimate.emptyValue, scale, estimate.estimator, estimate.evaluations, `the value function's values overflow the ${estimate.estimator} estimator's arithmetic (a non-finite credit or interval): return values on the score's scale (R is ${R})`, estimate.confidence);
    }
    if (estimate.note) warnings.push(`agent credit ${estimate.status}: ${estimate.note}`);
    if (Math.abs(estimate.grandValue - estimate.emptyValue - (R - b)) > 1e-9) {
      warnings.push(`the game's v(N) - v(∅) = ${estimate.grandValue - estimate.emptyValue} differs from R - b = ${R - b} (anchor is off or the game failed); credits sum to the game's`);
    }
    if (options.leaveOneOut) {
      try {
        // Closed form when the game has one (the provenance game's unanimity sum: Σ_{T∋i} w_T), as
        // for δ_m below: evaluating n + 1 coalitions of it costs O(n · Σ|T|), minutes at thousands
        // of agents, run synchronously (no credit.timeoutMs stops it) on the credit thread.
        const closed = games.agentGame.leaveOneOut?.();
        if (closed && closed.length === games.agentGame.players.length && closed.every(Number.isFinite)) loo = closed;
        else {
          if (closed) warnings.push(`agent game leaveOneOut() returned ${closed.length} values for ${games.agentGame.players.length} players (or a non-finite one); evaluated coalitions instead`);
          loo = (await leaveOneOut(agentCG)).values;
        }
      } catch (err) {
        warnings.push(`leave-one-out skipped: ${errorNote(err)}`);
      }
    }
  }
  // Map results by player id: a pluggable game may order (or name) its players differently.
  const at = playerPositions(estimate.players, agents);
  if (!at.sameOrder) {
    const unknownPlayers = estimate.players.filter((p) => !agentMap.has(p));
    if (unknownPlayers.length > 0) warnings.push(`agent game players not among the episode's agents (their credit is not passed to messages): ${unknownPlayers.join(', ')}`);
  }
  const missingAgents = at.missing;
  if (missingAgents.length > 0 && estimate.players.length > 0) warnings.push(`agents that are not players of the agent game get credit 0: ${missingAgents.join(', ')}`);
  const credit = new Map<string, number>();
  for (let k = 0; k < agents.length; k++) credit.set(agents[k]!.agentId, estimate.values[at.of[k]!] ?? 0);
  const stepCount = new Map<string, number>();
  for (const m of messages) stepCount.set(m.agentId, (stepCount.get(m.agentId) ?? 0) + 1);
  const agentResults: AgentCreditResult[] = [];
  for (let k = 0; k < agents.length; k++) {
    const a = agents[k]!;
    const i = at.of[k]!;
    const agentId = a.agentId;
    const agentName = a.agentName;
    const value = estimate.values[i] ?? 0;
    const ciLow = estimate.intervals[i]?.low ?? 0;
    const ciHigh = estimate.intervals[i]?.high ?? 0;
    const leaveOneOut = loo?.[i];
    const steps = stepCount.get(agentId) ?? 0;
    // two literals, not a spread of the optional member: see messageOutcomes below
    agentResults.push(leaveOneOut !== undefined ? { agentId, agentName, credit: value, ciLow, ciHigh, leaveOneOut, steps } : { agentId, agentName, credit: value, ciLow, ciHigh, steps });
  }

  // δ_m: leave-one-out in the message game, by the messages' positions (0: not measured).
  const deltaAt: number[] = new Array<number>(messages.length).fill(0);
  let messageEffects: MessageEffects = 'none';
  if (messages.length === 0) {
    if (agents.length > 0) warnings.push('episode has no rewardable messages: no message rewards');
  } else if (!games.messageGame) {
    warnings.push('no message game: δ_m = 0 for every message (equal split of agent credit, a failed or flagged step held below 0; in a config file credit.judge.players or credit.module.players: messages asks the value function per message)');
  } else {
    const mg = games.messageGame;
    // The built-in game's players are the messages' ids in order: then every one is known, and no set of them is needed.
    const ids = sameIds(mg.players, messages) ? undefined : new Set(messages.map((m) => m.stepId));
    if (ids !== undefined && mg.players.some((p) => !ids.has(p))) warnings.push('message game players are not all message step ids; unknown players ignored');
    try {
      // Built only when coalitions are evaluated (the closed form below needs no cache).
      const cached = () => new CachedGame(mg, { signal, concurrency: options.concurrency, budget: options.budget });
      let l: { players: readonly string[]; values: readonly number[] };
      if (options.messageDelta === 'shapley') {
        const e = await estimateShapley(cached(), { budget: options.budget, confidence: options.confidence, seed: episodeSeed(options.seed, input.episodeId), signal, maxExactPlayers: options.maxExactPlayers });
        if (e.status === 'partial') warnings.push(`message-level Shapley is partial: ${e.note ?? ''}`);
        l = e;
        messageEffects = 'shapley';
      } else {
        // Closed form (Σ_{T∋m} w_T for unanimity sums): the same numbers as evaluating |M|+1
        // coalitions, without evaluating any. A pluggable game's answer is checked like its
        // closedForm() is (estimate.ts); a malformed one falls back to evaluating coalitions.
        const closed = mg.leaveOneOut?.();
        if (closed && closed.length === mg.players.length && closed.every(Number.isFinite)) {
          l = { players: mg.players, values: closed };
          messageEffects = 'closed-form';
        } else {
          if (closed) warnings.push(`message game leaveOneOut() returned ${closed.length} values for ${mg.players.length} players (or a non-finite one); evaluated coalitions instead`);
          l = await leaveOneOut(cached());
          messageEffects = 'leave-one-out';
        }
      }
      // l's players are mg's (the same array) but for a pluggable game's leave-one-out result
      const known = ids === undefined && l.players !== mg.players ? new Set(messages.map((m) => m.stepId)) : ids;
      if (known === undefined) {
        // l's players are the messages' ids in order (sameIds)
        for (let i = 0; i < l.players.length; i++) deltaAt[i] = l.values[i] ?? 0;
      } else {
        const deltas = new Map<string, number>();
        for (let i = 0; i < l.players.length; i++) {
          const p = l.players[i]!;
          if (known.has(p)) deltas.set(p, l.values[i]!);
        }
        for (let i = 0; i < messages.length; i++) deltaAt[i] = deltas.get(messages[i]!.stepId) ?? 0;
      }
    } catch (err) {
      messageEffects = 'none';
      warnings.push(`message game failed (${errorNote(err)}): δ_m = 0 for every message; rewards are an equal split, a failed or flagged step held below 0 (partial)`);
    }
  }

  await localizeFailure(kind === 'provenance' ? undefined : games.messageGame); // pluggable games: now that b is known
  if (outOfScale.first !== undefined) {
    warnings.push(outOfScaleWarning(outOfScale, used.name, R, options));
    // a warning per episode only, before: nothing an operator could alert on
    games.onValuesOutOfScale?.(outOfScale.count);
  }
  let transfers: ReturnType<typeof blameAndRepair> | undefined;
  if (firstError) {
    // blame's options first, then feOpts': a literal that starts with a spread gets a map per episode
    transfers = blameAndRepair(graph, firstError, { blame0: options.blameWeight * unit, decay: options.blameDecay, repairWeight: options.repairWeight, criticWeight: options.criticWeight, ...feOpts });
  }

  // Message rewards.
  const dups = duplicatesOf(graph);
  const roles = provenance?.roles;
  const rewardInputs = messages.map((m) => ({
    stepId: m.stepId,
    agentId: m.agentId,
    harmful: isErroneous(m) || m.stepId === unmarkedFirstError || flaggedOutputs.has(m.stepId),
    redundant: dups.has(m.stepId) || (roles?.get(m.stepId)?.startsWith('redundant') ?? false),
  }));
  const rewardsOf = (deltasMeasured: boolean) => messageRewardsAt(credit, rewardInputs, deltaAt, transfers ? { bound: rewardBound, deltasMeasured, transfers: transfers.transfers } : { bound: rewardBound, deltasMeasured });
  let mr = rewardsOf(messageEffects !== 'none');
  if (messageEffects !== 'none' && mr.rewards.some((r) => !Number.isFinite(r.reward))) {
    // δ_m of a message game whose values are near ±1e308 overflow (their mean, v(M) − v(M∖{m})):
    // as for a message game that fails, δ_m = 0 rather than an episode lost to a NaN reward
    warnings.push('message game values overflow (δ_m or their mean is not finite): δ_m = 0 for every message; rewards are an equal split, a failed or flagged step held below 0');
    messageEffects = 'none';
    deltaAt.fill(0);
    mr = rewardsOf(false);
  }
  for (const w of mr.warnings) warnings.push(w);
  // mr.rewards[i] is messages[i]'s: messageRewardsAt answers by position
  const rewards = mr.rewards;
  const messageOutcomes: MessageOutcome[] = messages.map((m, i) => {
    const r = rewards[i]!;
    const role = transfers?.roles.get(m.stepId);
    const agentCredit = credit.get(m.agentId) ?? 0;
    // Two literals, not `{ ...o, failureRole }`: in this V8 an object literal that starts with a
    // spread and adds a property gets a map of its own, every one of them (a copied map that keeps
    // no transitions). Messages with a role then had as many shapes as objects, and every read of
    // a message (events, the live page) went megamorphic.
    return role
      ? { step: m, reward: r.reward, delta: r.delta, components: r.components, agentCredit, failureRole: role, repairsStepId: transfers?.corrects.get(m.stepId) }
      : { step: m, reward: r.reward, delta: r.delta, components: r.components, agentCredit };
  });
  let pairs: PreferencePairDraft[] = [];
  if (firstError && transfers) {
    pairs = preferencePairs(stepsNamed(graph, firstError, transfers.repairs), firstError, transfers.repairs, rewardLookup(rewards));
  }

  // Built by assignment in the order the literal had, not with spreads of the optional members (a
  // literal with spreads in it is built property by property at run time: ~20 % of this
  // function's own time, and the outcomes' shapes were not shared).
  const estimator: Mutable<CreditOutcome['estimator']> = {
    name: estimate.estimator,
    status: estimate.status,
    evaluations: estimate.evaluations,
    budget: options.budget,
    targetHalfWidth,
    confidence: options.confidence,
  };
  if (estimate.note !== undefined) estimator.note = estimate.note;
  // pairs and warnings come after the optional firstError
  const result: Omit<Mutable<CreditOutcome>, 'pairs' | 'warnings'> & Partial<Mutable<CreditOutcome>> = {
    episodeId: input.episodeId,
    revision: input.revision,
    traceIds: input.traceIds,
    closeReason: input.closeReason,
    lateSpans: input.lateSpans,
    duplicateSpans: input.duplicateSpans,
    outcome,
    evaluation: used,
    systemValue: R,
    baseline: b,
    successThreshold: threshold,
    rewardBound,
    game: { kind, removalProtocol, players: 'agents', messageEffects },
    estimate,
    estimator,
    agents: agentResults,
    messages: messageOutcomes,
  };
  if (firstError) result.firstError = firstError;
  result.pairs = pairs;
  result.warnings = warnings;
  if (provenance) result.provenance = provenance;
  return result as CreditOutcome;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The steps `preferencePairs` looks up — t* and its repairs — by id, from the graph: a map of every
 * step was built per failed episode for those few (the ids are distinct: the steps are deduped).
 */
function stepsNamed(graph: CausalGraph, fe: FirstError, repairs: readonly { readonly stepId: string }[]): Map<string, AgentStep> {
  const byId = new Map<string, AgentStep>();
  for (const id of [fe.stepId, ...repairs.map((r) => r.stepId)]) {
    const i = graph.indexOf.get(id);
    if (i !== undefined) byId.set(id, graph.order[i]!);
  }
  return byId;
}

/**
 * A message's reward by step id (0 for none), for `preferencePairs`, which asks for t* and its
 * repairs only: up to 64 messages the rewards are searched (a Map of all of them was made per
 * failed episode for those few look-ups), past that a Map. The step ids are distinct (deduped).
 */
function rewardLookup(rewards: readonly { readonly stepId: string; readonly reward: number }[]): (stepId: string) => number {
  if (rewards.length > 64) {
    const byId = new Map(rewards.map((r) => [r.stepId, r.reward] as const));
    return (id) => byId.get(id) ?? 0;
  }
  return (id) => {
    for (const r of rewards) if (r.stepId === id) return r.reward;
    return 0;
  };
}

/**
 * Per agent (in `agents` order), its position among the agent game's `players` (−1: it is none of
 * them), and the agents that are none. The built-in game's players are the agents' ids in that
 * order (`sameOrder`: then every player is an agent too), checked in one pass; a pluggable game's
 * are matched by name (a repeated name: its last position, as a Map of them gives).
 */
function playerPositions(players: readonly string[], agents: readonly Agent[]): { of: number[]; missing: string[]; sameOrder: boolean } {
  const of: number[] = [];
  let sameOrder = players.length === agents.length;
  for (let k = 0; sameOrder && k < agents.length; k++) sameOrder = players[k] === agents[k]!.agentId;
  if (sameOrder) {
    for (let k = 0; k < agents.length; k++) of.push(k);
    return { of, missing: [], sameOrder };
  }
  const index = new Map(players.map((p, i) => [p, i] as const));
  const missing: string[] = [];
  for (const a of agents) {
    const i = index.get(a.agentId);
    of.push(i ?? -1);
    if (i === undefined) missing.push(a.agentId);
  }
  return { of, missing, sameOrder };
}

/** Whether `players` are the messages' step ids, in the same order. */
function sameIds(players: readonly string[], messages: readonly AgentStep[]): boolean {
  if (players.length !== messages.length) return false;
  for (let i = 0; i < players.length; i++) if (players[i] !== messages[i]!.stepId) return false;
  return true;
}

/** The step ids of the flagged outputs' indices; one shared empty set when there are none (the usual case). */
function stepIdsAt(graph: CausalGraph, outputs: ReadonlyMap<number, string>): ReadonlySet<string> {
  if (outputs.size === 0) return NO_STEP_IDS;
  const ids = new Set<string>();
  for (const i of outputs.keys()) ids.add(graph.order[i]!.stepId);
  return ids;
}
const NO_STEP_IDS: ReadonlySet<string> = new Set();

/** Whether every value and interval end of an estimate is finite (what the events can carry). */
function isFiniteEstimate(e: ShapleyEstimate): boolean {
  return e.values.every(Number.isFinite) && e.intervals.every((i) => Number.isFinite(i.low) && Number.isFinite(i.high));
}

/**
 * A signal that aborts after `ms`, its reason naming the limit: AbortSignal.timeout's reason ("The
 * operation was aborted due to timeout") went into the events' estimator note and warnings —
 * "estimation aborted: The operation was aborted due to timeout" — without saying which of the
 * limits (credit.timeoutMs, credit.judge.timeoutMs, runtime.creditTimeoutMs) ran out.
 */
interface CreditDeadline {
  readonly signal: AbortSignal;
  /** Whether the deadline has passed by the clock; aborts `signal` when it has (its timer may not have run). */
  overdue(): boolean;
}

function creditDeadline(ms: number): CreditDeadline {
  const controller = new AbortController();
  const reason = () => new Error(`timeoutMs (credit.timeoutMs: ${ms} ms) ran out while waiting for the value function`);
  setTimeout(() => controller.abort(reason()), ms).unref?.();
  const end = performance.now() + ms;
  return {
    signal: controller.signal,
    overdue: () => {
      if (!controller.signal.aborted && performance.now() >= end) controller.abort(reason());
      return controller.signal.aborted;
    },
  };
}

/**
 * A pluggable game whose evaluations stop once the episode's credit.timeoutMs has passed, by the
 * clock. The deadline's timer fires only when the event loop gets to timers, and a value function
 * that computes synchronously — a module's, even declared async: its promises settle in microtasks —
 * never lets it: an exact run of 256 coalitions at 10 ms each took 2.8 s with timeoutMs 300 and came
 * out `exact`, and in a credit worker such an episode ran on to runtime.creditTimeoutMs, which
 * fails it with no events, where the partial result credit.timeoutMs promises was due.
 */
class DeadlineGame implements Game {
  readonly id: string;
  readonly players: readonly string[];
  readonly closedForm?: () => readonly number[];
  readonly leaveOneOut?: () => readonly number[];
  constructor(
    private readonly inner: Game,
    private readonly deadline: CreditDeadline,
  ) {
    this.id = inner.id;
    this.players = inner.players;
    if (inner.closedForm) this.closedForm = () => inner.closedForm!();
    if (inner.leaveOneOut) this.leaveOneOut = () => inner.leaveOneOut!();
  }
  value(coalition: Uint8Array): number | Promise<number> {
    // a rejected promise, not a throw: CachedGame reads a throw as the game failing (an equal split), an abort as the time running out (the samples so far)
    if (this.deadline.overdue()) return Promise.reject(new EstimationAbortedError(this.deadline.signal.reason));
    return this.inner.value(coalition);
  }
}

/**
 * Prefix values v_≤t = v({m_1, …, m_t}) of `game` (players = message step ids) for the messages in
 * causal order: the run cut after each message, as the game scores it. A message that is not a
 * player leaves the coalition unchanged. Evaluated in one batch (a judge batches them).
 */
async function prefixValuesOf(game: CachedGame, messages: readonly AgentStep[]): Promise<number[]> {
  const index = new Map(game.players.map((p, i) => [p, i] as const));
  const coalition = new Uint8Array(game.players.length);
  const prefixes = messages.map((m) => {
    const i = index.get(m.stepId);
    if (i !== undefined) coalition[i] = 1;
    return coalition.slice();
  });
  return game.valueMany(prefixes);
}
