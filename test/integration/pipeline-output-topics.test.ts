/**
 * Output topics the broker will not take records for: a missing one (topic creation off) fails the
 * start, naming its setting and the fix; one whose max.message.bytes is below what the sink may
 * publish (sinks.kafka.maxRecordBytes) fails every transaction/send that writes to it, and the
 * pipeline says so at error level with the fix (kafkajs's error for it, as the broker answers).
 */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { MissingOutputTopicError, OutputTopicRecordLimitError, RECORD_OVERHEAD_BYTES, prepareOutputTopics } from '../../src/sinks/kafka/index.js';
import { KafkajsClient, TopicSettingError } from '../../src/kafka/index.js';
import { brokers, client, produce, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

function topicsFor(base: string): PipelineTopics {
  return { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
}

function pipelineWithLog(topics: PipelineTopics, extra: Parameters<typeof pipelineConfig>[2]) {
  const errors: { obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (obj: object, msg?: string) => void errors.push({ obj: obj as Record<string, unknown>, msg }) };
  const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('out-grp'), extra), {
    client: client('out-pipeline'),
    createAssembler: () => testAssembler(30_000),
    processEpisode: referenceProcessEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    logger,
  });
  return { pipeline, errors };
}

async function createTopicsWith(topics: readonly string[], config: Record<string, string> = {}): Promise<void> {
  const admin = await client().admin();
  try {
    await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: 1, config })));
  } finally {
    await admin.disconnect();
  }
}

describe('output topics', { timeout: 60_000 }, () => {
  it('a missing output topic with sinks.kafka.createTopics false fails the start, naming its setting and the fix', async () => {
    const topics = topicsFor(unique('out-missing'));
    await createTopicsWith([topics.spans, topics.logs, topics.rewards, topics.episodes, topics.preferences]);
    const { pipeline } = pipelineWithLog(topics, { sink: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq }, createTopics: false } });
    const err = await pipeline.start().then(() => undefined, (e: unknown) => e);
    await pipeline.stop();
    expect(err).toBeInstanceOf(MissingOutputTopicError);
    expect(err).toBeInstanceOf(TopicSettingError); // the CLI exits 2, as for other configuration errors
    expect((err as MissingOutputTopicError).topics).toEqual([topics.dlq]);
    expect((err as Error).message).toContain(`sinks.kafka.topics.dlq: topic "${topics.dlq}" does not exist`);
    expect((err as Error).message).toMatch(/set sinks\.kafka\.createTopics to true/);
  });

  it('an output topic whose max.message.bytes is below sinks.kafka.maxRecordBytes fails the start, naming both and the fix (it failed every publish for ever)', async () => {
    const topics = topicsFor(unique('out-limit'));
    await createTopicsWith([topics.spans, topics.logs, topics.rewards, topics.episodes, topics.preferences]);
    await createTopicsWith([topics.dlq], { 'max.message.bytes': '1024' });
    const { pipeline } = pipelineWithLog(topics, {});
    const err = await pipeline.start().then(() => undefined, (e: unknown) => e);
    await pipeline.stop();
    expect(err).toBeInstanceOf(OutputTopicRecordLimitError);
    expect(err).toBeInstanceOf(TopicSettingError);
    expect((err as OutputTopicRecordLimitError).topics).toEqual([topics.dlq]);
    expect((err as Error).message).toContain(`sinks.kafka.topics.dlq: topic "${topics.dlq}" has max.message.bytes 1024`);
    expect((err as Error).message).toContain('below sinks.kafka.maxRecordBytes 1000000');
    // a topic the sink creates itself takes a raised maxRecordBytes
    const big = topicsFor(unique('out-big'));
    await createTopicsWith([big.spans, big.logs]);
    const raised = pipelineWithLog(big, { sink: { topics: { rewards: big.rewards, episodes: big.episodes, preferences: big.preferences, dlq: big.dlq }, maxRecordBytes: 4_000_000 } });
    await raised.pipeline.start();
    await raised.pipeline.stop();
    const limits = await (async () => {
      const admin = await client().admin();
      try {
        return await admin.maxMessageBytes!([big.rewards, big.dlq]);
      } finally {
        await admin.disconnect();
      }
    })();
    expect(limits.get(big.dlq)).toBe(4_000_000 + RECORD_OVERHEAD_BYTES);
    expect(limits.get(big.rewards)).toBe(4_000_000 + RECORD_OVERHEAD_BYTES);
    // cleanup.policy as the brokers report it (the replay-filter side topic's start check reads it)
    const compacted = unique('out-compacted');
    await createTopicsWith([compacted], { 'cleanup.policy': 'compact' });
    const admin = await client().admin();
    try {
      const policies = await admin.cleanupPolicies!([big.rewards, compacted]);
      expect([...policies.entries()].sort()).toEqual([[big.rewards, 'delete'], [compacted, 'compact']].sort());
      // a topic that does not exist fails the call (callers ask only about topics they found, and catch)
      await expect(admin.cleanupPolicies!([unique('out-absent')])).rejects.toThrow(/does not host this topic-partition/);
    } finally {
      await admin.disconnect();
    }
  });

  it.each([true, false])('preparing the output topics reads their partition counts in one admin request, so the first sends wait on none (createTopics %s)', async (createTopics) => {
    const topics = topicsFor(unique('out-prepare'));
    if (!createTopics) await createTopicsWith([topics.rewards, topics.episodes, topics.preferences, topics.dlq]);
    const kafka = new KafkajsClient({ brokers: [brokers()], clientId: 'out-prepare' });
    // the client's metadata reads, observed (before: one short-lived admin connection per topic, on its first send)
    const reads: string[][] = [];
    const spy = kafka as unknown as { fetchPartitionCounts(t: readonly string[]): Promise<Map<string, number>> };
    const fetch = spy.fetchPartitionCounts.bind(kafka);
    spy.fetchPartitionCounts = (t) => {
      reads.push([...t]);
      return fetch(t);
    };
    const sinkTopics = { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq };
    await prepareOutputTopics(kafka, { topics: sinkTopics, partitions: 2, createTopics, maxRecordBytes: 1_000_000, compression: 'none' });
    expect(reads).toEqual([[topics.rewards, topics.episodes, topics.preferences, topics.dlq]]);
    const producer = kafka.createProducer();
    await producer.connect();
    try {
      await producer.send(Object.values(sinkTopics).map((topic, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    } finally {
      await producer.disconnect();
    }
    expect(reads).toHaveLength(1);
  });

  // kafkajs refused the CreateTopics request naming the shared topic three times ("Invalid topics
  // array, it cannot have multiple entries for the same topic"): every start failed until it existed
  it('event types sharing one output topic that does not exist yet: it is created once and the start goes on', async () => {
    const base = unique('out-shared');
    const sinkTopics = { rewards: `${base}.events`, episodes: `${base}.events`, preferences: `${base}.events`, dlq: `${base}.dlq` };
    const kafka = client('out-shared');
    const config = { topics: sinkTopics, partitions: 2, createTopics: true, maxRecordBytes: 1_000_000, compression: 'none' } as const;
    // the topics it created, for the job's line naming them: once each; none on a second start
    expect(await prepareOutputTopics(kafka, config)).toEqual([`${base}.events`, `${base}.dlq`]);
    expect(await prepareOutputTopics(kafka, config)).toEqual([]);
    const admin = await kafka.admin();
    try {
      expect(await admin.missingTopics([`${base}.events`, `${base}.dlq`])).toEqual([]);
      expect(await admin.partitionCounts([`${base}.events`])).toEqual(new Map([[`${base}.events`, 2]]));
    } finally {
      await admin.disconnect();
    }
  });

  it.each(['at-least-once', 'exactly-once'] as const)('records that each fit a small output topic but not together are sent in batches it accepts (the broker limits the batch, not the record) (%s)', async (delivery) => {
    const topics = topicsFor(unique('out-batch'));
    await createTopicsWith([topics.spans, topics.logs, topics.rewards, topics.episodes, topics.preferences]);
    await createTopicsWith([topics.dlq], { 'max.message.bytes': '40000' });
    // three undecodable 15 KB records: one 45 KB batch would be refused for ever
    await produce(client(), [0, 1, 2].map((i) => ({ topic: topics.spans, key: `poison-${i}`, value: new Uint8Array(15_000).fill(7) /* 0x07: no valid protobuf tag */ })));
    const { pipeline, errors } = pipelineWithLog(topics, { delivery, sink: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq }, maxRecordBytes: 20_000 } });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().dlqOut >= 3 && pipeline.stats().inFlight === 0, 30_000, 'three dead letters published');
      expect(pipeline.stats().commitFailures).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await pipeline.stop();
    }
  });

  it.each(['at-least-once', 'exactly-once'] as const)('a dead-letter topic whose max.message.bytes is lowered below the record while running: every publish fails, logged at error level with the fix (%s)', async (delivery) => {
    const topics = topicsFor(unique('out-small'));
    await createTopicsWith([topics.spans, topics.logs, topics.rewards, topics.episodes, topics.preferences, topics.dlq]);
    const { pipeline, errors } = pipelineWithLog(topics, { delivery });
    await pipeline.start();
    // an operator lowers the limit after the start check passed (raw kafkajs: the product's client does not alter configs)
    const kafka = new Kafka({ brokers: [brokers()], clientId: 'out-alter', logLevel: logLevel.NOTHING });
    const raw = kafka.admin();
    await raw.connect();
    await raw.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topics.dlq, configEntries: [{ name: 'max.message.bytes', value: '1024' }] }] });
    await raw.disconnect();
    // an undecodable span record of 4 KB: its dead-letter copy is within sinks.kafka.maxRecordBytes, not within the topic's limit
    await produce(client(), [{ topic: topics.spans, key: 'poison', value: new Uint8Array(4_096).fill(7) }]);
    try {
      await waitFor(() => errors.some((e) => e.obj.failuresInARow !== undefined), 30_000, 'an error-level line about the failing publishes');
      expect(pipeline.stats().consecutiveCommitFailures).toBeGreaterThanOrEqual(3);
    } finally {
      await pipeline.stop();
    }
    const line = errors.find((e) => e.obj.failuresInARow !== undefined)!;
    expect(line.obj.err).toBeTypeOf('string');
    expect(line.obj.fix).toMatch(/sinks\.kafka\.maxRecordBytes \(1000000\) below the max\.message\.bytes/);
    expect(line.msg).toMatch(/failed \d+ times in a row/);
  });
});
