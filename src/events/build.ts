/**
 * `outcomeToEvents`: a `CreditOutcome` → the published events (EpisodeCredit, MessageReward[],
 * PreferencePair[]), valid against ./schemas.ts. Event ids are deterministic
 * (episode id, revision, event type, method, subject), so a replay of the same episode revision
 * with the same method yields the same ids and consumers de-duplicate on them. `emitted_at_ms` is
 * the only wall-clock field and is not part of the id.
 */
import type { CreditOutcome, MessageOutcome } from '../credit/credit-episode.js';
import { estimatorOfRun } from '../credit/shapley/result.js';
import type { PreferencePairDraft } from '../credit/signals/preference-pairs.js';
import type { AgentStep } from '../model/agents.js';
import { eventIdOfText, eventIdText } from './event-id.js';

/** Episode ids of conversation-keyed episodes (model/episode.ts). */
const CONVERSATION_EPISODE_PREFIX = 'conv:';
import { inputDigestOf, outputDigestOf } from '../conventions/step-digests.js';
import { truncateUtf8 } from '../conventions/text.js';
import type { z } from 'zod';
import { type EpisodeCredit, EventHeaderSchema, type MessageReward, type PreferencePair, SCHEMA_VERSION } from './schemas.js';

type EventHeader = z.infer<typeof EventHeaderSchema>;

export interface BuildOptions {
  emittedAtMs: number;
}

export interface CreditEvents {
  episode: EpisodeCredit;
  rewards: MessageReward[];
  pairs: PreferencePair[];
}

/**
 * Whether `s` is `length` lowercase hex digits (an OTel id as the events carry it). A loop over the
 * char codes rather than /^[0-9a-f]{16}$/.test: it runs for every causal input of every reward
 * (52k per pass over the bench fleet), and the loop is cheaper than the regex call.
 */
function isLowerHex(s: string, length: number): boolean {
  if (s.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
const isTraceId = (s: string): boolean => isLowerHex(s, 32);
const isSpanId = (s: string): boolean => isLowerHex(s, 16);

/**
 * The span ids among `ids`, as a new array (the event's own, not the step's), undefined when none:
 * most steps' inputs are all span ids, copied without a filter callback, and a step without
 * inputs allocates no empty array.
 */
function spanIdsOf(ids: readonly string[]): string[] | undefined {
  let valid = 0;
  for (let i = 0; i < ids.length; i++) if (isSpanId(ids[i]!)) valid++;
  if (valid === 0) return undefined;
  return valid === ids.length ? ids.slice() : ids.filter(isSpanId);
}
/** Bytes of an evaluator's explanation carried in episode_credit (as conventions.maxTextBytes for step texts). */
const EXPLANATION_MAX_BYTES = 2048;

/**
 * JSON cannot carry NaN/Infinity; the engine never produces them, this guards the boundary.
 * `subject` (e.g. a step id) is appended to `what` only when the error is thrown, so the hot path
 * builds no message text.
 */
function finite(x: number, what: string, subject?: string): number {
  if (Number.isFinite(x)) return x;
  const name = subject === undefined ? what : `${what} ${subject}`;
  throw new RangeError(`${name} is ${x}; credit outcomes must be finite (bug in the credit engine)`);
}

function agentCredit(a: CreditOutcome['agents'][number]): EpisodeCredit['agents'][number] {
  const out: EpisodeCredit['agents'][number] = {
    agent_id: a.agentId,
    agent_name: a.agentName,
    credit: finite(a.credit, 'credit of', a.agentId),
    ci_low: finite(a.ciLow, 'ci_low of', a.agentId),
    ci_high: finite(a.ciHigh, 'ci_high of', a.agentId),
  } as EpisodeCredit['agents'][number];
  if (a.leaveOneOut !== undefined) out.leave_one_out = finite(a.leaveOneOut, 'leave_one_out of', a.agentId);
  out.steps = a.steps;
  return out;
}

function pairStep(s: AgentStep, context?: PreferencePair['context']): PreferencePair['rejected'] {
  const out: PreferencePair['rejected'] = { step_id: s.stepId, agent_id: s.agentId, name: s.name, kind: s.kind };
  // The chosen side's own prompt when it differs from the rejected one's (math review: the pair's
  // context was the rejected step's alone, so a trainer could not tell a same-prompt pair).
  const inputDigest = inputDigestOf(s);
  const outputDigest = outputDigestOf(s);
  if (context !== undefined && s.inputText !== undefined && inputDigest !== context.input_digest) out.input = s.inputText;
  if (inputDigest !== undefined) out.input_digest = inputDigest;
  if (s.outputText !== undefined) out.output = s.outputText;
  if (outputDigest !== undefined) out.output_digest = outputDigest;
  return out;
}

/**
 * Each event's fields are assigned in schema order, optional ones only when present: the JSON text
 * (the published bytes) follows that order, and plain stores are far cheaper than object literals
 * with chained (conditional) spreads. episode_credit and preference_pair are their header literal
 * followed by stores; a message_reward, 93 % of the events, is built whole by MessageRewardObject.
 * Values shared by all events of the episode (trace ids, estimator info, id prefixes) are built
 * once and shared by reference.
 */
/**
 * `outcomeToEvents`'s arguments, checked at the call (a few property reads: it is on every
 * episode's path): a JavaScript caller's `outcomeToEvents({}, …)` threw "Cannot read properties of
 * undefined (reading 'kind')", and `outcomeToEvents(outcome, {})` or `(outcome)` built events with
 * `emitted_at_ms` NaN (null in their JSON, against the package's own event schema) or a TypeError.
 */
function checkBuildArguments(outcome: unknown, opts: unknown): void {
  const o = outcome as Partial<Record<keyof CreditOutcome, unknown>> | null | undefined;
  if (o === null || typeof o !== 'object' || typeof o.episodeId !== 'string' || typeof o.game !== 'object' || o.game === null || typeof o.estimator !== 'object' || o.estimator === null || !Array.isArray(o.agents) || !Array.isArray(o.messages) || !Array.isArray(o.pairs) || !Array.isArray(o.traceIds)) {
    throw new TypeError(`outcomeToEvents: expected the CreditOutcome creditEpisode returns ({ episodeId, game, estimator, agents, messages, pairs, … }), got ${o === null ? 'null' : typeof o !== 'object' ? typeof o : `an object with ${Object.keys(o).slice(0, 8).join(', ') || 'no keys'}`}`);
  }
  const at = (opts as { emittedAtMs?: unknown } | null | undefined)?.emittedAtMs;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new TypeError(`outcomeToEvents: opts.emittedAtMs must be a finite number (the events' emitted_at_ms, ms since the epoch: { emittedAtMs: Date.now() }), got ${at === undefined ? 'none' : typeof at === 'number' ? String(at) : typeof at}`);
  }
}

/** What every message_reward of an episode revision carries alike. */
interface RewardShared {
  readonly episodeId: string;
  readonly revision: number;
  readonly traceIds: string[];
  readonly emittedAtMs: number;
  readonly outcome: MessageReward['outcome'];
  readonly estimator: MessageReward['estimator'];
}

/**
 * One message_reward, called with `new`: its members assigned in MessageRewardSchema's order (the
 * order of its JSON text), optional ones only when present. Why a constructor: V8 gives a
 * constructor's objects room for every member it assigns, so a reward's 24 members sit in the
 * object itself; built as the header literal (room for its 6) followed by plain stores, each
 * reward's out-of-object member array was reallocated six times as it grew three members at a
 * time. Its prototype is Object.prototype: a reward is a plain object like every other event
 * (reward-json.ts's fast path, the sinks and the tests read it as one).
 */
const MessageRewardObject = function (this: MessageReward, eventId: string, shared: RewardShared, m: MessageOutcome): void {
  const step = m.step;
  this.schema_version = SCHEMA_VERSION;
  this.event_id = eventId;
  this.episode_id = shared.episodeId;
  this.episode_revision = shared.revision;
  this.trace_ids = shared.traceIds;
  this.emitted_at_ms = shared.emittedAtMs;
  this.event_type = 'message_reward';
  this.step_id = step.stepId;
  this.trace_id = step.traceId;
  if (step.parentStepId !== undefined) this.parent_step_id = step.parentStepId;
  const inputs = spanIdsOf(step.causalInputs);
  if (inputs !== undefined) this.causal_inputs = inputs;
  this.agent_id = step.agentId;
  this.agent_name = step.agentName;
  this.kind = step.kind;
  this.name = step.name;
  // the span's own start (a BigInt subtraction only for a step whose clock was corrected)
  this.start_time_unix_nano = (step.clockOffsetNano === undefined ? step.startTimeUnixNano : step.startTimeUnixNano - step.clockOffsetNano).toString();
  this.reward = finite(m.reward, 'reward of', step.stepId);
  this.marginal_effect = finite(m.delta, 'delta of', step.stepId);
  this.components = { ...m.components };
  this.agent_credit = finite(m.agentCredit, 'agent credit of', step.stepId);
  this.outcome = shared.outcome;
  if (m.failureRole !== undefined) this.failure_role = m.failureRole;
  if (m.repairsStepId !== undefined && isSpanId(m.repairsStepId)) this.repairs_step_id = m.repairsStepId;
  this.estimator = shared.estimator;
} as unknown as new (eventId: string, shared: RewardShared, m: MessageOutcome) => MessageReward;
MessageRewardObject.prototype = Object.prototype;

export function outcomeToEvents(outcome: CreditOutcome, opts: BuildOptions): CreditEvents {
  checkBuildArguments(outcome, opts);
  // The estimator the run was (the closed form's or exact's `/equal-split-fallback` is that run
  // with its game failing before any sample, as a timeout's partial result is the run cut short):
  // with the suffix in the id, a revision credited while the value function answered and again
  // (a replay) while it failed got two sets of ids, and consumers de-duplicating on event_id kept
  // both — the same steps rewarded twice. The events still name the estimator the run applied.
  const method = `${outcome.game.kind}/${outcome.game.removalProtocol}/${estimatorOfRun(outcome.estimator.name)}`;
  const traceIds = outcome.traceIds.filter(isTraceId);
  const emittedAtMs = Math.trunc(opts.emittedAtMs);
  // The id text of every event starts with the same (episode, revision, type, method) parts. A
  // conversation's episode also names the trace that opened it: its revisions are counted per
  // process, so after a restart (or once the assembler forgot the conversation) the next turn is
  // revision 0 of the same episode id again — without this part its events took the first turn's
  // ids and consumers de-duplicating on event_id dropped them.
  const idHead: (string | number)[] = outcome.episodeId.startsWith(CONVERSATION_EPISODE_PREFIX) && traceIds.length > 0 ? [outcome.episodeId, traceIds[0]!] : [outcome.episodeId];
  const idPrefix = (type: string): string => eventIdText([...idHead, outcome.revision, type, method]);
  const header = (type: string, subject: string): EventHeader => {
    return {
      schema_version: SCHEMA_VERSION,
      event_id: eventIdOfText(`${idPrefix(type)}${subject}\u0000`),
      episode_id: outcome.episodeId,
      episode_revision: outcome.revision,
      trace_ids: traceIds,
      emitted_at_ms: emittedAtMs,
    };
  };
  const estimator: MessageReward['estimator'] = {
    name: outcome.estimator.name,
    status: outcome.estimator.status,
    evaluations: outcome.estimator.evaluations,
    budget: outcome.estimator.budget,
    target_half_width: outcome.estimator.targetHalfWidth,
    confidence: outcome.estimator.confidence,
  };
  if (outcome.estimator.note !== undefined) estimator.note = outcome.estimator.note;
  const ev = outcome.evaluation;
  const score = finite(ev.score, 'evaluation score');
  const evaluation = { name: ev.name, score } as EpisodeCredit['evaluation'];
  if (ev.rawScore !== undefined && Number.isFinite(ev.rawScore)) evaluation.raw_score = ev.rawScore;
  if (ev.label !== undefined) evaluation.label = ev.label;
  evaluation.source = ev.source;
  // why the judge decided: a trainer or reviewer reads it beside the credit (credit-audit pass)
  if (ev.explanation !== undefined && ev.explanation !== '') evaluation.explanation = truncateUtf8(ev.explanation, EXPLANATION_MAX_BYTES, 'head');
  const fe = outcome.firstError;
  const episode = header('episode_credit', '') as EpisodeCredit;
  episode.event_type = 'episode_credit';
  episode.close_reason = outcome.closeReason;
  episode.outcome = outcome.outcome;
  episode.evaluation = evaluation;
  episode.system_value = finite(outcome.systemValue, 'system value');
  episode.baseline = finite(outcome.baseline, 'baseline');
  episode.success_threshold = outcome.successThreshold;
  episode.game = { kind: outcome.game.kind, removal_protocol: outcome.game.removalProtocol, players: outcome.game.players, message_effects: outcome.game.messageEffects };
  episode.estimator = estimator;
  episode.agents = outcome.agents.map(agentCredit);
  if (fe && isSpanId(fe.stepId)) {
    episode.first_error = { step_id: fe.stepId, agent_id: fe.agentId, evidence: [...fe.evidence], ties: fe.ties.filter(isSpanId) };
  }
  episode.messages = outcome.messages.length;
  episode.preference_pairs = outcome.pairs.length;
  episode.diagnostics = {
    warnings: [...outcome.warnings],
    late_spans: outcome.lateSpans,
    duplicate_spans: outcome.duplicateSpans,
    reward_bound: outcome.rewardBound,
  };
  const rewardIdPrefix = idPrefix('message_reward');
  const shared: RewardShared = { episodeId: outcome.episodeId, revision: outcome.revision, traceIds, emittedAtMs, outcome: outcome.outcome, estimator };
  const rewards = outcome.messages.map((m): MessageReward => new MessageRewardObject(eventIdOfText(`${rewardIdPrefix}${m.step.stepId}\u0000`), shared, m));
  const pairs = outcome.pairs.map((p: PreferencePairDraft): PreferencePair => {
    const e = header('preference_pair', `${p.rejected.stepId}>${p.chosen?.stepId ?? '-'}`) as PreferencePair;
    e.event_type = 'preference_pair';
    e.trace_id = p.traceId;
    e.agent_id = p.agentId;
    const context: PreferencePair['context'] = {};
    if (p.context.parentStepId !== undefined) context.parent_step_id = p.context.parentStepId;
    if (p.context.subTask !== undefined) context.sub_task = p.context.subTask;
    if (p.context.input !== undefined) context.input = p.context.input;
    if (p.context.inputDigest !== undefined) context.input_digest = p.context.inputDigest;
    e.context = context;
    if (p.chosen) e.chosen = pairStep(p.chosen, context);
    e.rejected = pairStep(p.rejected);
    e.margin = finite(p.margin, 'pair margin');
    e.rejected_only = p.rejectedOnly;
    e.reason = p.reason;
    return e;
  });
  return { episode, rewards, pairs };
}
