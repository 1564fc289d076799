/**
 * sendPartitioned against a stand-in for kafkajs's sendBatch that behaves as kafkajs 2.2.4 does
 * for what matters here: messages without a partition are placed by its DefaultPartitioner on its
 * own metadata, and messages for partitions missing from its metadata are skipped without error
 * (`findLeaderForPartitions`). The real-broker behaviour is in test/integration/producer-chunking.test.ts.
 */
import { Partitioners, type Message, type PartitionMetadata, type ProducerBatch, type RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { KeyPartitioner } from '../../src/kafka/kafkajs-placement.js';
import { sendPartitioned, type PartitionedSendContext } from '../../src/kafka/kafkajs-send.js';
import { silentLogger } from '../../src/kafka/log.js';
import { TopicPartitionCounts } from '../../src/kafka/partition-counts.js';

const meta = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

/** What the fake broker stored, per "topic/partition", in order. */
type Log = Map<string, Message[]>;

function fakeProducer(kafkajsPartitions: Record<string, number>) {
  const log: Log = new Map();
  const partitioner = Partitioners.DefaultPartitioner();
  const batches: ProducerBatch[] = [];
  const sendBatch = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    batches.push(batch);
    const acks = new Map<string, RecordMetadata>();
    for (const { topic, messages } of batch.topicMessages ?? []) {
      const partitionMetadata = meta(kafkajsPartitions[topic] ?? 0);
      for (const message of messages) {
        const partition = partitioner({ topic, partitionMetadata, message });
        if (!partitionMetadata.some((p) => p.partitionId === partition)) continue; // kafkajs skips it
        const k = `${topic}/${partition}`;
        log.set(k, [...(log.get(k) ?? []), message]);
        acks.set(k, { topicName: topic, partition, errorCode: 0 });
      }
    }
    return [...acks.values()];
  };
  return { log, batches, sendBatch };
}

function context(counts: Record<string, number>, partitionBytes = 1000): PartitionedSendContext & { fetches: string[][] } {
  const fetches: string[][] = [];
  return {
    fetches,
    counts: new TopicPartitionCounts({
      fetch: async (topics) => {
        fetches.push([...topics]);
        return new Map(topics.filter((t) => t in counts).map((t) => [t, counts[t]!]));
      },
    }),
    partitioner: new KeyPartitioner(),
    limits: { partitionBytes, requestBytes: 100 * partitionBytes },
    logger: silentLogger,
  };
}

const records = (n: number, topic = 't'): OutgoingRecord[] => Array.from({ length: n }, (_, i) => ({ topic, key: `key-${i % 7}`, value: `value-${i}-${'x'.repeat(300)}` }));

/** Where a plain kafkajs producer puts each record: topic/partition → values in order. */
function plainPlacement(rs: readonly OutgoingRecord[], partitions: number): Map<string, string[]> {
  const partitioner = Partitioners.DefaultPartitioner();
  const out = new Map<string, string[]>();
  for (const r of rs) {
    const p = partitioner({ topic: r.topic, partitionMetadata: meta(partitions), message: { key: r.key as string, value: null } });
    const k = `${r.topic}/${p}`;
    out.set(k, [...(out.get(k) ?? []), r.value as string]);
  }
  return out;
}

const values = (log: Log) => new Map([...log].map(([k, ms]) => [k, ms.map((m) => m.value as string)]));

describe('sendPartitioned', () => {
  it('writes every record to the partition and in the order a plain kafkajs producer would, in per-partition chunks', async () => {
    const rs = records(120);
    const fake = fakeProducer({ t: 4 });
    const ctx = context({ t: 4 });
    const requests = await sendPartitioned(fake.sendBatch, rs, ctx);
    expect(values(fake.log)).toEqual(plainPlacement(rs, 4));
    expect(requests).toBe(fake.batches.length);
    // every message carries the partition explicitly, each partition's batch under the bound
    for (const b of fake.batches) {
      const perPartition = new Map<number, number>();
      for (const m of b.topicMessages![0]!.messages) {
        expect(m.partition).toBeTypeOf('number');
        perPartition.set(m.partition!, (perPartition.get(m.partition!) ?? 0) + 1);
      }
      // ~380 B estimated per record → at most 2 per 1000 B partition batch
      for (const n of perPartition.values()) expect(n).toBeLessThanOrEqual(2);
    }
    // partition counts read once, then cached
    await sendPartitioned(fake.sendBatch, rs, ctx);
    expect(ctx.fetches).toEqual([['t']]);
  });

  it('records placed on a partition kafkajs does not know yet are sent again, placed by kafkajs, and the count is read again later', async () => {
    // The topic grew to 8 partitions; our read saw it, the producer's metadata still says 4.
    const rs = records(60);
    const fake = fakeProducer({ t: 4 });
    const ctx = context({ t: 8 });
    await sendPartitioned(fake.sendBatch, rs, ctx);
    const stored = [...fake.log.values()].flat().map((m) => m.value as string);
    expect(stored.sort()).toEqual(rs.map((r) => r.value as string).sort());
    expect([...fake.log.keys()].every((k) => Number(k.split('/')[1]) < 4)).toBe(true);
    await sendPartitioned(fake.sendBatch, rs.slice(0, 1), ctx);
    expect(ctx.fetches).toEqual([['t']]); // not at once: see the next test
  });

  it('while kafkajs lags a grown topic, sends leave placement to kafkajs instead of re-reading the count and resending every time', async () => {
    let now = 0;
    const fetches: string[][] = [];
    const ctx: PartitionedSendContext = {
      counts: new TopicPartitionCounts({ fetch: async (topics) => (fetches.push([...topics]), new Map([['t', 8]])), unknownRetryMs: 10_000, now: () => now }),
      partitioner: new KeyPartitioner(),
      limits: { partitionBytes: 1000, requestBytes: 100_000 },
      logger: silentLogger,
    };
    const fake = fakeProducer({ t: 4 }); // the producer's metadata still says 4 partitions
    const rs = records(14);
    for (let i = 0; i < 20; i++, now += 100) await sendPartitioned(fake.sendBatch, rs, ctx);
    // one read (not one per send); only the first send had records skipped and sent again
    expect(fetches).toEqual([['t']]);
    // nothing lost or doubled, all on the partitions the producer knows, each key on one partition
    const stored = [...fake.log.values()].flat().map((m) => m.value as string);
    expect(stored.sort()).toEqual(rs.flatMap((r) => Array<string>(20).fill(r.value as string)).sort());
    expect(new Set([...fake.log.keys()].map((k) => k.split('/')[1]!)).size).toBeLessThanOrEqual(4);
    const partitionsOfKey = new Map<string, Set<string>>();
    for (const [k, ms] of fake.log) for (const m of ms) partitionsOfKey.set(m.key as string, (partitionsOfKey.get(m.key as string) ?? new Set()).add(k));
    for (const ps of partitionsOfKey.values()) expect(ps.size).toBe(1);
    now += 10_000;
    await sendPartitioned(fake.sendBatch, rs.slice(0, 1), ctx);
    expect(fetches).toEqual([['t'], ['t']]); // read again after unknownRetryMs
  });

  it('fails, naming the partition, when a caller-set partition does not exist', async () => {
    const fake = fakeProducer({ t: 4 });
    await expect(sendPartitioned(fake.sendBatch, [{ topic: 't', key: null, value: 'v', partition: 9 }], context({ t: 4 }))).rejects.toThrow(/t\[9\]/);
  });

  it('topics whose partition count cannot be read are left to kafkajs, chunked as if in one partition', async () => {
    const rs = records(20, 'unknown');
    const fake = fakeProducer({ unknown: 3 });
    await sendPartitioned(fake.sendBatch, rs, context({}));
    expect(values(fake.log)).toEqual(plainPlacement(rs, 3));
    for (const b of fake.batches) {
      expect(b.topicMessages![0]!.messages.every((m) => m.partition === undefined)).toBe(true);
      expect(b.topicMessages![0]!.messages.length).toBeLessThanOrEqual(2);
    }
  });

  it('a send that fails with a metadata error drops the cached counts of its topics and rethrows', async () => {
    const ctx = context({ t: 4 });
    const err = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const failing = async (): Promise<RecordMetadata[]> => {
      throw err;
    };
    await expect(sendPartitioned(failing, records(3), ctx)).rejects.toBe(err);
    await expect(sendPartitioned(failing, records(3), ctx)).rejects.toBe(err);
    expect(ctx.fetches).toEqual([['t'], ['t']]);
  });

  it('sends nothing for no records', async () => {
    const fake = fakeProducer({});
    expect(await sendPartitioned(fake.sendBatch, [], context({}))).toBe(0);
    expect(fake.batches).toEqual([]);
  });
});

describe('sendPartitioned compression', () => {
  it('passes the compression type to every sendBatch (none is left out, as kafkajs defaults)', async () => {
    const lz4 = fakeProducer({ t: 3 });
    await sendPartitioned(lz4.sendBatch, records(40), context({ t: 3 }), 3);
    expect(lz4.batches.length).toBeGreaterThan(1);
    expect(lz4.batches.every((b) => b.compression === 3)).toBe(true);
    const none = fakeProducer({ t: 3 });
    await sendPartitioned(none.sendBatch, records(5), context({ t: 3 }));
    expect(none.batches.every((b) => !('compression' in b))).toBe(true);
  });
});
