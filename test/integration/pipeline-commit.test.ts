/**
 * Offsets on the real broker: with nothing to publish (every transaction carries only offsets,
 * back to back), the exactly-once pipeline must not stall, and once every episode is done the
 * committed offsets reach the log end of every input partition.
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { client, createTopics, produce, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, waitFor, topicsNamed } from './support/pipeline-harness.js';

describe('offset commits', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('offset-only commits back to back never stall; committed offsets reach the log end (%s)', async (delivery) => {
    const c = client();
    const base = unique(`commit-${delivery}`);
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 4);
    const runs = await generateFleet({ episodes: 150, seed: 9 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    await produce(c, [...gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value })), ...gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }))]);
    const groupId = unique('commit-grp');
    const pipeline = makePipeline(pipelineConfig(topics, groupId, { delivery, commitIntervalMs: 20 }), 60_000, async () => []);
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= runs.length && pipeline.stats().inFlight === 0, 60_000, 'every episode done');
    } finally {
      await pipeline.stop();
    }
    const stats = pipeline.stats();
    if (delivery === 'exactly-once') expect(stats.transactions).toBeGreaterThan(8);
    expect(stats.commitFailures).toBe(0);

    const admin = await c.admin();
    try {
      const committed = await admin.fetchCommittedOffsets(groupId, [topics.spans, topics.logs]);
      for (const topic of [topics.spans, topics.logs]) {
        const ends = await admin.fetchEndOffsets(topic);
        for (const { partition, offset } of ends) {
          expect({ topic, partition, offset: committed.find((o) => o.topic === topic && o.partition === partition)?.offset }).toEqual({ topic, partition, offset });
        }
      }
    } finally {
      await admin.disconnect();
    }
  });
});
