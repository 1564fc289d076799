/**
 * Kafka source settings (defaults in one place). Topic names and encodings follow the
 * OpenTelemetry Collector's kafka exporter: `otlp_spans` / `otlp_logs`, `otlp_proto` by default.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../../config/defaults.js';
import { KafkaTopicNameSchema } from '../../kafka/topic-name.js';

/**
 * `auto`: by a `content-type` record header when present, else sniffed (see src/otlp detectEncoding);
 * sniffed too when the header's encoding fails (the header may be a copied client's: the exporter's
 * `include_metadata_keys`).
 */
export const SourceEncodingSchema = z.enum(['otlp_proto', 'otlp_json', 'auto']);
export type SourceEncoding = z.infer<typeof SourceEncodingSchema>;

const BrokerListSchema = z.array(z.string().min(1)).min(1, 'kafka.brokers: give at least one bootstrap broker (host:port)');

export const KafkaSourceConfigSchema = z.object({
  /**
   * Bootstrap brokers, `host:port`: a list, or one comma-separated string as Kafka's own
   * `bootstrap.servers` is written (and as the environment variable takes it).
   */
  brokers: z.union([
    BrokerListSchema,
    z
      .string()
      .transform((s) => s.split(',').map((b) => b.trim()).filter((b) => b !== ''))
      .pipe(BrokerListSchema),
  ]),
  /** Consumer group id; instances with the same id share the partitions. */
  groupId: z.string().min(1).default('agent-credit'),
  spansTopic: KafkaTopicNameSchema.default('otlp_spans'),
  /** Logs topic carrying `gen_ai.evaluation.result` events; null = do not consume logs. */
  logsTopic: KafkaTopicNameSchema.nullable().default('otlp_logs'),
  /**
   * Topic of standalone evaluation records (JSON, src/conventions/evaluation-records.ts; JSON
   * Schema schemas/evaluation-record.schema.json), e.g. written by a judge service, joined to
   * episodes by trace id or conversation id; null = none.
   */
  evaluationsTopic: KafkaTopicNameSchema.nullable().default(null),
  /** Encoding of the spans topic records (the exporter writes no header saying which). */
  spansEncoding: SourceEncodingSchema.default('auto'),
  logsEncoding: SourceEncodingSchema.default('auto'),
  /**
   * Where a NEW group (no committed offset on any partition of a topic) starts: true = at the
   * topic's beginning, false = at its end (only records written from now on). A partition without
   * a commit in a group that has committed on other partitions of the topic (one added to the
   * topic later, or whose offset expired) is always read from its beginning: starting it at its
   * end lost every record written there before the group noticed it.
   */
  fromBeginning: z.boolean().default(true),
  /**
   * Ms after which topic metadata is read again (kafkajs `metadataMaxAge`): partitions added to an
   * input topic are noticed (and the group rebalanced onto them) within this time. kafkajs's own
   * default, 300 000, left records on new partitions unread for ~5 min while the lag read 0.
   */
  metadataMaxAgeMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(30_000),
  /** Ms; a dead instance's partitions move after this. */
  sessionTimeoutMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(30_000),
  heartbeatIntervalMs: z.number().int().min(100).max(MAX_TIMER_MS).default(3_000),
  maxBytesPerPartition: z.number().int().min(1024).default(1_048_576),
  /** Ms a fetch waits for data on an idle partition; also bounds how long a stop waits for the fetch loop. */
  maxWaitMs: z.number().int().min(10).max(MAX_TIMER_MS).default(1_000),
  /**
   * Isolation level of the input consumer. `read_committed` skips records of aborted transactions
   * (and waits for open ones): what input written with Kafka transactions needs, e.g. evaluation
   * records from a judge service with exactly-once output. The collector writes without
   * transactions, and for such topics the two levels read the same records.
   */
  isolationLevel: z.enum(['read_committed', 'read_uncommitted']).default('read_committed'),
});
export type KafkaSourceConfig = z.infer<typeof KafkaSourceConfigSchema>;
export type KafkaSourceConfigInput = z.input<typeof KafkaSourceConfigSchema>;
