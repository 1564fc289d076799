/**
 * Non-transactional Kafka event sink (idempotent producer, acks=all): `publish` resolves once
 * every record is acknowledged. Used for at-least-once delivery and by anything that publishes
 * events outside the Kafka pipeline (e.g. the OTLP/HTTP receiver). The exactly-once pipeline
 * writes the same records (`eventRecord`) inside its per-partition transactions instead.
 */
import type { CreditEvent } from '../../events/schemas.js';
import type { KafkaClient, KafkaProducer, OutgoingRecord } from '../../kafka/client.js';
import { KafkaSinkConfigSchema, type KafkaSinkConfig } from './config.js';
import { eventRecord } from './event-records.js';

export class KafkaEventSink {
  readonly config: KafkaSinkConfig;
  private producer: KafkaProducer | undefined;
  private published = 0;

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

  async publish(events: readonly CreditEvent[]): Promise<void> {
    await this.send(events.map((e) => eventRecord(e, this.config.topics)));
  }

  /** Sends prepared records (events or dead letters). */
  async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.producer) throw new Error('KafkaEventSink: call start() before publish()');
    await this.producer.send(records);
    this.published += records.length;
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
}

/** Creates missing output topics (rewards, episodes, preferences, dlq). */
export async function ensureOutputTopics(client: KafkaClient, config: KafkaSinkConfig): Promise<void> {
  const admin = await client.admin();
  try {
    await admin.ensureTopics(Object.values(config.topics).map((topic) => ({ topic, partitions: config.partitions })));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Makes sure every output topic can be written before anything is published: creates the
 * missing ones when `createTopics` is on, else fails naming each missing topic's setting and the
 * fix. A missing output topic (the dead-letter topic too) would otherwise fail every transaction
 * (exactly-once) or send (at-least-once) that writes to it, retried for ever: no output at all.
 */
export async function prepareOutputTopics(client: KafkaClient, config: KafkaSinkConfig): Promise<void> {
  if (config.createTopics) {
    await ensureOutputTopics(client, config);
    return;
  }
  const admin = await client.admin();
  let missing: string[];
  try {
    missing = await admin.missingTopics([...new Set(Object.values(config.topics))]);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (missing.length === 0) return;
  const keys = Object.entries(config.topics) as [keyof KafkaSinkConfig['topics'], string][];
  const lines = missing.map((t) => `${keys.filter(([, topic]) => topic === t).map(([k]) => `sinks.kafka.topics.${k}`).join(', ')}: topic "${t}" does not exist (or this client may not Describe it: check its ACLs)`);
  throw new MissingOutputTopicError(
    `${lines.join('; ')} — sinks.kafka.createTopics is false, so nothing creates ${missing.length > 1 ? 'them' : 'it'}, and every transaction or send writing to ${missing.length > 1 ? 'them' : 'it'} would fail: create ${missing.length > 1 ? 'them' : 'it'} (e.g. kafka-topics.sh --create --topic ${missing[0]}), set sinks.kafka.createTopics to true, or point the setting at an existing topic`,
    missing,
  );
}

/** An output topic of the Kafka sink does not exist and `createTopics` is off. */
export class MissingOutputTopicError extends Error {
  override readonly name = 'MissingOutputTopicError';
  constructor(
    message: string,
    readonly topics: readonly string[],
  ) {
    super(message);
  }
}
