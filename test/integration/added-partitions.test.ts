/**
 * Partitions added to the input topics while a group runs, on the real broker, with
 * `fromBeginning: false`: the records written there before the group notices them are read (a
 * partition without a commit in a group that has committed on the topic is new, read from its
 * beginning). kafkajs applied `fromBeginning: false` to such partitions too and started them at
 * their end: an operator run lost 23 of 50 episodes, with lag 0 and nothing logged. A new group
 * still starts at the end (records written before it started are not read).
 */
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { brokers, client, createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, waitFor, topicsNamed } from './support/pipeline-harness.js';

describe('partitions added to the input topics', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('are read from their beginning, while a new group starts at the end (fromBeginning: false, %s)', { timeout: 150_000 }, async (delivery) => {
    const c = client();
    const base = unique('addpart');
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 2);
    const runs = await generateFleet({ episodes: 16, seed: 41 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const index = new Map(runs.map((r, i) => [r.traceId, i]));
    // episode i: 0–3 written before the group exists (not to be read), 4–9 on partitions 0–1 while
    // it runs, 10–15 right after the topics grow to 4 partitions, on all four (co-partitioned)
    const recordsOf = (from: number, to: number, partitions: number): OutgoingRecord[] => {
      const pick = (topic: string, rs: readonly { key: string; value: Uint8Array | string }[]) =>
        rs.filter((r) => index.get(r.key)! >= from && index.get(r.key)! < to).map((r) => ({ topic, key: r.key, value: r.value, partition: index.get(r.key)! % partitions }));
      return [...pick(topics.spans, gen.spans), ...pick(topics.logs, gen.logs)];
    };
    await produce(c, recordsOf(0, 4, 2));

    const config = pipelineConfig(topics, unique('addpart-grp'), { delivery });
    const pipeline = makePipeline({ ...config, source: { ...config.source, fromBeginning: false, metadataMaxAgeMs: 2_000 } }, 1_000);
    await pipeline.start();
    try {
      // exactly-once commits each partition's position in an offsets-only transaction of its own
      const committedStarts = () => (delivery === 'exactly-once' ? pipeline.stats().transactions >= 4 : pipeline.stats().commits >= 1);
      // placed at the end and those positions committed before anything is written: a rebalance
      // while the topics' metadata settles places the partitions again (the counter passes 4; an
      // exact 4 timed out in a full CI run), and one before the first commit is the documented
      // limit (README, Operating it), not what this test is about
      await waitFor(() => pipeline.stats().partitionsStartedAtEnd >= 4 && pipeline.stats().assignedPartitions === 4 && committedStarts(), 30_000, 'the new group placed at the end and committed');
      await produce(c, recordsOf(4, 10, 2));
      await waitFor(() => pipeline.stats().episodesClosed >= 6 && pipeline.stats().inFlight === 0, 60_000, 'episodes 4–9 published');

      const kafka = new Kafka({ brokers: [brokers()], clientId: 'addpart-admin', logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createPartitions({ topicPartitions: [topics.spans, topics.logs].map((topic) => ({ topic, count: 4 })) });
      } finally {
        await admin.disconnect();
      }
      // written at once: the group notices the new partitions only after metadataMaxAgeMs
      await produce(c, recordsOf(10, 16, 4));
      await waitFor(() => pipeline.stats().assignedPartitions === 8, 30_000, 'the group assigned the new partitions');
      await waitFor(() => pipeline.stats().episodesClosed >= 12 && pipeline.stats().inFlight === 0, 60_000, 'episodes 10–15 published');
      expect(pipeline.stats().partitionsNewToGroup).toBe(4);
    } finally {
      await pipeline.stop();
    }
    const events = parseEvents(await readTopics(c, [topics.episodes], (rs) => rs.length >= 12));
    const credited = new Set(events.map((e) => e.episode_id));
    expect([...credited].sort()).toEqual(runs.slice(4).map((r) => r.traceId).sort());
    expect(events).toHaveLength(12);
  });
});
