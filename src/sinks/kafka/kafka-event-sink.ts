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
    if (this.config.createTopics) await ensureOutputTopics(this.client, this.config);
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
