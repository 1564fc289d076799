/**
 * `outcomeToEvents`: a `CreditOutcome` → the published events (EpisodeCredit, MessageReward[],
 * PreferencePair[]), valid against ./schemas.ts. Event ids are deterministic
 * (episode id, revision, event type, method, subject), so a replay of the same episode revision
 * with the same method yields the same ids and consumers de-duplicate on them. `emitted_at_ms` is
 * the only wall-clock field and is not part of the id.
 */
import type { CreditOutcome } from '../credit/credit-episode.js';
import type { PreferencePairDraft } from '../credit/signals/preference-pairs.js';
import type { AgentStep } from '../model/agents.js';
import { eventId } from './event-id.js';
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

/** JSON cannot carry NaN/Infinity; the engine never produces them, this guards the boundary. */
function finite(x: number, what: string): number {
  if (!Number.isFinite(x)) throw new RangeError(`${what} is ${x}; credit outcomes must be finite (bug in the credit engine)`);
  return x;
}

function pairStep(s: AgentStep): PreferencePair['rejected'] {
  return {
    step_id: s.stepId,
    agent_id: s.agentId,
    name: s.name,
    kind: s.kind,
    ...(s.outputText !== undefined ? { output: s.outputText } : {}),
    ...(s.outputDigest !== undefined ? { output_digest: s.outputDigest } : {}),
  };
}

export function outcomeToEvents(outcome: CreditOutcome, opts: BuildOptions): CreditEvents {
  const method = `${outcome.game.kind}/${outcome.game.removalProtocol}/${outcome.estimator.name}`;
  const header = (type: string, subject: string): EventHeader => ({
    schema_version: SCHEMA_VERSION,
    event_id: eventId([outcome.episodeId, outcome.revision, type, method, subject]),
    episode_id: outcome.episodeId,
    episode_revision: outcome.revision,
    trace_ids: outcome.traceIds.filter((t) => TRACE_ID.test(t)),
    emitted_at_ms: Math.trunc(opts.emittedAtMs),
  });
  const estimator = {
    name: outcome.estimator.name,
    status: outcome.estimator.status,
    evaluations: outcome.estimator.evaluations,
    budget: outcome.estimator.budget,
    target_half_width: outcome.estimator.targetHalfWidth,
    confidence: outcome.estimator.confidence,
    ...(outcome.estimator.note !== undefined ? { note: outcome.estimator.note } : {}),
  };
  const fe = outcome.firstError;
  const episode: EpisodeCredit = {
    ...header('episode_credit', ''),
    event_type: 'episode_credit',
    close_reason: outcome.closeReason,
    outcome: outcome.outcome,
    evaluation: {
      name: outcome.evaluation.name,
      score: finite(outcome.evaluation.score, 'evaluation score'),
      ...(outcome.evaluation.label !== undefined ? { label: outcome.evaluation.label } : {}),
      source: outcome.evaluation.source,
    },
    system_value: finite(outcome.systemValue, 'system value'),
    baseline: finite(outcome.baseline, 'baseline'),
    success_threshold: outcome.successThreshold,
    game: { kind: outcome.game.kind, removal_protocol: outcome.game.removalProtocol, players: outcome.game.players },
    estimator,
    agents: outcome.agents.map((a) => ({
      agent_id: a.agentId,
      agent_name: a.agentName,
      credit: finite(a.credit, `credit of ${a.agentId}`),
      ci_low: finite(a.ciLow, `ci_low of ${a.agentId}`),
      ci_high: finite(a.ciHigh, `ci_high of ${a.agentId}`),
      ...(a.leaveOneOut !== undefined ? { leave_one_out: finite(a.leaveOneOut, `leave_one_out of ${a.agentId}`) } : {}),
      steps: a.steps,
    })),
    ...(fe && SPAN_ID.test(fe.stepId)
      ? { first_error: { step_id: fe.stepId, agent_id: fe.agentId, evidence: [...fe.evidence], ties: fe.ties.filter((t) => SPAN_ID.test(t)) } }
      : {}),
    messages: outcome.messages.length,
    preference_pairs: outcome.pairs.length,
    diagnostics: {
      warnings: [...outcome.warnings],
      late_spans: outcome.lateSpans,
      duplicate_spans: outcome.duplicateSpans,
      reward_bound: outcome.rewardBound,
    },
  };
  const rewards: MessageReward[] = outcome.messages.map((m) => ({
    ...header('message_reward', m.step.stepId),
    event_type: 'message_reward',
    step_id: m.step.stepId,
    trace_id: m.step.traceId,
    ...(m.step.parentStepId !== undefined ? { parent_step_id: m.step.parentStepId } : {}),
    agent_id: m.step.agentId,
    agent_name: m.step.agentName,
    kind: m.step.kind,
    name: m.step.name,
    start_time_unix_nano: m.step.startTimeUnixNano.toString(),
    reward: finite(m.reward, `reward of ${m.step.stepId}`),
    marginal_effect: finite(m.delta, `delta of ${m.step.stepId}`),
    components: { ...m.components },
    agent_credit: finite(m.agentCredit, `agent credit of ${m.step.stepId}`),
    outcome: outcome.outcome,
    ...(m.failureRole !== undefined ? { failure_role: m.failureRole } : {}),
    estimator,
  }));
  const pairs: PreferencePair[] = outcome.pairs.map((p: PreferencePairDraft) => ({
    ...header('preference_pair', `${p.rejected.stepId}>${p.chosen?.stepId ?? '-'}`),
    event_type: 'preference_pair',
    trace_id: p.traceId,
    agent_id: p.agentId,
    context: {
      ...(p.context.parentStepId !== undefined ? { parent_step_id: p.context.parentStepId } : {}),
      ...(p.context.subTask !== undefined ? { sub_task: p.context.subTask } : {}),
      ...(p.context.input !== undefined ? { input: p.context.input } : {}),
      ...(p.context.inputDigest !== undefined ? { input_digest: p.context.inputDigest } : {}),
    },
    ...(p.chosen ? { chosen: pairStep(p.chosen) } : {}),
    rejected: pairStep(p.rejected),
    margin: finite(p.margin, 'pair margin'),
    rejected_only: p.rejectedOnly,
    reason: p.reason,
  }));
  return { episode, rewards, pairs };
}
