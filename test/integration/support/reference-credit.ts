/**
 * Stand-in for `processEpisode` (src/runtime/process-episode.ts, integrator-owned, not in the
 * tree when these tests were written): events are a pure function of the episode's spans and
 * evaluations (one MessageReward per span, one EpisodeCredit), schema-valid, with the project's
 * deterministic `eventId`. What the tests check — every episode's events exactly once by event
 * id, output equal to the in-process computation — is what the runtime must guarantee whatever
 * the credit math is. Swap in the real processEpisode once it exists.
 */
import { eventId } from '../../../src/events/event-id.js';
import { SCHEMA_VERSION, type CreditEvent } from '../../../src/events/schemas.js';
import type { Episode } from '../../../src/model/episode.js';

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
