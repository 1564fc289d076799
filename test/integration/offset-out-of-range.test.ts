/**
 * Retention removed input records the group had not committed past (the job was down longer than
 * the topic's retention, or an open run held its committed offset back that long): the fetch
 * position is out of range. kafkajs then committed "earliest" (-2, no metadata) for the group by
 * itself, past the pipeline — which erased the replay filter in the committed offset's metadata,
 * and the pipeline, reading the committed offset at assignment, found none and took the group for
 * a new one: with source.kafka.fromBeginning false it started at the END and never read what was
 * written while it was down. Now the position moves to the log start without a commit
 * (src/kafka/kafkajs-offset-out-of-range.ts): the backlog is read, the filter still skips the
 * records of runs already published, and the lag does not count the removed records.
 */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { brokers, client, createTopics, fleetRecords, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, referenceEvents, testAssembler, topicsNamed, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

function pipelineOf(topics: PipelineTopics, groupId: string, delivery: 'exactly-once' | 'at-least-once', idleMs: number, livenessStallMs = 0) {
  return new KafkaPipeline(pipelineConfig(topics, groupId, { delivery, source: { ...pipelineConfig(topics, groupId).source, fromBeginning: false }, lagRefreshIntervalMs: 200, livenessStallMs }), {
    client: client('oor-pipeline'),
    createAssembler: () => testAssembler(idleMs),
    processEpisode: referenceProcessEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
  });
}

const keyOf = (r: OutgoingRecord) => String(r.key);

describe('input records removed by retention before they were read', { timeout: 120_000 }, () => {
  it.each(['exactly-once', 'at-least-once'] as const)('%s, fromBeginning false: what was written while the job was down is read from the log start, nothing published twice', async (delivery) => {
    const topics = topicsNamed(unique('oor'));
    const groupId = unique('oor-grp');
    const c = client();
    await createTopics(c, [topics.spans, topics.logs], 1);
    // first life: run 0 stays open (its verdict never comes), holding the committed offset at its
    // first spans record while the other runs are published
    const before = await fleetRecords(topics, { episodes: 6, seed: 71 });
    const open = before.spans[0]!;
    const first = pipelineOf(topics, groupId, delivery, 120_000);
    await first.start();
    try {
      // a new group starts at the end (fromBeginning false): write once it is placed
      await waitFor(() => first.health().ready && first.stats().assignedPartitions === 2, 30_000, 'the first life assigned');
      await new Promise((r) => setTimeout(r, 1_000));
      await produce(c, before.spans);
      await produce(c, before.logs.filter((l) => keyOf(l) !== keyOf(open)));
      await waitFor(() => first.stats().episodesClosed >= 5 && first.stats().inFlight === 0 && first.stats().recordsPublished === first.stats().eventsOut && first.stats().eventsOut > 0, 60_000, 'the first runs published');
    } finally {
      await first.stop();
    }
    // while the job is down: new runs arrive, and retention removes the open run's first record
    const during = await fleetRecords(topics, { episodes: 3, seed: 72 });
    await produce(c, during.all);
    const raw = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
    await raw.connect();
    try {
      await raw.fetchTopicOffsets(topics.spans); // loads the topic's metadata, which deleteTopicRecords needs
      await raw.deleteTopicRecords({ topic: topics.spans, partitions: [{ partition: 0, offset: '1' }] });
    } finally {
      await raw.disconnect();
    }
    const expected = [
      ...(await referenceEvents(before.spans.filter((s) => keyOf(s) !== keyOf(open)), before.logs.filter((l) => keyOf(l) !== keyOf(open)))),
      ...(await referenceEvents(during.spans, during.logs)),
    ];

    const second = pipelineOf(topics, groupId, delivery, 3_000);
    await second.start();
    try {
      await waitFor(() => second.stats().episodesClosed >= 3 && second.stats().inFlight === 0 && second.stats().recordsIn >= during.all.length, 30_000, 'the runs written while the job was down');
      // the published runs' records above the removed one were skipped (the filter in the committed offset's metadata)
      expect(second.stats().spansSkippedOnReplay).toBeGreaterThan(0);
      await waitFor(() => second.stats().lag === 0, 10_000, 'no lag');
    } finally {
      await second.stop();
    }
    const got = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length, 20_000));
    const ids = got.map((e) => e.event_id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect([...new Set(ids)].sort()).toEqual(expected.map((e) => e.event_id).sort());
  });

  it('every record above the committed offset removed: no lag is shown for them, and runtime.livenessStallMs does not call the job stalled', async () => {
    const topics = topicsNamed(unique('oor-all'));
    const groupId = unique('oor-all-grp');
    const c = client();
    await createTopics(c, [topics.spans, topics.logs], 1);
    const fleet = await fleetRecords(topics, { episodes: 3, seed: 73 });
    const first = pipelineOf(topics, groupId, 'exactly-once', 120_000);
    await first.start();
    try {
      await waitFor(() => first.health().ready && first.stats().assignedPartitions === 2, 30_000, 'assigned');
      await new Promise((r) => setTimeout(r, 1_000));
      await produce(c, fleet.spans); // no verdicts: every run stays open, the committed offset stays at the first
      await waitFor(() => first.stats().recordsIn >= fleet.spans.length && first.stats().transactions > 0, 30_000, 'the spans read');
    } finally {
      await first.stop();
    }
    const raw = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
    await raw.connect();
    let logStart: string;
    try {
      const [end] = await raw.fetchTopicOffsets(topics.spans);
      logStart = end!.high;
      await raw.deleteTopicRecords({ topic: topics.spans, partitions: [{ partition: 0, offset: logStart }] });
    } finally {
      await raw.disconnect();
    }
    const committedSpans = async () => {
      const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const [t] = await admin.fetchOffsets({ groupId, topics: [topics.spans] });
        return t!.partitions.find((p) => p.partition === 0)!;
      } finally {
        await admin.disconnect();
      }
    };
    expect(BigInt((await committedSpans()).offset)).toBeLessThan(BigInt(logStart));
    const second = pipelineOf(topics, groupId, 'exactly-once', 120_000, 1_500);
    await second.start();
    try {
      await waitFor(() => second.health().ready, 30_000, 'ready');
      await new Promise((r) => setTimeout(r, 3_000));
      expect(second.stats().lag).toBe(0);
      expect(second.health()).toMatchObject({ live: true, ready: true });
    } finally {
      await second.stop();
    }
    // the idle partition's committed offset is the log start now: the next start does not find its
    // position out of range again (kafkajs's "Offset out of range" warning at every restart)
    const after = await committedSpans();
    expect(after.offset).toBe(logStart);
    expect(after.metadata).toBeTruthy(); // written by the pipeline (its replay filter), not erased
  });
});
