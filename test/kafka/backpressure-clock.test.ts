/**
 * Event time vs processing time under backpressure: while ingestion is held (runtime.creditQueueMax
 * reached, the next batch waiting unread in the source), the records that would close the open
 * episodes — their verdicts — are not read, so the episodes' timers (graceMs, awaitEvaluationMs,
 * idleMs, pendingEvaluationTtlMs) must not run on: closing them then gave a revision 0 without its
 * verdict (no credit) and, once the held batch was read, a correction — an answer replay and a job
 * that keeps up do not give.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, type Clock } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { FakeKafka } from './fake-kafka.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KafkaPipeline: the assembler clock stands still while ingestion is held for backpressure', () => {
  it('a run whose verdict waits in the held batch closes on it at revision 0, not root-ended without it and then corrected', async () => {
    const fake = new FakeKafka();
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push(kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 300 + i }), 'otlp_proto'));
    const [a, b] = runs as [(typeof runs)[number], (typeof runs)[number]];
    const seen: Episode[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 20, commitIntervalMs: 10_000, creditQueueMax: 1, creditConcurrency: 1 },
      {
        client: fake,
        // the job's own timers, shortened: a run waits 300 ms for its verdict once its root ended
        createAssembler: (clock?: Clock) => new EpisodeAssembler({ graceMs: 50, awaitEvaluationMs: 300, idleMs: 60_000 }, clock),
        processEpisode: async (episode) => {
          seen.push(episode);
          await gate; // a slow credit stage
          return [];
        },
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    // both runs' spans are read (each waits for its verdict); A's verdict closes A, which fills the queue
    await fake.deliver('spans', 0, [{ offset: 0, value: a.spans[0]!.value }, { offset: 1, value: b.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a.logs[0]!.value }]);
    expect(p.stats().paused).toBe(true);
    // B's verdict is in the topic, but ingestion is held: the batch waits in the source
    const held = fake.deliver('logs', 0, [{ offset: 1, value: b.logs[0]!.value }]);
    await sleep(700); // longer than B's awaitEvaluationMs
    release();
    await held;
    await sleep(200);
    await p.stop();
    const ofB = seen.filter((e) => e.episodeId !== seen[0]!.episodeId).map((e) => ({ revision: e.revision, closeReason: e.closeReason, evaluations: e.evaluations.length }));
    expect(ofB).toEqual([{ revision: 0, closeReason: 'evaluation-arrived', evaluations: 1 }]);
    // the credit latency metric is measured from the wall-clock close, which the pipeline keeps
    const episodeB = seen.find((e) => e.episodeId !== seen[0]!.episodeId)!;
    expect(p.closedAtWallMs(episodeB)! - episodeB.closedAtMs).toBeGreaterThanOrEqual(600);
  });

  it("src/kafka/README.md's usage example, which embedders copy, gives the assembler that clock", () => {
    // it read `createAssembler: () => new EpisodeAssembler(episodeOptions)`: on the wall clock, an
    // embedded pipeline's episodes closed without their verdicts whenever ingestion was held
    const readme = readFileSync(new URL('../../src/kafka/README.md', import.meta.url), 'utf8');
    const usage = /## Usage\n+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(usage).toContain('new KafkaPipeline(');
    expect(usage).toMatch(/createAssembler: \((\w+)\) => new EpisodeAssembler\([^,()]+, \1\)/);
  });
});

describe('KafkaPipeline: the assembler clock stands still while the brokers are unreachable', () => {
  /** A pipeline on a fake broker with a wall clock the test moves, the spans of one run (seed) read. */
  async function oneRunRead(seed: number) {
    const fake = new FakeKafka();
    const run = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed }), 'otlp_proto');
    const seen: Episode[] = [];
    const clock = { wall: 1_000_000 };
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', maxWaitMs: 100, heartbeatIntervalMs: 200 }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 20, commitIntervalMs: 10_000 },
      {
        client: fake,
        now: () => clock.wall,
        createAssembler: (c?: Clock) => new EpisodeAssembler({ graceMs: 50, awaitEvaluationMs: 3_000, idleMs: 60_000 }, c),
        processEpisode: async (episode) => {
          seen.push(episode);
          return [];
        },
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    fake.handlers!.onState!('joined');
    await fake.deliver('spans', 0, [{ offset: 0, value: run.spans[0]!.value }]);
    return { fake, run, seen, clock, p };
  }

  // On the broker (two exactly-once instances, the broker stopped for 30 s): a run whose spans were
  // read just before the outage closed `root-ended` without its verdict 10 s into it (awaitEvaluationMs
  // on the wall clock), its spans' offsets were committed once the broker was back, and the rejoin
  // that followed read the verdict alone on a fresh assembler: it expired, the run got no credit.
  it('a run read before an outage longer than awaitEvaluationMs (and the grace) closes on its verdict read after it, at revision 0', async () => {
    const { fake, run, seen, clock, p } = await oneRunRead(310);
    // the broker goes away: connections fail, nothing is answered for 30 s (grace: 200 + 1000 ms)
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    for (let i = 0; i < 30; i++) {
      clock.wall += 1_000;
      await sleep(25); // ticks
    }
    expect(seen.map((e) => e.closeReason)).toEqual([]);
    // back: the verdict the collector wrote meanwhile is read
    fake.handlers!.onBrokers?.('answered');
    await fake.deliver('logs', 0, [{ offset: 0, value: run.logs[0]!.value }]);
    await sleep(100);
    await p.stop();
    expect(seen.map((e) => ({ revision: e.revision, closeReason: e.closeReason, evaluations: e.evaluations.length }))).toEqual([{ revision: 0, closeReason: 'evaluation-arrived', evaluations: 1 }]);
  });

  it('a failed connection answered within the grace (another broker, a producer) does not hold the timers', async () => {
    const { fake, seen, clock, p } = await oneRunRead(311);
    fake.handlers!.onBrokers?.('unreachable', 'Connection error: connect ECONNREFUSED 127.0.0.1:9093');
    clock.wall += 1_000;
    fake.handlers!.onBrokers?.('answered');
    clock.wall += 2_500; // past awaitEvaluationMs: no verdict, the run closes as on the wall clock
    await sleep(100);
    await p.stop();
    expect(seen.map((e) => e.closeReason)).toEqual(['root-ended']);
  });
});
