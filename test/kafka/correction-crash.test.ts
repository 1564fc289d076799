/**
 * A correction — a late span or a late verdict that reopened an episode already closed and
 * published (revision 0) — when its instance dies (kill -9: nothing it sends lands any more) or
 * stops before the correction (revision 1) is published. Its revision 0's records were committed
 * with revision 0: unless the commit after the reopening holds them again, the next owner reads
 * the late record alone and the correction is lost (a late verdict expires, waiting for spans).
 */
import { describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { KafkaClient } from '../../src/kafka/client.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { decodeReplayMetadata, replayKeeps } from '../../src/runtime/watermark.js';
import { encodeTraces, generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { silentLogger } from '../../src/kafka/log.js';
import { FakeKafka } from './fake-kafka.js';

const SCORE = 'test.run.score';
type Delivery = 'exactly-once' | 'at-least-once';

const isRoot = (s: ReadableSpan) => s.parentSpanContext === undefined;

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

/**
 * `fake`, until `kill()`: from then on nothing the instance sends lands — its transactions' commits,
 * its consumer's commits and its sends never answer — as after kill -9.
 */
function killable(fake: FakeKafka): { client: KafkaClient; kill: () => void } {
  let dead = false;
  const never = () => new Promise<never>(() => undefined);
  const client: KafkaClient = {
    createProducer: () => {
      const p = fake.createProducer();
      return { ...p, send: async (records) => (dead ? never() : p.send(records)) };
    },
    createTransactionalProducer: (o) => {
      const inner = fake.createTransactionalProducer(o);
      return {
        ...inner,
        transaction: async () => {
          const tx = await inner.transaction();
          return { ...tx, commit: async () => (dead ? never() : tx.commit()) };
        },
      };
    },
    createConsumer: (o) => {
      const c = fake.createConsumer(o);
      return { ...c, commit: async (offsets) => (dead ? never() : c.commit(offsets)) };
    },
    admin: () => fake.admin(),
  };
  return { client, kill: () => void (dead = true) };
}

interface Setup {
  logs: boolean;
  clock?: ManualClock;
  assemblers?: EpisodeAssembler[];
  /** The instance never finishes crediting a correction (revision > 0): it is not published in its life. */
  hangCorrections?: boolean;
  warned?: string[];
}

function pipeline(client: KafkaClient, delivery: Delivery, { logs, clock, assemblers, hangCorrections, warned }: Setup) {
  return new KafkaPipeline(
    {
      source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: logs ? 'logs' : null },
      sink: { createTopics: false },
      delivery,
      tickIntervalMs: 10,
      commitIntervalMs: 20,
      shutdownTimeoutMs: 100,
      closeTimeoutMs: 300,
    },
    {
      client,
      // grace 30 ms, no waiting for a verdict: revision 0 closes at grace, with or without one
      createAssembler: () => {
        const options = { graceMs: 30, awaitEvaluationMs: 0, idleMs: 600_000, maxDurationMs: 600_000, lateSpanPolicy: 'correct', pendingEvaluationTtlMs: 200 } as const;
        const asm = clock ? new EpisodeAssembler(options, clock) : new EpisodeAssembler(options);
        assemblers?.push(asm);
        return asm;
      },
      processEpisode: (e) => (hangCorrections && e.revision > 0 ? new Promise<never>(() => undefined) : processEpisode(e, { rootScoreAttribute: SCORE })),
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      ...(warned ? { logger: { ...silentLogger, warn: (_obj: unknown, msg?: string) => void warned.push(msg ?? '') } } : {}),
    },
  );
}

interface Credit {
  event_id: string;
  episode_id: string;
  episode_revision: number;
}
const creditsOf = (fake: FakeKafka): Credit[] =>
  fake.published.filter((r) => r.headers?.['x-agent-credit-event-type'] === 'episode_credit').map((r) => JSON.parse(String(r.value)) as Credit);
/** Event ids of every event of `episode` at `revision`, sorted. */
const eventIdsOf = (fake: FakeKafka, episode: string, revision: number) =>
  fake.published
    .filter((r) => r.value !== null && r.headers?.['x-agent-credit-event-type'] !== undefined)
    .map((r) => JSON.parse(String(r.value)) as Credit)
    .filter((e) => e.episode_id === episode && e.episode_revision === revision)
    .map((e) => e.event_id)
    .sort();

type Rec = { offset: number; value: Uint8Array | string; key?: string };
interface Case {
  /** The input in the order the instance reads it: [topic, record]. */
  spans: Rec[];
  logs: Rec[];
  trace: string;
  /** Records of the first revision (delivered first), then the late one. */
  first: { spans: Rec[]; logs: Rec[] };
  late: { topic: 'spans' | 'logs'; record: Rec };
}

/** Late span: the run's root carries its verdict, one inner span comes after revision 0 was credited. */
async function lateSpan(): Promise<Case> {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 611 });
  const root = run.spans.find(isRoot)!;
  (root.attributes as Record<string, unknown>)[SCORE] = 0.9;
  const late = run.spans.find((s) => !isRoot(s))!;
  const trace = root.spanContext().traceId;
  const a: Rec = { offset: 0, key: trace, value: encodeTraces(run.spans.filter((s) => s !== late), 'otlp_proto') };
  const b: Rec = { offset: 1, key: trace, value: encodeTraces([late], 'otlp_proto') };
  return { spans: [a, b], logs: [], trace, first: { spans: [a], logs: [] }, late: { topic: 'spans', record: b } };
}

/** Late verdict: revision 0 closed without one (nothing to credit), the verdict record comes after. */
async function lateVerdict(): Promise<Case> {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 612 });
  const records = kafkaRecordsFor(run, 'otlp_proto');
  const trace = run.spans.find(isRoot)!.spanContext().traceId;
  const a: Rec = { offset: 0, key: records.spans[0]!.key ?? undefined, value: records.spans[0]!.value };
  const v: Rec = { offset: 0, key: records.logs[0]!.key ?? undefined, value: records.logs[0]!.value };
  expect(records.spans).toHaveLength(1);
  expect(records.logs).toHaveLength(1);
  return { spans: [a], logs: [v], trace, first: { spans: [a], logs: [] }, late: { topic: 'logs', record: v } };
}

/** The first instance: revision 0 published, then the late record reopens it; returns once the commit after the late record landed. */
async function reopen(fake: FakeKafka, client: KafkaClient, delivery: Delivery, c: Case, clock: ManualClock, hangCorrections = false) {
  const logs = c.logs.length > 0;
  const first = pipeline(client, delivery, { logs, clock, hangCorrections });
  await first.start();
  fake.assign(logs ? [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }] : [{ topic: 'spans', partition: 0 }]);
  if (logs) await fake.deliver('logs', 0, [], 0);
  await fake.deliver('spans', 0, c.first.spans);
  clock.advance(1_000); // past grace: revision 0 closes (with no verdict it emits nothing)
  await until(() => fake.committed.get('spans/0')?.offset === String(c.first.spans.at(-1)!.offset + 1));
  await fake.deliver(c.late.topic, 0, [c.late.record]);
  const next = String(c.late.record.offset + 1);
  await until(() => decodeReplayMetadata(fake.committed.get(`${c.late.topic}/0`)?.metadata)?.processedNext === next || fake.committed.get(`${c.late.topic}/0`)?.offset === next);
  // let a commit round after it land on every partition (the late record marked them)
  await new Promise((r) => setTimeout(r, 100));
  return first;
}

/** The next owner reads each partition from its committed offset. */
async function nextOwner(fake: FakeKafka, delivery: Delivery, c: Case, assemblers: EpisodeAssembler[]) {
  const logs = c.logs.length > 0;
  const next = pipeline(fake, delivery, { logs, assemblers });
  await next.start();
  fake.assign(logs ? [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }] : [{ topic: 'spans', partition: 0 }]);
  await new Promise((r) => setTimeout(r, 30));
  const from = (tp: string) => Number(fake.committed.get(tp)?.offset ?? 0);
  // verdicts first, as the job reads a backlog
  if (logs) await fake.deliver('logs', 0, c.logs.filter((r) => r.offset >= from('logs/0')), c.logs.length);
  await fake.deliver('spans', 0, c.spans.filter((r) => r.offset >= from('spans/0')), c.spans.length);
  return next;
}

/** An instance that lives through the correction: the events it publishes for it. */
async function reference(delivery: Delivery, c: Case): Promise<string[]> {
  const fake = new FakeKafka();
  const clock = new ManualClock(Date.now());
  const p = await reopen(fake, fake, delivery, c, clock);
  clock.advance(1_000);
  await until(() => creditsOf(fake).some((e) => e.episode_revision === 1));
  await p.stop();
  return eventIdsOf(fake, c.trace, 1);
}

describe.each(['exactly-once', 'at-least-once'] as const)('KafkaPipeline %s: a correction not yet published when its instance goes', (delivery) => {
  it.each([
    ['a late span', lateSpan],
    ['a late verdict (revision 0 closed without one)', lateVerdict],
  ] as const)('%s is published by the next owner after a kill -9, once, with the event ids it would have had', async (_name, make) => {
    const c = await make();
    const expected = await reference(delivery, c);
    expect(expected.length).toBeGreaterThan(0);

    const fake = new FakeKafka();
    const { client, kill } = killable(fake);
    const clock = new ManualClock(Date.now());
    // a late verdict's correction closes at once: its credit is what is under way at the kill
    const first = await reopen(fake, client, delivery, c, clock, true);
    const revision0 = eventIdsOf(fake, c.trace, 0);
    expect(eventIdsOf(fake, c.trace, 1)).toEqual([]);
    // the commit after the reopening holds the first revision's records again, naming the correction
    const filter = decodeReplayMetadata(fake.committed.get('spans/0')!.metadata);
    expect(fake.committed.get('spans/0')!.offset).toBe('0');
    expect(filter?.revisions).toEqual(new Map([[c.trace, 1]]));
    kill();

    const assemblers: EpisodeAssembler[] = [];
    const next = await nextOwner(fake, delivery, c, assemblers);
    await until(() => eventIdsOf(fake, c.trace, 1).length > 0);
    await new Promise((r) => setTimeout(r, 300)); // past the pending verdicts' TTL: nothing else comes
    await next.stop();
    expect(eventIdsOf(fake, c.trace, 1)).toEqual(expected);
    // revision 0 is not published again
    expect(eventIdsOf(fake, c.trace, 0)).toEqual(revision0);
    const stats = assemblers[0]!.stats();
    expect(stats.expiredEvaluations).toBe(0);
    // published, the correction no longer holds the committed offset
    expect(fake.committed.get('spans/0')!.offset).toBe(String(c.spans.length));
    void first.stop().catch(() => undefined);
  });

  it('a late span is published by the next owner after a rebalance (the partition revoked: stop()), once', async () => {
    const c = await lateSpan();
    const expected = await reference(delivery, c);
    const fake = new FakeKafka();
    const clock = new ManualClock(Date.now());
    const first = await reopen(fake, fake, delivery, c, clock, true);
    await first.stop();
    const assemblers: EpisodeAssembler[] = [];
    const next = await nextOwner(fake, delivery, c, assemblers);
    await until(() => eventIdsOf(fake, c.trace, 1).length > 0);
    await new Promise((r) => setTimeout(r, 100));
    await next.stop();
    expect(eventIdsOf(fake, c.trace, 1)).toEqual(expected);
    expect(creditsOf(fake).filter((e) => e.episode_revision === 0)).toHaveLength(1);
  });
});

/** Brokers with offset.metadata.max.bytes 190: the filter may take 176 bytes; five trace ids whole take 185 and more. */
class SmallMetadata extends FakeKafka {
  override async admin() {
    return { ...(await super.admin()), offsetMetadataMaxBytes: async () => 190 };
  }
}

/** Four runs without their roots: they stay open. */
async function openRuns(from: number): Promise<Rec[]> {
  const open: Rec[] = [];
  for (let i = 0; i < 4; i++) {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 620 + i });
    open.push({ offset: from + i, value: encodeTraces(run.spans.filter((s) => !isRoot(s)), 'otlp_proto') });
  }
  return open;
}

describe('KafkaPipeline: corrections whose replay filter does not fit the offset metadata whole', () => {
  it('a correction rebuilt from a replay is left out of the next replay below the processed position (lost, as before), not named to be rebuilt as a revision 0', async () => {
    const c = await lateSpan();
    const fake = new SmallMetadata();
    // the previous owner's commit: the correction pending, its filter whole
    fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: `ac1;2;${c.trace}#1` });
    const clock = new ManualClock(Date.now());
    const warned: string[] = [];
    const p = pipeline(fake, 'exactly-once', { logs: false, clock, warned });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 30));
    // the correction's records, then four runs that stay open: the filter no longer fits whole
    await fake.deliver('spans', 0, [...c.spans, ...(await openRuns(2))]);
    await until(() => decodeReplayMetadata(fake.committed.get('spans/0')?.metadata)?.processedNext === '6');
    const filter = decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)!;
    expect(filter.revisions).toBeUndefined();
    expect(replayKeeps(filter, '0', c.trace)).toBe(false);
    expect(replayKeeps(filter, '1', c.trace)).toBe(false);
    expect(warned.some((m) => /not held for a restart/.test(m))).toBe(true);
    await p.stop();
  });


  it('are committed as before (only their own records held), and a warn line says so and the fix', async () => {
    const c = await lateSpan();
    // four runs without their roots stay open on the partition, below the run that is corrected
    const open = await openRuns(0);
    const shifted: Case = {
      ...c,
      spans: [...open, ...c.spans.map((r) => ({ ...r, offset: r.offset + 4 }))],
      first: { spans: [...open, { ...c.first.spans[0]!, offset: 4 }], logs: [] },
      late: { topic: 'spans', record: { ...c.late.record, offset: 5 } },
    };
    const fake = new SmallMetadata();
    const clock = new ManualClock(Date.now());
    const warned: string[] = [];
    const p = pipeline(fake, 'exactly-once', { logs: false, clock, hangCorrections: true, warned });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, shifted.first.spans);
    clock.advance(1_000);
    await until(() => eventIdsOf(fake, c.trace, 0).length > 0);
    await fake.deliver('spans', 0, [shifted.late.record]);
    await until(() => decodeReplayMetadata(fake.committed.get('spans/0')?.metadata)?.processedNext === '6');
    const filter = decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)!;
    expect(fake.committed.get('spans/0')!.offset).toBe('0'); // the open runs
    expect(filter.revisions).toBeUndefined();
    // the correction's own record replayed, not revision 0's (as before: the ids are hashed to fit)
    expect(filter.compact).toBe(true);
    expect(replayKeeps(filter, '5', c.trace)).toBe(true);
    expect(replayKeeps(filter, '4', c.trace)).toBe(false);
    expect(warned.some((m) => /not held for a restart/.test(m) && /offset\.metadata\.max\.bytes/.test(m))).toBe(true);
    await p.stop();
  });
});

describe.each(['exactly-once', 'at-least-once'] as const)('KafkaPipeline %s: a rebalance within one instance while a correction is open', (delivery) => {
  it('the partition assigned again (a rebalance that keeps it) replays the correction from its first revision and publishes it once', async () => {
    const c = await lateSpan();
    const expected = await reference(delivery, c);
    const fake = new FakeKafka();
    const clock = new ManualClock(Date.now());
    const p = await reopen(fake, fake, delivery, c, clock);
    // the group rebalances: the assembler is rebuilt and the partition read again from its commit
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 30));
    const from = Number(fake.committed.get('spans/0')!.offset);
    expect(from).toBe(0);
    await fake.deliver('spans', 0, c.spans.filter((r) => r.offset >= from));
    clock.advance(1_000);
    await until(() => eventIdsOf(fake, c.trace, 1).length > 0);
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    expect(eventIdsOf(fake, c.trace, 1)).toEqual(expected);
    expect(creditsOf(fake).filter((e) => e.episode_revision === 0)).toHaveLength(1);
  });
});
