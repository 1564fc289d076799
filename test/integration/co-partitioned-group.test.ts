/**
 * Real broker: three members of one group on a spans and a logs topic of four partitions each.
 * kafkajs's default round-robin would give spans-0 and logs-0 to different members (8 partitions
 * dealt over 3); the co-partitioned assigner keeps partition p of both topics on one member.
 * Also: the source reports input topics whose partition counts differ.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { KafkaConsumer, TopicPartition } from '../../src/kafka/client.js';
import { KafkaSourceConfigSchema } from '../../src/sources/kafka/config.js';
import { KafkaTelemetrySource } from '../../src/sources/kafka/kafka-source.js';
import { brokers, client, createTopics, unique } from './support/kafka-io.js';

const c = client('co-partitioned');
const consumers: KafkaConsumer[] = [];

afterAll(async () => {
  await Promise.all(consumers.map((k) => k.disconnect().catch(() => undefined)));
});

describe('co-partitioned group assignment', () => {
  it('gives partition p of the spans and the logs topic to the same member, every partition to one member', async () => {
    const spans = unique('cp-spans');
    const logs = unique('cp-logs');
    await createTopics(c, [spans, logs], 4);
    const groupId = unique('cp-group');
    const latest = new Map<number, readonly TopicPartition[]>();
    const settled = () => {
      if (latest.size !== 3) return false;
      const all = [...latest.values()].flat();
      return all.length === 8 && [...latest.values()].every((a) => a.length > 0);
    };
    for (let i = 0; i < 3; i++) {
      const consumer = c.createConsumer({ groupId, maxWaitMs: 100, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe([spans, logs]);
      void consumer.run({
        onAssignment: (a) => latest.set(i, a),
        onBatch: async () => {},
      });
    }
    const deadline = Date.now() + 60_000;
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(settled()).toBe(true);

    const owner = new Map<string, number>();
    for (const [member, assignment] of latest) {
      for (const tp of assignment) {
        expect(owner.has(`${tp.topic}/${tp.partition}`)).toBe(false);
        owner.set(`${tp.topic}/${tp.partition}`, member);
      }
    }
    for (let p = 0; p < 4; p++) {
      expect(owner.get(`${spans}/${p}`)).toBeDefined();
      expect(owner.get(`${logs}/${p}`)).toBe(owner.get(`${spans}/${p}`));
    }
  }, 90_000);

  it('reports input topics whose partition count differs from the others', async () => {
    const spans = unique('cp-spans');
    const logs = unique('cp-logs');
    await createTopics(c, [spans], 4);
    await createTopics(c, [logs], 2);
    const source = new KafkaTelemetrySource(KafkaSourceConfigSchema.parse({ brokers: [brokers()], spansTopic: spans, logsTopic: logs }), c);
    expect((await source.checkTopics()).mismatchedPartitionCounts).toEqual([`${spans}: 4`, `${logs}: 2`]);

    const logs4 = unique('cp-logs');
    await createTopics(c, [logs4], 4);
    const same = new KafkaTelemetrySource(KafkaSourceConfigSchema.parse({ brokers: [brokers()], spansTopic: spans, logsTopic: logs4 }), c);
    expect((await same.checkTopics()).mismatchedPartitionCounts).toEqual([]);
  }, 60_000);
});
