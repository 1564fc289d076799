/**
 * Compatibility: the exactly-once pipeline on an Apache Kafka 3.9.1 broker (the suite's broker is
 * 4.1.1 by default). Starts its own broker (Maven-resolved, cached like the default one), ~20 s on
 * a warm cache. Skip with KAFKA_COMPAT=0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { fixtureRecords, parseEvents, produce, createTopics, readTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, referenceEvents, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const COMPAT_VERSION = '3.9.1';
const enabled = process.env.KAFKA_COMPAT !== '0';

describe.runIf(enabled)(`Kafka ${COMPAT_VERSION} compatibility`, () => {
  let broker: RunningKafka;
  beforeAll(async () => {
    broker = await startKafka({ version: COMPAT_VERSION });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('recorded collector records → exactly-once pipeline → read_committed output equals the in-process computation', async () => {
    const c = new KafkajsClient({ brokers: [broker.brokers], clientId: 'compat' });
    const base = unique('compat');
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 4);
    const spans = fixtureRecords('otlp_proto', 'otlp_spans', topics.spans);
    const logs = fixtureRecords('otlp_proto', 'otlp_logs', topics.logs);
    await produce(c, [...spans, ...logs]);
    const expected = await referenceEvents(spans, logs);
    const groupId = unique('compat-grp');
    const config = pipelineConfig(topics, groupId, { delivery: 'exactly-once' });
    const pipeline = new KafkaPipeline(
      { ...config, source: { ...config.source, brokers: [broker.brokers] } },
      { client: c, createAssembler: () => testAssembler(30_000), processEpisode: referenceProcessEpisode, evaluationsFromLogs: (logs) => evaluationsFromLogs(logs) },
    );
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= 9 && pipeline.stats().inFlight === 0, 60_000, 'all fixture episodes published');
    } finally {
      await pipeline.stop();
    }
    const got = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length));
    expect(got.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
  });
});
