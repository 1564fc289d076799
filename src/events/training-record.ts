/**
 * One training record per episode: what `TrainingLedger` hands out, as a JSON line (`agent-credit
 * replay --episodes`, examples/trainer-consumer). It carries the events themselves — the episode's
 * latest `episode_credit` and `message_reward` events and the `preference_pair` events to keep —
 * so nothing is lost between the stream and the dataset, plus what the ledger knows about them.
 *
 * Versioned apart from the events (`record_version`; schemas/training-record.schema.json): the
 * events inside keep their own `schema_version` and the events' consumer contract. So
 * `record_version` changes only with the record's own members: a change of the events' schema
 * (events schema 1.5.0's `repairs_step_id`) regenerates the embedded event schemas in the record's
 * file, open to fields as the events' own files are, under the same record_version.
 */
import { z } from 'zod';
import { EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema } from './schemas.js';
import type { TrainingEpisode } from './training-ledger.js';

export const TRAINING_RECORD_VERSION = '1.0.0';

export const TrainingRecordSchema = z
  .object({
    record_version: z.literal(TRAINING_RECORD_VERSION).describe('Version of this record format (semver), apart from the events’ schema_version.'),
    episode_id: z.string().describe('The episode (its events’ episode_id).'),
    first_trace_id: z.string().describe('trace_ids[0] of its events: with episode_id, the key of the episode (conversation mode re-opens an id with another first trace).'),
    revision: z.number().int().min(0).describe('episode_revision of episode_credit and message_rewards: the highest received.'),
    trace_ids: z.array(z.string()).describe('trace_ids of that revision.'),
    complete: z.boolean().describe('The revision’s episode_credit arrived and its messages / preference_pairs counts match the message_rewards and that revision’s pairs here. False: events are missing.'),
    early: z
      .boolean()
      .describe(
        'Written before the episode was final, to bound memory (replay --max-held-mb; TrainingLedger maxHeldBytes and maxEpisodes): events of this revision that come later are not in any record (complete tells), and a later revision follows as another record. Raise that bound (or, for a TrainingLedger, lower finalAfterMs) when early records appear.',
      ),
    supersedes_revision: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe(
        'Set when a record of an earlier revision of this episode was written before: this one replaces its credit and rewards. Its preference_pairs are replaced only for the same turns — when this record has more trace_ids (a conversation’s next turn, which the finality window does not hold back), the earlier record’s pairs stay valid: keep them. Set only by the process (TrainingLedger) that wrote that earlier record: after a restart of the consumer, or once it no longer remembers the episode (maxReleased), a later revision comes with null — so apply the rule by revision, not by this mark: of the records with one (episode_id, first_trace_id) train on the highest revision’s credit and rewards, and on a lower one’s preference_pairs only while no higher revision has as many trace_ids.',
      ),
    episode_credit: EpisodeCreditSchema.nullable().describe('The revision’s episode_credit event; null when it did not arrive.'),
    message_rewards: z.array(MessageRewardSchema).describe('The revision’s message_reward events, in arrival order.'),
    preference_pairs: z
      .array(PreferencePairSchema)
      .describe('The preference_pair events to train on: this revision’s, and in conversation mode earlier turns’ that no later revision of the same turns replaced (each keeps its own episode_revision); by revision, then event_id.'),
  })
  .describe('One episode for training: its final credit, per-message rewards and preference pairs (README, Events: TrainingLedger).');

export type TrainingRecord = z.infer<typeof TrainingRecordSchema>;

export function trainingRecord(e: TrainingEpisode): TrainingRecord {
  return {
    record_version: TRAINING_RECORD_VERSION,
    episode_id: e.episode_id,
    first_trace_id: e.first_trace_id,
    revision: e.revision,
    trace_ids: [...e.trace_ids],
    complete: e.complete,
    early: e.early,
    supersedes_revision: e.supersedes_released_revision ?? null,
    episode_credit: e.credit ?? null,
    message_rewards: [...e.rewards],
    preference_pairs: [...e.pairs],
  };
}
