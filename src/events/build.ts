/**
 * `outcomeToEvents`: a `CreditOutcome` → the published events (EpisodeCredit, MessageReward[],
 * PreferencePair[]), valid against ./schemas.ts. Event ids are deterministic
 * (episode id, revision, event type, method, subject), so a replay of the same episode revision
 * with the same method yields the same ids and consumers de-duplicate on them. `emitted_at_ms` is
 * the only wall-clock field and is not part of the id.
 */
import type { CreditOutcome } from '../credit/credit-episode.js';
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

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
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
 * Each event is its header literal followed by its fields assigned in schema order, optional ones
 * only when present: the JSON text (the published bytes) follows that order, and plain stores are
 * far cheaper than object literals with chained (conditional) spreads. Values shared by all events
 * of the episode (trace ids, estimator info, id prefixes) are built once and shared by reference.
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

export function outcomeToEvents(outcome: CreditOutcome, opts: BuildOptions): CreditEvents {
  checkBuildArguments(outcome, opts);
  // The estimator the run was (the closed form's or exact's `/equal-split-fallback` is that run
  // with its game failing before any sample, as a timeout's partial result is the run cut short):
  // with the suffix in the id, a revision credited while the value function answered and again
  // (a replay) while it failed got two sets of ids, and consumers de-duplicating on event_id kept
  // both — the same steps rewarded twice. The events still name the estimator the run applied.
  const method = `${outcome.game.kind}/${outcome.game.removalProtocol}/${estimatorOfRun(outcome.estimator.name)}`;
  const traceIds = outcome.traceIds.filter((t) => TRACE_ID.test(t));
  const emittedAtMs = Math.trunc(opts.emittedAtMs);
  // The id text of every event starts with the same (episode, revision, type, method) parts. A
  // conversation's episode also names the trace that opened it: its revisions are counted per
  // process, so after a restart (or once the assembler forgot the conversation) the next turn is
  // revision 0 of the same episode id again — without this part its events took the first turn's
  // ids and consumers de-duplicating on event_id dropped them.
  const idHead: (string | number)[] = outcome.episodeId.startsWith(CONVERSATION_EPISODE_PREFIX) && traceIds.length > 0 ? [outcome.episodeId, traceIds[0]!] : [outcome.episodeId];
  const idPrefixes = new Map<string, string>();
  const header = (type: string, subject: string): EventHeader => {
    let prefix = idPrefixes.get(type);
    if (prefix === undefined) idPrefixes.set(type, (prefix = eventIdText([...idHead, outcome.revision, type, method])));
    return {
      schema_version: SCHEMA_VERSION,
      event_id: eventIdOfText(`${prefix}${subject}\u0000`),
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
  if (fe && SPAN_ID.test(fe.stepId)) {
    episode.first_error = { step_id: fe.stepId, agent_id: fe.agentId, evidence: [...fe.evidence], ties: fe.ties.filter((t) => SPAN_ID.test(t)) };
  }
  episode.messages = outcome.messages.length;
  episode.preference_pairs = outcome.pairs.length;
  episode.diagnostics = {
    warnings: [...outcome.warnings],
    late_spans: outcome.lateSpans,
    duplicate_spans: outcome.duplicateSpans,
    reward_bound: outcome.rewardBound,
  };
  const rewards = outcome.messages.map((m): MessageReward => {
    const step = m.step;
    const r = header('message_reward', step.stepId) as MessageReward;
    r.event_type = 'message_reward';
    r.step_id = step.stepId;
    r.trace_id = step.traceId;
    if (step.parentStepId !== undefined) r.parent_step_id = step.parentStepId;
    const inputs = step.causalInputs.filter((id) => SPAN_ID.test(id));
    if (inputs.length > 0) r.causal_inputs = inputs;
    r.agent_id = step.agentId;
    r.agent_name = step.agentName;
    r.kind = step.kind;
    r.name = step.name;
    r.start_time_unix_nano = (step.startTimeUnixNano - (step.clockOffsetNano ?? 0n)).toString(); // the span's own start
    r.reward = finite(m.reward, 'reward of', step.stepId);
    r.marginal_effect = finite(m.delta, 'delta of', step.stepId);
    r.components = { ...m.components };
    r.agent_credit = finite(m.agentCredit, 'agent credit of', step.stepId);
    r.outcome = outcome.outcome;
    if (m.failureRole !== undefined) r.failure_role = m.failureRole;
    if (m.repairsStepId !== undefined && SPAN_ID.test(m.repairsStepId)) r.repairs_step_id = m.repairsStepId;
    r.estimator = estimator;
    return r;
  });
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
