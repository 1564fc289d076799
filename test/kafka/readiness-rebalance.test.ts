/**
 * /readyz in Kafka mode (KafkaPipeline.health): publishing failing without a break for
 * readinessPublishFailureMs makes it not ready — a group rebalance in between is no break.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { FakeKafka } from './fake-kafka.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tooLarge = () => Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' });

/**
 * A pipeline on the in-memory client with readinessPublishFailureMs 400. `crediting`: the spans
 * and logs topics, episodes closed by their verdict and credited for real (events to publish);
 * else the spans topic only, nothing closing.
 */
async function pipeline(delivery: 'exactly-once' | 'at-least-once', crediting: boolean) {
  const run = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 7 }), 'otlp_proto');
  const fake = new FakeKafka();
  const { processEpisode } = await import('../../src/runtime/process-episode.js');
  const p = new KafkaPipeline(
    crediting
      ? { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }, sink: { createTopics: false }, delivery, commitIntervalMs: 20, tickIntervalMs: 10, readinessPublishFailureMs: 400 }
      : { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false }, delivery, commitIntervalMs: 20, readinessPublishFailureMs: 400 },
    {
      client: fake,
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
  return { run, fake, p, joinAndRead };
}

describe('KafkaPipeline readiness while publishing fails', () => {
  it('exactly-once: a rebalance does not restart the failure streak — not ready once publishing has failed readinessPublishFailureMs in a row across it', async () => {
    const { fake, p, joinAndRead } = await pipeline('exactly-once', false);
    // every transaction fails (e.g. the output topics' max.message.bytes lowered, missing ACLs)
    fake.failCommits(Number.MAX_SAFE_INTEGER, tooLarge());
    await joinAndRead();
    await sleep(250);
    expect(p.stats().consecutiveCommitFailures).toBeGreaterThan(0);
    expect(p.health().ready).toBe(true); // failing for < 400 ms
    // the group rebalances (another member joins or leaves); the partition comes back here and is read again
    fake.handlers!.onState!('rebalancing');
    await joinAndRead();
    await sleep(300);
    // publishing has now failed for ~550 ms without a single success
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    fake.failCommits(0, new Error('unused'));
    await p.stop();
  });

  it('exactly-once: nor do the offsets-only transactions right after it, while the replayed episodes are open again — only one that publishes ends the streak', async () => {
    const { run, fake, p, joinAndRead } = await pipeline('exactly-once', true);
    // transactions with events fail (an output topic refuses them); offsets-only ones commit
    fake.failCommits(Number.MAX_SAFE_INTEGER, tooLarge(), { withRecordsOnly: true });
    await joinAndRead();
    await fake.deliver('logs', 0, [{ offset: 0, value: run.logs[0]!.value }]); // the verdict closes the run: its events fail
    await sleep(250);
    expect(p.stats().consecutiveCommitFailures).toBeGreaterThan(0);
    fake.handlers!.onState!('rebalancing');
    await joinAndRead(); // replayed: the run is open again (its verdict not read yet), the spans partition commits offsets only
    await sleep(300);
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    fake.failCommits(0, new Error('unused'));
    await p.stop();
  });

  it('exactly-once: a streak of offsets-only failures kept across a rebalance ends with the next offsets-only commit (nothing was failing to publish)', async () => {
    const { fake, p, joinAndRead } = await pipeline('exactly-once', false);
    fake.failCommits(Number.MAX_SAFE_INTEGER, new Error('The coordinator is not available'));
    await joinAndRead();
    await sleep(100);
    expect(p.stats().consecutiveCommitFailures).toBeGreaterThan(0);
    fake.handlers!.onState!('rebalancing');
    await joinAndRead();
    fake.failCommits(0, new Error('unused')); // the coordinator is back
    await sleep(400);
    expect(p.stats().consecutiveCommitFailures).toBe(0);
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    await p.stop();
  });

  it('at-least-once: a rebalance (and the offsets-only commits after it) does not end the failure streak while the events keep failing', async () => {
    const { run, fake, p, joinAndRead } = await pipeline('at-least-once', true);
    // sends with records fail (an output topic refuses them); the group's offset commits work
    fake.poisonProducers(tooLarge(), { withRecordsOnly: true });
    await joinAndRead();
    await fake.deliver('logs', 0, [{ offset: 0, value: run.logs[0]!.value }]);
    await sleep(250);
    expect(p.stats().consecutiveCommitFailures).toBeGreaterThan(0);
    fake.handlers!.onState!('rebalancing');
    await joinAndRead();
    await sleep(300);
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
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null, maxWaitMs: 100, heartbeatIntervalMs: 200 }, sink: { createTopics: false }, delivery: 'at-least-once' },
      { client: fake, createAssembler: () => new EpisodeAssembler({}), processEpisode: async () => [], evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    fake.handlers!.onState!('joined');
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    // a failed connection answered by a fetch within the grace (another broker's, a producer's): ready throughout
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    await sleep(600);
    expect(p.health().ready).toBe(true);
    fake.handlers!.onBrokers?.('answered');
    await sleep(800);
    expect(p.health().ready).toBe(true);
    // failures, and nothing answered for 1.2 s
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    await sleep(700);
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    await sleep(600);
    const h = p.health();
    expect(h, h.detail).toMatchObject({ ready: false, live: true });
    expect(h.detail).toMatch(/^brokers unreachable for 1 s, no fetch or heartbeat answered since .*: Connection error: connect ECONNREFUSED/);
    fake.handlers!.onBrokers?.('answered');
    expect(p.health()).toMatchObject({ ready: true, detail: 'consuming' });
    await p.stop();
  });
});
