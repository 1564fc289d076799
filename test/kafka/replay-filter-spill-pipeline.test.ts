/**
 * KafkaPipeline with a side topic for replay filters (`sinks.kafka.replayFilterTopic`, watermark.ts
 * `ac5`), on the in-memory client given `sendRecord` and `readRecord`: a filter that does not fit the
 * metadata whole is written to the side topic and the commit points at it; the next owner reads it
 * back and skips exactly the committed runs; a pointer whose record cannot be had is replayed whole,
 * with a warning that says why and what follows.
 */
import { describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { ConsumedRecord, KafkaAdmin, KafkaProducer, KafkaTransactionalProducer, OutgoingRecord, TransactionalProducerOptions } from '../../src/kafka/client.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { encodeTraces, generateScenario } from '../../src/scenarios/index.js';
import { decodeReplayMetadata, decodeSpilledFilter, decodeSpillPointer, encodeReplayMetadata, encodeSpillPointer, replayKeeps, spillHash } from '../../src/runtime/watermark.js';
import { FakeKafka } from './fake-kafka.js';
import { REPLAY_FILTER_MAX_BYTES } from '../../src/runtime/replay-filter-topic.js';
import { RECORD_OVERHEAD_BYTES } from '../../src/sinks/kafka/event-records.js';

const SCORE = 'test.run.score';
const SIDE = 'agent_credit.replay_filters';
const isRoot = (s: ReadableSpan) => s.parentSpanContext === undefined;

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

/** FakeKafka with a side topic of one partition: `sendRecord` appends to it (a transaction's on commit), `readRecord` reads it. */
class SpillingFake extends FakeKafka {
  readonly side: (ConsumedRecord | undefined)[] = [];
  /** Side sends fail with this (e.g. the topic deleted) while set. */
  sideError: Error | undefined;
  /** The side topic's max.message.bytes as the admin client reports it; unset: not reported (Kafka's default is assumed). */
  sideMaxMessageBytes: number | undefined;

  override async admin(): Promise<KafkaAdmin> {
    const admin = await super.admin();
    const limit = this.sideMaxMessageBytes;
    // the side topic's own limit; the output topics take what the job needs
    return limit === undefined ? admin : { ...admin, maxMessageBytes: async (topics) => new Map(topics.map((t) => [t, t === SIDE ? limit : 2 * 1024 * 1024])) };
  }

  private append(r: OutgoingRecord): number {
    const enc = (v: string | Uint8Array | null) => (v === null ? null : typeof v === 'string' ? new TextEncoder().encode(v) : v);
    this.side.push({ topic: r.topic, partition: 0, offset: String(this.side.length), key: enc(r.key), value: enc(r.value), headers: {}, timestampMs: 0 });
    return this.side.length - 1;
  }

  override createProducer(): KafkaProducer {
    const p = super.createProducer();
    return {
      ...p,
      sendRecord: async (r) => {
        if (this.sideError) throw this.sideError;
        return { partition: 0, offset: String(this.append(r)) };
      },
    };
  }

  override createTransactionalProducer(options: TransactionalProducerOptions): KafkaTransactionalProducer {
    const p = super.createTransactionalProducer(options);
    return {
      ...p,
      transaction: async () => {
        const tx = await p.transaction();
        const mine: number[] = [];
        return {
          ...tx,
          sendRecord: async (r) => {
            if (this.sideError) throw this.sideError;
            const at = this.append(r);
            mine.push(at);
            return { partition: 0, offset: String(at) };
          },
          // aborted: read_committed readers never see its records
          abort: async () => {
            for (const at of mine) this.side[at] = undefined;
            await tx.abort();
          },
        };
      },
    };
  }

  readRecord = async (tp: { topic: string; partition: number }, offset: string): Promise<ConsumedRecord | undefined> => (tp.topic === SIDE && tp.partition === 0 ? this.side[Number(offset)] : undefined);
}

/** X (no root: stays open) at offset 0, A (whole, its verdict on the root) at offset 1. */
async function runs() {
  const x = await generateScenario({ kind: 'success', convention: 'genai', seed: 601 });
  const a = await generateScenario({ kind: 'success', convention: 'genai', seed: 602 });
  const aRoot = a.spans.find(isRoot)!;
  (aRoot.attributes as Record<string, unknown>)[SCORE] = 0.9;
  return { x, a, xTrace: x.spans[0]!.spanContext().traceId, aTrace: aRoot.spanContext().traceId };
}

/** A new owner of partition 0 committed at 0 with `previous`: reads X and A, stops; its pipeline, warnings and the episodes it published. */
async function ownerAfter(fake: SpillingFake, previous: string, delivery: 'exactly-once' | 'at-least-once', { x, a }: Awaited<ReturnType<typeof runs>>, { replayFilterTopic = SIDE as string | null, rebuilt = false } = {}) {
  fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: previous });
  const warnings: string[] = [];
  const p = new KafkaPipeline(
    { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null, groupId: 'g' }, sink: { createTopics: true, replayFilterTopic }, delivery, tickIntervalMs: 10, commitIntervalMs: 20 },
    {
      client: fake,
      createAssembler: () => new EpisodeAssembler({ graceMs: 30, awaitEvaluationMs: 0, idleMs: 600_000, maxDurationMs: 600_000 }),
      processEpisode: (e) => processEpisode(e, { rootScoreAttribute: SCORE }),
      evaluationsFromLogs: () => [],
      logger: { debug() {}, info() {}, warn: (_o: object, m?: string) => void warnings.push(m ?? ''), error() {} },
    },
  );
  await p.start();
  fake.assign([{ topic: 'spans', partition: 0 }]);
  await fake.deliver('spans', 0, [
    { offset: 0, value: encodeTraces(x.spans.filter((s) => !isRoot(s)), 'otlp_proto') },
    { offset: 1, value: encodeTraces(a.spans, 'otlp_proto') },
  ]);
  const published = () => fake.published.filter((r) => r.headers?.['x-agent-credit-event-type'] === 'episode_credit').length;
  // a rebuilt A: published once it closes; else the spans skipped say it was not rebuilt
  if (rebuilt) await until(() => published() === 1);
  else await until(() => p.stats().spansSkippedOnReplay > 0);
  await p.stop();
  return { stats: p.stats(), warnings, published: published() };
}

/** 500 more runs the previous owner held: with X and A, more than fit the metadata whole. */
const others = Array.from({ length: 500 }, (_, i) => (i * 104_729 + 1).toString(16).padStart(32, '0'));

describe('KafkaPipeline spilling the replay filter to a side topic', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('%s: a filter that does not fit whole is spilled, and the next owner reads it back and skips exactly the committed run', async (delivery) => {
    const r = await runs();
    const fake = new SpillingFake();
    // the previous owner read up to offset 2 and held X and 500 others (A was published by it)
    const previous = encodeReplayMetadata('3', [r.xTrace, ...others], 1_000_000);
    const first = await ownerAfter(fake, previous, delivery, r);
    expect(first.published).toBe(0);
    expect(first.stats.spansSkippedOnReplay).toBeGreaterThan(0);
    // it commits before its replay passed 3: it carries what it still owes on, spilled
    const committed = fake.committed.get('spans/0')!;
    const pointer = decodeSpillPointer(committed.metadata)!;
    expect(pointer).toMatchObject({ processedNext: '3', partition: 0 });
    const record = fake.side[Number(pointer.offset)]!;
    expect(Buffer.from(record.key!).toString()).toBe('g/spans/0');
    const read = decodeSpilledFilter(pointer, record.value!);
    if (!('filter' in read)) throw new Error(read.reason);
    expect(new Set(read.filter.heldTraces)).toEqual(new Set([r.xTrace, ...others]));
    expect(replayKeeps(read.filter, '1', r.aTrace)).toBe(false);

    // each record written is counted (/metrics: agent_credit_kafka_replay_filters_spilled_total)
    expect(first.stats.replayFiltersSpilled).toBe(fake.side.filter((x) => x !== undefined).length);
    expect(first.stats.replayFiltersSpilled).toBeGreaterThan(0);
    expect(first.stats).toMatchObject({ spilledFilterReadsOk: 0, spilledFilterReadsFailed: 0, replayFilterFallbacksTooLarge: 0, replayFilterFallbacksTopicRefused: 0 });

    // the owner after it: the spilled filter is read back and A is not rebuilt
    const second = await ownerAfter(fake, committed.metadata!, delivery, r);
    expect(second.warnings.filter((w) => w.includes('spilled'))).toEqual([]);
    expect(second.published).toBe(0);
    expect(second.stats.spansSkippedOnReplay).toBeGreaterThan(0);
    expect(second.stats).toMatchObject({ spilledFilterReadsOk: 1, spilledFilterReadsFailed: 0 });
  });

  it('a pointer whose record is not there: the partition is replayed whole, and a warning says why and that episodes are published again', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    const value = encodeReplayMetadata('3', [r.xTrace], 1_000_000);
    const pointer = encodeSpillPointer({ processedNext: '3', partition: 0, offset: '7', hash: spillHash(value) }, 't.1.1');
    const after = await ownerAfter(fake, pointer, 'exactly-once', r, { rebuilt: true });
    // replay everything: A rebuilt and published again
    expect(after.published).toBe(1);
    expect(after.stats.spansSkippedOnReplay).toBe(0);
    const line = after.warnings.find((w) => w.includes('spilled'));
    expect(line).toContain('the record is not there');
    expect(line).toContain('published again (de-duplicate on event_id)');
    expect(after.stats).toMatchObject({ spilledFilterReadsOk: 0, spilledFilterReadsFailed: 1 });
  });

  it('a pointer at a record that is not the one it names (hash mismatch): replayed whole, with a warning naming the hash', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    fake.side.push({ topic: SIDE, partition: 0, offset: '0', key: new TextEncoder().encode('g/spans/0'), value: new TextEncoder().encode(encodeReplayMetadata('3', [r.xTrace], 1_000_000)), headers: {}, timestampMs: 0 });
    const pointer = encodeSpillPointer({ processedNext: '3', partition: 0, offset: '0', hash: spillHash('something else') });
    const after = await ownerAfter(fake, pointer, 'exactly-once', r, { rebuilt: true });
    expect(after.published).toBe(1);
    expect(after.warnings.find((w) => w.includes('spilled'))).toContain('hash');
    expect(after.stats).toMatchObject({ spilledFilterReadsOk: 0, spilledFilterReadsFailed: 1 });
  });

  it.each(['exactly-once', 'at-least-once'] as const)('%s: a side topic refusing the record for good (deleted): spilling stops with a warning and the commit is retried with the filter hashed, not failed for ever', async (delivery) => {
    const r = await runs();
    const fake = new SpillingFake();
    fake.sideError = Object.assign(new Error('This server does not host this topic-partition'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const previous = encodeReplayMetadata('3', [r.xTrace, ...others], 1_000_000);
    const after = await ownerAfter(fake, previous, delivery, r);
    expect(fake.side).toEqual([]);
    expect(decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)?.compact).toBe(true);
    expect(after.warnings.filter((w) => w.startsWith('sinks.kafka.replayFilterTopic: writing a replay filter to topic'))).toHaveLength(1);
    // the stop counted once, nothing counted as spilled
    expect(after.stats).toMatchObject({ replayFilterFallbacksTopicRefused: 1, replayFiltersSpilled: 0 });
  });

  it('a filter over what the side topic takes (its max.message.bytes) is hashed, counted as a too-large fallback', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    fake.sideMaxMessageBytes = RECORD_OVERHEAD_BYTES + 2_000; // filters of up to 2,000 bytes: 502 trace ids are ~17,000
    const previous = encodeReplayMetadata('3', [r.xTrace, ...others], 1_000_000);
    const after = await ownerAfter(fake, previous, 'at-least-once', r);
    expect(fake.side).toEqual([]);
    expect(decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)?.compact).toBe(true);
    expect(after.stats.replayFilterFallbacksTooLarge).toBeGreaterThan(0);
    expect(after.stats).toMatchObject({ replayFiltersSpilled: 0, replayFilterFallbacksPointerTooLong: 0, replayFilterFallbacksUnwritableIds: 0, replayFilterFallbacksNoRecordSend: 0 });
  });

  it('a producer that cannot say where a record went (no sendRecord): the filter hashed, counted as a no-record-send fallback', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    const base = fake.createProducer.bind(fake);
    fake.createProducer = () => ({ ...base(), sendRecord: undefined });
    const previous = encodeReplayMetadata('3', [r.xTrace, ...others], 1_000_000);
    const after = await ownerAfter(fake, previous, 'at-least-once', r);
    expect(fake.side).toEqual([]);
    expect(decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)?.compact).toBe(true);
    expect(after.stats.replayFilterFallbacksNoRecordSend).toBeGreaterThan(0);
    expect(after.stats).toMatchObject({ replayFiltersSpilled: 0, replayFilterFallbacksTooLarge: 0 });
  });

  it('replayFilterTopic null: nothing is spilled, the filter is hashed into the metadata as before', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    const previous = encodeReplayMetadata('3', [r.xTrace, ...others], 1_000_000);
    const after = await ownerAfter(fake, previous, 'exactly-once', r, { replayFilterTopic: null });
    expect(fake.side).toEqual([]);
    expect(decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)?.compact).toBe(true);
    // no side topic: nothing falls back from it
    expect(after.stats).toMatchObject({ replayFiltersSpilled: 0, replayFilterFallbacksTooLarge: 0, replayFilterFallbacksPointerTooLong: 0, replayFilterFallbacksUnwritableIds: 0, replayFilterFallbacksNoRecordSend: 0, replayFilterFallbacksTopicRefused: 0 });
  });
});

describe('KafkaPipeline reading a spilled filter at assignment', () => {
  it('heartbeats the group while a batch waits for the read (up to 30 s behind an open transaction, the default session timeout): the member is not dropped from the group meanwhile', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    const value = encodeReplayMetadata('3', [r.xTrace], 1_000_000);
    fake.side.push({ topic: SIDE, partition: 0, offset: '0', key: new TextEncoder().encode('g/spans/0'), value: new TextEncoder().encode(value), headers: {}, timestampMs: 0 });
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: encodeSpillPointer({ processedNext: '3', partition: 0, offset: '0', hash: spillHash(value) }) });
    // the read held (a transaction still open below the record) until released
    let release!: () => void;
    const held = new Promise<void>((res) => (release = res));
    let reads = 0;
    const read = fake.readRecord;
    fake.readRecord = async (tp, offset) => {
      reads++;
      await held;
      return read(tp, offset);
    };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null, groupId: 'g', heartbeatIntervalMs: 100 }, sink: { createTopics: true, replayFilterTopic: SIDE }, delivery: 'at-least-once', tickIntervalMs: 10, commitIntervalMs: 20 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({ graceMs: 30, awaitEvaluationMs: 0, idleMs: 600_000, maxDurationMs: 600_000 }),
        processEpisode: (e) => processEpisode(e, { rootScoreAttribute: SCORE }),
        evaluationsFromLogs: () => [],
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    let heartbeats = 0;
    const resolved: string[] = [];
    const records: ConsumedRecord[] = [
      { topic: 'spans', partition: 0, offset: '0', key: null, value: encodeTraces(r.x.spans.filter((s) => !isRoot(s)), 'otlp_proto'), headers: {}, timestampMs: 0 },
      { topic: 'spans', partition: 0, offset: '1', key: null, value: encodeTraces(r.a.spans, 'otlp_proto'), headers: {}, timestampMs: 0 },
    ];
    const batch = fake.handlers!.onBatch({ topic: 'spans', partition: 0, records, highWatermark: '2' }, { heartbeat: async () => void heartbeats++, isRunning: () => true, isStale: () => false, resolveOffset: (o) => void resolved.push(o) });
    try {
      await until(() => reads === 1);
      await until(() => heartbeats >= 2);
      expect(resolved).toEqual([]);
    } finally {
      release();
    }
    await batch;
    // the filter read once released: A (committed) skipped, nothing published again
    expect(resolved).toEqual(['0', '1']);
    await until(() => p.stats().spansSkippedOnReplay > 0);
    await p.stop();
    expect(fake.published.filter((x) => x.headers?.['x-agent-credit-event-type'] === 'episode_credit')).toEqual([]);
  });
});

describe('KafkaPipeline reading spilled filters of many partitions at assignment', () => {
  it('asks each read for one record, not for the side topic\'s largest (16 MiB): Kafka hands out the record at the offset whole whatever maxBytes says, and a larger maxBytes only brought the other partitions\' later filters with it, 16 MiB a partition at once', async () => {
    const r = await runs();
    const fake = new SpillingFake();
    const admin = fake.admin.bind(fake);
    // the side topic as the pipeline creates it
    fake.admin = async () => ({ ...(await admin()), maxMessageBytes: async (topics: readonly string[]) => new Map(topics.map((t) => [t, REPLAY_FILTER_MAX_BYTES + RECORD_OVERHEAD_BYTES])) });
    const asked: number[] = [];
    const read = fake.readRecord;
    fake.readRecord = async (tp, offset, opts?: { maxBytes: number }) => {
      asked.push(opts!.maxBytes);
      return read(tp, offset);
    };
    const value = encodeReplayMetadata('3', [r.xTrace], 1_000_000);
    fake.side.push({ topic: SIDE, partition: 0, offset: '0', key: new TextEncoder().encode('g/spans/0'), value: new TextEncoder().encode(value), headers: {}, timestampMs: 0 });
    const after = await ownerAfter(fake, encodeSpillPointer({ processedNext: '3', partition: 0, offset: '0', hash: spillHash(value) }), 'exactly-once', r);
    // read and used: A skipped
    expect(after.published).toBe(0);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeLessThanOrEqual(64 * 1024);
  });
});
