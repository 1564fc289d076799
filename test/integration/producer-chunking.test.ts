/**
 * KafkajsClient producers on the real broker: records placed on partitions before sending and
 * sends cut per partition (src/kafka/kafkajs-send.ts) land where a plain kafkajs producer puts
 * them, bursts above the broker's per-partition batch limit are accepted, transactions still
 * commit (and abort), and a topic that grew under a running producer loses nothing.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkajsClient } from '../../src/kafka/index.js';
import type { ConsumedRecord, OutgoingRecord } from '../../src/kafka/client.js';
import { brokers, client, createTopics, readTopics, unique } from './support/kafka-io.js';

const kafka = () => new Kafka({ brokers: [brokers()], clientId: 'it-plain', logLevel: logLevel.NOTHING });
const td = new TextDecoder();
const opened: Producer[] = [];
afterAll(async () => {
  for (const p of opened) await p.disconnect();
});

async function plainProducer(idempotent = true): Promise<Producer> {
  const p = kafka().producer({ idempotent, ...(idempotent ? { maxInFlightRequests: 1 } : {}), createPartitioner: Partitioners.DefaultPartitioner });
  await p.connect();
  opened.push(p);
  return p;
}

/** Values per partition, in log order. */
function byPartition(records: readonly ConsumedRecord[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
    const list = out.get(r.partition) ?? [];
    list.push(td.decode(r.value!));
    out.set(r.partition, list);
  }
  return out;
}

/** The type of a kafkajs error or of the error it wraps. */
function errorTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err as { type?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (typeof e.type === 'string') types.push(e.type);
  return types;
}

describe('KafkajsClient producer chunking (real broker)', () => {
  it('puts keyed records in the same partitions, in the same order, as a plain kafkajs producer', async () => {
    const c = client('it-chunking');
    const [plainTopic, ourTopic] = [unique('plain'), unique('ours')];
    await createTopics(c, [plainTopic, ourTopic], 7);
    // String keys (ASCII and not), byte keys, an empty key, repeated keys; unique values.
    const keys: (string | Uint8Array)[] = ['planner', 'coder', 'critic', 'ünïcødé-agent', '', new Uint8Array([0, 255, 7]), ...Array.from({ length: 40 }, () => randomBytes(16).toString('hex'))];
    const records = Array.from({ length: 600 }, (_, i) => ({ key: keys[i % keys.length]!, value: `v${i}-${randomBytes(200).toString('base64')}` }));

    const plain = await plainProducer();
    await plain.sendBatch({
      acks: -1,
      topicMessages: [{ topic: plainTopic, messages: records.map((r) => ({ key: typeof r.key === 'string' ? r.key : Buffer.from(r.key), value: r.value })) }],
    });
    const ours = c.createProducer({ idempotent: true });
    await ours.connect();
    try {
      await ours.send(records.map((r): OutgoingRecord => ({ topic: ourTopic, key: r.key, value: r.value })));
    } finally {
      await ours.disconnect();
    }

    const read = await readTopics(c, [plainTopic, ourTopic], (rs) => rs.length >= 2 * records.length, 20_000);
    const plainPlacement = byPartition(read.filter((r) => r.topic === plainTopic));
    const ourPlacement = byPartition(read.filter((r) => r.topic === ourTopic));
    expect(read.filter((r) => r.topic === ourTopic)).toHaveLength(records.length);
    expect(plainPlacement.size).toBeGreaterThan(1);
    expect(ourPlacement).toEqual(plainPlacement);
  });

  it('accepts a burst of several MiB for one partition, which one plain sendBatch cannot deliver', async () => {
    const c = client('it-chunking');
    const [plainTopic, ourTopic] = [unique('plain-burst'), unique('burst')];
    await createTopics(c, [plainTopic, ourTopic], 3);
    // 3 MiB for the key "hot" (one partition), plus a few records elsewhere.
    const values = Array.from({ length: 300 }, (_, i) => `${i}:${randomBytes(7_800).toString('base64')}`);
    const hot = values.map((value): OutgoingRecord => ({ topic: ourTopic, key: 'hot', value }));
    const others = Array.from({ length: 30 }, (_, i): OutgoingRecord => ({ topic: ourTopic, key: `k${i}`, value: `other-${i}` }));

    const plain = await plainProducer(false);
    const tooLarge = await plain
      .sendBatch({ acks: -1, topicMessages: [{ topic: plainTopic, messages: values.map((value) => ({ key: 'hot', value })) }] })
      .then(() => [] as string[], errorTypes);
    expect(tooLarge).toContain('MESSAGE_TOO_LARGE');

    const ours = c.createProducer({ idempotent: true });
    await ours.connect();
    try {
      await ours.send([...hot.slice(0, 150), ...others, ...hot.slice(150)]);
    } finally {
      await ours.disconnect();
    }
    const read = await readTopics(c, [ourTopic], (rs) => rs.length >= hot.length + others.length, 20_000);
    expect(read).toHaveLength(hot.length + others.length);
    const hotPartition = read.find((r) => td.decode(r.key!) === 'hot')!.partition;
    expect(byPartition(read).get(hotPartition)!.filter((v) => !v.startsWith('other-'))).toEqual(values);
  });

  it('the transactional producer commits multi-MiB transactions per partition and hides aborted ones', async () => {
    const c = client('it-chunking');
    const topic = unique('tx');
    await createTopics(c, [topic], 4);
    const committed = Array.from({ length: 400 }, (_, i): OutgoingRecord => ({ topic, key: `agent-${i % 3}`, value: `c${i}:${randomBytes(6_000).toString('base64')}` }));
    const aborted = Array.from({ length: 20 }, (_, i): OutgoingRecord => ({ topic, key: `agent-${i % 3}`, value: `aborted-${i}` }));

    const producer = c.createTransactionalProducer({ transactionalId: unique('tx-id') });
    await producer.connect();
    try {
      const tx1 = await producer.transaction();
      await tx1.send(aborted);
      await tx1.abort();
      const tx2 = await producer.transaction();
      await tx2.send(committed);
      await tx2.commit();
    } finally {
      await producer.disconnect();
    }
    const read = await readTopics(c, [topic], (rs) => rs.length >= committed.length, 20_000);
    expect(read.map((r) => td.decode(r.value!)).sort()).toEqual(committed.map((r) => r.value as string).sort());
  });

  it('loses nothing when the topic grew and kafkajs has not seen the new partitions yet', async () => {
    const topic = unique('grow');
    // Partition counts re-read on every send, so ours are newer than the producer's metadata.
    const c = new KafkajsClient({ brokers: [brokers()], clientId: 'it-grow', partitionCountMaxAgeMs: 0 });
    await createTopics(c, [topic], 2);
    const producer = c.createProducer({ idempotent: true });
    await producer.connect();
    const batch = (tag: string) => Array.from({ length: 200 }, (_, i): OutgoingRecord => ({ topic, key: `key-${i}`, value: `${tag}-${i}` }));
    try {
      await producer.send(batch('before'));
      const admin = kafka().admin();
      await admin.connect();
      await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
      await admin.disconnect();
      await producer.send(batch('after'));
    } finally {
      await producer.disconnect();
    }
    const read = await readTopics(c, [topic], (rs) => rs.length >= 400, 20_000);
    expect(read.map((r) => td.decode(r.value!)).sort()).toEqual([...batch('before'), ...batch('after')].map((r) => r.value as string).sort());
  });
});
