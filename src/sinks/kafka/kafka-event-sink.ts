/**
 * Non-transactional Kafka event sink (idempotent producer, acks=all): `publish` resolves once
 * every record is acknowledged. Used for at-least-once delivery and by anything that publishes
 * events outside the Kafka pipeline (e.g. the OTLP/HTTP receiver). The exactly-once pipeline
 * writes the same records (`eventRecord`) inside its per-partition transactions instead.
 */
import { TopicSettingError } from '../../kafka/topic-setting-error.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { KafkaClient, KafkaProducer, OutgoingRecord, TopicSpec } from '../../kafka/client.js';
import { withAdmin } from '../../kafka/with-admin.js';
import { KafkaSinkConfigSchema, type KafkaSinkConfig } from './config.js';
import { publishableEventRecord, RECORD_OVERHEAD_BYTES } from './event-records.js';
import { isProducerStateError } from '../../kafka/producer-errors.js';

/** What the output topics' creation and checks read of the sink's config (the replay filter topic is the pipeline's: src/runtime/replay-filter-topic.ts). */
type OutputTopicsConfig = Omit<KafkaSinkConfig, 'replayFilterTopic'>;

export class KafkaEventSink {
  readonly config: KafkaSinkConfig;
  private producer: KafkaProducer | undefined;
  private published = 0;
  private tooLarge = 0;
  private replaced = 0;

  constructor(
    private readonly client: KafkaClient,
    config: Partial<KafkaSinkConfig> = {},
  ) {
    this.config = KafkaSinkConfigSchema.parse(config);
  }

  async start(): Promise<void> {
    await prepareOutputTopics(this.client, this.config);
    const producer = this.client.createProducer({ idempotent: true, compression: this.config.compression });
    await producer.connect();
    this.producer = producer;
  }

  /**
   * Publishes the events; one over `maxRecordBytes` is described in the dead-letter topic instead
   * (`kind: event_too_large`, counted by `eventsTooLarge`), as the pipeline does.
   */
  async publish(events: readonly CreditEvent[]): Promise<void> {
    await this.send(
      events.map((e) => {
        const { record, tooLargeBytes } = publishableEventRecord(e, this.config.topics, this.config.maxRecordBytes);
        if (tooLargeBytes !== undefined) this.tooLarge++;
        return record;
      }),
    );
  }

  /**
   * Sends prepared records (events or dead letters). A send the broker refuses for the producer's
   * sequence state (src/kafka/producer-errors.ts: OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID
   * after a broker crash) still rejects, and the producer is replaced by a fresh one, so the
   * caller's retry can succeed: kept, a kafkajs idempotent producer in that state failed every
   * later send (the pipeline replaces its own the same way, replaceAloProducer).
   */
  async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = this.producer;
    if (!producer) throw new Error('KafkaEventSink: call start() before publish()');
    try {
      await producer.send(records);
    } catch (err) {
      if (isProducerStateError(err)) await this.replaceProducer(producer);
      throw err;
    }
    this.published += records.length;
  }

  /** A fresh idempotent producer in place of `old`; if it cannot connect, `old` stays (the next such failure tries again). */
  private async replaceProducer(old: KafkaProducer): Promise<void> {
    if (this.producer !== old) return; // closed, or replaced by a concurrent send's failure
    const fresh = this.client.createProducer({ idempotent: true, compression: this.config.compression });
    try {
      await fresh.connect();
    } catch {
      return;
    }
    if (this.producer !== old) {
      await fresh.disconnect().catch(() => undefined);
      return;
    }
    this.producer = fresh;
    this.replaced++;
    await old.disconnect().catch(() => undefined);
  }

  /** Nothing is buffered: `publish` resolves after the broker acknowledged. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.disconnect();
  }

  recordsPublished(): number {
    return this.published;
  }

  /** Events over `maxRecordBytes`, published as descriptions in the dead-letter topic. */
  eventsTooLarge(): number {
    return this.tooLarge;
  }

  /** Producers replaced after the broker refused their sequence state (see `send`). */
  producerReplacements(): number {
    return this.replaced;
  }
}

export { RECORD_OVERHEAD_BYTES };

/** Creates missing output topics (rewards, episodes, preferences, dlq), accepting records of `maxRecordBytes`; resolves with those it created. */
export async function ensureOutputTopics(client: KafkaClient, config: OutputTopicsConfig): Promise<string[]> {
  const admin = await client.admin();
  try {
    try {
      return await admin.ensureTopics(outputTopicSpecs(config));
    } catch (err) {
      throw creationFailure(err, config) ?? err;
    }
  } finally {
    await admin.disconnect();
  }
}

/** The output topics as `ensureOutputTopics` creates them (`check` asks the brokers whether they would). */
export function outputTopicSpecs(config: OutputTopicsConfig): TopicSpec[] {
  const topicConfig = outputTopicConfig(config);
  // once each: settings may share a topic (all events on one), and a CreateTopics request naming a topic twice is refused
  return [...new Set(Object.values(config.topics))].map((topic) => ({ topic, partitions: config.partitions, ...(topicConfig ? { config: topicConfig } : {}) }));
}

/** The topic config output topics are created with: none, or `max.message.bytes` for a raised `maxRecordBytes`. */
export function outputTopicConfig(config: Pick<KafkaSinkConfig, 'maxRecordBytes'>): Record<string, string> | undefined {
  // Kafka's default (1 MiB) takes the default maxRecordBytes; a raised one needs the topics to follow.
  const limit = neededMaxMessageBytes(config);
  return limit > KAFKA_DEFAULT_MAX_MESSAGE_BYTES ? { 'max.message.bytes': String(limit) } : undefined;
}

/** An output topic the brokers refused to create (`ensureOutputTopics`), with each topic's reason. */
export class OutputTopicCreationError extends TopicSettingError {
  override readonly name = 'OutputTopicCreationError';
}

/** The fix of a topic creation refused for this Kafka error type, naming the setting that causes it. */
const CREATION_FIXES: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'grant this principal Create on the topic (or the cluster), or create it yourself and set sinks.kafka.createTopics: false',
  CLUSTER_AUTHORIZATION_FAILED: 'grant this principal Create on the topic (or the cluster), or create it yourself and set sinks.kafka.createTopics: false',
  INVALID_PARTITIONS: 'lower sinks.kafka.partitions',
  INVALID_REPLICATION_FACTOR: "the brokers' default.replication.factor is above the brokers there are: create the topic yourself and set sinks.kafka.createTopics: false",
  INVALID_CONFIG: `its max.message.bytes (sinks.kafka.maxRecordBytes + ${RECORD_OVERHEAD_BYTES}) is refused: lower sinks.kafka.maxRecordBytes`,
  POLICY_VIOLATION: "the brokers' policy refuses it (a create.topic.policy, or their partition limit: sinks.kafka.partitions): lower sinks.kafka.partitions, or create the topic yourself and set sinks.kafka.createTopics: false",
};

/**
 * The brokers' refusal of some output topics (kafkajs's "Topic creation errors", which carries a
 * reason per topic and said none of them: `run` stopped with "agent-credit: Topic creation errors"),
 * as an error naming each topic's setting, the reason and the fix; undefined for other errors.
 */
function creationFailure(err: unknown, config: OutputTopicsConfig): OutputTopicCreationError | undefined {
  const refused = creationRefusals(err, config);
  if (refused === undefined) return undefined;
  return new OutputTopicCreationError(`${[...refused.values()].join('; ')} (sinks.kafka.createTopics; sinks.kafka.partitions ${config.partitions})`, [...refused.keys()]);
}

/**
 * The topics a kafkajs "Topic creation errors" refuses, each with the brokers' reason (a topic that
 * exists already is no refusal); undefined when `err` is not such an error.
 */
export function refusedTopicCreations(err: unknown): { topic: string; type?: string; message?: string }[] | undefined {
  const errors = (err as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return undefined;
  return errors.filter((e): e is { topic: string; type?: string; message?: string } => typeof (e as { topic?: unknown } | null)?.topic === 'string' && (e as { type?: unknown }).type !== 'TOPIC_ALREADY_EXISTS');
}

/** Per topic the brokers refused to create, the line naming its setting, their reason and the fix; undefined when `err` is no such refusal. */
export function creationRefusals(err: unknown, config: OutputTopicsConfig): Map<string, string> | undefined {
  const refused = refusedTopicCreations(err);
  if (refused === undefined || refused.length === 0) return undefined;
  return new Map(
    refused.map((e) => {
      const fix = e.type !== undefined ? CREATION_FIXES[e.type] : undefined;
      return [e.topic, `${settingsNaming(config, e.topic) || 'sinks.kafka.topics'}: the brokers refused to create topic "${e.topic}" (${e.type ?? 'error'}: ${e.message ?? 'no reason given'})${fix ? ` — ${fix}` : ''}`];
    }),
  );
}

/** The `max.message.bytes` an output topic needs for the sink's largest record. */
export function neededMaxMessageBytes(config: Pick<KafkaSinkConfig, 'maxRecordBytes'>): number {
  return config.maxRecordBytes + RECORD_OVERHEAD_BYTES;
}

/** Kafka's default `message.max.bytes` (1 MiB + 12): what a topic takes when its own setting is not known. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Fails the start when an output topic accepts smaller records than `maxRecordBytes` allows the
 * sink to write: every transaction or send holding such a record would fail and be retried for
 * ever. Skipped when the client cannot read topic configs (the publish errors still name it).
 */
export async function checkOutputRecordLimit(client: KafkaClient, config: OutputTopicsConfig): Promise<void> {
  let limits: Map<string, number> | undefined;
  try {
    limits = await withAdmin(client, async (admin) => admin.maxMessageBytes?.([...new Set(Object.values(config.topics))]));
  } catch {
    limits = undefined; // not allowed to DescribeConfigs, or an older broker: the runtime error line covers it
  }
  if (!limits) return;
  // The broker limits a partition's whole batch, not one record: sends to a topic below the
  // client's default batch size are cut to fit it.
  client.limitBatchBytes?.(new Map([...limits].map(([t, max]) => [t, max - RECORD_OVERHEAD_BYTES] as const)));
  const need = neededMaxMessageBytes(config);
  const small = [...limits].filter(([, max]) => max < need);
  if (small.length === 0) return;
  const lines = small.map(([t, max]) => `${settingsNaming(config, t)}: topic "${t}" has max.message.bytes ${max}`);
  throw new OutputTopicRecordLimitError(
    `${lines.join('; ')} — below sinks.kafka.maxRecordBytes ${config.maxRecordBytes} + ${RECORD_OVERHEAD_BYTES} bytes of record overhead, so an event or dead letter that size would fail every transaction or send writing it: lower sinks.kafka.maxRecordBytes to at most ${Math.min(...small.map(([, m]) => m)) - RECORD_OVERHEAD_BYTES}, or raise the topic's max.message.bytes (kafka-configs.sh --alter --entity-type topics --entity-name ${small[0]![0]} --add-config max.message.bytes=${need})`,
    small.map(([t]) => t),
  );
}

/** An output topic's max.message.bytes is below what `maxRecordBytes` lets the sink write. */
export class OutputTopicRecordLimitError extends TopicSettingError {
  override readonly name = 'OutputTopicRecordLimitError';
}

/**
 * Makes sure every output topic can be written before anything is published: creates the
 * missing ones when `createTopics` is on, else fails naming each missing topic's setting and the
 * fix, then has the client read ahead what the first sends need (prepareSends). A missing output
 * topic (the dead-letter topic too) would otherwise fail every transaction
 * (exactly-once) or send (at-least-once) that writes to it, retried for ever: no output at all.
 * Resolves with the topics it created (KafkaAdmin.ensureTopics), for the job to say so: none when
 * they all existed.
 */
export async function prepareOutputTopics(client: KafkaClient, config: OutputTopicsConfig): Promise<string[]> {
  if (config.createTopics) {
    const created = await ensureOutputTopics(client, config);
    await checkOutputRecordLimit(client, config);
    await client.prepareSends?.([...new Set(Object.values(config.topics))]);
    return created;
  }
  const missing = await withAdmin(client, (admin) => admin.missingTopics([...new Set(Object.values(config.topics))]));
  if (missing.length === 0) {
    await checkOutputRecordLimit(client, config);
    // the partition counts the first sends would each wait for (one admin round trip per topic)
    await client.prepareSends?.([...new Set(Object.values(config.topics))]);
    return [];
  }
  const lines = missing.map((t) => `${settingsNaming(config, t)}: topic "${t}" does not exist (or this client may not Describe it: check its ACLs)`);
  throw new MissingOutputTopicError(
    `${lines.join('; ')} — sinks.kafka.createTopics is false, so nothing creates ${missing.length > 1 ? 'them' : 'it'}, and every transaction or send writing to ${missing.length > 1 ? 'them' : 'it'} would fail: create ${missing.length > 1 ? 'them' : 'it'} (e.g. kafka-topics.sh --create --topic ${missing[0]}), set sinks.kafka.createTopics to true, or point the setting at an existing topic`,
    missing,
  );
}

/** An output topic of the Kafka sink does not exist and `createTopics` is off. */
export class MissingOutputTopicError extends TopicSettingError {
  override readonly name = 'MissingOutputTopicError';
}

/** The settings (`sinks.kafka.topics.<name>`) that name `topic`. */
function settingsNaming(config: OutputTopicsConfig, topic: string): string {
  return Object.entries(config.topics)
    .filter(([, t]) => t === topic)
    .map(([name]) => `sinks.kafka.topics.${name}`)
    .join(', ');
}
