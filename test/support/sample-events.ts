/**
 * A schema-valid EpisodeCredit for sink tests (sinks do not look inside events): one agent,
 * success; `overrides` replace top-level fields.
 */
import { EpisodeCreditSchema, SCHEMA_VERSION, type CreditEvent } from '../../src/events/schemas.js';

export function sampleEpisodeCredit(episodeId: string, overrides: Record<string, unknown> = {}): CreditEvent {
  return EpisodeCreditSchema.parse({
    schema_version: SCHEMA_VERSION,
    event_type: 'episode_credit',
    event_id: 'a'.repeat(32),
    episode_id: episodeId,
    episode_revision: 0,
    trace_ids: ['b'.repeat(32)],
    emitted_at_ms: 1,
    close_reason: 'root-ended',
    outcome: 'success',
    evaluation: { name: 'task_success', score: 1, source: 'log-event' },
    system_value: 1,
    baseline: 0,
    success_threshold: 0.5,
    game: { kind: 'provenance', removal_protocol: 'mask', players: 'agents', message_effects: 'closed-form' },
    estimator: { name: 'closed-form', status: 'exact', evaluations: 0 },
    agents: [{ agent_id: 'triage', agent_name: 'triage', credit: 1, ci_low: 1, ci_high: 1, steps: 2 }],
    messages: 2,
    preference_pairs: 0,
    diagnostics: { warnings: [], late_spans: 0, duplicate_spans: 0, reward_bound: 1 },
    ...overrides,
  });
}
