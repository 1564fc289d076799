/**
 * A restart under load, on the real broker: more episodes open on a partition than their trace
 * ids fit in the commit's offset metadata (~115 ids in Kafka's 4 KB). The replay filter then said
 * "replay everything", so the restarted job rebuilt the episodes already committed above the
 * committed offset and published them a second time (exactly-once: 20 of 20 committed episodes
 * twice, after a clean stop). The ids are now written as hashes when they do not fit
 * (src/runtime/watermark.ts, `ac2`), and when those do not fit (~415) as the same hashes
 * Golomb-Rice coded (`ac3`, ~950: test/kafka/replay-compact-filter.test.ts), and past that as
 * their first b bits (`ac4`: at 1,100 open, 30 bits — a committed trace is rebuilt with
 * p ≈ 1,100 ÷ 2^30, none of these 20; the release before wrote "replay everything").
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { decodeLogs } from '../../src/otlp/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { client, createTopics, produce, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, referenceEvents, topicsNamed, waitFor } from './support/pipeline-harness.js';
import { expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import type { KafkaPipelineConfigInput } from '../../src/runtime/kafka-pipeline.js';

/**
 * Without the side topic (`sinks.kafka.replayFilterTopic: null`): the hashed encodings pinned here
 * are what a job writes then (with it such filters are spilled: replay-filter-spill.test.ts).
 */
function hashedFilters(config: KafkaPipelineConfigInput): KafkaPipelineConfigInput {
  return { ...config, sink: { ...config.sink, replayFilterTopic: null } };
}

describe('restart with more episodes open than their ids fit in the offset metadata', () => {
  it.each([
    [150, 'ac2'],
    [1_100, 'ac4'],
  ] as const)('%i runs open: publishes every episode exactly once (exactly-once, clean stop and start; filter %s)', { timeout: 240_000 }, async (open, version) => {
    const c = client();
    const topics = topicsNamed(unique('heldload'));
    await createTopics(c, [topics.spans, topics.logs], 1);
    const closed = 20;
    // saboteur runs: each has step-level verdicts, so the logs partition holds every open run too
    const runs = await generateFleet({ episodes: open + closed, seed: 3, mix: { saboteur: 1 } });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value, partition: 0 }));
    const logsOf = (i: number, system: boolean) =>
      gen.logs
        .filter((r) => r.key === runs[i]!.traceId && decodeLogs(r.value as Uint8Array, 'otlp_proto').some((l) => l.spanId === runs[i]!.rootSpanId) === system)
        .map((r) => ({ topic: topics.logs, key: r.key, value: r.value, partition: 0 }));
    const steps = runs.flatMap((_, i) => logsOf(i, false));
    // the last `closed` runs get their verdicts before the stop: they close and are committed above
    // the offsets the `open` runs before them hold
    const verdictsBefore = runs.slice(open).flatMap((_, j) => logsOf(open + j, true));
    const verdictsAfter = runs.slice(0, open).flatMap((_, i) => logsOf(i, true));
    const expected = await referenceEvents(spans, [...steps, ...verdictsBefore, ...verdictsAfter]);
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(open + closed);

    const groupId = unique('heldload-grp');
    await produce(c, [...spans, ...steps, ...verdictsBefore]);
    const first = makePipeline(hashedFilters(pipelineConfig(topics, groupId, { delivery: 'exactly-once' })), 120_000);
    await first.start();
    try {
      await waitFor(() => first.stats().episodesClosed >= closed && first.stats().inFlight === 0 && first.stats().recordsIn >= spans.length + steps.length + verdictsBefore.length, 90_000, 'the closed runs published');
    } finally {
      await first.stop();
    }
    expect(first.stats().episodesClosed).toBe(closed);
    // the spans partition's commit named the open runs in the form this case is about
    const admin = await c.admin();
    try {
      const committed = (await admin.fetchCommittedOffsets(groupId, [topics.spans])).find((o) => o.partition === 0);
      expect(committed?.metadata?.slice(0, 4)).toBe(`${version};`);
    } finally {
      await admin.disconnect();
    }
    await produce(c, verdictsAfter);
    const second = makePipeline(hashedFilters(pipelineConfig(topics, groupId, { delivery: 'exactly-once' })), 120_000);
    await second.start();
    try {
      await waitFor(() => second.stats().episodesClosed >= open && second.stats().inFlight === 0, 90_000, 'the open runs published');
    } finally {
      await second.stop();
    }
    expectExactlyOnce(await readAllEvents(c, topics, expected), expected);
    // the committed runs' records were skipped on replay, not rebuilt (they close without credit otherwise, or again with it)
    expect(second.stats().episodesClosed).toBe(open);
    expect(second.stats().spansSkippedOnReplay).toBeGreaterThan(0);
  });
});
