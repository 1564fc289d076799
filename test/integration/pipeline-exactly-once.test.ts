/**
 * Exactly-once on the real broker, with the pipeline in child processes: SIGKILL mid-stream and
 * restart; a second instance joining the group mid-stream. A read_committed reader must see
 * every episode's events exactly once by event id, none missing, equal to the in-process
 * computation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { decodeLogs } from '../../src/otlp/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { KafkaClient, OutgoingRecord } from '../../src/kafka/client.js';
import { startChild, type PipelineChild } from './support/child.js';
import { brokers, client, createTopics, parseEvents, produce, readTopics, sleep, unique } from './support/kafka-io.js';
import { comparable, referenceEvents, waitFor, type PipelineTopics } from './support/pipeline-harness.js';

const children: PipelineChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

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

async function setUp(name: string, episodes: number, seed: number, reverseRuns = false) {
  const c = client();
  const topics = topicsFor(name);
  await createTopics(c, [topics.spans, topics.logs], 4);
  const runs = await generateFleet({ episodes, seed });
  const gen = kafkaRecordsFor(runs, 'otlp_proto');
  const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
  // reverseRuns: evaluations arrive in reverse run order, so episodes close out of offset order and
  // a partition's watermark stays below already-committed episodes (what the replay filter is for).
  const logs = (reverseRuns ? [...runs].reverse() : runs).flatMap((run) => logsInEmitOrder(run, topics.logs));
  const expected = await referenceEvents(spans, logs);
  return { c, topics, spans, logs, expected, episodes: runs.length };
}

let childN = 0;
function child(topics: PipelineTopics, groupId: string): PipelineChild {
  if (process.env.EOS_DEBUG_DIR) process.env.PIPELINE_CHILD_DEBUG = `${process.env.EOS_DEBUG_DIR}/child-${++childN}.jsonl`;
  const ch = startChild({ brokers: brokers(), topics, groupId, delivery: 'exactly-once', creditDelayMs: 120, idleMs: 60_000 });
  children.push(ch);
  return ch;
}

async function readAll(c: KafkaClient, topics: PipelineTopics, expected: readonly CreditEvent[]): Promise<CreditEvent[]> {
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

function expectExactlyOnce(got: readonly CreditEvent[], expected: readonly CreditEvent[]): void {
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

describe('exactly-once delivery through crashes and rebalances', { timeout: 150_000 }, () => {
  it('SIGKILL mid-stream, restart: every event exactly once, none missing', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('crash', 40, 21, true);
    // The real credit computation credits every generated run: one episode_credit per episode.
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    const groupId = unique('crash-grp');
    await produce(c, spans);
    const a = child(topics, groupId);
    await produce(c, logs.slice(0, 15));
    await waitFor(() => (a.stats()?.transactions ?? 0) >= 1 && (a.stats()?.episodesClosed ?? 0) >= 5, 60_000, `first instance to commit (${a.output()})`);
    await produce(c, logs.slice(15, 28));
    await waitFor(() => (a.stats()?.episodesClosed ?? 0) >= 18 && (a.stats()?.recordsPublished ?? 0) > 0, 30_000, 'more episodes closed and some published');
    const atKill = a.stats()!;
    a.proc.kill('SIGKILL');
    await a.exited;
    // Mid-stream: some events committed, closed episodes still waiting for credit or commit, more input to come.
    expect(atKill.episodesClosed).toBeLessThan(episodes);
    expect(atKill.recordsPublished).toBeGreaterThan(0);
    expect(atKill.inFlight).toBeGreaterThan(0);

    const b = child(topics, groupId);
    await produce(c, logs.slice(28));
    const got = await readAll(c, topics, expected);
    expectExactlyOnce(got, expected);
    expect(b.stats()?.decodeErrors ?? 0).toBe(0);
    // The restarted instance replayed from the watermark and skipped spans of committed episodes.
    expect(b.stats()!.spansSkippedOnReplay).toBeGreaterThan(0);
  });

  it('a second instance joins the group mid-stream: every event exactly once, none missing', async () => {
    const { c, topics, spans, logs, expected, episodes } = await setUp('join', 40, 33);
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    const groupId = unique('join-grp');
    await produce(c, spans);
    const a = child(topics, groupId);
    await produce(c, logs.slice(0, 20));
    await waitFor(() => (a.stats()?.transactions ?? 0) >= 1 && (a.stats()?.episodesClosed ?? 0) >= 5, 60_000, `first instance to commit (${a.output()})`);
    const b = child(topics, groupId);
    await waitFor(() => (b.stats()?.assignedPartitions ?? 0) > 0, 60_000, `second instance to get partitions (${b.output()})`);
    await produce(c, logs.slice(20));
    const got = await readAll(c, topics, expected);
    expectExactlyOnce(got, expected);
    expect((a.stats()?.rebalances ?? 0) + (b.stats()?.rebalances ?? 0)).toBeGreaterThanOrEqual(3);
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });
});
