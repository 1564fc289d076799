/**
 * A broker whose `offset.metadata.max.bytes` is above Kafka's default (here 64 KiB): the pipeline
 * reads it at start and writes the replay filter up to the same share of it, of at most the 32,767
 * bytes kafkajs sends, so a partition's open runs are named whole far past the ~115 the default
 * holds (~900; as coded hashes past ~950 up to ~9,000). It sized the filter for the default whatever the brokers took: past ~950 open runs on
 * a partition a restart republished a share of the episodes, with no broker setting to lift that.
 *
 * Runs its own broker (scripts/kafka.ts) with the higher limit; the shared one serves the others.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { useOwnBroker } from './support/own-broker.js';
import { exactlyOnceSetUp, expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { committedMetadata, createTopics, produce, unique } from './support/kafka-io.js';
import type { TopicPartition } from '../../src/kafka/client.js';
import { encodeReplayMetadata, replayMetadataBudget } from '../../src/runtime/watermark.js';
import { pipelineConfig, testAssembler, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const METADATA_MAX_BYTES = 65_536;
const { clientOf, cleanups } = useOwnBroker({ 'offset.metadata.max.bytes': String(METADATA_MAX_BYTES) });

function pipelineOf(topics: PipelineTopics, groupId: string) {
  const infos: string[] = [];
  const pipeline = new KafkaPipeline(pipelineConfig(topics, groupId, { delivery: 'exactly-once' }), {
    client: clientOf('meta-big-pipeline'),
    createAssembler: () => testAssembler(120_000),
    processEpisode: referenceProcessEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    logger: { debug() {}, info: (_obj: object, msg?: string) => void infos.push(msg ?? ''), warn() {}, error() {} },
  });
  cleanups.push(() => pipeline.stop());
  return { pipeline, infos };
}

describe('offset.metadata.max.bytes above the default', { timeout: 180_000 }, () => {
  it('the replay filter names ~150 open runs per partition whole (more than 4096 bytes), and a restart publishes every episode exactly once', async () => {
    const c = clientOf('meta-big-it');
    // 800 runs on 4 partitions, the evaluations of a quarter sent: ~150 runs open on each partition
    const { topics, spans, logs, expected } = await exactlyOnceSetUp(c, 'meta-big', 800, 71, true);
    const groupId = unique('meta-big-grp');
    await produce(c, spans);
    const firstLogs = logs.slice(0, Math.floor(logs.length / 4));
    await produce(c, firstLogs);
    const first = pipelineOf(topics, groupId);
    await first.pipeline.start();
    await waitFor(() => {
      const s = first.pipeline.stats();
      return s.episodesClosed >= 150 && s.inFlight === 0 && s.recordsPublished === s.eventsOut && s.transactions > 0 && s.consecutiveCommitFailures === 0;
    }, 90_000, 'the first quarter published').catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(first.pipeline.stats())}`);
    });
    await first.pipeline.stop();
    expect(first.infos.some((m) => m.includes(`offset.metadata.max.bytes is ${METADATA_MAX_BYTES}`))).toBe(true);
    const metadata = await committedMetadata(c, groupId, [topics.spans]);
    expect(metadata).toHaveLength(4);
    for (const m of metadata) {
      // the ids themselves (ac1), not their hashes (ac2–ac4) as under the default's 3,800 bytes
      expect(m.startsWith('ac1;')).toBe(true);
      expect(Buffer.byteLength(m)).toBeLessThanOrEqual(METADATA_MAX_BYTES);
    }
    expect(Math.max(...metadata.map((m) => Buffer.byteLength(m)))).toBeGreaterThan(4_096);

    const second = pipelineOf(topics, groupId);
    await second.pipeline.start();
    await produce(c, logs.slice(firstLogs.length));
    expectExactlyOnce(await readAllEvents(c, topics, expected), expected);
    await second.pipeline.stop();
  });

  // At-least-once commits every dirty partition's offset in one OffsetCommit, whose records the
  // group coordinator appends as one batch to __consumer_offsets (at most its max.message.bytes,
  // ~1 MB by default). With the filter sized to these brokers, ~34 partitions of full filters in one
  // consumer passed that, and every commit failed ("The server experienced an unexpected error"),
  // retried for ever: at-least-once never committed an offset again.
  it('at-least-once: the offsets of 48 partitions, each with a filter as long as these brokers allow, are committed', async () => {
    const c = clientOf('meta-big-commit');
    const topic = unique('meta-big-commit');
    const groupId = unique('meta-big-commit-grp');
    await createTopics(c, [topic], 48);
    const consumer = c.createConsumer({ groupId, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitMs: 100 });
    cleanups.push(() => consumer.disconnect());
    const assigned: TopicPartition[] = [];
    await consumer.connect();
    await consumer.subscribe([topic], { fromBeginning: true });
    await consumer.run({ onAssignment: (a) => void assigned.splice(0, assigned.length, ...a), onBatch: async () => undefined });
    await waitFor(() => assigned.length === 48, 30_000, 'all 48 partitions assigned');
    const budget = replayMetadataBudget(METADATA_MAX_BYTES);
    // ~900 open runs per partition: their ids written whole, the filter close to its budget
    const offsets = Array.from({ length: 48 }, (_, partition) => {
      const ids = Array.from({ length: 880 }, (_, i) => (BigInt(partition * 1_000 + i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32));
      return { topic, partition, offset: '0', metadata: encodeReplayMetadata('1', ids, budget) };
    });
    for (const o of offsets) expect(o.metadata.startsWith('ac1;') && o.metadata.length > 0.9 * budget).toBe(true);
    await consumer.commit(offsets);
    const committed = await committedMetadata(c, groupId, [topic]);
    expect(committed.sort()).toEqual(offsets.map((o) => o.metadata).sort());
  });
});
