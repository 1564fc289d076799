/**
 * /readyz in Kafka mode (KafkaPipeline.health): publishing failing without a break for
 * readinessPublishFailureMs makes it not ready — a group rebalance in between is no break.
 *
 * The pipelines run on a ManualClock (`deps.now`) that only the test moves: health() measures the
 * streak and the outage on it, so "failing for 399 ms" is exactly that, however loaded the machine.
 * The commit timers still run on real time: the test waits for the commits it needs (`until`),
 * never for a length of time. (Sleeping 250 ms and expecting ready against a 400 ms limit left the
 * machine 150 ms of slack.)
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { FakeKafka } from './fake-kafka.js';

const tooLarge = () => Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' });

/**
 * Resolves once `cond` holds, polled every 10 ms. Waits for something the commit timers (every
 * 20 ms) bring about; the 30 s only keeps a broken pipeline from hanging the file, and the test's
 * clock does not move meanwhile.
 */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let t = 0; t < 30_000 && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
  expect(cond(), what).toBe(true);
}

/**
 * A pipeline on the in-memory client with readinessPublishFailureMs 400, its wall clock `clock`.
 * `crediting`: the spans and logs topics, episodes closed by their verdict and credited for real
 * (events to publish); else the spans topic only, nothing closing.
 */
async function pipeline(delivery: 'exactly-once' | 'at-least-once', crediting: boolean) {
  const run = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 7 }), 'otlp_proto');
  const fake = new FakeKafka();
  const clock = new ManualClock(1_000_000);
  const { processEpisode } = await import('../../src/runtime/process-episode.js');
  const p = new KafkaPipeline(
    crediting
      ? { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }, sink: { createTopics: false }, delivery, commitIntervalMs: 20, tickIntervalMs: 10, readinessPublishFailureMs: 400 }
      : { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false }, delivery, commitIntervalMs: 20, readinessPublishFailureMs: 400 },
    {
      client: fake,
      now: () => clock.now(),
      createAssembler: () => (crediting ? new EpisodeAssembler({ graceMs: 100, idleMs: 600_000, closeOnEvaluation: true }) : new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 })),
      processEpisode: crediting ? (e) => processEpisode(e) : async () => [],
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    },
  );
  await p.start();
  /** The group assigns the partitions here (again) and the run's first spans record is read. */
  const joinAndRead = async () => {
    fake.assign(crediting ? [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }] : [{ topic: 'spans', partition: 0 }]);
    fake.handlers!.onState!('joined');
    await fake.deliver('spans', 0, [{ offset: 0, value: run.spans[0]!.value }]);
  };
  const failures = () => p.stats().consecutiveCommitFailures;
  return { run, fake, p, clock, joinAndRead, failures };
}

describe('KafkaPipeline readiness while publishing fails', () => {
  it('exactly-once: a rebalance does not restart the failure streak — not ready once publishing has failed readinessPublishFailureMs in a row across it', async () => {
    const { fake, p, clock, joinAndRead, failures } = await pipeline('exactly-once', false);
    // every transaction fails (e.g. the output topics' max.message.bytes lowered, missing ACLs)
    fake.failCommits(Number.MAX_SAFE_INTEGER, tooLarge());
    await joinAndRead();
    await until(() => failures() > 0, 'a commit failed');
    clock.advance(250);
    expect(p.health().ready).toBe(true); // failing for 250 ms < 400 ms
    // the group rebalances (another member joins or leaves); the partition comes back here and is read again
    fake.handlers!.onState!('rebalancing');
    await joinAndRead();
    const before = failures();
    await until(() => failures() > before, 'a commit failed after the rebalance'); // a fresh streak would count from 1 again
    clock.advance(149);
    expect(p.health().ready).toBe(true); // 399 ms
    clock.advance(1);
    // publishing has now failed for 400 ms without a single success: a streak restarted at the
    // rebalance would be 150 ms old
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    fake.failCommits(0, new Error('unused'));
    await p.stop();
  });

  it('exactly-once: nor do the offsets-only transactions right after it, while the replayed episodes are open again — only one that publishes ends the streak', async () => {
    const { run, fake, p, clock, joinAndRead, failures } = await pipeline('exactly-once', true);
    // transactions with events fail (an output topic refuses them); offsets-only ones commit
    fake.failCommits(Number.MAX_SAFE_INTEGER, tooLarge(), { withRecordsOnly: true });
    await joinAndRead();
    await fake.deliver('logs', 0, [{ offset: 0, value: run.logs[0]!.value }]); // the verdict closes the run: its events fail
    await until(() => failures() > 0, "the run's events failed to publish");
    clock.advance(250);
    fake.handlers!.onState!('rebalancing');
    const spansLanded = () => fake.landedOffsets.filter((o) => o.topic === 'spans').length;
    const landed = spansLanded();
    await joinAndRead(); // replayed: the run is open again (its verdict not read yet), the spans partition commits offsets only
    await until(() => spansLanded() > landed, 'an offsets-only transaction of the spans partition committed after the rebalance');
    clock.advance(150);
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    fake.failCommits(0, new Error('unused'));
    await p.stop();
  });

  it('exactly-once: a streak of offsets-only failures kept across a rebalance ends with the next offsets-only commit (nothing was failing to publish)', async () => {
    const { fake, p, clock, joinAndRead, failures } = await pipeline('exactly-once', false);
    fake.failCommits(Number.MAX_SAFE_INTEGER, new Error('The coordinator is not available'));
    await joinAndRead();
    await until(() => failures() > 0, 'an offsets commit failed');
    fake.handlers!.onState!('rebalancing');
    await joinAndRead();
    const landed = fake.transactions;
    fake.failCommits(0, new Error('unused')); // the coordinator is back
    await until(() => fake.transactions > landed, 'an offsets-only transaction committed after the rebalance');
    expect(failures()).toBe(0);
    // past readinessPublishFailureMs since the first failure: ready only because the streak ended
    clock.advance(400);
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    await p.stop();
  });

  it('at-least-once: a rebalance (and the offsets-only commits after it) does not end the failure streak while the events keep failing', async () => {
    const { run, fake, p, clock, joinAndRead, failures } = await pipeline('at-least-once', true);
    // sends with records fail (an output topic refuses them); the group's offset commits work
    fake.poisonProducers(tooLarge(), { withRecordsOnly: true });
    await joinAndRead();
    await fake.deliver('logs', 0, [{ offset: 0, value: run.logs[0]!.value }]);
    await until(() => failures() > 0, "the run's events failed to publish");
    clock.advance(250);
    fake.handlers!.onState!('rebalancing');
    const committed = fake.committed.get('spans/0');
    await joinAndRead();
    await until(() => fake.committed.get('spans/0') !== committed, "the spans partition's offsets committed after the rebalance");
    clock.advance(150);
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    await p.stop();
  });
});


describe('KafkaPipeline readiness with the brokers unreachable', () => {
  // A broker SIGKILLed: kafkajs retried it ~10 s (nested retries ~21 s) before the consumer
  // crashed, a group member all along, and /readyz stayed 200 all that time.
  it('not ready once a broker connection has failed with no fetch or heartbeat answered for max(maxWaitMs, heartbeatIntervalMs) + 1 s; ready again at the next answer', async () => {
    const fake = new FakeKafka();
    const clock = new ManualClock(1_000_000);
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null, maxWaitMs: 100, heartbeatIntervalMs: 200 }, sink: { createTopics: false }, delivery: 'at-least-once' },
      { client: fake, now: () => clock.now(), createAssembler: () => new EpisodeAssembler({}), processEpisode: async () => [], evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    fake.handlers!.onState!('joined');
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    // a failed connection answered by a fetch within the grace (another broker's, a producer's): ready throughout
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    clock.advance(600);
    expect(p.health().ready).toBe(true);
    fake.handlers!.onBrokers?.('answered');
    clock.advance(800); // 1.4 s after that failure: the answer ended it
    expect(p.health().ready).toBe(true);
    // failures, and nothing answered for the grace of 200 + 1000 ms
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    clock.advance(700);
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    clock.advance(499);
    expect(p.health().ready).toBe(true); // 1199 ms since the first of them
    clock.advance(1);
    const h = p.health();
    expect(h, h.detail).toMatchObject({ ready: false, live: true });
    expect(h.detail).toMatch(/^brokers unreachable for 1 s, no fetch or heartbeat answered since .*: Connection error: connect ECONNREFUSED/);
    fake.handlers!.onBrokers?.('answered');
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    await p.stop();
  });
});
