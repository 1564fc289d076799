/** Test-side Kafka I/O: produce input records, read output topics with read_committed. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { KafkajsClient } from '../../../src/kafka/index.js';
import type { ConsumedRecord, KafkaClient, OutgoingRecord } from '../../../src/kafka/client.js';
import type { CreditEvent } from '../../../src/events/schemas.js';
import { AGENTS_SDK_FIXTURES } from '../../support/fixtures.js';
import { generateFleet, kafkaRecordsFor } from '../../../src/scenarios/index.js';

const FIXTURES = `${AGENTS_SDK_FIXTURES}/kafka`;

export function brokers(): string {
  return inject('kafkaBrokers');
}

export function client(clientId = 'it'): KafkaClient {
  return new KafkajsClient({ brokers: [brokers()], clientId });
}

let seq = 0;
/** Unique topic/group name per test (the broker is shared by the whole project run). */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;
}

export async function createTopics(c: KafkaClient, topics: readonly string[], partitions: number): Promise<void> {
  const admin = await c.admin();
  try {
    await admin.ensureTopics(topics.map((topic) => ({ topic, partitions })));
  } finally {
    await admin.disconnect();
  }
}

export async function produce(c: KafkaClient, records: readonly OutgoingRecord[]): Promise<void> {
  const p = c.createProducer({ idempotent: true });
  await p.connect();
  try {
    for (let i = 0; i < records.length; i += 200) await p.send(records.slice(i, i + 200));
  } finally {
    await p.disconnect();
  }
}

/**
 * A generated fleet (`generateFleet`) as the collector's exporter writes it (otlp_proto, keyed by
 * trace id), addressed to a spans and a logs topic: `spans`, `logs`, and `all` (spans first).
 */
export async function fleetRecords(topics: { spans: string; logs: string }, fleet: { episodes: number; seed: number }): Promise<{ spans: OutgoingRecord[]; logs: OutgoingRecord[]; all: OutgoingRecord[] }> {
  const gen = kafkaRecordsFor(await generateFleet(fleet), 'otlp_proto');
  const spans = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
  const logs = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
  return { spans, logs, all: [...spans, ...logs] };
}

/**
 * The recorded collector output for one encoding and topic: every `<partition>-<offset>.bin`
 * with its `.key`, produced to the same partition of `topic`, in offset order.
 */
export function fixtureRecords(encoding: 'otlp_proto' | 'otlp_json', fixtureTopic: 'otlp_spans' | 'otlp_logs', topic: string): OutgoingRecord[] {
  const dir = join(FIXTURES, encoding, fixtureTopic);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => {
      const [p, o] = f.replace('.bin', '').split('-').map(Number) as [number, number];
      return { f, p, o };
    })
    .sort((a, b) => a.p - b.p || a.o - b.o)
    .map(({ f, p }) => ({
      topic,
      partition: p,
      key: readFileSync(join(dir, f.replace('.bin', '.key'))),
      value: readFileSync(join(dir, f)),
    }));
}

/** Reads whole topics from the beginning (read_committed) until `done(records)` or timeout. */
export async function readTopics(
  c: KafkaClient,
  topics: readonly string[],
  done: (records: readonly ConsumedRecord[]) => boolean,
  timeoutMs = 60_000,
  /** Keep reading this long after `done`, so unexpected extra records (duplicates) are seen too. */
  lingerMs = 1_500,
  /** Read as this group (from its committed offsets) instead of a fresh one (from the beginning). */
  groupId = unique('reader'),
): Promise<ConsumedRecord[]> {
  const consumer = c.createConsumer({ groupId, isolation: 'read_committed', sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  await consumer.subscribe(topics, { fromBeginning: true });
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    onAssignment: () => {},
    onBatch: async (batch, control) => {
      for (const r of batch.records) {
        records.push(r);
        control.resolveOffset(r.offset);
      }
      if (done(records)) setTimeout(resolveDone, lingerMs);
    },
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  timer.unref();
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return records;
}

const td = new TextDecoder();
export function parseEvents(records: readonly ConsumedRecord[]): CreditEvent[] {
  return records.map((r) => JSON.parse(td.decode(r.value!)) as CreditEvent);
}

export function header(r: ConsumedRecord, name: string): string | undefined {
  const v = r.headers[name];
  return v === undefined ? undefined : td.decode(v);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The offset metadata a group committed on the topics' partitions (the replay filter), '' where none. */
export async function committedMetadata(c: KafkaClient, groupId: string, topics: readonly string[]): Promise<string[]> {
  const admin = await c.admin();
  try {
    return (await admin.fetchCommittedOffsets(groupId, topics)).map((o) => o.metadata ?? '');
  } finally {
    await admin.disconnect();
  }
}
