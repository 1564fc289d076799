/** Output topics of the Kafka sink (defaults in one place). */
import { z } from 'zod';
import { KAFKA_COMPRESSIONS, compressionSupport } from '../../kafka/compression-codecs.js';
import { KafkaTopicNameSchema } from '../../kafka/topic-name.js';

/**
 * Compression of the published batches (Kafka's `compression.type`). Every codec is also read on
 * the source side, whatever this is set to. zstd is refused where this Node.js cannot write it.
 */
export const KafkaCompressionSchema = z
  .enum(KAFKA_COMPRESSIONS)
  .superRefine((c, ctx) => {
    const support = compressionSupport(c);
    if (!support.ok) ctx.addIssue({ code: 'custom', message: support.reason });
  })
  .describe('compression of published batches: none, gzip, snappy, lz4 or zstd (zstd needs Node ≥ 22.15); consumers need the codec');

export const KafkaSinkTopicsSchema = z.object({
  /** `MessageReward`, key = agent id (a per-agent trainer reads its own partitions). */
  rewards: KafkaTopicNameSchema.default('agent_credit.rewards'),
  /** `EpisodeCredit`, key = episode id. */
  episodes: KafkaTopicNameSchema.default('agent_credit.episodes'),
  /** `PreferencePair`, key = agent id. */
  preferences: KafkaTopicNameSchema.default('agent_credit.preferences'),
  /** Undecodable input records and failed episodes. */
  dlq: KafkaTopicNameSchema.default('agent_credit.dlq'),
});
export type KafkaSinkTopics = z.infer<typeof KafkaSinkTopicsSchema>;

export const KafkaSinkConfigSchema = z.object({
  topics: KafkaSinkTopicsSchema.default(KafkaSinkTopicsSchema.parse({})),
  /** Partitions for output topics created by `start()` (existing topics are left alone). */
  partitions: z.number().int().min(1).default(3),
  /** Create missing output topics on start. */
  createTopics: z.boolean().default(true),
  /**
   * Largest event record (value + key + headers + 64 B framing estimate, bytes) published; a larger event goes to the DLQ
   * as a description instead (an unpublishable record would otherwise be retried forever and stall
   * its partition). Keep it below the output topics' `max.message.bytes` (Kafka's default 1 MiB).
   */
  maxRecordBytes: z.number().int().min(1024).default(1_000_000),
  /** Compression of the published batches (output topics and DLQ). */
  compression: KafkaCompressionSchema.default('none'),
  /**
   * Transaction timeout of the exactly-once producers (ms): the broker aborts a transaction left
   * open this long by a dead instance. It must not exceed the brokers' `transaction.max.timeout.ms`
   * (Kafka's default 900 000), or every producer is refused (INVALID_TRANSACTION_TIMEOUT). Unset:
   * 60 000 (the client's default).
   */
  transactionTimeoutMs: z.number().int().min(1_000).max(2_147_483_647).optional(),
  /**
   * Compacted topic the replay filter of an input partition is written to when it does not fit the
   * commit's offset metadata whole (src/runtime/watermark.ts, `ac5`): one record per commit, keyed
   * `<groupId>/<topic>/<partition>`, in the same transaction as the offsets (exactly-once). Created
   * at start with the output topics (`createTopics`). null: never (past ~115 open runs on a
   * partition the filter is hashed, and a restart may publish episodes again).
   */
  replayFilterTopic: KafkaTopicNameSchema.nullable().default('agent_credit.replay_filters'),
});
export type KafkaSinkConfig = z.infer<typeof KafkaSinkConfigSchema>;
