/** Output topics of the Kafka sink (defaults in one place). */
import { z } from 'zod';

export const KafkaSinkTopicsSchema = z.object({
  /** `MessageReward`, key = agent id (a per-agent trainer reads its own partitions). */
  rewards: z.string().min(1).default('agent_credit.rewards'),
  /** `EpisodeCredit`, key = episode id. */
  episodes: z.string().min(1).default('agent_credit.episodes'),
  /** `PreferencePair`, key = agent id. */
  preferences: z.string().min(1).default('agent_credit.preferences'),
  /** Undecodable input records and failed episodes. */
  dlq: z.string().min(1).default('agent_credit.dlq'),
});
export type KafkaSinkTopics = z.infer<typeof KafkaSinkTopicsSchema>;

export const KafkaSinkConfigSchema = z.object({
  topics: KafkaSinkTopicsSchema.default(KafkaSinkTopicsSchema.parse({})),
  /** Partitions for output topics created by `start()` (existing topics are left alone). */
  partitions: z.number().int().min(1).default(3),
  /** Create missing output topics on start. */
  createTopics: z.boolean().default(true),
});
export type KafkaSinkConfig = z.infer<typeof KafkaSinkConfigSchema>;
