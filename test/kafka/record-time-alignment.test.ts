/**
 * KafkaPipeline.alignInputs against the in-memory client: a partition read more than 1 s of record
 * time past the earliest partition that still has records to read stops fetching until that one
 * catches up; one that seems to lag but reads nothing for 5 s holds no other back (the broker-backed
 * backlog is test/integration/backlog-record-time.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeLogs } from '../../src/otlp/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { FakeKafka } from './fake-kafka.js';
import type { Episode } from '../../src/model/episode.js';
import type { CreditEvent } from '../../src/events/schemas.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const empty = JSON.stringify({ resourceLogs: [] });
const noSpans = JSON.stringify({ resourceSpans: [] });

/** A pipeline on the in-memory client with the assembler options given; `assembler()` is the one it made. */
function alignedPipeline(fake: FakeKafka, episodes: Record<string, unknown> = {}, processEpisode: (e: Episode) => Promise<CreditEvent[]> = async () => []) {
  let made: EpisodeAssembler | undefined;
  const pipeline = new KafkaPipeline(
    { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 50, commitIntervalMs: 10_000 },
    { client: fake, createAssembler: (clock) => (made = new EpisodeAssembler(episodes, clock)), processEpisode, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
  );
  return { pipeline, assembler: () => made! };
}

describe('KafkaPipeline reads its input partitions together in record time', () => {
  it('holds a partition read ahead of one with records left, releases it as that one catches up, and stops waiting for one that reads nothing', { timeout: 20_000 }, async () => {
    const fake = new FakeKafka();
    const p = alignedPipeline(fake).pipeline;
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: noSpans, timestampMs: 1_000 }], 10); // 9 records left to read
    await fake.deliver('logs', 0, [0, 1, 2].map((offset) => ({ offset, value: empty, timestampMs: 5_000 })));
    expect([...fake.paused]).toEqual(['logs/0']); // 4 s ahead of the spans
    expect(p.stats().partitionsHeld).toEqual({ recordTime: 1, verdictsWaiting: 0, runsWaiting: 0 });
    await fake.deliver('spans', 0, [{ offset: 1, value: noSpans, timestampMs: 4_500 }], 10);
    expect([...fake.paused]).toEqual([]); // within 1 s now
    await fake.deliver('logs', 0, [{ offset: 3, value: empty, timestampMs: 9_000 }]);
    expect([...fake.paused]).toEqual(['logs/0']);
    // the spans partition reads nothing more (its last offsets may be a transactional producer's markers)
    await sleep(5_500);
    expect([...fake.paused]).toEqual([]);
    // a partition read to its end holds nothing back
    await fake.deliver('spans', 0, [{ offset: 9, value: noSpans, timestampMs: 4_600 }]);
    await fake.deliver('logs', 0, [{ offset: 4, value: empty, timestampMs: 20_000 }]);
    expect([...fake.paused]).toEqual([]);
    await p.stop();
  });

  it('holds the partitions read while one with records to read has given none yet, and stops waiting for it after 5 s', { timeout: 20_000 }, async () => {
    // kafkajs shuffles a fetch's partitions and the broker returns a batch over maxBytesPerPartition
    // only for the response's first partition with records (KIP-74): a spans partition of large
    // records gets nothing while the logs partition is fetched with it, so its first batch comes
    // only once the logs partition is held. Before, the logs partition was read on alone.
    const fake = new FakeKafka();
    fake.endOffsets.set('spans', [{ partition: 0, offset: '10', low: '0' }]);
    fake.endOffsets.set('logs', [{ partition: 0, offset: '10', low: '0' }, { partition: 1, offset: '0', low: '0' }]);
    const p = alignedPipeline(fake).pipeline;
    await p.start();
    // logs/1 is empty (its end offset is where it starts): it holds nothing back
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }, { topic: 'logs', partition: 1 }]);
    await fake.deliver('logs', 0, [0, 1, 2].map((offset) => ({ offset, value: empty, timestampMs: 5_000 })), 10);
    await sleep(200); // every partition prepared, a few ticks
    expect([...fake.paused]).toEqual(['logs/0']); // the spans' record time is not known yet
    await fake.deliver('spans', 0, [{ offset: 0, value: noSpans, timestampMs: 4_500 }], 10);
    expect([...fake.paused]).toEqual([]); // within 1 s
    await p.stop();

    // one that gives nothing for 5 s (its records may be a transactional producer's markers) holds no other back
    const fake2 = new FakeKafka();
    fake2.endOffsets.set('spans', [{ partition: 0, offset: '10', low: '0' }]);
    const p2 = alignedPipeline(fake2).pipeline;
    await p2.start();
    fake2.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake2.deliver('logs', 0, [{ offset: 0, value: empty, timestampMs: 5_000 }], 10);
    await sleep(200);
    expect([...fake2.paused]).toEqual(['logs/0']);
    await sleep(5_300);
    expect([...fake2.paused]).toEqual([]);
    await p2.stop();
  });

  // a fetch takes up to maxBytesPerPartition of small evaluation records (~2,500 a partition) before
  // a hold can act, and a backlog written at thousands of runs a second puts that many within the
  // 1 s slack: on 20,000 runs seeded by kafka:seed --from, 2,882 verdicts went over
  // maxPendingEvaluations and were dropped, their runs closed without credit
  it('holds the logs partitions while the verdicts waiting for their spans fill half of episodes.maxPendingEvaluations, the record times alike, and releases them once the spans come', { timeout: 20_000 }, async () => {
    const fake = new FakeKafka();
    const p = alignedPipeline(fake, { maxPendingEvaluations: 8 }).pipeline;
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    const runs = kafkaRecordsFor(await generateFleet({ episodes: 4, seed: 3 }), 'otlp_proto');
    const traces = new Set(runs.spans.map((r) => r.key));
    const verdicts = runs.logs.filter((r) => traces.has(r.key) && evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')).length > 0);
    expect(verdicts.length).toBeGreaterThanOrEqual(4);
    await fake.deliver('spans', 0, [{ offset: 0, value: noSpans, timestampMs: 1_000 }], 10); // records left to read
    await fake.deliver('logs', 0, verdicts.map((r, offset) => ({ key: r.key, value: r.value, offset, timestampMs: 1_000 })), 100);
    // as many record times as the spans' — record time alone holds nothing — but half the limit waits
    expect([...fake.paused]).toEqual(['logs/0']);
    await fake.deliver('spans', 0, runs.spans.map((r, i) => ({ key: r.key, value: r.value, offset: i + 1, timestampMs: 1_000 })), 10);
    expect([...fake.paused]).toEqual([]);
    await p.stop();
  });

  // Taken, the assembler dropped the oldest waiting verdict (the one whose run was read next): 20,000
  // runs whose verdicts were seeded ahead of their spans, 8,683 credited; read again later, 20,000
  it('leaves a verdict record that would push the waiting verdicts past episodes.maxPendingEvaluations while spans are left to read: its partition moves back to it and waits, nothing dropped', { timeout: 20_000 }, async () => {
    const fake = new FakeKafka();
    const credited = new Set<string>();
    const { pipeline: p, assembler } = alignedPipeline(fake, { maxPendingEvaluations: 4 }, async (e) => {
      if (e.evaluations.length > 0) credited.add(e.episodeId);
      return [];
    });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    const runs = kafkaRecordsFor(await generateFleet({ episodes: 8, seed: 3 }), 'otlp_proto');
    const traces = new Set(runs.spans.map((r) => r.key));
    const verdicts = runs.logs.filter((r) => traces.has(r.key) && evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')).length === 1);
    expect(verdicts.length).toBeGreaterThanOrEqual(6);
    await fake.deliver('spans', 0, [{ offset: 0, value: noSpans, timestampMs: 1_000 }], 100); // records left to read
    const resolved = await fake.deliver('logs', 0, verdicts.map((r, offset) => ({ key: r.key, value: r.value, offset, timestampMs: 1_000 })), 100);
    // four fit; the fifth is left, its partition moved back to it and held
    expect(resolved).toEqual(['0', '1', '2', '3']);
    expect(fake.seeks).toEqual([{ topic: 'logs', partition: 0, offset: '4' }]);
    expect([...fake.paused]).toEqual(['logs/0']);
    expect(p.stats().partitionsHeld).toEqual({ recordTime: 0, verdictsWaiting: 1, runsWaiting: 0 });
    expect(assembler().stats()).toMatchObject({ pendingEvaluations: 4, expiredEvaluations: 0 });
    expect(p.stats().verdictRewinds).toBe(1);
    // the spans come: the four waiting verdicts join their runs, and the logs partition fetches again from offset 4
    await fake.deliver('spans', 0, runs.spans.map((r, i) => ({ key: r.key, value: r.value, offset: i + 1, timestampMs: 1_000 })));
    expect([...fake.paused]).toEqual([]);
    await fake.deliver('logs', 0, verdicts.slice(4).map((r, i) => ({ key: r.key, value: r.value, offset: 4 + i, timestampMs: 1_000 })));
    await sleep(300); // ticks: runs that have their verdict close
    expect(assembler().stats().expiredEvaluations).toBe(0);
    expect(credited.size).toBe(new Set(verdicts.map((r) => r.key)).size); // every run that has a verdict
    await p.stop();

    // read up (live): a verdict whose run never comes must not stall the topic — dropped by the limit as before
    const fake2 = new FakeKafka();
    const { pipeline: p2, assembler: assembler2 } = alignedPipeline(fake2, { maxPendingEvaluations: 4 });
    await p2.start();
    fake2.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake2.deliver('spans', 0, [{ offset: 0, value: noSpans, timestampMs: 1_000 }]); // read to its end
    const all = await fake2.deliver('logs', 0, verdicts.map((r, offset) => ({ key: r.key, value: r.value, offset, timestampMs: 1_000 })));
    expect(all).toHaveLength(verdicts.length);
    expect(fake2.seeks).toEqual([]);
    expect(assembler2().stats().expiredEvaluations).toBe(verdicts.length - 4);
    await p2.stop();
  });

  // the mirror: verdicts written after their runs (a logs topic seeded or exported seconds behind the
  // spans) were read in record time, every run before its verdict, and past the caps the oldest runs
  // were evicted without credit (20,000 runs, verdicts ~20 s behind: 5,131 lost; after: none)
  it('holds the spans partitions while the open runs fill half of episodes.maxOpenEpisodes and a logs partition has records to read, its record time however far ahead', { timeout: 20_000 }, async () => {
    const fake = new FakeKafka();
    const { pipeline: p, assembler: assembler } = alignedPipeline(fake, { maxOpenEpisodes: 4 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    const runs = kafkaRecordsFor(await generateFleet({ episodes: 4, seed: 3 }), 'otlp_proto');
    await fake.deliver('logs', 0, [{ offset: 0, value: empty, timestampMs: 30_000 }], 100); // 29 s ahead, records left
    await fake.deliver('spans', 0, [{ offset: 0, value: runs.spans[0]!.value, key: runs.spans[0]!.key, timestampMs: 1_000 }], 100);
    expect([...fake.paused]).toEqual(['logs/0']); // record time: one run open
    await fake.deliver('spans', 0, runs.spans.slice(1, 2).map((r, i) => ({ key: r.key, value: r.value, offset: i + 1, timestampMs: 1_000 })), 100);
    expect(assembler().stats().open).toBe(2);
    expect([...fake.paused]).toEqual(['spans/0']); // half of maxOpenEpisodes open: the verdicts are read
    expect(p.stats().partitionsHeld).toEqual({ recordTime: 0, verdictsWaiting: 0, runsWaiting: 1 });
    // the logs read to their end: the spans go on (the logs partition, ahead in record time, waits for new records)
    await fake.deliver('logs', 0, [{ offset: 99, value: empty, timestampMs: 31_000 }]);
    expect([...fake.paused]).toEqual(['logs/0']);
    await p.stop();
  });
  // The holds were all-or-nothing per topic: with the verdicts of one partition read ahead of their
  // runs (waiting: the logs held) and the runs of another ahead of their verdicts, every logs
  // partition waited, the spans were read on, and the runs whose verdicts sat in the held logs
  // partition filled maxOpenEpisodes and were evicted without credit — 1,993 of 6,000 runs on the
  // broker, spans seeded 15 s before their verdicts, maxOpenEpisodes and maxPendingEvaluations 1000
  it('holds each spans or logs partition by how far it is ahead of the other topic\'s partition of its number, so the verdicts of one partition are read while another partition\'s wait', { timeout: 20_000 }, async () => {
    const fake = new FakeKafka();
    for (const topic of ['spans', 'logs']) fake.endOffsets.set(topic, [0, 1].map((partition) => ({ partition, offset: '100', low: '0' })));
    let assembler: EpisodeAssembler | undefined;
    const credited = new Set<string>();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 50, commitIntervalMs: 10_000 },
      {
        client: fake,
        createAssembler: (clock) => (assembler = new EpisodeAssembler({ maxOpenEpisodes: 4, maxPendingEvaluations: 4, graceMs: 0 }, clock)),
        processEpisode: async (e) => {
          if (e.evaluations.length > 0) credited.add(e.episodeId);
          return [];
        },
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    await p.start();
    fake.assign([0, 1].flatMap((partition) => [{ topic: 'spans', partition }, { topic: 'logs', partition }]));
    const runs = kafkaRecordsFor(await generateFleet({ episodes: 12, seed: 3 }), 'otlp_proto');
    const verdictOf = new Map(runs.logs.filter((r) => evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')).length === 1).map((r) => [r.key, r]));
    const judged = runs.spans.filter((r) => verdictOf.has(r.key));
    expect(judged.length).toBeGreaterThanOrEqual(8);
    const [a, b] = [judged.slice(0, 2), judged.slice(2, 8)]; // partition 0's runs, partition 1's
    const at = (rs: typeof judged, first: number) => rs.map((r, i) => ({ key: r.key, value: r.value, offset: first + i, timestampMs: 1_000 }));
    // partition 0: two verdicts ahead of their runs (half of maxPendingEvaluations wait)
    await fake.deliver('logs', 0, at(a.map((r) => verdictOf.get(r.key)!), 0), 100);
    expect(assembler!.stats().pendingEvaluations).toBe(2);
    // partition 1: two runs ahead of their verdicts
    await fake.deliver('spans', 1, at(b.slice(0, 2), 0), 100);
    expect(assembler!.stats().open).toBe(2);
    // logs/0 waits for its spans, spans/1 for its verdicts; logs/1 and spans/0 are read
    expect([...fake.paused].sort()).toEqual(['logs/0', 'spans/1']);
    await fake.deliver('logs', 1, at(b.slice(0, 2).map((r) => verdictOf.get(r.key)!), 0), 100);
    await fake.deliver('spans', 0, at(a, 0), 100);
    await sleep(300); // ticks: the runs with their verdicts close
    expect(assembler!.stats()).toMatchObject({ open: 0, pendingEvaluations: 0 });
    // balanced again: the record times decide (alike here), nothing held
    expect([...fake.paused]).toEqual([]);
    await fake.deliver('spans', 1, at(b.slice(2), 2), 100);
    await fake.deliver('logs', 1, at(b.slice(2).map((r) => verdictOf.get(r.key)!), 2), 100);
    await sleep(300);
    expect(credited.size).toBe(8);
    expect(p.stats()).toMatchObject({ verdictRewinds: 0 });
    expect(assembler!.stats().evicted).toBe(0);
    await p.stop();
  });
});
