/**
 * Poison input on the real broker: an undecodable record lands in the DLQ with its original
 * bytes, key and headers plus the reason and source position, and the stream continues; an
 * episode whose credit computation throws becomes a DLQ entry instead of stalling the pipeline.
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import type { Episode } from '../../src/model/episode.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { DLQ_HEADERS } from '../../src/sinks/kafka/index.js';
import { client, createTopics, header, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, referenceEvents, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

describe('dead-letter topic', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('poison records and failing credit go to the DLQ, the stream continues (%s)', async (delivery) => {
    const c = client();
    const base = unique('dlq');
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 1);
    const runs = await generateFleet({ episodes: 6, seed: 5 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
    // Hand-made malformed inputs: truncated protobuf (a valid record cut short) and broken JSON.
    const truncated = spans[1]!.value as Uint8Array;
    const poisonSpan: OutgoingRecord = { topic: topics.spans, key: 'poison-key', value: truncated.subarray(0, Math.floor(truncated.length / 2)), headers: { 'x-origin': 'test' } };
    const poisonLog: OutgoingRecord = { topic: topics.logs, key: null, value: '{"resourceLogs": [', headers: { 'content-type': 'application/json' } };
    // Credit fails for one episode (the 4th run).
    const failing = runs[3]!.traceId;

    await produce(c, [spans[0]!, spans[1]!, poisonSpan, ...spans.slice(2), poisonLog, ...logs]);
    const expected = (await referenceEvents(spans, logs)).filter((e) => e.episode_id !== failing);

    const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('dlq-grp'), { delivery }), {
      client: client('dlq-pipeline'),
      createAssembler: () => testAssembler(30_000),
      processEpisode: async (episode: Episode) => {
        if (episode.episodeId === failing) throw new Error('judge unavailable (test)');
        return referenceProcessEpisode(episode);
      },
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= runs.length && pipeline.stats().inFlight === 0 && pipeline.stats().dlqOut >= 2, 60_000, 'all episodes and dead letters published');
    } finally {
      await pipeline.stop();
    }
    const stats = pipeline.stats();
    expect(stats.decodeErrors).toBe(2);
    expect(stats.creditFailures).toBe(1);

    const dlq = await readTopics(c, [topics.dlq], (rs) => rs.length >= 3);
    expect(dlq).toHaveLength(3);
    const span = dlq.find((r) => header(r, DLQ_HEADERS.sourceTopic) === topics.spans && header(r, 'x-origin') === 'test')!;
    expect(span).toBeDefined();
    expect(Buffer.from(span.value!).equals(Buffer.from(poisonSpan.value as Uint8Array))).toBe(true);
    expect(new TextDecoder().decode(span.key!)).toBe('poison-key');
    expect(header(span, DLQ_HEADERS.sourcePartition)).toBe('0');
    expect(header(span, DLQ_HEADERS.sourceOffset)).toBe('2');
    expect(header(span, DLQ_HEADERS.error)).toMatch(/^otlp_proto: /);

    const log = dlq.find((r) => header(r, DLQ_HEADERS.sourceTopic) === topics.logs && !header(r, DLQ_HEADERS.error)?.startsWith('credit failed'))!;
    expect(new TextDecoder().decode(log.value!)).toBe('{"resourceLogs": [');
    expect(log.key).toBeNull();
    expect(header(log, 'content-type')).toBe('application/json');
    expect(header(log, DLQ_HEADERS.sourceOffset)).toBe('0');
    expect(header(log, DLQ_HEADERS.error)).toMatch(/^otlp_json: /);

    const failed = dlq.find((r) => header(r, DLQ_HEADERS.error)?.startsWith('credit failed'))!;
    expect(JSON.parse(new TextDecoder().decode(failed.value!))).toMatchObject({ kind: 'episode_failed', episode_id: failing });

    // The stream continued: every other episode's events are there, exactly once.
    const out = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length));
    expect(out.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
  });

  it('an undecodable record larger than the dead-letter topic accepts is described there, not copied; the stream continues (exactly-once)', async () => {
    const c = client();
    const base = unique('dlq-big');
    const topics = topicsNamed(base);
    // OTLP topics often accept larger records than the broker's default (1 MiB), which the
    // dead-letter topic the pipeline creates keeps.
    const admin = await c.admin();
    try {
      await admin.ensureTopics([{ topic: topics.spans, partitions: 1, config: { 'max.message.bytes': String(4 * 1024 * 1024) } }, { topic: topics.logs, partitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    const runs = await generateFleet({ episodes: 3, seed: 8 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
    const big = new Uint8Array(2 * 1024 * 1024).fill(0xff); // not protobuf (wire type 7), 2 MiB
    await produce(c, [spans[0]!, { topic: topics.spans, key: 'big', value: big }, ...spans.slice(1), ...logs]);
    const expected = await referenceEvents(spans, logs);

    const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('dlq-big-grp'), { delivery: 'exactly-once' }), {
      client: client('dlq-big-pipeline'),
      createAssembler: () => testAssembler(30_000),
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= runs.length && pipeline.stats().inFlight === 0 && pipeline.stats().dlqOut >= 1, 60_000, 'all episodes and the dead letter published');
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.stats().decodeErrors).toBe(1);
    const [dl, ...more] = await readTopics(c, [topics.dlq], (rs) => rs.length >= 1);
    expect(more).toHaveLength(0);
    expect(header(dl!, DLQ_HEADERS.sourceOffset)).toBe('1');
    expect(header(dl!, DLQ_HEADERS.error)).toMatch(/over sinks\.kafka\.maxRecordBytes 1000000/);
    expect(JSON.parse(new TextDecoder().decode(dl!.value!))).toMatchObject({ kind: 'record_too_large', source_topic: topics.spans, source_offset: '1', value_bytes: big.byteLength });
    const out = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length));
    expect(out.map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
  });
});
