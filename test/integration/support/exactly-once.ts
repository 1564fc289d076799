/**
 * Shared by the exactly-once tests (crash, scale-out, broker restart): a generated fleet as the
 * collector would write it, its expected events from the in-process computation, and the check
 * that a read_committed reader sees each of them exactly once with the same content.
 */
import { expect } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../../src/scenarios/index.js';
import { decodeLogs } from '../../../src/otlp/index.js';
import type { CreditEvent } from '../../../src/events/schemas.js';
import type { KafkaClient, OutgoingRecord } from '../../../src/kafka/client.js';
import { createTopics, parseEvents, readTopics, unique } from './kafka-io.js';
import { comparable, referenceEvents, type PipelineTopics } from './pipeline-harness.js';

function topicsFor(name: string): PipelineTopics {
  const base = unique(name);
  return { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
}

/**
 * Evaluation logs per run with the system-level one (on the root span) last, as an online
 * evaluator emits them: step-level verdicts first. A system evaluation closes the episode at once
 * (`closeOnEvaluation`), so a step-level one arriving after it would be a late record and open a
 * correction — legitimate, but not what the in-process reference (everything joined) computes.
 */
function logsInEmitOrder(run: Awaited<ReturnType<typeof generateFleet>>[number], topic: string): OutgoingRecord[] {
  const recs = kafkaRecordsFor(run, 'otlp_proto').logs.map((r) => ({ topic, key: r.key === '' ? null : r.key, value: r.value }));
  const isSystem = (r: OutgoingRecord) => decodeLogs(r.value as Uint8Array, 'otlp_proto').some((l) => l.spanId === run.rootSpanId);
  return [...recs.filter((r) => !isSystem(r)), ...recs.filter(isSystem)];
}

/**
 * Topics (4 partitions) and records for `episodes` generated runs, and the events the in-process
 * computation gives for them. `reverseRuns`: evaluations arrive in reverse run order, so episodes
 * close out of offset order and a partition's watermark stays below already-committed episodes
 * (what the replay filter is for).
 */
export async function exactlyOnceSetUp(c: KafkaClient, name: string, episodes: number, seed: number, reverseRuns = false) {
  const topics = topicsFor(name);
  await createTopics(c, [topics.spans, topics.logs], 4);
  const runs = await generateFleet({ episodes, seed });
  const gen = kafkaRecordsFor(runs, 'otlp_proto');
  const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
  const logs = (reverseRuns ? [...runs].reverse() : runs).flatMap((run) => logsInEmitOrder(run, topics.logs));
  const expected = await referenceEvents(spans, logs);
  return { topics, spans, logs, expected, episodes: runs.length };
}

/** Reads the output topics (read_committed) until every expected event id is there, or 120 s. */
export async function readAllEvents(c: KafkaClient, topics: PipelineTopics, expected: readonly CreditEvent[]): Promise<CreditEvent[]> {
  const wanted = new Set(expected.map((e) => e.event_id));
  const records = await readTopics(
    c,
    [topics.rewards, topics.episodes, topics.preferences],
    (rs) => {
      const seen = new Set(parseEvents(rs).map((e) => e.event_id));
      return [...wanted].every((id) => seen.has(id));
    },
    120_000,
    2_500,
  );
  return parseEvents(records);
}

export function expectExactlyOnce(got: readonly CreditEvent[], expected: readonly CreditEvent[]): void {
  const counts = new Map<string, number>();
  for (const e of got) counts.set(e.event_id, (counts.get(e.event_id) ?? 0) + 1);
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  expect(duplicated).toEqual([]);
  expect([...counts.keys()].sort()).toEqual(expected.map((e) => e.event_id).sort());
  // and with the content the in-process computation gives (ids alone would not show an
  // episode rebuilt on replay without one of its evaluations: same ids, other rewards)
  const byId = (es: readonly CreditEvent[]) => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1)).map(comparable);
  expect(byId(got)).toEqual(byId(expected));
}

/** At-least-once: every expected event is there with the expected content; repeats are allowed but must be identical. */
export function expectAtLeastOnce(got: readonly CreditEvent[], expected: readonly CreditEvent[]): void {
  const want = new Map(expected.map((e) => [e.event_id, comparable(e)]));
  const seen = new Set<string>();
  for (const e of got) {
    expect(want.has(e.event_id), `unexpected event ${e.event_id} (${e.event_type})`).toBe(true);
    expect(comparable(e)).toEqual(want.get(e.event_id));
    seen.add(e.event_id);
  }
  expect([...seen].sort()).toEqual([...want.keys()].sort());
}
