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

describe('KafkaPipeline readiness while publishing fails', () => {
  it('exactly-once: a rebalance does not restart the failure streak — not ready once publishing has failed readinessPublishFailureMs in a row across it', async () => {
    const run = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 7 }), 'otlp_proto');
    const fake = new FakeKafka();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false }, delivery: 'exactly-once', commitIntervalMs: 20, readinessPublishFailureMs: 400 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 }),
        processEpisode: async () => [],
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
      },
    );
    await p.start();
    // every transaction fails (e.g. the output topics' max.message.bytes lowered, missing ACLs)
    fake.failCommits(Number.MAX_SAFE_INTEGER, Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' }));
    const joined = () => {
      fake.assign([{ topic: 'spans', partition: 0 }]);
      fake.handlers!.onState!('joined');
    };
    joined();
    await fake.deliver('spans', 0, [{ offset: 0, value: run.spans[0]!.value }]);
    await sleep(250);
    expect(p.stats().consecutiveCommitFailures).toBeGreaterThan(0);
    expect(p.health().ready).toBe(true); // failing for < 400 ms
    // the group rebalances (another member joins or leaves); the partition comes back here and is read again
    fake.handlers!.onState!('rebalancing');
    joined();
    await fake.deliver('spans', 0, [{ offset: 0, value: run.spans[0]!.value }]);
    await sleep(300);
    // publishing has now failed for ~550 ms without a single success
    const h = p.health();
    expect(h.ready, h.detail).toBe(false);
    expect(h.detail).toMatch(/publishing has failed for/);
    fake.failCommits(0, new Error('unused'));
    await p.stop();
  });
});
