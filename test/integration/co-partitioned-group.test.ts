/**
 * Real broker: three members of one group on a spans and a logs topic of four partitions each.
 * kafkajs's default round-robin would give spans-0 and logs-0 to different members (8 partitions
 * dealt over 3); the co-partitioned assigner keeps partition p of both topics on one member.
 * Two jobs sharing a group id (both left at the default) on topics of their own: each is assigned
 * every partition of its own topics and credits every episode (kafkajs's leader assigned only its
 * own topics, over both members: half of its partitions went to the other job, which dropped them,
 * and the other job read nothing, each ready).
 * Also: the source reports input topics whose partition counts differ.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { KafkaConsumer, TopicPartition } from '../../src/kafka/client.js';
import { KafkaSourceConfigSchema } from '../../src/sources/kafka/config.js';
import { KafkaTelemetrySource } from '../../src/sources/kafka/kafka-source.js';
import { brokers, client, createTopics, produce, fleetRecords, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, topicsNamed, waitFor } from './support/pipeline-harness.js';

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

  it('two jobs sharing a group id, each on its own topics: each is assigned all of its partitions and credits every episode', async () => {
    const groupId = unique('cp-shared');
    const jobs = await Promise.all(
      [0, 1].map(async (i) => {
        const topics = topicsNamed(unique(`cp-job${i}`));
        await createTopics(c, [topics.spans, topics.logs], 2);
        const { all: records } = await fleetRecords(topics, { episodes: 6, seed: 60 + i });
        const config = pipelineConfig(topics, groupId, { delivery: 'at-least-once' });
        return { topics, records, pipeline: makePipeline({ ...config, source: { ...config.source, metadataMaxAgeMs: 1_000 } }, 60_000) };
      }),
    );
    try {
      for (const j of jobs) await j.pipeline.start();
      await waitFor(() => jobs.every((j) => j.pipeline.stats().assignedPartitions === 4 && j.pipeline.health().ready), 30_000, `each job assigned its 4 partitions (${jobs.map((j) => j.pipeline.stats().assignedPartitions).join(', ')})`);
      for (const j of jobs) await produce(c, j.records);
      await waitFor(() => jobs.every((j) => j.pipeline.stats().episodesClosed >= 6 && j.pipeline.stats().inFlight === 0), 30_000, `each job credited its 6 episodes (${jobs.map((j) => j.pipeline.stats().episodesClosed).join(', ')})`);
      for (const j of jobs) expect(j.pipeline.stats().episodesClosed).toBe(6);

      // the second job goes away with its topics: the first, which assigned them, is not troubled by their absence
      const [first, second] = jobs as [(typeof jobs)[number], (typeof jobs)[number]];
      await second.pipeline.stop();
      const admin = await c.admin();
      try {
        await admin.deleteTopics([second.topics.spans, second.topics.logs]);
      } finally {
        await admin.disconnect();
      }
      await waitFor(() => first.pipeline.stats().rebalances >= 3 && first.pipeline.health().ready, 30_000, `the first job alone in the group (${first.pipeline.stats().rebalances} ${first.pipeline.health().detail})`);
      await new Promise((r) => setTimeout(r, 3_000)); // a few of its metadata refreshes (metadataMaxAgeMs 1 s)
      await produce(c, (await fleetRecords(first.topics, { episodes: 3, seed: 62 })).all);
      await waitFor(() => first.pipeline.stats().episodesClosed >= 9 && first.pipeline.stats().inFlight === 0, 30_000, `the first job credited 3 more (${first.pipeline.health().detail})`);
      expect(first.pipeline.health()).toMatchObject({ ready: true, detail: 'consuming' });
    } finally {
      await Promise.all(jobs.map((j) => j.pipeline.stop()));
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
