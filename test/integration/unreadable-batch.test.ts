/**
 * A compressed record batch damaged on the broker's disk (bytes of its gzip payload overwritten,
 * as a bad sector would). kafkajs alone fails every fetch of the partition from there on; the
 * pipeline sends the batch, as the broker serves it, to the dead-letter topic with the reason, and
 * the partition continues after it.
 *
 * Runs its own broker (scripts/kafka.ts), since it damages a segment in its data directory.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { DLQ_HEADERS } from '../../src/sinks/kafka/index.js';
import { createTopics, header, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, referenceEvents, testAssembler, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

let kafka: RunningKafka | undefined;

beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);

afterAll(async () => {
  await kafka?.stop();
}, 60_000);

/** The record batches of a log segment: [position, end) and base offset of each. */
function segmentBatches(segment: Buffer): { at: number; end: number; baseOffset: bigint }[] {
  const out: { at: number; end: number; baseOffset: bigint }[] = [];
  for (let at = 0; at + 12 <= segment.length; ) {
    const end = at + 12 + segment.readInt32BE(at + 8);
    out.push({ at, end, baseOffset: segment.readBigInt64BE(at) });
    at = end;
  }
  return out;
}

describe('a record batch damaged on the broker', { timeout: 180_000 }, () => {
  it.each(['exactly-once', 'at-least-once'] as const)('goes to the dead-letter topic as the broker serves it; the partition continues after it (%s)', async (delivery) => {
    const broker = kafka!;
    const c = new KafkajsClient({ brokers: [broker.brokers], clientId: 'it-unreadable' });
    const base = unique(`damaged-${delivery}`);
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 1);
    const runs = await generateFleet({ episodes: 6, seed: 71 });
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
    expect(spans).toHaveLength(6); // one record per trace: offsets 0..5

    // Three gzip batches of two records each (one send = one batch on a one-partition topic).
    const producer = c.createProducer({ compression: 'gzip' });
    await producer.connect();
    for (let i = 0; i < 6; i += 2) await producer.send(spans.slice(i, i + 2));
    await producer.disconnect();
    await produce(c, logs);

    // Damage the middle batch (offsets 2..3): overwrite the start of its gzip stream on disk, in
    // place while the broker runs (it serves fetches from the segment file; a stop and start to
    // write it took ~10 s of this test's time).
    const file = join(broker.workDir, 'data', `${topics.spans}-0`, '00000000000000000000.log');
    const segment = readFileSync(file);
    const batches = segmentBatches(segment);
    expect(batches.map((b) => b.baseOffset)).toEqual([0n, 2n, 4n]);
    const middle = batches[1]!;
    expect(segment.readInt16BE(middle.at + 21) & 0x07).toBe(1); // gzip
    segment.fill(0x55, middle.at + 65, middle.at + 75);
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, segment, middle.at + 65, 10, middle.at + 65);
    } finally {
      closeSync(fd);
    }
    const damaged = Buffer.from(segment.subarray(middle.at, middle.end));

    const lost = new Set([runs[2]!.traceId, runs[3]!.traceId]);
    const expected = (await referenceEvents(spans, logs)).filter((e) => !lost.has(e.episode_id));
    const groupId = unique('damaged-grp');
    const pipeline = new KafkaPipeline(pipelineConfig(topics, groupId, { delivery }), {
      client: new KafkajsClient({ brokers: [broker.brokers], clientId: 'it-unreadable-pipeline' }),
      createAssembler: () => testAssembler(60_000),
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= 4 && pipeline.stats().dlqOut >= 1 && pipeline.stats().inFlight === 0, 60_000, 'the four readable episodes and the dead letter published');
      // the spans partition moved past the damaged batch: its offset is committed to the end
      await waitFor(() => pipeline.stats().commits + pipeline.stats().transactions > 0, 10_000, 'a commit');
      const admin = await c.admin();
      try {
        let committed = '';
        for (let i = 0; i < 50 && committed !== '6'; i++) {
          committed = (await admin.fetchCommittedOffsets(groupId, [topics.spans])).find((o) => o.partition === 0)?.offset ?? '';
          if (committed !== '6') await new Promise((r) => setTimeout(r, 200));
        }
        expect(committed).toBe('6');
      } finally {
        await admin.disconnect();
      }
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.stats().decodeErrors).toBe(1);

    const [dead] = await readTopics(c, [topics.dlq], (rs) => rs.length >= 1);
    expect(dead).toBeDefined();
    expect(Buffer.compare(Buffer.from(dead!.value!), damaged)).toBe(0);
    expect(header(dead!, DLQ_HEADERS.sourceTopic)).toBe(topics.spans);
    expect(header(dead!, DLQ_HEADERS.sourceOffset)).toBe('3');
    const reason = header(dead!, DLQ_HEADERS.error)!;
    expect(reason).toContain('unreadable record batch at offsets 2..3 (gzip compression)');
    expect(reason).toContain('CRC32C does not match');

    // Every episode outside the damaged batch is credited as in-process.
    const out = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length));
    expect(out.filter((e) => !lost.has(e.episode_id)).map((e) => e.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
  });
});
