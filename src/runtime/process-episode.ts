/**
 * One closed episode → credit events: conventions (spans → steps, evaluations) → the system
 * evaluation → the credit engine → EpisodeCredit / MessageReward / PreferencePair events.
 *
 * Shared by every runtime (OTLP/HTTP receiver, Kafka pipeline, replay, in-process
 * SpanProcessor) so that the same episode always yields the same events (deterministic ids).
 */
import { context, isSpanContextValid, SpanStatusCode, trace, type Span as OtelSpan } from '@opentelemetry/api';
import { z } from 'zod';
import { DEFAULT_LABEL_SCORES, evaluatesFinalResponse, holdsAgentWork, evaluatesRun, evaluationsFromTree, normalizedLabelTable, scoredByLabel, scoreOfLabel, spanEvaluationOfEpisode, SpanTree, stepsFromTree, systemEvaluation, type ConventionsOptions } from '../conventions/index.js';
import { DegenerateEpisodeError, type CreditInput, type CreditOptions, type CreditOptionsInput } from '../credit/index.js';
import { creditCheckedEpisode, parseCreditOptions } from '../credit/credit-episode.js';
import { releaseDeferredDigests } from '../conventions/step-digests.js';
import { outcomeToEvents } from '../events/build.js';
import { checkProcessOptions } from '../inprocess/check-options.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Evaluation } from '../model/agents.js';
import { EpisodeSchema, type Episode } from '../model/episode.js';
import { ScopeSchema, SELF_TRACER_NAME, SpanEventSchema, SpanLinkSchema, SpanSchema } from '../model/telemetry.js';

// Which evaluation is the run's score lives with the conventions (the assembler asks it too).
export { systemEvaluation } from '../conventions/index.js';

export interface ProcessEpisodeOptions {
  credit?: CreditOptionsInput;
  conventions?: ConventionsOptions;
  /**
   * Name of the system evaluation to use (e.g. `task_success`). Unset: the first name that scored
   * the run, its latest evaluation (src/conventions/evaluations.ts `systemEvaluation`).
   */
  evaluationName?: string;
  /** Root-span attribute that carries a system score (e.g. `agent_credit.score`). */
  rootScoreAttribute?: string;
  /** Wall clock for `emitted_at_ms` (not part of event ids). */
  now?: () => number;
  /**
   * Called when an episode yields no credit because it is degenerate (no system evaluation, a
   * non-finite score, a label not in labelScores): the runtime counts and logs it. Such episodes emit no events;
   * a later evaluation re-opens the episode as a correction (src/episodes late policy).
   */
  onSkipped?: (episode: Episode, error: DegenerateEpisodeError) => void;
}

/**
 * The episode's evaluations: those joined from log records and evaluation streams, then those its
 * spans carry — label-only ones scored by the configured `credit.labelScores` when it is set.
 */
function episodeEvaluations(episode: Episode, tree: SpanTree, options: Pick<ProcessEpisodeOptions, 'rootScoreAttribute' | 'credit'>): { all: Evaluation[]; fromSpans: readonly Evaluation[] } {
  const table = labelTable(options);
  // a session-scoped verdict (naming only a conversation) is not a trace-keyed episode's (spanEvaluationOfEpisode)
  const read = evaluationsFromTree(tree, options.rootScoreAttribute !== undefined ? { rootScoreAttribute: options.rootScoreAttribute } : {});
  const fromSpans = withLabelScores(read.filter((e) => spanEvaluationOfEpisode(e, episode)), table);
  return { all: [...withLabelScores(episode.evaluations, table), ...fromSpans], fromSpans };
}

/**
 * The configured label table, keys as `scoreOfLabel` looks them up (trimmed, lower case);
 * undefined when not configured or equal to the built-in one (decoding already scored by it — the
 * jobs' config always carries the default table: re-scoring by it would only cost time).
 */
function labelTable(options: Pick<ProcessEpisodeOptions, 'credit'>): Readonly<Record<string, number>> | undefined {
  const given = (options.credit as { labelScores?: Record<string, number> } | undefined)?.labelScores;
  if (given === undefined) return undefined;
  let table = labelTables.get(given);
  if (table === undefined) {
    const lower = normalizedLabelTable(given);
    const builtIn = Object.keys(lower).length === Object.keys(DEFAULT_LABEL_SCORES).length && Object.entries(DEFAULT_LABEL_SCORES).every(([k, v]) => lower[k] === v);
    table = builtIn ? 'built-in' : lower;
    labelTables.set(given, table);
  }
  return table === 'built-in' ? undefined : table;
}

const labelTables = new WeakMap<object, Readonly<Record<string, number>> | 'built-in'>();

/**
 * Decoding scores label-only evaluations by the built-in table (src/conventions/labels.ts): it
 * does not know the job's `credit.labelScores`. Those labels — and labels the built-in table
 * left unscored — are scored here by the configured table; a label it lacks leaves no score
 * (the episode is then skipped, saying which label to add). Before, a configured table was
 * never applied to the run's verdict.
 */
function withLabelScores(evaluations: readonly Evaluation[], table: Readonly<Record<string, number>> | undefined): readonly Evaluation[] {
  if (table === undefined) return evaluations; // the common case: no copy
  return evaluations.map((e) => {
    if (!scoredByLabel(e)) return e;
    const score = scoreOfLabel(e.label, table);
    const out: Evaluation = { ...e, scoreFromLabel: true };
    if (score === undefined) delete out.score;
    else out.score = score;
    return out;
  });
}

/**
 * What a later evaluation can still do for an episode closed without one, by close reason.
 * Revisions closed by a timer are kept for corrections, those closed at a cap for their verdict and
 * root only (src/episodes RETAINED_REASONS): one closed at a stop or by eviction cannot be corrected — saying it "re-opens it" sent a user
 * whose runs were waiting for their verdict at Ctrl-C looking for corrections that never come.
 */
function afterClose(reason: Episode['closeReason']): string {
  switch (reason) {
    case 'evaluation-arrived':
      return '';
    case 'root-ended':
      return ` It closed by root-ended; an evaluation that arrives later re-opens it as a correction (revision + 1; episodes.lateSpanPolicy: correct). A run waits episodes.awaitEvaluationMs for its verdict while evaluations are arriving (one in the last episodes.evaluationsArrivingMs), else graceMs: raise the first for a slower judge, the second for longer pauses between verdicts.`;
    case 'idle':
    case 'max-duration':
      return ` It closed by ${reason}; an evaluation that arrives later re-opens it as a correction (revision + 1; episodes.lateSpanPolicy: correct).`;
    case 'max-spans':
    case 'max-bytes':
      // capped revisions are retained for their verdict (src/episodes RETAINED_REASONS, CAP_REASONS)
      return ` It closed by ${reason} (a size cap): its later spans are only counted (lateUncorrected), but its root span and an evaluation that arrive later re-open it as a correction (revision + 1; episodes.lateSpanPolicy: correct), credited on the spans up to the cap${reason === 'max-bytes' ? ' — if episodes.retainClosedBytes is above episodes.maxBytesPerEpisode (else it is not kept, and a later evaluation is only counted)' : ''}.`;
    case 'shutdown':
      // replay and compare close what is open at the end of their input so too: a user replaying
      // spans without their verdicts read only of a job stopping
      return ` It closed by shutdown (the job or processor stopping, the end of replay's or compare's input — give the files of the run's evaluations with its spans —, or an in-process forceFlush with flushClosesEpisodes): an evaluation that arrives later cannot correct it, its run gets no credit.`;
    default:
      return ` It closed by ${reason}, and revisions closed so are not kept for corrections: an evaluation that arrives later is only counted (lateUncorrected)${reason === 'evicted' ? ' — raise episodes.maxOpenEpisodes / maxBufferedBytes' : ''}.`;
  }
}

/**
 * Why an episode has no system evaluation, in the user's terms: the one warning "no evaluation"
 * covered none sent, a name other than `evaluation.name`, step-level verdicts only, and a verdict
 * without a score — each with its own fix. Only called for skipped episodes.
 */
export function whyNoSystemEvaluation(episode: Episode, options: Pick<ProcessEpisodeOptions, 'evaluationName' | 'rootScoreAttribute' | 'credit'> = {}): string {
  const tree = new SpanTree(episode.spans);
  const { all } = episodeEvaluations(episode, tree, options);
  const closed = afterClose(episode.closeReason);
  if (all.length === 0) {
    const dropped = droppedVerdict(episode.evaluationDropped);
    if (dropped !== undefined) return `${dropped}${closed}`;
    return `no evaluation joined it: send a system-level evaluation — a gen_ai.evaluation.result log record emitted in the context of the run's root span, an evaluation record with its trace_id (POST /v1/evaluations to the receiver; in-process, CreditSpanProcessor.addEvaluations), or a root-span score attribute (evaluation.rootScoreAttribute).${closed}`;
  }
  const names = [...new Set(all.map((e) => e.name ?? '(no name)'))].join(', ');
  const named = options.evaluationName === undefined ? all : all.filter((e) => e.name === options.evaluationName);
  if (named.length === 0) return `${all.length} evaluation(s) joined (${names}), none named ${JSON.stringify(options.evaluationName)} (evaluation.name): send that one, or set evaluation.name to the name your evaluator uses.${closed}`;
  const system = named.filter((e) => evaluatesRun(tree, e) || (options.evaluationName !== undefined && evaluatesFinalResponse(tree, e)));
  const ofFinalResponse = options.evaluationName === undefined ? named.find((e) => evaluatesFinalResponse(tree, e)) : undefined;
  if (system.length === 0 && ofFinalResponse !== undefined) {
    return `${named.length} evaluation(s) joined, none of the run itself; ${JSON.stringify(ofFinalResponse.name)} evaluates the run's final response (by its gen_ai.response.id): set evaluation.name to ${JSON.stringify(ofFinalResponse.name)} (in-process: processOptions.evaluationName) to let it score the run, or evaluate the root span.${closed}`;
  }
  if (system.length === 0) {
    const absent = ofAbsentSpans(tree, named);
    if (absent !== undefined) return `${absent}${closed}`;
    return `${named.length} evaluation(s) joined, all of inner spans (step-level verdicts flag steps, they do not score the run): evaluate the root span (or name no span, or the run's final response by its gen_ai.response.id) for the system score.${closed}`;
  }
  const labels = [...new Set(system.flatMap((e) => (e.label !== undefined && e.score === undefined ? [JSON.stringify(e.label)] : [])))];
  if (labels.length > 0) {
    const table = labelTable(options);
    return `the system-level evaluation(s) joined carry label ${labels.join(', ')} and no score; ${table === undefined ? `the built-in label table scores ${Object.keys(DEFAULT_LABEL_SCORES).join(', ')}` : `credit.labelScores has ${Object.keys(table).map((k) => JSON.stringify(k)).join(', ')}`}: add the label to credit.labelScores (in-process: processOptions.credit.labelScores), or send gen_ai.evaluation.score.value.${closed}`;
  }
  return `the system-level evaluation(s) joined carry no finite score (NaN, Infinity or a value that is no number: an evaluator that failed — ragas scores a failed metric NaN): send a finite gen_ai.evaluation.score.value, or a label.${closed}`;
}

/**
 * Why a run's verdict that was sent did not join it: it came before the run's spans and the
 * assembler dropped it while it waited for them (Episode `evaluationDropped`) — each with the
 * setting to raise. "No evaluation joined it: send a system-level evaluation" sent a user whose
 * verdicts a backlog had read ahead of their spans looking for verdicts they did send. Undefined
 * when none was dropped (none came, as far as the assembler remembers).
 */
function droppedVerdict(why: Episode['evaluationDropped']): string | undefined {
  switch (why) {
    case 'over-limit':
      return `no evaluation joined it: one came for it before its spans and was dropped unjoined, episodes.maxPendingEvaluations evaluations already waiting for their spans (the oldest go first): raise episodes.maxPendingEvaluations, or have the spans arrive first (a logs or evaluations topic read far ahead of the spans topic: README, Limits).`;
    case 'expired':
      return `no evaluation joined it: one came for it before its spans and was dropped unjoined after waiting episodes.pendingEvaluationTtlMs for them: raise episodes.pendingEvaluationTtlMs above how far its spans lag its verdict (spans exported late or read behind the evaluations).`;
    default:
      return undefined;
  }
}

/**
 * Verdicts naming a span the episode does not hold, said as such: a verdict emitted in the root
 * span's context whose root had not arrived (still open when the episode closed — Ctrl-C during a
 * run, a run idle past `episodes.idleMs` — or exported by a service that does not send here) was
 * told "all of inner spans … evaluate the root span", which it did. When the absent span is the
 * parent of the episode's top spans it is their root. Undefined when every named span is there.
 */
function ofAbsentSpans(tree: SpanTree, evaluations: readonly Evaluation[]): string | undefined {
  const absent = [...new Set(evaluations.flatMap((e) => (e.spanId !== undefined && !tree.byId.has(e.spanId) ? [e.spanId] : [])))];
  if (absent.length === 0) return undefined;
  const parentOfTop = absent.find((id) => tree.ordered.some((s) => s.parentSpanId === id && tree.isRoot(s.spanId)));
  const which = parentOfTop !== undefined
    ? `span ${parentOfTop}, the parent of the episode's top span(s) — its root span, which has not arrived (still open when the episode closed, or exported by a service that does not send here)`
    : `span(s) ${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}, which the episode does not hold (not arrived, or sent elsewhere)`;
  return `${evaluations.length} evaluation(s) joined, none of the run: they evaluate ${which}, and a verdict scores the run only once the span it names is in the episode: end and export that span with the run's others, or send the verdict naming no span (an evaluation record with the trace_id alone).`;
}

/**
 * The skip of an episode without a system evaluation: `no-agents` when none of its spans is an
 * agent or LLM convention's (conventions' `holdsAgentWork`) — a web app's health check, static
 * file, start-up trace or cron job: nothing to credit, and "send a system-level evaluation" was
 * wrong advice for it —, else `no-evaluation` with what to send.
 */
function noEvaluationError(episode: Episode, options: ProcessEpisodeOptions): DegenerateEpisodeError {
  if (!holdsAgentWork(episode.spans)) return new DegenerateEpisodeError('no-agents', episode.episodeId, whyNothingToCredit(episode));
  return new DegenerateEpisodeError('no-evaluation', episode.episodeId, whyNoSystemEvaluation(episode, options));
}

/** Names of the episode's root spans (no parent span held), at most three, for the `no-agents` reason. */
function rootNames(episode: Episode): string {
  const ids = new Set(episode.spans.map((s) => s.spanId));
  const names = [...new Set(episode.spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)).map((s) => JSON.stringify(s.name)))];
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …`;
}

/**
 * Why an episode without agent work gets no credit, and that nothing is to be done about it —
 * unless it was meant to be an agent run.
 */
export function whyNothingToCredit(episode: Episode): string {
  return `none of its ${episode.spans.length} span(s) (root ${rootNames(episode) || 'none held'}) is an agent, LLM or tool span of a convention agent-credit reads (GenAI gen_ai.operation.name, OpenInference, OpenLLMetry, Vercel AI SDK): a trace of the app itself — a health check, a static file, a start-up trace, a migration or cron job — with nothing to credit, so it did not wait for a verdict and needs none. If it was an agent run, its agents' spans did not reach agent-credit (another exporter or pipeline) or come from a framework no convention reads.`;
}

const checkedOptions = new WeakSet<ProcessEpisodeOptions>();

/** `processEpisode`'s episode is not an `Episode`; the message names each bad field and what it takes. */
export class EpisodeInputError extends Error {
  override readonly name = 'EpisodeInputError';
}

/**
 * The `Episode` fields processEpisode reads (a hand-built episode need not carry the assembler's
 * bookkeeping: bytes, sources, …). Attribute records are not walked, only checked to be objects: the
 * recursive attribute schema was most of the check's time, and the conventions read each value by
 * its type anyway.
 */
const AnyAttributes = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'expected an object of attributes { key: value }' });
const CheckedSpanSchema = SpanSchema.extend({
  attributes: AnyAttributes,
  events: z.array(SpanEventSchema.extend({ attributes: AnyAttributes })),
  links: z.array(SpanLinkSchema.extend({ attributes: AnyAttributes })),
  resource: z.object({ attributes: AnyAttributes }),
  scope: ScopeSchema.extend({ attributes: AnyAttributes.optional() }),
});
const ProcessedEpisodeSchema = EpisodeSchema.pick({ episodeId: true, revision: true, traceIds: true, evaluations: true, closeReason: true, lateSpans: true, duplicateSpans: true }).extend({ spans: z.array(CheckedSpanSchema) });

/** At most this many problems are listed (a wrong list of 10 000 spans gives one line each). */
const MAX_PROBLEMS = 8;

/**
 * `episode` checked against the Episode schema (src/model/episode.ts) at the library boundary: a
 * JavaScript caller's `processEpisode({})` threw "spans is not iterable" from the conventions, an
 * evaluation without a name a TypeError further in. The runtimes hand processEpisode the
 * assembler's episodes and call `processCheckedEpisode`, which skips this (the Kafka job's
 * per-episode path).
 */
export function checkEpisode(episode: unknown): asserts episode is Episode {
  if (episode === null || typeof episode !== 'object' || Array.isArray(episode)) {
    throw new EpisodeInputError(`processEpisode: expected an Episode object { episodeId, revision, traceIds, spans, evaluations, closeReason, lateSpans, duplicateSpans } (src/model/episode.ts; EpisodeAssembler closes them from decoded spans), got ${episode === null ? 'null' : Array.isArray(episode) ? 'an array' : typeof episode}`);
  }
  const parsed = ProcessedEpisodeSchema.safeParse(episode);
  if (parsed.success) return;
  // a NaN or infinite score is an evaluator that failed: processEpisode skips the episode saying so (onSkipped)
  const issues = parsed.error.issues.filter((i) => !(i.path.length === 3 && i.path[0] === 'evaluations' && i.path[2] === 'score' && typeof (episode as { evaluations: { score?: unknown }[] }).evaluations[i.path[1] as number]?.score === 'number'));
  if (issues.length === 0) return;
  const lines = issues.slice(0, MAX_PROBLEMS).map((issue) => `episode.${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || '(episode)'}: ${issue.message}`);
  if (issues.length > MAX_PROBLEMS) lines.push(`… and ${issues.length - MAX_PROBLEMS} more`);
  throw new EpisodeInputError(`processEpisode: the episode is not an Episode (src/model/episode.ts EpisodeSchema; EpisodeAssembler closes them from decoded spans):\n  ${lines.join('\n  ')}`);
}

/**
 * conventions → credit → events for one closed episode: `[EpisodeCredit, ...MessageReward,
 * ...PreferencePair]`, or `[]` for a degenerate episode (reported through `onSkipped`).
 * Never throws for bad telemetry or a failing game (those give partial, flagged results);
 * throws for invalid options, and for an `episode` that is not an Episode (`EpisodeInputError`
 * naming each bad field).
 */
export async function processEpisode(episode: Episode, options: ProcessEpisodeOptions = {}): Promise<CreditEvent[]> {
  checkEpisode(episode);
  return processCheckedEpisode(episode, options);
}

/**
 * `processEpisode` without the episode check: for the runtimes (Kafka job, local jobs, credit
 * workers, in-process processor), whose episodes the assembler built from decoded spans — a schema
 * check of every span would cost their per-episode path.
 */
export async function processCheckedEpisode(episode: Episode, options: ProcessEpisodeOptions = {}): Promise<CreditEvent[]> {
  // Options are checked once per options object (strict: a misspelt `budgett` was ignored, a bad
  // value surfaced as a raw ZodError from deep inside credit).
  if (!checkedOptions.has(options)) {
    checkProcessOptions(options);
    checkedOptions.add(options);
  }
  // Self-tracing: a no-op unless the OTel SDK was started (src/telemetry/self-tracing.ts). The span
  // is started as startActiveSpan starts it (parent: the active context), but made active only
  // when it can matter: without an SDK it is a non-recording span with no valid context, and
  // making it active (a context holding it, a closure, the API's context.with) was ~0.8 µs per
  // episode for nothing. A span with a valid context (an SDK's, sampled or not, or a no-op one
  // carrying a propagated parent) is made active, so what credit calls (an http judge) joins it.
  const span = tracer.startSpan('agent_credit.credit_episode');
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return creditEvents(episode, options);
  return context.with(trace.setSpan(context.active(), span), () => tracedCreditEvents(span, episode, options));
}

/** `creditEvents` inside the episode's self-tracing span: its attributes, outcome or error, and end. */
async function tracedCreditEvents(span: OtelSpan, episode: Episode, options: ProcessEpisodeOptions): Promise<CreditEvent[]> {
  // A no-op span records nothing: skip building its attributes.
  const recording = span.isRecording();
  if (recording) {
    span.setAttributes({
      'agent_credit.episode.id': episode.episodeId,
      'agent_credit.episode.revision': episode.revision,
      'agent_credit.episode.spans': episode.spans.length,
      'agent_credit.episode.close_reason': episode.closeReason,
    });
  }
  try {
    const events = await creditEvents(episode, options);
    if (recording) recordOutcome(span, events);
    return events;
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** Self-tracing attributes of a credited (or skipped) episode. */
function recordOutcome(span: OtelSpan, events: readonly CreditEvent[]): void {
  const head = events[0];
  span.setAttribute('agent_credit.events', events.length);
  if (head?.event_type === 'episode_credit') {
    span.setAttributes({
      'agent_credit.outcome': head.outcome,
      'agent_credit.estimator': head.estimator.name,
      'agent_credit.estimator.status': head.estimator.status,
      'agent_credit.estimator.evaluations': head.estimator.evaluations,
      'agent_credit.agents': head.agents.length,
    });
  } else span.setAttribute('agent_credit.skipped', true);
}

const tracer = trace.getTracer(SELF_TRACER_NAME);

/**
 * The credit engine's input for one closed episode: conventions (spans → steps and agents),
 * evaluations from log records and spans, and the system evaluation chosen from them.
 */
export function creditInputOf(episode: Episode, options: CreditInputOptions = {}): CreditInput {
  // a library entry, as processEpisode: `creditInputOf({})` threw "spans is not iterable"
  checkEpisode(episode);
  return creditInput(episode, options, 'eager');
}

type CreditInputOptions = Pick<ProcessEpisodeOptions, 'conventions' | 'evaluationName' | 'rootScoreAttribute' | 'credit'>;

/**
 * `creditInputOf`; `digests: 'on-read'` leaves the steps' digests to be computed when the credit
 * engine or the events read them (conventions/step-digests.ts): processEpisode's steps go nowhere
 * else, unless a pluggable game or a prefix scorer is configured (then it asks for 'eager').
 */
function creditInput(episode: Episode, options: CreditInputOptions, digests: 'eager' | 'on-read'): CreditInput {
  // One span tree for the whole episode: both conventions passes read it.
  const tree = new SpanTree(episode.spans);
  const { all: evaluations, fromSpans: spanEvaluations } = episodeEvaluations(episode, tree, options);
  const table = labelTable(options);
  // with a configured table, step verdicts (failing labels flag steps) are read by it too
  // a step verdict is read as the run's: its score through credit.normalization.<name> (range,
  // higherIsBetter) compared with credit.successThreshold.<name> / defaultSuccessThreshold
  const credit = options.credit;
  const scoreRanges = credit?.normalization;
  const stepThresholds = { successThreshold: credit?.successThreshold, defaultSuccessThreshold: credit?.defaultSuccessThreshold, normalize: credit?.normalize };
  const evaluation = systemEvaluation(tree, evaluations, options.evaluationName);
  const verdicts = options.evaluationName === undefined && evaluation !== undefined ? severalRunVerdicts(tree, evaluations, evaluation) : undefined;
  // last: with digests 'on-read' the caller releases the steps' texts, so nothing may throw after it
  const { steps, agents, warnings } = stepsFromTree(tree, { ...options.conventions, evaluations, spanEvaluations, ...(table !== undefined ? { labelScores: table } : {}), ...(scoreRanges !== undefined ? { scoreRanges } : {}), stepThresholds, digests });
  if (verdicts !== undefined) warnings.push(verdicts);
  return {
    episodeId: episode.episodeId,
    revision: episode.revision,
    traceIds: episode.traceIds,
    steps,
    agents,
    evaluation,
    closeReason: episode.closeReason,
    lateSpans: episode.lateSpans,
    duplicateSpans: episode.duplicateSpans,
    warnings,
  };
}

/**
 * The warning when several evaluation names scored the run and evaluation.name is unset. The rule
 * (the earliest name's latest) is documented, but an evaluator that sends several metrics at once
 * (the OTel DeepEval evaluator: bias, toxicity, ... on the root) made the first one sent — bias,
 * 0 = best — the verdict without a word.
 */
function severalRunVerdicts(tree: SpanTree, evaluations: readonly Evaluation[], verdict: Evaluation): string | undefined {
  // by each name's earliest time, as the rule reads them (ties: the first sent): in arrival order,
  // two evaluators' records arriving the other way round changed the episode_credit event's text
  const earliest = new Map<string, bigint>();
  for (const e of evaluations) {
    if (e.score === undefined || !evaluatesRun(tree, e)) continue;
    const t = earliest.get(e.name);
    if (t === undefined || e.timeUnixNano < t) earliest.set(e.name, e.timeUnixNano);
  }
  if (earliest.size <= 1) return undefined;
  const names = [...earliest].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name]) => name);
  return `${names.length} evaluation names scored the run (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}); with evaluation.name unset the earliest, ${JSON.stringify(verdict.name)}, is its verdict: set evaluation.name (AGENT_CREDIT_EVALUATION_NAME; in-process processOptions.evaluationName) to the task verdict's name`;
}

/**
 * The credit options, parsed once per options object as they are checked once (`checkedOptions`):
 * an object changed after its first episode is not read again.
 */
function creditOptionsOf(options: ProcessEpisodeOptions): CreditOptions {
  const given = options.credit ?? NO_CREDIT_OPTIONS;
  let parsed = parsedCreditOptions.get(given);
  if (parsed === undefined) parsedCreditOptions.set(given, (parsed = parseCreditOptions(given)));
  return parsed;
}
const parsedCreditOptions = new WeakMap<object, CreditOptions>();
const NO_CREDIT_OPTIONS: CreditOptionsInput = Object.freeze({});

async function creditEvents(episode: Episode, options: ProcessEpisodeOptions): Promise<CreditEvent[]> {
  const creditOptions = creditOptionsOf(options);
  // A pluggable game (gameFactory: the http judge, a module game's value function, a library
  // caller's own) and a prefixScorer are handed the steps and may read their digests as fields:
  // they get them set, as creditInputOf sets them.
  const userSeesSteps = creditOptions.gameFactory !== undefined || creditOptions.prefixScorer !== undefined;
  const input = creditInput(episode, options, userSeesSteps ? 'eager' : 'on-read');
  try {
    let outcome;
    try {
      outcome = await creditCheckedEpisode(input, creditOptions);
    } catch (err) {
      if (err instanceof DegenerateEpisodeError) {
        options.onSkipped?.(episode, err.reason === 'no-evaluation' ? noEvaluationError(episode, options) : err);
        return [];
      }
      throw err;
    }
    const { episode: episodeEvent, rewards, pairs } = outcomeToEvents(outcome, { emittedAtMs: (options.now ?? Date.now)() });
    return [episodeEvent, ...rewards, ...pairs];
  } finally {
    releaseDeferredDigests(input.steps); // the events are built: no digest is read after this
  }
}
