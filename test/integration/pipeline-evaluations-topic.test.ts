/**
 * Evaluations from a separate topic (source.kafka.evaluationsTopic) on the real broker: a judge
 * service's JSON evaluation records — one per record, JSON lines, and an array with an invalid
 * entry — join the spans of the scenario generator's runs by trace id; the pipeline publishes
 * what the in-process computation gives for the same spans and evaluations, and the invalid
 * records (one partly, one wholly) land in the dead-letter topic with their reasons.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, parseEvaluationRecords } from '../../src/conventions/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import type { Evaluation } from '../../src/model/agents.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { DLQ_HEADERS } from '../../src/sinks/kafka/index.js';
import { client, createTopics, header, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { comparable, makePipeline, pipelineConfig, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';
import { testAssembler } from './support/test-assembler.js';

/** An Evaluation as the JSON record a judge service would write (schemas/evaluation-record.schema.json). */
function asRecord(e: Evaluation): Record<string, unknown> {
  return {
    trace_id: e.traceId,
    ...(e.spanId !== undefined ? { span_id: e.spanId } : {}),
    name: e.name,
    ...(e.score !== undefined ? { score: e.score } : {}),
    ...(e.label !== undefined ? { label: e.label } : {}),
    ...(e.explanation !== undefined ? { explanation: e.explanation } : {}),
    time_unix_nano: String(e.timeUnixNano),
  };
}

describe('evaluations topic', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('joins JSON evaluation records to episodes and dead-letters invalid ones (%s)', async (delivery) => {
    const c = client();
    const base = unique('evals');
    const topics = topicsNamed(base);
    const evaluationsTopic = `${base}.evaluations`;
    await createTopics(c, [topics.spans, evaluationsTopic], 2);

    const runs = await generateFleet({ episodes: 8, seed: 23 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    // The generator's evaluations (OTLP logs), rewritten as a judge service's JSON records.
    const evaluations = gen.logs.flatMap((l) => evaluationsFromLogs(decodeLogs(l.value, 'otlp_proto')));
    expect(evaluations.length).toBeGreaterThanOrEqual(6);
    const json = evaluations.map(asRecord);
    const evalRecord = (value: string, key: string | null): OutgoingRecord => ({ topic: evaluationsTopic, key, value, headers: { 'content-type': 'application/json' } });
    const evalRecords: OutgoingRecord[] = [
      ...json.slice(0, 3).map((r) => evalRecord(JSON.stringify(r), r.trace_id as string)),
      evalRecord(`${JSON.stringify(json[3])}\n${JSON.stringify(json[4])}\n`, null), // JSON lines
      evalRecord(JSON.stringify([json[5], { name: 'no id to join on', score: 1 }]), null), // partly invalid
      evalRecord('{"trace_id": "not-hex", "name": "x", "score": 1}', 'poison'), // wholly invalid
      ...json.slice(6).map((r) => evalRecord(JSON.stringify(r), r.trace_id as string)),
    ];

    // In-process reference: the same spans, and the valid evaluations of the same records.
    const reference = testAssembler(60_000);
    for (const s of spans) reference.addSpans(decodeTraces(s.value as Uint8Array, 'otlp_proto'));
    for (const r of evalRecords) reference.addEvaluations(parseEvaluationRecords(r.value as string, { receivedAtUnixNano: 0n }).evaluations);
    const expected = (await Promise.all(reference.flush('shutdown').map(referenceProcessEpisode))).flat();
    const expectedEpisodes = new Set(expected.map((e) => e.episode_id)).size;
    expect(expectedEpisodes).toBeGreaterThanOrEqual(6);

    await produce(c, [...spans, ...evalRecords]);
    const groupId = unique('evals-grp');
    const pipeline = makePipeline(
      pipelineConfig(topics, groupId, { delivery, source: { brokers: ['unused'], groupId, spansTopic: topics.spans, logsTopic: null, evaluationsTopic, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } }),
    );
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= runs.length && pipeline.stats().inFlight === 0 && pipeline.stats().dlqOut >= 2, 60_000, 'all episodes and dead letters published');
    } finally {
      await pipeline.stop();
    }
    const stats = pipeline.stats();
    expect(stats.evaluationsIn).toBe(evaluations.length);
    expect(stats.decodeErrors).toBe(2);

    const got = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length));
    const byId = <T extends { event_id: string }>(es: readonly T[]): T[] => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(got.length).toBe(expected.length);
    expect(byId(got).map(comparable)).toEqual(byId(expected).map(comparable));
    for (const e of got) if (e.event_type === 'episode_credit') expect(e.evaluation.source).toBe('evaluations-stream');

    const dlq = await readTopics(c, [topics.dlq], (rs) => rs.length >= 2);
    expect(dlq).toHaveLength(2);
    const reasons = dlq.map((r) => header(r, DLQ_HEADERS.error) ?? '').sort();
    expect(reasons[0]).toMatch(/^1 valid evaluation\(s\) used; evaluation record invalid \(#1: trace_id: needs trace_id, conversation_id or response_id/);
    expect(reasons[1]).toMatch(/^evaluation record invalid \(#0: trace_id: 32 hex chars, got "not-hex" \(7 chars\)\)/);
    const poison = dlq.find((r) => r.key !== null && new TextDecoder().decode(r.key) === 'poison')!;
    expect(new TextDecoder().decode(poison.value!)).toBe('{"trace_id": "not-hex", "name": "x", "score": 1}');
    expect(header(poison, DLQ_HEADERS.sourceTopic)).toBe(evaluationsTopic);
  });
});
