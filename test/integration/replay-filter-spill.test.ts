/**
 * A restart after a SIGKILL with more runs open on a partition than the offset metadata names
 * exactly, on the real broker at Kafka's default offset.metadata.max.bytes (4096): 2,500 runs open
 * on the spans and logs partitions (~115 trace ids fit the metadata whole, ~950 coded hashes), 200
 * closed and committed above the committed offsets. Without a side topic the filters are written
 * as the hashes' first bits (`ac4`): the closed runs whose first bits match an open one's are
 * rebuilt on replay, spans and verdicts, and published again under the same event ids —
 * exactly-once included. With it (`sinks.kafka.replayFilterTopic`) the filters are spilled whole
 * to the side topic in the commit's transaction and the metadata points at them (`ac5`): every
 * episode's events exactly once, the closed runs' spans all skipped on replay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { KafkaClient, OutgoingRecord } from '../../src/kafka/client.js';
import { startChild, type PipelineChild } from './support/child.js';
import { expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { brokers, client, committedMetadata, createTopics, produce, unique } from './support/kafka-io.js';
import { referenceEvents, topicsNamed, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { decodeReplayMetadata, decodeSpilledFilter, decodeSpillPointer, replayKeeps } from '../../src/runtime/watermark.js';

const OPEN = 2_500;
const CLOSED = 200;

const children: PipelineChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

/**
 * The fleet, generated once for the file: saboteur runs with one step (~22 KB of spans each) — each
 * has a step-level verdict beside its system one, so the logs partition holds every open run too
 * and a closed run rebuilt from the spans partition is rebuilt with its verdict from the logs one.
 */
let fleet: Promise<{ spans: OutgoingRecord[]; logsBefore: OutgoingRecord[]; openVerdicts: OutgoingRecord[]; expected: CreditEvent[]; runIds: string[]; closedSpans: number }> | undefined;
function fleetFor(): NonNullable<typeof fleet> {
  return (fleet ??= (async () => {
    const runs = await generateFleet({ episodes: OPEN + CLOSED, seed: 5, steps: 1, mix: { saboteur: 1 }, conventions: ['genai'] });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    // the open runs' spans first: they hold the committed offset at 0, below the closed runs' records
    const spans = gen.spans.map((r) => ({ topic: 'spans', key: r.key, value: r.value }));
    const rootOf = new Map(runs.map((r) => [r.traceId, r.rootSpanId]));
    const openIds = new Set(runs.slice(0, OPEN).map((r) => r.traceId));
    const logs = gen.logs.map((r) => ({ topic: 'logs', key: r.key, value: r.value, system: decodeLogs(r.value as Uint8Array, 'otlp_proto').some((l) => l.spanId === rootOf.get(String(r.key))) }));
    const strip = ({ system: _s, ...r }: (typeof logs)[number]): OutgoingRecord => r;
    // before the kill: the open runs' step verdicts, then the closed runs' verdicts; after it the open runs' system verdicts
    const logsBefore = [...logs.filter((r) => openIds.has(String(r.key)) && !r.system), ...logs.filter((r) => !openIds.has(String(r.key)))].map(strip);
    const openVerdicts = logs.filter((r) => openIds.has(String(r.key)) && r.system).map(strip);
    expect(logsBefore.length + openVerdicts.length).toBe(logs.length);
    const expected = await referenceEvents(spans, [...logsBefore, ...openVerdicts]);
    // spans of the closed runs: what an exact filter skips on replay
    const closedSpans = spans.slice(OPEN).reduce((n, r) => n + decodeTraces(r.value as Uint8Array, 'otlp_proto').length, 0);
    return { spans, logsBefore, openVerdicts, expected, runIds: runs.map((r) => r.traceId), closedSpans };
  })());
}

const to = (topic: string, rs: readonly OutgoingRecord[]) => rs.map((r) => ({ ...r, topic, partition: 0 }));

/**
 * Runs the fleet through a child pipeline killed (SIGKILL) once the closed runs are committed, and
 * a second one that replays; the events read back, the committed metadata at the kill and the
 * second instance's stats.
 */
async function killAndRestart(c: KafkaClient, delivery: 'exactly-once' | 'at-least-once', replayFilterTopic: string | null) {
  const f = await fleetFor();
  const topics: PipelineTopics = topicsNamed(unique('spill'));
  await createTopics(c, [topics.spans, topics.logs], 1);
  const groupId = unique('spill-grp');
  await produce(c, [...to(topics.spans, f.spans), ...to(topics.logs, f.logsBefore)]);
  const child = (idleMs: number) => {
    const ch = startChild({ brokers: brokers(), topics, groupId, delivery, creditDelayMs: 0, idleMs, sessionTimeoutMs: 3_000, replayFilterTopic });
    children.push(ch);
    return ch;
  };
  const a = child(600_000);
  await waitFor(() => {
    const s = a.stats();
    return s !== undefined && s.episodesClosed >= CLOSED && s.inFlight === 0 && s.recordsPublished === s.eventsOut && s.recordsIn >= f.spans.length + f.logsBefore.length;
  }, 60_000, `the closed runs published (${a.output()})`);
  // the commit after them has landed: its metadata names the open runs in the form this test is
  // about — spilled, the side records hold exactly the open runs (at-least-once publishes before it
  // commits: an earlier commit's filter would still hold closed runs, republished legitimately)
  const form = replayFilterTopic === null ? 'ac4;' : 'ac5;';
  const openIds = new Set(f.runIds.slice(0, OPEN));
  const landed = async (ms: readonly string[]) => {
    if (ms.length !== 2 || !ms.every((m) => m.startsWith(form))) return false;
    if (replayFilterTopic === null) return true;
    for (const m of ms) {
      const pointer = decodeSpillPointer(m)!;
      const record = await c.readRecord!({ topic: replayFilterTopic, partition: pointer.partition }, pointer.offset, { timeoutMs: 10_000, maxBytes: 1 << 20 });
      const read = record?.value ? decodeSpilledFilter(pointer, record.value) : undefined;
      if (read === undefined || !('filter' in read)) throw new Error(`the spilled filter at ${m} does not read back: ${read?.reason ?? 'no record'}`);
      const held = read.filter.heldTraces!;
      if (held.size !== OPEN || ![...held].every((id) => openIds.has(id))) return false;
    }
    return true;
  };
  let metadata: string[] = [];
  for (const deadline = Date.now() + 30_000; !(await landed(metadata)); ) {
    if (Date.now() > deadline) throw new Error(`no ${form} commits naming the open runs on the spans and logs partitions within 30 s: ${metadata.map((m) => m.slice(0, 20)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
    metadata = await committedMetadata(c, groupId, [topics.spans, topics.logs]);
  }
  a.proc.kill('SIGKILL');
  await a.exited;

  // the open runs' verdicts in place before the restart
  await produce(c, to(topics.logs, f.openVerdicts));
  const b = child(600_000);
  return { f, topics, metadata, b };
}

/** Event ids published more than once. */
function duplicated(got: readonly CreditEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const e of got) counts.set(e.event_id, (counts.get(e.event_id) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([id]) => id);
}



describe('replay filter spilled to a side topic (offset.metadata.max.bytes 4096)', { timeout: 300_000 }, () => {
  it.each(['exactly-once', 'at-least-once'] as const)('%s, 2,500 runs open, SIGKILL after the closed runs committed, restart: every episode\'s events exactly once, none missing', async (delivery) => {
    const c = client('spill-on');
    const { f, topics, metadata, b } = await killAndRestart(c, delivery, unique('replay-filters'));
    expect(metadata.every((m) => m.startsWith('ac5;'))).toBe(true);
    const got = await readAllEvents(c, topics, f.expected);
    await waitFor(() => (b.stats()?.episodesClosed ?? 0) >= OPEN && b.stats()!.inFlight === 0 && b.stats()!.recordsPublished === b.stats()!.eventsOut, 60_000, 'the open runs published after the restart');
    // every span of the closed runs skipped on replay (none rebuilt), every open run's kept
    expect(b.stats()!.spansSkippedOnReplay).toBe(f.closedSpans);
    expect(b.stats()!.episodesClosed).toBe(OPEN);
    // at-least-once too: the kill came after the commit that followed the last publish (its filter
    // holds only the open runs), so nothing published was uncommitted — the one source of duplicates left there
    expectExactlyOnce(got, f.expected);
  });

  it('exactly-once without the side topic (replayFilterTopic null): the closed runs whose hashes\' first bits match an open one\'s are published again', async () => {
    const c = client('spill-off');
    const { f, topics, metadata, b } = await killAndRestart(c, 'exactly-once', null);
    // which closed runs the hashed filters keep on replay (their false positives): those kept on
    // both partitions are rebuilt whole, spans and verdicts (records below the filters' position)
    const filters = metadata.map((m) => decodeReplayMetadata(m)!);
    for (const filter of filters) expect(filter.keyBits).toBeLessThan(32);
    const rebuilt = f.runIds.slice(OPEN).filter((id) => filters.every((filter) => replayKeeps(filter, '0', id)));
    expect(rebuilt.length).toBeGreaterThan(0);
    await waitFor(() => (b.stats()?.episodesClosed ?? 0) >= OPEN + rebuilt.length && b.stats()!.inFlight === 0 && b.stats()!.recordsPublished === b.stats()!.eventsOut, 90_000, 'the open runs and the rebuilt closed ones published');
    expect(b.stats()!.spansSkippedOnReplay).toBeLessThan(f.closedSpans);
    const got = await readAllEvents(c, topics, f.expected);
    // each rebuilt run's events published a second time, under the same event ids
    const again = new Set(duplicated(got));
    expect(new Set(got.filter((e) => again.has(e.event_id)).map((e) => e.episode_id))).toEqual(new Set(rebuilt));
  });
});
