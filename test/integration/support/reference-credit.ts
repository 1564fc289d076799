/**
 * Stand-ins for the stages the Kafka runtime calls but does not own, for the integration tests
 * of delivery semantics: a deterministic `processEpisode` (events are a pure function of the
 * episode's spans and evaluations: one MessageReward per span, one EpisodeCredit) and a minimal
 * `evaluationsFromLogs` for `gen_ai.evaluation.result` log records. They build schema-valid
 * events with the project's deterministic `eventId`, so what the tests check — every episode's
 * events exactly once by event id, output equal to the in-process computation — is exactly
 * what the runtime must guarantee whatever the credit math is.
 */
import { eventId } from '../../../src/events/event-id.js';
import { SCHEMA_VERSION, type CreditEvent } from '../../../src/events/schemas.js';
import type { Evaluation } from '../../../src/model/agents.js';
import type { Episode } from '../../../src/model/episode.js';
import type { LogRecord } from '../../../src/model/telemetry.js';

export function evaluationsFromLogsForTest(logs: readonly LogRecord[]): Evaluation[] {
  const out: Evaluation[] = [];
  for (const l of logs) {
    if (l.eventName !== 'gen_ai.evaluation.result' && l.attributes['event.name'] !== 'gen_ai.evaluation.result') continue;
    const score = l.attributes['gen_ai.evaluation.score.value'];
    const label = l.attributes['gen_ai.evaluation.score.label'];
    out.push({
      name: String(l.attributes['gen_ai.evaluation.name'] ?? 'score'),
      ...(typeof score === 'number' ? { score } : {}),
      ...(typeof label === 'string' ? { label } : {}),
      ...(l.traceId ? { traceId: l.traceId } : {}),
      ...(l.spanId ? { spanId: l.spanId } : {}),
      source: 'log-event',
      timeUnixNano: l.timeUnixNano,
    });
  }
  return out;
}

const ESTIMATOR = { name: 'test-reference', status: 'exact' as const, evaluations: 0 };

export async function referenceProcessEpisode(episode: Episode): Promise<CreditEvent[]> {
  const score = episode.evaluations.find((e) => e.score !== undefined)?.score ?? 0;
  const outcome = score >= 0.5 ? ('success' as const) : ('failure' as const);
  const header = (type: string, subject: string) => ({
    schema_version: SCHEMA_VERSION,
    event_id: eventId([episode.episodeId, episode.revision, type, 'test-reference', subject]),
    episode_id: episode.episodeId,
    episode_revision: episode.revision,
    trace_ids: episode.traceIds,
    emitted_at_ms: Date.now(),
  }) as const;
  const agentOf = (s: Episode['spans'][number]) => String(s.resource.attributes['service.name'] ?? 'unknown');
  const perSpan = episode.spans.length > 0 ? score / episode.spans.length : 0;
  const rewards: CreditEvent[] = episode.spans.map((s) => ({
    ...header('message_reward', s.spanId),
    event_type: 'message_reward' as const,
    step_id: s.spanId,
    trace_id: s.traceId,
    ...(s.parentSpanId ? { parent_step_id: s.parentSpanId } : {}),
    agent_id: agentOf(s),
    agent_name: agentOf(s),
    kind: 'other',
    name: s.name,
    start_time_unix_nano: s.startTimeUnixNano.toString(),
    reward: perSpan,
    marginal_effect: perSpan,
    components: { credit_share: perSpan, marginal: 0, redundancy: 0, sabotage: 0, blame: 0, repair: 0, shrink: 0 },
    agent_credit: perSpan,
    outcome,
    estimator: ESTIMATOR,
  }));
  const agents = [...new Set(episode.spans.map(agentOf))].sort();
  const credit: CreditEvent = {
    ...header('episode_credit', ''),
    event_type: 'episode_credit',
    close_reason: episode.closeReason,
    outcome,
    evaluation: { name: episode.evaluations[0]?.name ?? 'none', score, source: 'log-event' },
    system_value: score,
    baseline: 0,
    success_threshold: 0.5,
    game: { kind: 'module', removal_protocol: 'mask', players: 'agents' },
    estimator: ESTIMATOR,
    agents: agents.map((a) => {
      const n = episode.spans.filter((s) => agentOf(s) === a).length;
      return { agent_id: a, agent_name: a, credit: perSpan * n, ci_low: perSpan * n, ci_high: perSpan * n, steps: n };
    }),
    messages: episode.spans.length,
    preference_pairs: 0,
    diagnostics: { warnings: [], late_spans: episode.lateSpans, duplicate_spans: episode.duplicateSpans, reward_bound: 1 },
  };
  return [credit, ...rewards];
}
