/**
 * Compressed batches on the real broker, both ways, with the Apache Kafka Java client as the
 * independent peer (support/java-client.ts):
 * - in: OTLP records (the recorded collector output and generated runs) written by the Java
 *   producer with gzip, snappy, lz4 and zstd — the values of the collector kafka exporter's
 *   `producer.compression` — mixed in the same topics → KafkaPipeline → the same events as the
 *   in-process computation. kafkajs alone implements only gzip: before the codecs
 *   (src/kafka/compression-codecs.ts) the other three batches stopped the consumer.
 * - out: the pipeline and the Kafka sink publishing with `compression` set, read back by the Java
 *   consumer (read_committed).
 */
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { KAFKA_COMPRESSIONS, compressionSupport, type KafkaCompression } from '../../src/kafka/compression-codecs.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { KafkaEventSink } from '../../src/sinks/kafka/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { batchCodecs, consumeWithJava, produceWithJava } from './support/java-client.js';
import { client, createTopics, fixtureRecords, unique } from './support/kafka-io.js';
import { comparable, makePipeline, pipelineConfig, referenceEvents, runUntilPublished } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const INPUT_CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const byId = <T extends { event_id: string }>(es: readonly T[]): T[] => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));

describe('compressed batches (Java client as the peer)', () => {
  it('reads gzip, snappy, lz4 and zstd batches of the Java producer; publishes lz4 (exactly-once) that the Java consumer reads', async () => {
    const c = client();
    const base = unique('compressed');
    const topics = { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
    await createTopics(c, [topics.spans, topics.logs], 4);

    const runs = await generateFleet({ episodes: 12, seed: 23 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const keyed = (topic: string) => (r: { key: string; value: Uint8Array }): OutgoingRecord => ({ topic, key: r.key === '' ? null : r.key, value: r.value });
    const spanRecords = [...fixtureRecords('otlp_proto', 'otlp_spans', topics.spans), ...gen.spans.map(keyed(topics.spans))];
    const logRecords = [...fixtureRecords('otlp_proto', 'otlp_logs', topics.logs), ...gen.logs.map(keyed(topics.logs))];
    const expected = await referenceEvents(spanRecords, logRecords);
    const expectedEpisodes = new Set(expected.map((e) => e.episode_id)).size;
    expect(expectedEpisodes).toBe(9 + runs.length);

    // Every codec gets a share of both topics: each codec's batches must be read for every episode to close.
    const all = [...spanRecords, ...logRecords];
    for (const [i, codec] of INPUT_CODECS.entries()) await produceWithJava(all.filter((_, k) => k % INPUT_CODECS.length === i), codec);

    const groupId = unique('grp');
    const pipeline = makePipeline(pipelineConfig(topics, groupId, { delivery: 'exactly-once', sink: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq }, partitions: 3, compression: 'lz4' } }));
    const stats = await runUntilPublished(pipeline, expectedEpisodes);
    expect(stats.decodeErrors).toBe(0);
    expect(stats.recordsIn).toBe(all.length);

    const read = await consumeWithJava([topics.rewards, topics.episodes, topics.preferences], expected.length);
    const got = read.map((r) => JSON.parse(r.value.toString('utf8')) as CreditEvent);
    expect(got.length).toBe(expected.length);
    expect(byId(got).map(comparable)).toEqual(byId(expected).map(comparable));
    // The published batches really are lz4 (and the input had every codec): the broker's own log.
    const workDir = inject('kafkaWorkDir');
    if (workDir !== '') {
      const [out, input] = await Promise.all([batchCodecs(join(workDir, 'data'), topics.rewards, [0, 1, 2]), batchCodecs(join(workDir, 'data'), topics.spans, [0, 1, 2, 3])]);
      expect(out.length).toBeGreaterThan(0);
      expect(new Set(out)).toEqual(new Set(['lz4']));
      expect(new Set(input)).toEqual(new Set(INPUT_CODECS));
    }
  });

  it('the Kafka sink publishes with every codec this Node.js can write; the Java consumer reads each', async () => {
    const c = client();
    const runs = await generateFleet({ episodes: 2, seed: 5 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const events = await referenceEvents(
      gen.spans.map((r) => ({ topic: 'x', key: null, value: r.value })),
      gen.logs.map((r) => ({ topic: 'x', key: null, value: r.value })),
      referenceProcessEpisode,
    );
    expect(events.length).toBeGreaterThan(4);
    const writable = KAFKA_COMPRESSIONS.filter((k): k is KafkaCompression => compressionSupport(k).ok);
    const base = unique('sinkz');
    const topicsOf = (k: string) => ({ rewards: `${base}.${k}.rewards`, episodes: `${base}.${k}.episodes`, preferences: `${base}.${k}.preferences`, dlq: `${base}.${k}.dlq` });
    for (const compression of writable) {
      const sink = new KafkaEventSink(c, { topics: topicsOf(compression), partitions: 1, compression });
      await sink.start();
      await sink.publish(events);
      await sink.close();
    }
    const outTopics = writable.flatMap((k) => { const t = topicsOf(k); return [t.rewards, t.episodes, t.preferences]; });
    const read = await consumeWithJava(outTopics, events.length * writable.length);
    for (const compression of writable) {
      const mine = new Set(Object.values(topicsOf(compression)));
      const got = read.filter((r) => mine.has(r.topic)).map((r) => JSON.parse(r.value.toString('utf8')) as CreditEvent);
      expect(byId(got), compression).toEqual(byId(events));
    }
  });
});
