/**
 * A restart after a SIGKILL with more runs open on a partition than the offset metadata names
 * exactly, on the real broker at Kafka's default offset.metadata.max.bytes (4096): 2,500 runs open
 * on the spans and logs partitions (~115 trace ids fit the metadata whole, ~950 coded hashes; 400
 * in the at-least-once case, spilled all the same), 200 closed and committed above the committed offsets. Without a side topic the filters are written
 * as the hashes' first bits (`ac4`): the closed runs whose first bits match an open one's are
 * rebuilt on replay, spans and verdicts, and published again under the same event ids —
 * exactly-once included. With it (`sinks.kafka.replayFilterTopic`) the filters are spilled whole
 * to the side topic in the commit's transaction and the metadata points at them (`ac5`): every
 * episode's events exactly once, the closed runs' spans all skipped on replay — and the test
 * computes, from the very filters it spilled, the closed runs their hashed encoding would have
 * republished (a third pipeline run with the topic off, which showed exactly those twice, took
 * ~35 s of the suite: the hashed path itself is pinned by replay-filter-load.test.ts).
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
import { decodeReplayMetadata, decodeSpilledFilter, decodeSpillPointer, encodeReplayMetadata, replayKeeps, replayMetadataBudget } from '../../src/runtime/watermark.js';

/** Open runs in the exactly-once case: hashed into 4 KB, their filters would rebuild closed runs by mistake. */
const OPEN_MANY = 2_500;
/** Open runs in the at-least-once case: past the ~115 trace ids the metadata names whole, so spilled (6× fewer runs to replay). */
const OPEN_SOME = 400;
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
type Fleet = { open: number; spans: OutgoingRecord[]; logsBefore: OutgoingRecord[]; openVerdicts: OutgoingRecord[]; expected: CreditEvent[]; runIds: string[]; closedSpans: number };
let generated: ReturnType<typeof generateFleet> | undefined;
/** The fleet with `OPEN` open runs (the first of the runs generated once for the file) and the same CLOSED closed ones. */
async function fleetFor(OPEN: number): Promise<Fleet> {
  {
    const all = await (generated ??= generateFleet({ episodes: OPEN_MANY + CLOSED, seed: 5, steps: 1, mix: { saboteur: 1 }, conventions: ['genai'] }));
    const runs = [...all.slice(0, OPEN), ...all.slice(OPEN_MANY)];
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
    return { open: OPEN, spans, logsBefore, openVerdicts, expected, runIds: runs.map((r) => r.traceId), closedSpans };
  }
}

const to = (topic: string, rs: readonly OutgoingRecord[]) => rs.map((r) => ({ ...r, topic, partition: 0 }));

/**
 * Runs the fleet through a child pipeline killed (SIGKILL) once the closed runs are committed, and
 * a second one that replays; the events read back, the committed metadata at the kill and the
 * second instance's stats.
 */
async function killAndRestart(c: KafkaClient, delivery: 'exactly-once' | 'at-least-once', replayFilterTopic: string | null) {
  const f = await fleetFor(delivery === 'exactly-once' ? OPEN_MANY : OPEN_SOME);
  const OPEN = f.open;
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

describe('replay filter spilled to a side topic (offset.metadata.max.bytes 4096)', { timeout: 300_000 }, () => {
  it.each(['exactly-once', 'at-least-once'] as const)('%s, runs open past what the metadata names whole (exactly-once 2,500, at-least-once 400), SIGKILL after the closed runs committed, restart: every episode\'s events exactly once, none missing', async (delivery) => {
    const c = client('spill-on');
    const side = unique('replay-filters');
    const { f, topics, metadata, b } = await killAndRestart(c, delivery, side);
    const OPEN = f.open;
    expect(metadata.every((m) => m.startsWith('ac5;'))).toBe(true);
    const got = await readAllEvents(c, topics, f.expected);
    await waitFor(() => (b.stats()?.episodesClosed ?? 0) >= OPEN && b.stats()!.inFlight === 0 && b.stats()!.recordsPublished === b.stats()!.eventsOut, 60_000, 'the open runs published after the restart');
    // every span of the closed runs skipped on replay (none rebuilt), every open run's kept
    expect(b.stats()!.spansSkippedOnReplay).toBe(f.closedSpans);
    expect(b.stats()!.episodesClosed).toBe(OPEN);
    // at-least-once too: the kill came after the commit that followed the last publish (its filter
    // holds only the open runs), so nothing published was uncommitted — the one source of duplicates left there
    expectExactlyOnce(got, f.expected);
    if (delivery === 'exactly-once') {
      // What the same commits wrote without the side topic: the spilled filters' held sets hashed
      // into the 4 KB metadata (the hashes' first bits, ac4), which keep — rebuild and publish again,
      // exactly-once included — the closed runs whose first bits match an open one's. A run with
      // the topic off showed exactly these published twice under the same event ids (measured when
      // this test was written; the hashed encodings are pinned by replay-filter-load.test.ts).
      const hashed: NonNullable<ReturnType<typeof decodeReplayMetadata>>[] = [];
      for (const m of metadata) {
        const pointer = decodeSpillPointer(m)!;
        const record = await c.readRecord!({ topic: side, partition: pointer.partition }, pointer.offset, { timeoutMs: 10_000, maxBytes: 1 << 20 });
        const read = decodeSpilledFilter(pointer, record!.value!);
        if (!('filter' in read)) throw new Error(read.reason);
        const filter = decodeReplayMetadata(encodeReplayMetadata(read.filter.processedNext, read.filter.heldTraces!, replayMetadataBudget(4096)))!;
        expect(filter.keyBits).toBeLessThan(32);
        hashed.push(filter);
      }
      const rebuiltWithoutSide = f.runIds.slice(OPEN).filter((id) => hashed.every((filter) => replayKeeps(filter, '0', id)));
      expect(rebuiltWithoutSide.length).toBeGreaterThan(0);
    }
  });
});
