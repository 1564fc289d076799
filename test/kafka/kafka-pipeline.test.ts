/**
 * KafkaPipeline against an in-memory client: offset watermark, replay metadata, DLQ, credit
 * failure and backpressure, without a broker (the broker-backed guarantees are in
 * test/integration/).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline, isFence, type KafkaPipelineDeps } from '../../src/runtime/kafka-pipeline.js';
import { decodeReplayMetadata } from '../../src/runtime/watermark.js';
import { ReplacedAssemblerObservations } from '../../src/telemetry/self-metrics.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import type { KafkaClient, OffsetCommit } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/kafka/log.js';
import { FakeKafka } from './fake-kafka.js';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { encodeLogs } from '../../src/scenarios/index.js';

const topics = { spansTopic: 'spans', logsTopic: 'logs' };
const td = new TextDecoder();

async function runs(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 100 + i }), 'otlp_proto'));
  return out;
}

/** Delivers one generated run — its spans record, then its evaluation record — at `offset` of partition 0 of both topics. */
async function deliverRun(fake: FakeKafka, run: Awaited<ReturnType<typeof runs>>[number], offset: number): Promise<void> {
  await fake.deliver('spans', 0, [{ offset, value: run.spans[0]!.value }]);
  await fake.deliver('logs', 0, [{ offset, value: run.logs[0]!.value }]);
}

/**
 * Waits until a transaction of each partition (spans/0, logs/0) committed `offset`: each partition
 * commits in its own transaction, so one transaction alone says nothing about the other.
 */
async function bothPartitionsCommitted(fake: FakeKafka, offset: number): Promise<void> {
  const landed = (topic: string) => fake.landedOffsets.some((o) => o.topic === topic && o.offset === String(offset));
  for (let i = 0; i < 1_000 && !(landed('spans') && landed('logs')); i++) await new Promise((r) => setTimeout(r, 2));
  expect(landed('spans') && landed('logs')).toBe(true);
}

/** An exactly-once pipeline (real processEpisode, commits every 20 ms) on partition 0 of both topics, whose episode of `first` (offset 0) is committed. */
async function exactlyOnceAfterFirstCommit(fake: FakeKafka, first: Awaited<ReturnType<typeof runs>>[number], extra: object = {}): Promise<KafkaPipeline> {
  const { processEpisode } = await import('../../src/runtime/process-episode.js');
  const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, ...extra });
  await p.start();
  fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
  await deliverRun(fake, first, 0);
  await new Promise((r) => setTimeout(r, 100));
  return p;
}

function pipeline(fake: KafkaClient, delivery: 'exactly-once' | 'at-least-once', processEpisode: KafkaPipelineDeps['processEpisode'], extra: object = {}) {
  return new KafkaPipeline(
    { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery, tickIntervalMs: 10_000, commitIntervalMs: 10_000, ...extra },
    {
      client: fake,
      createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }),
      processEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    },
  );
}

const events = async (_episode: Episode) => [] as never[];
const settle = () => new Promise((r) => setTimeout(r, 30));
/** Polls `cond` every 10 ms for up to 10 s (a fixed sleep failed on a loaded machine); whether it held. */
async function eventually(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

/** An exactly-once pipeline on spans/0 and logs/0 whose assemblers (`make`, one per join) are observed across replacements. */
async function startObserved(fake: FakeKafka, make: () => EpisodeAssembler) {
  const observed = new ReplacedAssemblerObservations(make());
  const p = new KafkaPipeline(
    { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'exactly-once', tickIntervalMs: 10, commitIntervalMs: 20 },
    { client: fake, createAssembler: () => observed.replace(make()), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
  );
  await p.start();
  return { p, observed, tps: [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }] };
}

/** The in-memory client whose sends (plain and in transactions) fail with a broker timeout while `failing()` says so. */
function failingSends(fake: FakeKafka, failing: () => boolean): KafkaClient {
  const refuse = () => new Error('Broker: Request timed out');
  return {
    createProducer: () => {
      const pr = fake.createProducer();
      return { ...pr, send: async (r) => (failing() ? Promise.reject(refuse()) : pr.send(r)) };
    },
    createTransactionalProducer: (o) => {
      const pr = fake.createTransactionalProducer(o);
      return {
        ...pr,
        transaction: async () => {
          const tx = await pr.transaction();
          return { ...tx, send: async (r) => (failing() ? Promise.reject(refuse()) : tx.send(r)) };
        },
      };
    },
    createConsumer: (o) => fake.createConsumer(o),
    admin: () => fake.admin(),
  };
}

describe('KafkaPipeline partitions without a committed offset', () => {
  it('an empty partition (never a record, so never committed) is not taken for one added to the topic at each rebalance; a non-empty one is, and starts at its beginning', async () => {
    const fake = new FakeKafka();
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '7' });
    fake.endOffsets.set('spans', [
      { partition: 0, offset: '7', low: '0' },
      { partition: 1, offset: '0', low: '0' },
      { partition: 2, offset: '5', low: '2' },
    ]);
    const p = pipeline(fake, 'at-least-once', events);
    await p.start();
    for (let i = 0; i < 3; i++) {
      fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }]);
      await settle();
    }
    expect(p.stats().partitionsNewToGroup).toBe(0);
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 2 }]);
    await settle();
    expect(p.stats().partitionsNewToGroup).toBe(1);
    await p.stop();
  });

  // Seen after a broker restart (broker-restart.test.ts, at-least-once): two logs partitions that had
  // been empty got their first records while the group rejoined, and were warned about as "added to
  // the topic since, or its offset expired" — they had only never had anything to commit.
  it('an empty partition gets its position committed: records arriving there before a rebalance are not taken for a partition added to the topic', async () => {
    const fake = new FakeKafka();
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '7' });
    fake.endOffsets.set('spans', [
      { partition: 0, offset: '7', low: '0' },
      { partition: 1, offset: '3', low: '3' },
    ]);
    const warns: string[] = [];
    const logger = { ...silentLogger, warn: (_obj: object, msg?: string) => void warns.push(msg ?? '') };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10 },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }]);
    await new Promise((r) => setTimeout(r, 100));
    // records arrive on spans/1, and the group rebalances before any of them is read
    fake.endOffsets.set('spans', [
      { partition: 0, offset: '7', low: '0' },
      { partition: 1, offset: '5', low: '3' },
    ]);
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }]);
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    expect(p.stats().partitionsNewToGroup).toBe(0);
    expect(warns.filter((m) => m.includes('without a committed offset'))).toEqual([]);
    expect(fake.committed.get('spans/1')?.offset).toBe('3');
  });
});

describe('KafkaPipeline partitions of a new group', () => {
  it('a new group starting at the end (fromBeginning: false) warns once per topic, each offset at debug — 8 partitions made 8 identical warnings', async () => {
    const fake = new FakeKafka();
    fake.endOffsets.set('spans', [0, 1, 2, 3].map((partition) => ({ partition, offset: '100', low: '0' })));
    const warns: string[] = [];
    const debugs: string[] = [];
    const logger = { ...silentLogger, warn: (obj: object, msg?: string) => void warns.push(msg ?? ''), debug: (obj: object, msg?: string) => void debugs.push(msg ?? '') };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics, fromBeginning: false }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger },
    );
    await p.start();
    fake.assign([0, 1, 2, 3].map((partition) => ({ topic: 'spans', partition })));
    await new Promise((r) => setTimeout(r, 200));
    await p.stop();
    expect(p.stats().partitionsStartedAtEnd).toBe(4);
    const atEnd = (m: string) => m.includes('starting at the end');
    expect(warns.filter(atEnd)).toHaveLength(1);
    expect(debugs.filter(atEnd)).toHaveLength(3);
  });

  // Seen on the broker: the first start of a new group whose partitions' preparation took longer
  // than the first commit of another partition (8 partitions, ~750 ms on 2 cores; the commit came
  // with a DLQ publish) warned for 3 partitions "added to the topic since, or its offset expired",
  // counted them as new to the group — and with fromBeginning: false read them from their beginning.
  it.each([false, true])('a partition prepared after another partition of this assignment committed is still one of a new group (fromBeginning: %s)', async (fromBeginning) => {
    const fake = new FakeKafka();
    fake.endOffsets.set('spans', [
      { partition: 0, offset: '100', low: '0' },
      { partition: 1, offset: '100', low: '0' },
    ]);
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics, fromBeginning }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    // the second partition's first admin connection (its committed-offset read) is slow
    let calls = 0;
    fake.adminDelayMs = () => (++calls === 2 ? 150 : 0);
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }]);
    if (fromBeginning) {
      // partition 0 is read from its beginning and commits before partition 1 is prepared
      await new Promise((r) => setTimeout(r, 20));
      await fake.deliver('spans', 0, [{ offset: 0, value: 'not otlp' }]);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.committed.has('spans/0')).toBe(true);
    expect(p.stats().partitionsNewToGroup).toBe(0);
    if (fromBeginning) expect(fake.seeks).toEqual([]);
    else {
      expect(p.stats().partitionsStartedAtEnd).toBe(2);
      expect(fake.seeks).toEqual([{ topic: 'spans', partition: 0, offset: '100' }, { topic: 'spans', partition: 1, offset: '100' }]);
    }
    await p.stop();
  });
});

describe('KafkaPipeline seeks', () => {
  it('a partition it once moved to its end (a new group, fromBeginning: false) gets its committed offset as the latest seek when it comes back: a stale pending seek would skip what another member committed meanwhile', async () => {
    const fake = new FakeKafka();
    fake.endOffsets.set('spans', [{ partition: 0, offset: '100', low: '0' }]);
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics, fromBeginning: false }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await settle();
    expect(fake.seeks).toEqual([{ topic: 'spans', partition: 0, offset: '100' }]);
    // revoked before the seek applied; another member read it and committed 40; it comes back
    fake.assign([]);
    await settle();
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '40' });
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await settle();
    expect(fake.seeks.at(-1)).toEqual({ topic: 'spans', partition: 0, offset: '40' });
    await p.stop();
  });
});

describe('KafkaPipeline offset watermark', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('holds the commit at the first offset of an open episode, with a replay filter (%s)', async (delivery) => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const p = pipeline(fake, delivery, events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    // offsets 0, 1: spans of episodes A and B; only B's evaluation arrives.
    const resolved = await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    expect(resolved).toEqual(['0', '1']);
    await fake.deliver('logs', 0, [{ offset: 0, value: b!.logs[0]!.value }]);
    await settle();
    await p.stop();
    const spans = fake.committed.get('spans/0')!;
    expect(spans.offset).toBe('0'); // A is still open at offset 0
    const filter = decodeReplayMetadata(spans.metadata)!;
    expect(filter.processedNext).toBe('2');
    expect([...filter.heldTraces!]).toEqual([td.decode(new TextEncoder().encode(a!.spans[0]!.key))]);
    expect(fake.committed.get('logs/0')!.offset).toBe('1');
    expect(p.stats().episodesClosed).toBe(1);
  });

  it('replays below the processed position only the traces the metadata holds', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: `ac1;2;${a!.spans[0]!.key}` });
    const p = pipeline(fake, 'exactly-once', events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    const s = p.stats();
    expect(s.spansSkippedOnReplay).toBeGreaterThan(0);
    expect(s.spansIn - s.spansSkippedOnReplay).toBe(
      (await import('../../src/otlp/index.js')).decodeTraces(a!.spans[0]!.value, 'otlp_proto').length,
    );
    await p.stop();
  });

  it('a commit made while replaying below the previous processed position keeps that position in its metadata (a second rebalance must not rebuild committed episodes)', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const aTrace = a!.spans[0]!.key;
    // The previous owner processed offsets 0..1: A (offset 0) is still open, B (offset 1) was committed.
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: `ac1;2;${aTrace}` });
    const second = pipeline(fake, 'exactly-once', events, { commitIntervalMs: 20 });
    await second.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    // Its first fetch brings only offset 0; it commits (timer) before reading offset 1, then the group moves on.
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }]);
    await new Promise((r) => setTimeout(r, 60));
    await second.stop();
    expect(fake.committed.get('spans/0')!.offset).toBe('0');
    // The next owner replays offsets 0..1 under the metadata the second one wrote: B stays skipped.
    const third = pipeline(fake, 'exactly-once', events);
    await third.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    const s = third.stats();
    const { decodeTraces } = await import('../../src/otlp/index.js');
    expect(s.spansSkippedOnReplay).toBe(decodeTraces(b!.spans[0]!.value, 'otlp_proto').length);
    expect(s.spansIn - s.spansSkippedOnReplay).toBe(decodeTraces(a!.spans[0]!.value, 'otlp_proto').length);
    await third.stop();
  });
});

/** A saboteur run whose step verdict names only the LLM response's id: its records, split. */
async function responseIdRun() {
  const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 4, stepEvaluationsBy: 'response-id' });
  const recs = kafkaRecordsFor(run, 'otlp_proto');
  const flagRecord = recs.logs.find((r) => evaluationsFromLogs(decodeLogs(r.value, 'otlp_proto')).some((e) => e.responseId !== undefined && e.traceId === undefined))!;
  const systemRecord = recs.logs.find((r) => r !== flagRecord)!;
  const responseId = evaluationsFromLogs(decodeLogs(flagRecord.value, 'otlp_proto'))[0]!.responseId!;
  return { run, recs, flagRecord, systemRecord, responseId };
}

describe('KafkaPipeline replay of evaluations that name a response id', () => {
  it('holds a response-id verdict under resp:<id> and keeps it on replay even when its span is replayed first', async () => {
    const { run, recs, flagRecord, systemRecord, responseId } = await responseIdRun();
    // First owner: the verdict before the span; the episode stays open (no system verdict yet).
    const fake = new FakeKafka();
    const first = pipeline(fake, 'exactly-once', events);
    await first.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: flagRecord.value }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: recs.spans[0]!.value }]);
    await settle();
    await first.stop();
    const logsCommit = fake.committed.get('logs/0')!;
    expect(logsCommit.offset).toBe('0'); // the open episode holds its verdict's record
    expect([...decodeReplayMetadata(logsCommit.metadata)!.heldTraces!]).toContain(`resp:${responseId}`);

    // Next owner replays: the span first (so the verdict now resolves to the span's trace, which
    // the logs partition's metadata does not name), then the verdict, then the system verdict.
    const closed: Episode[] = [];
    const next = pipeline(fake, 'exactly-once', async (e) => {
      closed.push(e);
      return [];
    });
    await next.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: recs.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: flagRecord.value }, { offset: 1, value: systemRecord.value }]);
    await settle();
    await next.stop();
    expect(closed).toHaveLength(1);
    const flag = closed[0]!.evaluations.find((e) => e.responseId === responseId);
    expect(flag?.spanId).toBe(run.expected.flaggedSpanIds[0]);
  });
});

describe('KafkaPipeline replay metadata of closed, uncommitted episodes', () => {
  it("names the response ids of a closed episode's verdicts while its events are not committed", async () => {
    const { run, recs, flagRecord, systemRecord, responseId } = await responseIdRun();
    const fake = new FakeKafka();
    // credit never finishes: the closed episode stays unpublished, holding its records; progress
    // without events is committed by the commit timer (20 ms here)
    const p = pipeline(fake, 'exactly-once', () => new Promise<never[]>(() => undefined), { shutdownTimeoutMs: 0, commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }, { topic: 'logs', partition: 1 }]);
    await fake.deliver('logs', 1, [{ offset: 0, value: flagRecord.value }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: recs.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: systemRecord.value }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.stats().episodesClosed).toBe(1);
    // The verdict's partition: held at the verdict, and (the episode being closed, so its own
    // held ids are released) the metadata still names resp:<id> — on replay the verdict may be
    // read before its span, when that is the only key it has.
    const logs1 = fake.committed.get('logs/1')!;
    expect(logs1.offset).toBe('0');
    expect([...decodeReplayMetadata(logs1.metadata)!.heldTraces!]).toEqual(expect.arrayContaining([`resp:${responseId}`, run.traceId]));
    await p.stop();
  });
});

describe('KafkaPipeline assignment', () => {
  it('skips records below the committed offset read after fencing (the previous owner committed them)', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '1' });
    const p = pipeline(fake, 'exactly-once', events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    const resolved = await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    expect(resolved).toEqual(['0', '1']);
    expect(p.stats()).toMatchObject({ recordsSkippedCommitted: 1, recordsIn: 1 });
    await p.stop();
  });

  it('exactly-once: the producers of partitions assigned to another instance are disconnected, not kept until stop', async () => {
    const fake = new FakeKafka();
    const p = pipeline(fake, 'exactly-once', events);
    await p.start();
    const all = [0, 1, 2, 3].flatMap((partition) => [{ topic: 'spans', partition }, { topic: 'logs', partition }]);
    const connected = async (n: number) => {
      for (let i = 0; i < 1_000 && fake.connectedTxProducers !== n; i++) await new Promise((r) => setTimeout(r, 2));
      return fake.connectedTxProducers;
    };
    fake.assign(all);
    expect(await connected(8)).toBe(8);
    // another instance joined: this one keeps partition 0 of both topics
    fake.assign(all.slice(0, 2));
    expect(await connected(2)).toBe(2); // 8 before: one producer per partition ever assigned here
    // and gets the others back: each claimed again once
    fake.assign(all);
    expect(await connected(8)).toBe(8);
    await p.stop();
    expect(fake.connectedTxProducers).toBe(0);
  });
});

describe('KafkaPipeline failures never stall', () => {
  it('exactly-once: stop() returns within closeTimeoutMs while a commit never answers (the broker went silent)', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, closeTimeoutMs: 300 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    fake.hangCommits = true;
    await deliverRun(fake, a!, 0);
    for (let i = 0; i < 500 && p.stats().episodesClosed === 0; i++) await new Promise((r) => setTimeout(r, 2));
    for (let i = 0; i < 2_000 && fake.hungCommits === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(fake.hungCommits).toBeGreaterThan(0); // commits are under way, and hang
    const stopped = await Promise.race([p.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still stopping'), 5_000))]);
    expect(stopped).toBe('stopped');
    expect(fake.transactions).toBe(0);
  });

  it('exactly-once: a producer claim under way when stop() disconnects the producers lets its producer go — none stays connected', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const p = await exactlyOnceAfterFirstCommit(fake, a!, { closeTimeoutMs: 300 });
    fake.txDelayMs = 400; // connects and disconnects take a while: stop() gives up on the re-claim before it connects
    fake.loseCommitAnswers(1, true);
    await deliverRun(fake, b!, 1);
    for (let i = 0; i < 2_000 && p.stats().commitOutcomesUnknown === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().commitOutcomesUnknown).toBe(1);
    await new Promise((r) => setTimeout(r, 60)); // the resolution is swapping the producer
    await p.stop();
    await new Promise((r) => setTimeout(r, 1_500)); // every swap and disconnect under way has finished
    expect(fake.connectedTxProducers).toBe(0);
  });

  it('exactly-once: stop() returns within closeTimeoutMs while a lost commit answer is being resolved and the broker does not answer', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const p = await exactlyOnceAfterFirstCommit(fake, a!, { closeTimeoutMs: 300 });
    fake.loseCommitAnswers(1, true);
    fake.hangAdmin = true; // the resolution's committed-offset reads never answer
    await deliverRun(fake, b!, 1);
    for (let i = 0; i < 2_000 && p.stats().commitOutcomesUnknown === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().commitOutcomesUnknown).toBe(1);
    const stopped = await Promise.race([p.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still stopping'), 5_000))]);
    expect(stopped).toBe('stopped');
  });

  it.each(['exactly-once', 'at-least-once'] as const)('an evaluation record whose response id is not well-formed UTF-16 (a lone surrogate in its JSON) does not stop the commits (%s)', async (delivery) => {
    const fake = new FakeKafka();
    const p = pipeline(fake, delivery, events, { commitIntervalMs: 20, source: { brokers: ['fake:9092'], ...topics, evaluationsTopic: 'evals' } });
    await p.start();
    fake.assign([{ topic: 'evals', partition: 0 }]);
    // JSON allows "\ud800": JSON.parse yields a lone surrogate, which encodeURIComponent refuses.
    // The verdict waits for the LLM span of its response id, so its record is held (and named in the metadata).
    await fake.deliver('evals', 0, [{ offset: 0, value: '{"response_id":"\\ud800x","name":"quality","score":1}' }]);
    expect(await eventually(() => fake.committed.get('evals/0')?.offset === '0')).toBe(true);
    await fake.deliver('evals', 0, [{ offset: 1, key: 'k', value: 'not json' }]);
    expect(await eventually(() => decodeReplayMetadata(fake.committed.get('evals/0')?.metadata ?? '')?.processedNext === '2')).toBe(true);
    await p.stop();
    // the dead letter of offset 1 went out, and the later commit records that position
    expect(fake.published.filter((r) => r.topic === 'agent_credit.dlq')).toHaveLength(1);
    expect(decodeReplayMetadata(fake.committed.get('evals/0')!.metadata)?.processedNext).toBe('2');
  });

  it('an undecodable record goes to the DLQ and the offset moves on', async () => {
    const fake = new FakeKafka();
    const p = pipeline(fake, 'exactly-once', events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, key: 'k', value: 'not otlp at all' }]);
    await settle();
    await p.stop();
    expect(fake.published).toHaveLength(1);
    expect(fake.published[0]!.topic).toBe('agent_credit.dlq');
    expect(fake.committed.get('spans/0')!.offset).toBe('1');
    expect(p.stats().decodeErrors).toBe(1);
  });

  it('at-least-once: a producer whose sequence numbers the broker rejects is replaced, and its records are published by the new one', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'at-least-once', processEpisode, { commitIntervalMs: 20 });
    await p.start();
    expect(fake.producersCreated).toBe(1);
    // What kafkajs threw for every send after the broker was killed and restarted mid-send.
    fake.poisonProducers(Object.assign(new Error('The broker received an out of order sequence number'), { name: 'KafkaJSProtocolError', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }));
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await deliverRun(fake, a!, 0);
    await new Promise((r) => setTimeout(r, 150));
    await p.stop();
    const s = p.stats();
    expect(s.commitFailures).toBeGreaterThanOrEqual(1);
    expect(s.producerReplacements).toBe(1);
    expect(fake.producersCreated).toBe(2);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
    expect(s.recordsPublished).toBe(fake.published.length);
    expect(fake.committed.get('logs/0')!.offset).toBe('1');
  });

  it('at-least-once: an offset commit that fails is made again (the final commit at stop at the latest)', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    let failures = 1;
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => fake.createTransactionalProducer(o),
      createConsumer: (o) => {
        const c = fake.createConsumer(o);
        return {
          ...c,
          commit: async (offsets) => {
            if (failures-- > 0) throw Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' });
            return c.commit(offsets);
          },
        };
      },
      admin: () => fake.admin(),
    };
    const p = pipeline(client, 'at-least-once', processEpisode);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await deliverRun(fake, a!, 0);
    for (let i = 0; i < 1_000 && p.stats().commitFailures === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().commitFailures).toBe(1);
    await p.stop();
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
    expect(fake.committed.get('spans/0')?.offset).toBe('1');
    expect(fake.committed.get('logs/0')?.offset).toBe('1');
  });

  it.each(['exactly-once', 'at-least-once'] as const)('a commit that throws before its transaction/send (here the assembler port) does not stop later commits, and rejects nothing (%s)', async (delivery) => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    let throwsLeft = 1;
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery, tickIntervalMs: 10_000, commitIntervalMs: 20 },
      {
        client: fake,
        createAssembler: () => {
          const inner = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true });
          return {
            addSpans: (s, pos) => inner.addSpans(s, pos),
            addEvaluations: (e, pos) => inner.addEvaluations(e, pos),
            resolveEvaluation: (e) => inner.resolveEvaluation(e),
            tick: () => inner.tick(),
            flush: (r) => inner.flush(r),
            dropPartition: (t, n) => inner.dropPartition(t, n),
            lowWatermark: (t, n) => {
              if (throwsLeft-- > 0) throw new Error('injected: lowWatermark failed');
              return inner.lowWatermark(t, n);
            },
          };
        },
        processEpisode,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    try {
      await p.start();
      fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
      await deliverRun(fake, a!, 0);
      const done = () => fake.committed.get('spans/0')?.offset === '1' && fake.committed.get('logs/0')?.offset === '1';
      for (let i = 0; i < 1_000 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
      // committed while running (the tick that would re-mark the partitions is 10 s away): stop()'s
      // final commit re-marks them itself (markReleasedPartitions), so checking only after stop()
      // passed without the at-least-once fix
      const doneBeforeStop = done();
      await p.stop();
      await new Promise((r) => setImmediate(r));
      expect(doneBeforeStop).toBe(true);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(throwsLeft).toBeLessThan(0); // the injected failure happened
    expect(rejections).toEqual([]);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
    expect(fake.committed.get('spans/0')?.offset).toBe('1');
    expect(fake.committed.get('logs/0')?.offset).toBe('1');
    expect(p.stats().commitFailures).toBeGreaterThanOrEqual(1);
  });

  it.each(['exactly-once', 'at-least-once'] as const)('an evaluation that expires waiting for its spans releases its record: the idle logs partition is committed past it (%s)', async (delivery) => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    let now = 0;
    let assembler: EpisodeAssembler | undefined;
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery, tickIntervalMs: 10, commitIntervalMs: 20 },
      {
        client: fake,
        createAssembler: () => (assembler = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true, pendingEvaluationTtlMs: 1_000 }, { now: () => now })),
        processEpisode: events,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    // The verdict of a trace whose spans never come: it waits, holding its record (offset 0).
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }]);
    for (let i = 0; i < 1_000 && fake.committed.get('logs/0') === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    expect(fake.committed.get('logs/0')?.offset).toBe('0');
    now += 2_000; // past the TTL: the next tick expires it; nothing else arrives on the partition
    for (let i = 0; i < 1_000 && assembler!.stats().expiredEvaluations === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(assembler!.stats().expiredEvaluations).toBe(1);
    await p.stop();
    expect(fake.committed.get('logs/0')?.offset).toBe('1');
  });

  it('logs evaluations it cannot join (no trace, conversation or response id) — on Kafka they were only counted', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    // a judge emitting its verdict outside any span context: the record carries no trace id
    provider.getLogger('judge').emit({ eventName: 'gen_ai.evaluation.result', attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 1 } });
    const warnings: { obj: object; msg?: string }[] = [];
    const fake = new FakeKafka();
    let assembler: EpisodeAssembler | undefined;
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10, commitIntervalMs: 20 },
      {
        client: fake,
        createAssembler: () => (assembler = new EpisodeAssembler({})),
        processEpisode: events,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { ...silentLogger, warn: (obj, msg) => void warnings.push({ obj, msg }) },
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: encodeLogs(exporter.getFinishedLogRecords(), 'otlp_proto') }]);
    const logged = () => warnings.find((w) => 'unjoinable' in w.obj);
    for (let i = 0; i < 1_000 && logged() === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    await p.stop();
    expect(assembler!.stats().unjoinableEvaluations).toBe(1);
    expect(logged()?.obj).toEqual({ unjoinable: 1, unjoinableTotal: 1 });
    expect(logged()?.msg).toMatch(/without trace id, gen_ai\.conversation\.id .* or gen_ai\.response\.id dropped: emit them inside the evaluated span's context/);
  });

  it('reads its input read_committed by default, read_uncommitted when configured (source.kafka.isolationLevel)', async () => {
    const fake = new FakeKafka();
    const p = pipeline(fake, 'at-least-once', async () => ({ events: [] }) as never);
    await p.start();
    await p.stop();
    const q = pipeline(fake, 'at-least-once', async () => ({ events: [] }) as never, { source: { brokers: ['fake:9092'], ...topics, isolationLevel: 'read_uncommitted' } });
    await q.start();
    await q.stop();
    expect(fake.consumerOptions.map((o) => o.isolation)).toEqual(['read_committed', 'read_uncommitted']);
  });

  it('exactly-once: a transactional producer that refuses new transactions (kafkajs state stuck) is replaced', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 20));
    fake.wedgeTxProducers();
    await deliverRun(fake, a!, 0);
    await new Promise((r) => setTimeout(r, 300));
    await p.stop();
    expect(p.stats().commitFailures).toBeGreaterThanOrEqual(1);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
    expect(fake.committed.get('spans/0')!.offset).toBe('1');
  });

  describe('exactly-once: a commit whose answer is lost (connection dropped after EndTxn)', () => {
    it.each([
      [true, 'it had committed: nothing is published again'],
      [false, 'it had not: the batch is published by a new transaction'],
    ])('landed = %s — %s', async (landed) => {
      const fake = new FakeKafka();
      const [a, b] = await runs(2);
      const p = await exactlyOnceAfterFirstCommit(fake, a!);
      const producersBefore = fake.txProducersCreated;
      fake.loseCommitAnswers(1, landed);
      await deliverRun(fake, b!, 1);
      // "not committed" is only concluded after re-reading the offset for ~1.3 s (a broker may
      // apply a committed transaction's offsets a moment late)
      await new Promise((r) => setTimeout(r, landed ? 200 : 1_700));
      await p.stop();
      const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
      expect(episodes).toHaveLength(2);
      expect(new Set(episodes).size).toBe(2);
      // every event id once
      const ids = fake.published.map((r) => (JSON.parse(String(r.value)) as { event_id?: string }).event_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(p.stats().commitOutcomesUnknown).toBe(1);
      // the transactional id was claimed again to learn the outcome
      expect(fake.txProducersCreated).toBe(producersBefore + 1);
      expect(fake.committed.get('spans/0')!.offset).toBe('2');
      expect(fake.committed.get('logs/0')!.offset).toBe('2');
      expect(p.stats().commitFailures).toBe(landed ? 0 : 1);
    });
  });

  it('exactly-once: a rebalance while a lost commit is being resolved — the new assignment keeps the producer it claimed', async () => {
    const fake = new FakeKafka();
    const [a, b, c] = await runs(3);
    const p = await exactlyOnceAfterFirstCommit(fake, a!);
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
    fake.txDelayMs = 100; // producer swaps take a while: the rebalance below lands inside one
    fake.loseCommitAnswers(1, true);
    await deliverRun(fake, b!, 1);
    for (let i = 0; i < 100 && p.stats().commitOutcomesUnknown === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(p.stats().commitOutcomesUnknown).toBe(1);
    await new Promise((r) => setTimeout(r, 30)); // the resolution is disconnecting the old producer now
    fake.assign(assignment); // generation 2 claims the transactional id too
    // kafkajs delivers from the committed offsets again; the lost commit had landed (offset 2)
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }, { offset: 2, value: c!.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }, { offset: 2, value: c!.logs[0]!.value }]);
    await new Promise((r) => setTimeout(r, 400));
    await p.stop();
    expect(fake.fencedTransactions).toBe(0);
    expect(p.stats().fenceRejoins).toBe(0);
    const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
    expect(episodes).toHaveLength(3);
    expect(new Set(episodes).size).toBe(3);
    expect(fake.committed.get('spans/0')!.offset).toBe('3');
  });

  it('exactly-once: a lost commit answer whose offsets the broker applies late (Kafka 3.x) still resolves as committed', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const p = await exactlyOnceAfterFirstCommit(fake, a!);
    fake.offsetApplyDelayMs = 250; // the first reads after the claim still show the previous commit
    fake.loseCommitAnswers(1, true);
    await deliverRun(fake, b!, 1);
    await new Promise((r) => setTimeout(r, 1_700));
    await p.stop();
    const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
    expect(episodes).toHaveLength(2);
    expect(new Set(episodes).size).toBe(2);
    expect(p.stats().commitOutcomesUnknown).toBe(1);
    expect(p.stats().commitFailures).toBe(0);
  });

  it('exactly-once: fenced, and the abort fails too — the transactional id is not claimed again (that would fence the new owner)', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, source: { brokers: ['fake:9092'], ...topics, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 } });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 50));
    const claims = fake.txProducersCreated;
    fake.failCommits(1, Object.assign(new Error('There is a newer producer with the same transactionalId which fences the current one'), { name: 'KafkaJSProtocolError', type: 'PRODUCER_FENCED' }));
    fake.failAborts(1);
    await deliverRun(fake, a!, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.txProducersCreated).toBe(claims);
    expect(p.stats().commitOutcomesUnknown).toBe(0);
    await p.stop();
  });

  it('exactly-once: the previous owner\'s last commit is applied late by the broker (Kafka 3.x) — the new owner still starts after it', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
    const first = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await first.start();
    fake.assign(assignment);
    fake.offsetApplyDelayMs = 120;
    await deliverRun(fake, a!, 0);
    await bothPartitionsCommitted(fake, 1);
    // the partitions move to another instance right after that commit, before its offsets show
    const next = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await next.start();
    fake.assign(assignment);
    // kafkajs would fetch from the (stale) committed offset it read at the join: from 0
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }]);
    await new Promise((r) => setTimeout(r, 300));
    await next.stop();
    const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
    expect(episodes).toHaveLength(2);
    expect(new Set(episodes).size).toBe(2);
    expect(next.stats().recordsSkippedCommitted).toBe(2);
  });

  it('exactly-once: a zombie resolving a lost commit after the new owner committed leaves the partition alone', async () => {
    const fake = new FakeKafka();
    const [a, b, c, d] = await runs(4);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
    // The first instance is cut off from the broker's group coordinator for a while (its reads fail).
    let cutOff = false;
    const zombieClient: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => fake.createTransactionalProducer(o),
      createConsumer: (o) => fake.createConsumer(o),
      admin: async () => {
        if (cutOff) throw new Error('Connection error: connect ECONNREFUSED');
        return fake.admin();
      },
    };
    const zombie = pipeline(zombieClient, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await zombie.start();
    fake.assign(assignment);
    await deliverRun(fake, a!, 0);
    await new Promise((r) => setTimeout(r, 100));
    cutOff = true;
    fake.loseCommitAnswers(1, true);
    await deliverRun(fake, b!, 1);
    for (let i = 0; i < 100 && zombie.stats().commitOutcomesUnknown === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(zombie.stats().commitOutcomesUnknown).toBe(1);
    // The group moved the partitions to another instance, which commits; the first has not noticed.
    const owner = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await owner.start();
    fake.assign(assignment);
    await deliverRun(fake, c!, 2);
    await bothPartitionsCommitted(fake, 3);
    cutOff = false; // the first instance reaches the coordinator again and resolves its lost commit
    await new Promise((r) => setTimeout(r, 1_500));
    // the owner carries on
    await deliverRun(fake, d!, 3);
    await new Promise((r) => setTimeout(r, 200));
    const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
    expect(episodes).toHaveLength(4);
    expect(new Set(episodes).size).toBe(4);
    expect(Number(fake.committed.get('spans/0')!.offset)).toBe(4);
    expect(zombie.stats().commitFailures).toBe(0); // nothing retried
    // it looked before claiming: the owner's producer was not fenced
    expect(fake.fencedTransactions).toBe(0);
    await owner.stop();
  });

  it('exactly-once: a lost commit answer during stop() — no later transaction moves the offset back', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    let calls = 0;
    const slowSecond: KafkaPipelineDeps['processEpisode'] = async (e) => {
      if (calls++ === 1) await new Promise((r) => setTimeout(r, 150));
      return processEpisode(e);
    };
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
    const p = pipeline(fake, 'exactly-once', slowSecond);
    await p.start();
    fake.assign(assignment);
    await new Promise((r) => setTimeout(r, 20));
    fake.loseCommitAnswers(1, true);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }]);
    await p.stop();
    expect(p.stats().commitOutcomesUnknown).toBe(1);
    // the next owner replays from what is committed
    const next = pipeline(fake, 'exactly-once', processEpisode);
    await next.start();
    fake.assign(assignment);
    await new Promise((r) => setTimeout(r, 20));
    const from = Number(fake.committed.get('spans/0')?.offset ?? 0);
    const logsFrom = Number(fake.committed.get('logs/0')?.offset ?? 0);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }].filter((r) => r.offset >= from));
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }].filter((r) => r.offset >= logsFrom));
    await new Promise((r) => setTimeout(r, 200));
    await next.stop();
    const episodes = fake.published.filter((r) => r.topic === 'agent_credit.episodes').map((r) => String(r.key));
    expect(episodes).toHaveLength(2);
    expect(new Set(episodes).size).toBe(2);
  });

  describe('exactly-once: a fenced transactional producer', () => {
    const fenced = () => Object.assign(new Error('There is a newer producer with the same transactionalId which fences the current one'), { name: 'KafkaJSProtocolError', type: 'PRODUCER_FENCED' });
    const source = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 };

    it('whose partition the group keeps here (our own fence): rejoins after session timeout + heartbeat and publishes from the committed offset', async () => {
      const fake = new FakeKafka();
      const [a] = await runs(1);
      const { processEpisode } = await import('../../src/runtime/process-episode.js');
      const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, source: { brokers: ['fake:9092'], ...topics, ...source } });
      await p.start();
      const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
      fake.assign(assignment);
      fake.failCommits(1, fenced());
      await deliverRun(fake, a!, 0);
      await new Promise((r) => setTimeout(r, 300));
      // Fenced: nothing published, the partition is left alone for now — not even fetched.
      expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(0);
      expect(fake.rejoins).toBe(0);
      expect([...fake.paused]).toEqual(['spans/0']);
      await new Promise((r) => setTimeout(r, 1_100 + 300));
      expect(fake.rejoins).toBe(1);
      expect(p.stats().fenceRejoins).toBe(1);
      expect([...fake.paused]).toEqual([]); // fetching again after the new assignment
      // The rejoin assigned the partitions again; kafkajs reads them from the committed offsets (none yet: 0).
      await deliverRun(fake, a!, 0);
      await new Promise((r) => setTimeout(r, 150));
      await p.stop();
      expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
      expect(fake.committed.get('spans/0')!.offset).toBe('1');
      expect(fake.committed.get('logs/0')!.offset).toBe('1');
    });

    it('a fence left over from a past generation does not hide our own fence in the current one', async () => {
      const fake = new FakeKafka();
      const [a, b] = await runs(2);
      const { processEpisode } = await import('../../src/runtime/process-episode.js');
      const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, source: { brokers: ['fake:9092'], ...topics, ...source } });
      await p.start();
      const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
      fake.assign(assignment);
      fake.failCommits(1, fenced()); // generation 1: a commit in flight across the rebalance below fails as fenced
      await deliverRun(fake, a!, 0);
      await new Promise((r) => setTimeout(r, 200));
      fake.assign(assignment); // generation 2, same partitions
      fake.failCommits(1, fenced()); // and now our own fence, in generation 2
      await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }]);
      await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }]);
      await new Promise((r) => setTimeout(r, 1_100 + 400));
      await p.stop();
      expect(fake.rejoins).toBe(1);
      expect(p.stats().fenceRejoins).toBe(1);
    });

    it('when the group moves the partition meanwhile (a real new owner): no rejoin', async () => {
      const fake = new FakeKafka();
      const [a] = await runs(1);
      const { processEpisode } = await import('../../src/runtime/process-episode.js');
      const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20, source: { brokers: ['fake:9092'], ...topics, ...source } });
      await p.start();
      fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
      fake.failCommits(1, fenced());
      await deliverRun(fake, a!, 0);
      await new Promise((r) => setTimeout(r, 200));
      fake.assign([{ topic: 'spans', partition: 1 }, { topic: 'logs', partition: 1 }]); // the rebalance gave partition 0 away
      await new Promise((r) => setTimeout(r, 1_100 + 300));
      await p.stop();
      expect(fake.rejoins).toBe(0);
      expect(p.stats().fenceRejoins).toBe(0);
      expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(0);
    });
  });

  it('a credit computation that times out becomes a DLQ entry and releases the watermark', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const p = pipeline(fake, 'at-least-once', () => new Promise(() => {}), { creditTimeoutMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await deliverRun(fake, a!, 0);
    await new Promise((r) => setTimeout(r, 80));
    await p.stop();
    expect(p.stats().creditFailures).toBe(1);
    const dlq = fake.published.filter((r) => r.topic === 'agent_credit.dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.headers!['x-agent-credit-error']).toMatch(/timed out/);
    expect(fake.committed.get('spans/0')!.offset).toBe('1');
  });

  it('a credit computation that times out keeps its slot until it settles: no more than creditConcurrency run at once', async () => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    let active = 0;
    let maxActive = 0;
    let releaseFirst!: () => void;
    const firstSettles = new Promise<void>((r) => (releaseFirst = r));
    let calls = 0;
    const p = pipeline(
      fake,
      'at-least-once',
      async () => {
        const first = calls++ === 0;
        maxActive = Math.max(maxActive, ++active);
        // the first hangs past the timeout until released; the others take a moment
        await (first ? firstSettles : new Promise((r) => setTimeout(r, 5)));
        active--;
        return [];
      },
      { creditConcurrency: 2, creditTimeoutMs: 30 },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await deliverRun(fake, rs[0]!, 0);
    for (let i = 0; i < 1_000 && p.stats().creditFailures === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().creditFailures).toBe(1);
    // two more episodes: with the overdue one still running, only one slot is left for them
    await fake.deliver('spans', 0, [1, 2].map((i) => ({ offset: i, value: rs[i]!.spans[0]!.value })));
    await fake.deliver('logs', 0, [1, 2].map((i) => ({ offset: i, value: rs[i]!.logs[0]!.value })));
    for (let i = 0; i < 1_000 && calls < 3; i++) await new Promise((r) => setTimeout(r, 2));
    expect(calls).toBe(3);
    expect(maxActive).toBe(2);
    expect(p.stats().creditOverdue).toBe(1);
    releaseFirst();
    for (let i = 0; i < 1_000 && p.stats().creditOverdue > 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().creditOverdue).toBe(0);
    await p.stop();
    expect(p.stats().creditFailures).toBe(1);
  });

  it('an event larger than sink.maxRecordBytes goes to the DLQ as a description; the others are published and the offset moves on', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    let big = '';
    const p = pipeline(
      fake,
      'at-least-once',
      async (episode) => {
        const evs = await processEpisode(episode);
        // one reward grows past the limit (a huge agent name, as a long conversation's trace_ids would): it cannot be published as is
        const r = evs.find((e) => e.event_type === 'message_reward')!;
        (r as { agent_name: string }).agent_name = 'x'.repeat(8_000);
        big = r.event_id;
        return evs;
      },
      { sink: { createTopics: false, maxRecordBytes: 4_096 } },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await deliverRun(fake, a!, 0);
    await settle();
    await p.stop();
    expect(p.stats().eventsTooLarge).toBe(1);
    const dlq = fake.published.filter((r) => r.topic === 'agent_credit.dlq');
    expect(dlq).toHaveLength(1);
    const described = JSON.parse(dlq[0]!.value as string) as { kind: string; event_id: string; bytes: number; max_bytes: number };
    expect(described).toMatchObject({ kind: 'event_too_large', event_id: big, max_bytes: 4_096 });
    expect(described.bytes).toBeGreaterThan(8_000);
    expect(dlq[0]!.headers!['x-agent-credit-error']).toMatch(/over sinks\.kafka\.maxRecordBytes 4096: raise sinks\.kafka\.maxRecordBytes \(the output topics. max\.message\.bytes must be at least that \+ 16384 bytes\), or key by trace rather than by a long conversation, or lower episodes\.maxSpansPerEpisode/);
    const rest = fake.published.filter((r) => r.topic !== 'agent_credit.dlq');
    expect(rest.length).toBe(p.stats().eventsOut - 1);
    expect(rest.every((r) => !(r.value as string).includes(big))).toBe(true);
    expect(fake.committed.get('spans/0')!.offset).toBe('1');
  });

  it('an evaluation that expired waiting for its spans is not read again by a replay while another run holds the committed offset: counted expired once, not at every rebalance', async () => {
    const fake = new FakeKafka();
    const [b, a] = await runs(2);
    // run b stays open (its verdict joins it without closing it) and holds logs/0 at offset 0;
    // a's verdict (offset 1) names a trace whose spans never come and expires after 100 ms
    const make = () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: false, pendingEvaluationTtlMs: 100 });
    const { p, observed, tps } = await startObserved(fake, make);
    // what kafkajs reads from the committed offsets (0 on both: b is open) after each join
    const readFromCommitted = async () => {
      expect(fake.committed.get('logs/0')?.offset ?? '0').toBe('0');
      await fake.deliver('spans', 0, [{ offset: 0, value: b!.spans[0]!.value }]);
      await fake.deliver('logs', 0, [{ offset: 0, value: b!.logs[0]!.value }, { offset: 1, value: a!.logs[0]!.value }]);
    };
    fake.assign(tps);
    await readFromCommitted();
    for (let i = 0; i < 1_000 && observed.read().evaluationsExpired !== 1; i++) await new Promise((r) => setTimeout(r, 2));
    expect(observed.read().evaluationsExpired).toBe(1);
    await new Promise((r) => setTimeout(r, 150)); // a commit after the expiry
    for (let round = 0; round < 2; round++) {
      fake.assign(tps); // a rebalance: the same partitions again, read from their committed offsets
      await readFromCommitted();
      await new Promise((r) => setTimeout(r, 300)); // past the TTL
    }
    await p.stop();
    expect(observed.read().episodesOpen).toBe(1); // b rebuilt each time
    expect(observed.read().evaluationsExpired).toBe(1); // 3 without the fix: once more per rebalance
    expect(p.stats().evaluationsSkippedOnReplay).toBe(2);
  });

  it('content events dropped while waiting for their spans (over maxPendingContentEvents) are not read again by a replay: counted once, not at every rebalance', async () => {
    const fake = new FakeKafka();
    const [b] = await runs(1);
    /** One gen_ai.user.message content event of a trace whose spans never come, as the collector's kafka exporter writes it. */
    const content = (traceId: string) =>
      JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000000', eventName: 'gen_ai.user.message', traceId, spanId: '12'.repeat(8), flags: 1, body: { kvlistValue: { values: [{ key: 'content', value: { stringValue: `hello ${traceId}` } }] } } }] }] }],
      });
    // b stays open and holds logs/0 at offset 0; content of trace A (offset 1) is dropped when C's (offset 2) arrives
    const make = () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: false, maxPendingContentEvents: 1 });
    const { p, observed, tps } = await startObserved(fake, make);
    const readFromCommitted = async () => {
      expect(fake.committed.get('logs/0')?.offset ?? '0').toBe('0');
      await fake.deliver('spans', 0, [{ offset: 0, value: b!.spans[0]!.value }]);
      await fake.deliver('logs', 0, [
        { offset: 0, value: b!.logs[0]!.value },
        { offset: 1, value: content('aa'.repeat(16)) },
        { offset: 2, value: content('cc'.repeat(16)) },
      ]);
    };
    fake.assign(tps);
    await readFromCommitted();
    expect(observed.read().contentEventsExpired).toBe(1);
    await new Promise((r) => setTimeout(r, 150)); // a tick and a commit after the drop
    for (let round = 0; round < 2; round++) {
      fake.assign(tps);
      await readFromCommitted();
      await new Promise((r) => setTimeout(r, 150));
    }
    await p.stop();
    expect(observed.read().episodesOpen).toBe(1);
    expect(observed.read().contentEventsPending).toBe(1); // C's, read again each time
    expect(observed.read().contentEventsExpired).toBe(1); // 3 without the fix: once more per rebalance
  });

  it.each(['exactly-once', 'at-least-once'] as const)('undecodable records read again after a join while their dead letters could not be published are counted once (%s)', async (delivery) => {
    const fake = new FakeKafka();
    let failing = true;
    const client = failingSends(fake, () => failing);
    const p = pipeline(client, delivery, events, { commitIntervalMs: 20 });
    await p.start();
    const tps = [{ topic: 'spans', partition: 0 }];
    const poison = [0, 1, 2].map((offset) => ({ offset, value: 'not OTLP' }));
    fake.assign(tps);
    await fake.deliver('spans', 0, poison);
    for (let i = 0; i < 1_000 && p.stats().commitFailures < 2; i++) await new Promise((r) => setTimeout(r, 2));
    // a join while publishing fails (a broker outage rebalances the group too): read again from the committed offset
    fake.assign(tps);
    await fake.deliver('spans', 0, poison);
    failing = false;
    for (let i = 0; i < 1_000 && p.stats().dlqOut < 3; i++) await new Promise((r) => setTimeout(r, 2));
    await p.stop();
    expect(p.stats().dlqOut).toBe(3);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.dlq')).toHaveLength(3);
    expect(p.stats().decodeErrors).toBe(3); // 6 without the fix
  });

  it('events over sink.maxRecordBytes in every episode are logged at warn three times, then as a count (not one line per event); each is counted', async () => {
    const fake = new FakeKafka();
    const rs = await runs(10);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false, maxRecordBytes: 4_096 }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }),
        // every episode has one reward past the limit (a limit below what the fleet's episodes need)
        processEpisode: async (episode) => {
          const evs = await processEpisode(episode);
          (evs.find((e) => e.event_type === 'message_reward') as { agent_name: string }).agent_name = 'x'.repeat(8_000);
          return evs;
        },
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    for (let i = 0; i < rs.length; i++) await deliverRun(fake, rs[i]!, i);
    for (let i = 0; i < 1_000 && p.stats().eventsTooLarge < rs.length; i++) await new Promise((r) => setTimeout(r, 2));
    await settle();
    await p.stop();
    expect(p.stats().eventsTooLarge).toBe(10);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.dlq')).toHaveLength(10);
    const warned = lines.filter((l) => l.level === 'warn' && /too large|maxRecordBytes/.test(l.msg));
    // three with their event, then one count line for the next (the others held back within 30 s)
    expect(warned.length).toBeLessThanOrEqual(4);
    expect(warned.slice(0, 3).every((l) => l.msg.startsWith('event too large to publish') && typeof l.obj.eventId === 'string')).toBe(true);
    expect(warned[3]!.msg).toMatch(/^1 more event\(s\) over sinks\.kafka\.maxRecordBytes \(4096\) since the last line \(4 in all\)/);
    expect(lines.filter((l) => l.level === 'debug' && l.msg.startsWith('event too large to publish'))).toHaveLength(7);
  });

  it.each(['exactly-once', 'at-least-once'] as const)('keeps ingestion paused while credited episodes cannot be published (sends failing), and resumes once they are (%s)', async (delivery) => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    let failing = true;
    const client = failingSends(fake, () => failing);
    const p = pipeline(client, delivery, events, { creditQueueMax: 2, commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, rs.map((r, i) => ({ offset: i, value: r!.spans[0]!.value })));
    await fake.deliver('logs', 0, rs.map((r, i) => ({ offset: i, value: r!.logs[0]!.value })));
    // credit is done at once; the episodes' publishing fails, again and again
    for (let i = 0; i < 1_000 && p.stats().commitFailures < 3; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats()).toMatchObject({ queueDepth: 0, inFlight: 3, paused: true });
    expect(fake.paused.size).toBe(0); // backpressure holds batches in the source, not the consumer's partitions
    failing = false;
    for (let i = 0; i < 1_000 && p.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats()).toMatchObject({ inFlight: 0, paused: false });
    await p.stop();
  });

  it.each(['exactly-once', 'at-least-once'] as const)('keeps ingestion paused while dead letters cannot be published (undecodable input closes no episode), and resumes once they are (%s)', async (delivery) => {
    const fake = new FakeKafka();
    let failing = true;
    const client = failingSends(fake, () => failing);
    const p = pipeline(client, delivery, events, { creditQueueMax: 4, commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    // a collector writing another encoding: every record is a dead letter, held (a copy) until published
    await fake.deliver('spans', 0, [0, 1, 2, 3].map((offset) => ({ offset, value: 'not OTLP' })));
    for (let i = 0; i < 1_000 && p.stats().commitFailures < 2; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats()).toMatchObject({ decodeErrors: 4, inFlight: 0, paused: true }); // not paused: the topic was read on into memory
    failing = false;
    for (let i = 0; i < 1_000 && p.stats().paused; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().paused).toBe(false);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.dlq')).toHaveLength(4);
    await p.stop();
  });

  it('pauses ingestion when the credit queue is full and resumes when it drains', async () => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = pipeline(fake, 'at-least-once', async () => (await gate, []), { creditQueueMax: 2, creditConcurrency: 1 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, rs.map((r, i) => ({ offset: i, value: r!.spans[0]!.value })));
    await fake.deliver('logs', 0, rs.map((r, i) => ({ offset: i, value: r!.logs[0]!.value })));
    expect(p.stats().paused).toBe(true);
    // the next batch waits in the source until the queue drains, then is read at once
    const more = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 200 }), 'otlp_proto');
    const spansBefore = p.stats().spansIn;
    let read = false;
    const next = fake.deliver('spans', 0, [{ offset: 3, value: more.spans[0]!.value }]).then(() => (read = true));
    await settle();
    expect(read).toBe(false);
    expect(p.stats().spansIn).toBe(spansBefore);
    release();
    await next;
    expect(p.stats().spansIn).toBeGreaterThan(spansBefore);
    await settle();
    expect(p.stats().paused).toBe(false);
    expect(fake.paused.size).toBe(0);
    await p.stop();
  });
  it('counts a credited episode\'s events with its spans against runtime.creditQueueMaxBytes while they cannot be published', async () => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    // the three runs' spans as the pipeline's assembler estimates them: below the limit on their own
    const asm = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true });
    for (const r of rs) {
      asm.addSpans(decodeTraces(r!.spans[0]!.value, 'otlp_proto'));
      asm.addEvaluations(evaluationsFromLogs(decodeLogs(r!.logs[0]!.value, 'otlp_proto')));
    }
    const spanBytes = asm.flush('shutdown').reduce((a, e) => a + e.bytes, 0);
    let failing = true;
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(failingSends(fake, () => failing), 'at-least-once', processEpisode, { creditQueueMax: 256, creditQueueMaxBytes: spanBytes + 1, commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, rs.map((r, i) => ({ offset: i, value: r!.spans[0]!.value })));
    await fake.deliver('logs', 0, rs.map((r, i) => ({ offset: i, value: r!.logs[0]!.value })));
    for (let i = 0; i < 1_000 && p.stats().commitFailures < 2; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats()).toMatchObject({ queueDepth: 0, inFlight: 3, paused: false }); // spans alone: under the limit
    // the next batch finds the three runs' spans and their held events over the limit
    const more = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 300 }), 'otlp_proto');
    await fake.deliver('spans', 0, [{ offset: 3, value: more.spans[0]!.value }]);
    expect(p.stats().paused).toBe(true); // before: not paused, the events not counted
    const next = fake.deliver('logs', 0, [{ offset: 3, value: more.logs[0]!.value }]); // held in the source meanwhile
    failing = false;
    await next;
    for (let i = 0; i < 1_000 && (p.stats().inFlight > 0 || p.stats().paused); i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats()).toMatchObject({ inFlight: 0, paused: false, episodesClosed: 4 });
    await p.stop();
  });

  it('pauses ingestion when the closed episodes not yet published hold runtime.creditQueueMaxBytes, far below creditQueueMax, and resumes when they drain', async () => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // one generated run's episode holds tens of kB: 1 byte is full at the first one (a large run reaches 32 MiB)
    const p = pipeline(fake, 'at-least-once', async () => (await gate, []), { creditQueueMax: 256, creditQueueMaxBytes: 1, creditConcurrency: 1 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, rs.map((r, i) => ({ offset: i, value: r!.spans[0]!.value })));
    await fake.deliver('logs', 0, rs.map((r, i) => ({ offset: i, value: r!.logs[0]!.value })));
    expect(p.stats().inFlight).toBe(3);
    expect(p.stats().paused).toBe(true); // before: not paused until 256 episodes were held
    release();
    for (let i = 0; i < 1_000 && p.stats().paused; i++) await new Promise((r) => setTimeout(r, 2));
    expect(p.stats().paused).toBe(false);
    await p.stop();
  });
});

describe('isFence: a transactional producer fenced by a newer epoch of its id, told by Kafka error type/code', () => {
  const require = createRequire(import.meta.url);
  const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error & { type: string; code: number } };
  const { KafkaJSNumberOfRetriesExceeded } = require('kafkajs/src/errors.js') as { KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error };
  const retried = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 5, retryTime: 100 });

  it('tells the producer fences kafkajs reports from errors that only mention an epoch, "fenced" or "current"', () => {
    const fences: [string, unknown][] = [
      ['INVALID_PRODUCER_EPOCH (47), as kafkajs throws it', createErrorFromCode(47)],
      ['PRODUCER_FENCED (90), unknown to kafkajs 2.2.4', createErrorFromCode(90)],
      ['PRODUCER_FENCED by type (other clients)', Object.assign(new Error('There is a newer producer with the same transactionalId which fences the current one'), { type: 'PRODUCER_FENCED' })],
      ['INVALID_PRODUCER_EPOCH after kafkajs retries', retried(createErrorFromCode(47))],
      ["the Java client's ProducerFencedException, by name", Object.assign(new Error('fenced'), { name: 'ProducerFencedException' })],
    ];
    const others: [string, unknown][] = [
      ['FENCED_LEADER_EPOCH (74): partition leadership, a fetch/metadata error', createErrorFromCode(74)],
      ['UNKNOWN_LEADER_EPOCH (75)', createErrorFromCode(75)],
      ['STALE_BROKER_EPOCH (77)', createErrorFromCode(77)],
      ['TRANSACTION_COORDINATOR_FENCED (52): between brokers', createErrorFromCode(52)],
      ['INVALID_PRODUCER_ID_MAPPING (49): "not currently assigned"', createErrorFromCode(49)],
      ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53): an ACL to fix', createErrorFromCode(53)],
      ['FENCED_LEADER_EPOCH after kafkajs retries', retried(createErrorFromCode(74))],
      ['a plain error that mentions an epoch', new Error('metadata epoch is not current yet')],
    ];
    expect(fences.filter(([, e]) => !isFence(e)).map(([what]) => what)).toEqual([]);
    expect(others.filter(([, e]) => isFence(e)).map(([what]) => what)).toEqual([]);
  });

  it('exactly-once: a transaction failing with INVALID_PRODUCER_ID_MAPPING (the broker expired the transactional id) is retried with a re-claimed id, not with the same producer for ever', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const p = await exactlyOnceAfterFirstCommit(fake, a!);
    await bothPartitionsCommitted(fake, 1);
    const producersBefore = fake.txProducersCreated;
    // transactional.id.expiration.ms passed while the partitions were idle: the coordinator no
    // longer knows the producer ids kafkajs still holds; kafkajs aborts locally (nothing was added)
    fake.forgetTransactionalIds(createErrorFromCode(49));
    await deliverRun(fake, b!, 1);
    await bothPartitionsCommitted(fake, 2);
    expect([...fake.paused]).toEqual([]); // still fetched: not held back as fenced
    // counted as at-least-once replacements are (the stats and /metrics showed 0)
    const replaced = p.stats().producerReplacements;
    await p.stop();
    expect(fake.txProducersCreated).toBeGreaterThan(producersBefore);
    expect(replaced).toBe(fake.txProducersCreated - producersBefore);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(2);
  });

  it('exactly-once: a new failure streak is logged at its own 3rd failure, not held back by the previous streak\'s line (c7dcfd2)', async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const infos: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = { ...silentLogger, error: (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }), info: (obj: object, msg: string) => void infos.push({ obj: obj as Record<string, unknown>, msg }) };
    // each streak ended with a line saying publishing works again, per partition
    const recoveries = () => infos.filter((l) => l.msg.startsWith('publishing works again')).map((l) => `${l.obj['topic']}/${l.obj['partition']}`).sort();
    // the clock never moves: each streak's line may only come from its own 3rd failure
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'exactly-once', tickIntervalMs: 10_000, commitIntervalMs: 20 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }), processEpisode, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger, now: () => 1_000_000 },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    const streakLines = () => lines.filter((l) => l.obj['failuresInARow'] === 3).map((l) => `${l.obj['topic']}/${l.obj['partition']}`).sort();
    try {
      // a broker away for a while (no fence, no producer-state error): both partitions retry
      fake.failCommits(20, new Error('broker away'));
      await deliverRun(fake, a!, 0);
      await bothPartitionsCommitted(fake, 1);
      expect(streakLines()).toEqual(['logs/0', 'spans/0']);
      expect(recoveries()).toEqual(['logs/0', 'spans/0']);
      fake.failCommits(20, new Error('broker away'));
      await deliverRun(fake, b!, 1);
      await bothPartitionsCommitted(fake, 2);
      expect(streakLines()).toEqual(['logs/0', 'logs/0', 'spans/0', 'spans/0']);
      expect(recoveries()).toEqual(['logs/0', 'logs/0', 'spans/0', 'spans/0']);
      expect(infos.find((l) => l.msg.startsWith('publishing works again'))!.obj['failuresInARow']).toBeGreaterThanOrEqual(3);
      // and at most one line per streak while the clock stands still (ERROR_LOG_EVERY_MS): the
      // streaks went past their 3rd failure, so a line at every failure would show here
      const streakLengths = infos.filter((l) => l.msg.startsWith('publishing works again')).map((l) => l.obj['failuresInARow'] as number);
      expect(Math.max(...streakLengths)).toBeGreaterThan(3);
      expect(lines.filter((l) => l.msg.startsWith('publishing has failed')).map((l) => l.obj['failuresInARow'])).toEqual([3, 3, 3, 3]);
    } finally {
      await p.stop();
    }
  });

  it('exactly-once: "publishing works again" comes after the streak\'s error line, also when that line waits for a slow admin connection (the broker away)', async () => {
    // the error line is written once the missing-topics check answers (up to 5 s): the recovery
    // line was written at once, and the log ended on "publishing has failed 3 times in a row, nothing is published meanwhile"
    const fake = new FakeKafka();
    const order: string[] = [];
    const logger = {
      ...silentLogger,
      error: (obj: object, msg: string) => void (msg.startsWith('publishing has failed') && order.push(`failed ${(obj as Record<string, unknown>)['failuresInARow']}`)),
      info: (_obj: object, msg: string) => void (msg.startsWith('publishing works again') && order.push('works again')),
    };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'exactly-once', tickIntervalMs: 10_000, commitIntervalMs: 20 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger, now: () => 1_000_000 },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 200));
    try {
      fake.adminDelayMs = () => 400;
      fake.failCommits(3, new Error('broker away'));
      await fake.deliver('spans', 0, [{ offset: 0, value: 'not otlp' }]);
      for (let i = 0; i < 300 && order.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(order).toEqual(['failed 3', 'works again']);
    } finally {
      await p.stop();
    }
  });

  it('exactly-once: a transaction failing with FENCED_LEADER_EPOCH is retried, not left to a new owner', async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    fake.failCommits(1, createErrorFromCode(74));
    await deliverRun(fake, a!, 0);
    await bothPartitionsCommitted(fake, 1);
    expect([...fake.paused]).toEqual([]); // still fetched: not held back as fenced
    await p.stop();
    expect(p.stats().commitFailures).toBe(1);
    expect(fake.published.filter((r) => r.topic === 'agent_credit.episodes')).toHaveLength(1);
  });
});

describe('KafkaPipeline input partition counts changed while running', () => {
  const parts = (n: number) => Array.from({ length: n }, (_, partition) => ({ partition, offset: '0', low: '0' }));
  const all = (n: number) => ['spans', 'logs'].flatMap((topic) => Array.from({ length: n }, (_, partition) => ({ topic, partition })));
  /** A started pipeline assigned both input topics' 2 partitions, its warnings collected. */
  async function assignedOnTwoPartitions() {
    const warnings: { obj: object; msg?: string }[] = [];
    const fake = new FakeKafka();
    fake.endOffsets.set('spans', parts(2));
    fake.endOffsets.set('logs', parts(2));
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger: { ...silentLogger, warn: (obj, msg) => void warnings.push({ obj, msg }) } },
    );
    await p.start();
    fake.assign(all(2));
    await settle();
    return { warnings, fake, p };
  }
  it('warns (and counts) when an assignment finds an input topic grown — traces in flight may be split — and when the topics no longer agree', async () => {
    const { warnings, fake, p } = await assignedOnTwoPartitions();
    expect(p.stats().partitionCountChanges).toBe(0);
    // the operator grows the spans topic only (the logs topic later, or never)
    fake.endOffsets.set('spans', parts(3));
    fake.assign([...all(2), { topic: 'spans', partition: 2 }]);
    const grown = () => warnings.find((w) => /partition count changed while running/.test(w.msg ?? ''));
    for (let i = 0; i < 500 && grown() === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    expect(grown()?.obj).toEqual({ partitionCounts: ['spans: 2 → 3'] });
    expect(grown()?.msg).toMatch(/traces in flight at the change may be split/);
    expect(warnings.find((w) => /now have different partition counts/.test(w.msg ?? ''))?.obj).toEqual({ partitionCounts: ['spans: 3', 'logs: 2'] });
    expect(p.stats().partitionCountChanges).toBe(1);
    // later assignments with the same counts say nothing more
    fake.assign([...all(2), { topic: 'spans', partition: 2 }]);
    await settle();
    expect(warnings.filter((w) => /partition count changed while running/.test(w.msg ?? ''))).toHaveLength(1);
    await p.stop();
  });

  it('an assignment that comes while a check is still reading the counts is checked after it (it was skipped)', async () => {
    const { warnings, fake, p } = await assignedOnTwoPartitions();
    // from now on a count read takes the counts at the call and answers when released
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const admin = fake.admin.bind(fake);
    fake.admin = async () => {
      const a = await admin();
      return {
        ...a,
        fetchEndOffsets: async (topic: string) => {
          const now = fake.endOffsets.get(topic) ?? [];
          await gate;
          return now;
        },
      };
    };
    fake.assign(all(2)); // a check starts and reads 2 partitions
    await new Promise((r) => setTimeout(r, 5));
    fake.endOffsets.set('spans', parts(3)); // grown while that check waits for its answer
    fake.assign([...all(2), { topic: 'spans', partition: 2 }]);
    release();
    const grown = () => warnings.find((w) => /partition count changed while running/.test(w.msg ?? ''));
    for (let i = 0; i < 500 && grown() === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    expect(grown()?.obj).toEqual({ partitionCounts: ['spans: 2 → 3'] });
    expect(p.stats().partitionCountChanges).toBe(1);
    await p.stop();
  });
});

describe('KafkaPipeline offset watermark with episodes still being credited', () => {
  it('at-least-once: a partition\'s commits never pass the first offset of an episode not yet published, and name its traces; later episodes published meanwhile are not named', async () => {
    const fake = new FakeKafka();
    const rs = await runs(3);
    const commits: OffsetCommit[] = [];
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => fake.createTransactionalProducer(o),
      createConsumer: (o) => {
        const c = fake.createConsumer(o);
        return { ...c, commit: async (offsets) => (commits.push(...offsets), c.commit(offsets)) };
      },
      admin: () => fake.admin(),
    };
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const firstTrace = rs[0]!.spans[0]!.key;
    // the first run's credit waits until released; the others are credited at once
    const p = pipeline(client, 'at-least-once', async (ep) => {
      if (ep.traceIds.includes(firstTrace)) await released;
      return [];
    });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    for (const i of [0, 1, 2]) await deliverRun(fake, rs[i]!, i);
    for (let i = 0; i < 1_000 && p.stats().episodesClosed < 3; i++) await new Promise((r) => setTimeout(r, 2));
    await settle();
    expect(commits.length).toBeGreaterThan(0);
    for (const c of commits) {
      expect(c.offset).toBe('0');
      const filter = decodeReplayMetadata(c.metadata);
      expect(filter?.processedNext).toBeDefined();
      expect(filter!.heldTraces!.has(firstTrace)).toBe(true);
    }
    // the last commit made after the other two were published names the first run's trace only (and its episode id)
    const last = decodeReplayMetadata(commits[commits.length - 1]!.metadata)!;
    expect(last.processedNext).toBe('3');
    expect([...last.heldTraces!].some((k) => k === rs[1]!.spans[0]!.key || k === rs[2]!.spans[0]!.key)).toBe(false);
    release();
    for (let i = 0; i < 1_000 && fake.committed.get('spans/0')?.offset !== '3'; i++) await new Promise((r) => setTimeout(r, 2));
    await p.stop();
    expect([fake.committed.get('spans/0')?.offset, fake.committed.get('logs/0')?.offset]).toEqual(['3', '3']);
  });
});

describe('KafkaPipeline input keys', () => {
  // The collector's kafka exporter keys a record by its trace id only with partition_traces_by_id /
  // partition_logs_by_trace_id (both off by default); without them a trace's spans and evaluation
  // land on any partition, and in a group of several instances each credited its part of the trace
  // as the whole episode — silently.
  async function warningsFor(deliveries: { topic: 'spans' | 'logs'; key?: string; value: Uint8Array }[], keyBy: 'trace' | 'conversation' = 'trace') {
    const fake = new FakeKafka();
    const warns: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = { ...silentLogger, warn: (obj: object, msg?: string) => void warns.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }) };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, keyBy }), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    const offsets = { spans: 0, logs: 0 };
    for (const d of deliveries) await fake.deliver(d.topic, 0, [{ offset: offsets[d.topic]++, value: d.value, ...(d.key !== undefined ? { key: d.key } : {}) }]);
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    expect(p.stats().recordsIn).toBe(deliveries.length);
    return warns.filter((w) => w.msg.includes('not keyed by their trace id'));
  }

  it('warns once per topic when records are not keyed by their trace id (the exporter without partition_traces_by_id / partition_logs_by_trace_id); trace-keyed records and conversation-keyed episodes draw nothing', async () => {
    const [a, b] = await runs(2);
    const traceOf = (run: typeof a) => run!.spans[0]!.key;
    // unkeyed, as the exporter writes by default: two runs' spans, then their evaluations
    const unkeyed = await warningsFor([
      { topic: 'spans', value: a!.spans[0]!.value },
      { topic: 'spans', value: b!.spans[0]!.value },
      { topic: 'logs', value: a!.logs[0]!.value },
      { topic: 'logs', value: b!.logs[0]!.value },
    ]);
    expect(unkeyed.map((w) => w.obj.topic)).toEqual(['spans', 'logs']);
    expect(unkeyed[0]!.msg).toMatch(/^records of spans are not keyed by their trace id \(no key on a record of trace [0-9a-f]{32}\): set `partition_traces_by_id: true` in the collector's kafka exporter — .* with more than one instance in the consumer group each instance credits its part of the trace as a whole episode/);
    expect(unkeyed[1]!.msg).toMatch(/set `partition_logs_by_trace_id: true`/);
    // a key that is not the trace id (e.g. another partitioning key) is the same
    const wrongKey = await warningsFor([{ topic: 'spans', key: traceOf(b), value: a!.spans[0]!.value }]);
    expect(wrongKey).toHaveLength(1);
    // keyed by trace id: nothing
    const keyed = [a!, b!].flatMap((run) => [
      { topic: 'spans' as const, key: traceOf(run), value: run.spans[0]!.value },
      { topic: 'logs' as const, key: run.logs[0]!.key, value: run.logs[0]!.value },
    ]);
    expect(keyed.every((d) => d.key !== undefined && /^[0-9a-f]{32}$/.test(d.key))).toBe(true);
    expect(await warningsFor(keyed)).toEqual([]);
    // conversation-keyed episodes are keyed otherwise (a re-keyed topic): not this warning's business
    expect(await warningsFor([{ topic: 'spans', value: a!.spans[0]!.value }], 'conversation')).toEqual([]);
  });
});

describe('KafkaPipeline exactly-once: the brokers refuse the transaction timeout', () => {
  // what kafkajs throws when the broker's transaction.max.timeout.ms is below the producer's timeout
  const refused = () =>
    Object.assign(new Error('The transaction timeout is larger than the maximum value allowed by the broker (as configured by max.transaction.timeout.ms)'), {
      name: 'KafkaJSProtocolError',
      type: 'INVALID_TRANSACTION_TIMEOUT',
      code: 50,
      retriable: false,
    });

  it('claims with sinks.kafka.transactionTimeoutMs, and a refusal makes health() not ready naming the broker setting and the key at once, with no input; a new assignment clears it', async () => {
    const fake = new FakeKafka();
    const timeouts: (number | undefined)[] = [];
    let refuse = true;
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => {
        timeouts.push(o.transactionTimeoutMs);
        const pr = fake.createTransactionalProducer(o);
        return { ...pr, connect: async () => (refuse ? Promise.reject(refused()) : pr.connect()) };
      },
      createConsumer: (o) => fake.createConsumer(o),
      admin: () => fake.admin(),
    };
    const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false, transactionTimeoutMs: 45_000 }, delivery: 'exactly-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      {
        client,
        createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }),
        processEpisode: events,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
      },
    );
    await p.start();
    fake.handlers!.onState?.('joined');
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    for (let i = 0; i < 300 && !lines.some((l) => l.level === 'error'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(timeouts.length).toBeGreaterThan(0);
    expect(timeouts.every((t) => t === 45_000)).toBe(true);
    const named = /sinks\.kafka\.transactionTimeoutMs 45000 ms: it is above their transaction\.max\.timeout\.ms .*set sinks\.kafka\.transactionTimeoutMs to at most the brokers' transaction\.max\.timeout\.ms/;
    const h = p.health();
    expect(h.ready).toBe(false);
    expect(h.live).toBe(true);
    expect(h.detail).toMatch(/^preparing partition (spans|logs)\/0 failed, nothing can be published: /);
    expect(h.detail).toMatch(named);
    const error = lines.find((l) => l.level === 'error')!;
    expect(error.msg).toMatch(named);
    expect(String(error.obj.fix)).toMatch(named);
    // the consumer crashes on the partition's first batch: its detail says why, not kafkajs's text alone
    fake.handlers!.onState?.('crashed', { error: refused().message, restart: false });
    expect(p.health().detail).toMatch(named);
    // refused no more (the brokers' cap raised), the group rejoins: ready again
    refuse = false;
    fake.handlers!.onState?.('joined');
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await settle();
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    await p.stop();
  });
});

describe('KafkaPipeline: a session timeout the brokers refuse', () => {
  // kafkajs's crash said "The session timeout is not within the range allowed by the broker (as
  // configured by group.min.session.timeout.ms and group.max.session.timeout.ms)": the brokers'
  // settings, not the job's — /healthz and the log now name source.kafka.sessionTimeoutMs and the fix
  it('names source.kafka.sessionTimeoutMs and the fix in the crash and the health detail', async () => {
    const fake = new FakeKafka();
    const lines: { level: string; obj: Record<string, unknown> }[] = [];
    const at = (level: string) => (obj: object) => void lines.push({ level, obj: obj as Record<string, unknown> });
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics, sessionTimeoutMs: 3000, heartbeatIntervalMs: 1000 }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({}),
        processEpisode: events,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
      },
    );
    await p.start();
    const kafkajs = 'The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)';
    fake.handlers!.onState?.('crashed', { error: kafkajs, restart: false });
    const h = p.health();
    expect(h.live).toBe(false);
    expect(h.restartHelps).toBe(false); // the job's not-live line must not say a restart helps
    const named = /^kafka consumer crashed and does not restart: The session timeout is not within the range allowed by the broker .* — source\.kafka\.sessionTimeoutMs 3000 is outside the brokers' group\.min\.session\.timeout\.ms … group\.max\.session\.timeout\.ms \(Kafka's defaults 6000 … 1800000\): .*set source\.kafka\.sessionTimeoutMs within it/;
    expect(h.detail).toMatch(named);
    expect(String(lines.find((l) => l.level === 'warn' && String(l.obj.err).startsWith('The session timeout'))?.obj.err)).toMatch(/source\.kafka\.sessionTimeoutMs 3000 is outside/);
    await p.stop();
  });
});

describe('KafkaPipeline: a consumer that crashes and restarts over and over', () => {
  // kafkajs restarts a crashed consumer every few seconds for as long as the cause lasts (a broker
  // down): one warn line per crash filled the log. The same crash is warned at most every 30 s,
  // with the count of those in between; the ones in between go to debug.
  it('warns once per 30 s for the same crash, then says how many there were', async () => {
    const fake = new FakeKafka();
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg: String(msg) });
    let now = 1_000_000;
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({}),
        processEpisode: events,
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
        now: () => now,
      },
    );
    await p.start();
    const crashes = () => lines.filter((l) => l.msg.startsWith('kafka consumer crashed'));
    // the port in the error differs between crashes: digits do not make it another crash
    for (let i = 0; i < 5; i++) {
      fake.handlers!.onState?.('crashed', { error: `Connection error: connect ECONNREFUSED 127.0.0.1:${9092 + i}`, restart: true });
      now += 5_000;
    }
    expect(crashes().map((l) => l.level)).toEqual(['warn', 'debug', 'debug', 'debug', 'debug']);
    now += 10_000; // 35 s after the first warn
    fake.handlers!.onState?.('crashed', { error: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', restart: true });
    const last = crashes().at(-1)!;
    expect(last.level).toBe('warn');
    expect(last.obj.repeats).toBe(4);
    expect(last.msg).toBe('kafka consumer crashed; kafkajs restarts it (not ready meanwhile); 4 more crash(es) like it since the last line (further ones at most every 30 s)');
    // another crash is warned at once
    fake.handlers!.onState?.('crashed', { error: 'The group is rebalancing', restart: true });
    expect(crashes().at(-1)!.level).toBe('warn');
    expect(crashes().at(-1)!.obj.repeats).toBeUndefined();
    await p.stop();
  });
});

describe('KafkaPipeline: the consumer group refused to this principal', () => {
  // kafkajs's crash said "Not authorized to access group: Group authorization failed" and the job
  // "a restart is what helps": /healthz and the log now name the Group ACL to grant, and say a restart does not help
  it('names the Read ACL on source.kafka.groupId in the health detail; restartHelps false, refused acl', async () => {
    const fake = new FakeKafka();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics, groupId: 'team-credit' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    fake.handlers!.onState?.('crashed', { error: 'Not authorized to access group: Group authorization failed', restart: false });
    const h = p.health();
    expect(h).toMatchObject({ live: false, restartHelps: false, refused: { what: 'acl' } });
    expect(h.refused?.reason).toMatch(/^Not authorized to access group: Group authorization failed — this principal may not use the consumer group "team-credit"/);
    expect(h.detail).toMatch(/^kafka consumer crashed and does not restart: Not authorized to access group: Group authorization failed — this principal may not use the consumer group "team-credit" \(source\.kafka\.groupId\): .*grant this principal Read on the Group resource "team-credit"/);
    await p.stop();
  });
});

describe('KafkaPipeline: the health detail of a consumer crashed for good', () => {
  // "kafka consumer crashed and does not restart: E; consumer crashed: E": the error, and the fix it
  // names, twice in /healthz and in the job's not-live line
  it('gives the crash once', async () => {
    const fake = new FakeKafka();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: events, evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    fake.handlers!.onState?.('crashed', { error: 'Topic authorization failed', restart: false });
    expect(p.health()).toMatchObject({ live: false, detail: 'kafka consumer crashed and does not restart: Topic authorization failed' });
    await p.stop();
  });
});
