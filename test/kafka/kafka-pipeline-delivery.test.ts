/**
 * KafkaPipeline delivery guarantees against the in-memory client: what is published and what is
 * committed around rebalances and sends in flight (dead letters, held offsets).
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline, type KafkaPipelineDeps } from '../../src/runtime/kafka-pipeline.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import type { KafkaClient } from '../../src/kafka/client.js';
import { FakeKafka } from './fake-kafka.js';

const topics = { spansTopic: 'spans', logsTopic: 'logs' };
const DLQ = 'agent_credit.dlq';

async function runs(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 100 + i }), 'otlp_proto'));
  return out;
}

function pipeline(client: KafkaClient, delivery: 'exactly-once' | 'at-least-once', processEpisode: KafkaPipelineDeps['processEpisode'], extra: object = {}) {
  return new KafkaPipeline(
    { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery, tickIntervalMs: 10_000, commitIntervalMs: 10_000, ...extra },
    {
      client,
      createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true }),
      processEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    },
  );
}

const events = async (_episode: Episode) => [] as never[];
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
};

describe('KafkaPipeline at-least-once: offsets committed after a send', () => {
  it('never pass a dead letter of a record read while the send was under way (it is not in that send): a rebalance before the next send lost it for good', async () => {
    const fake = new FakeKafka();
    let gate: Promise<void> | undefined;
    let open: () => void = () => undefined;
    let sends = 0;
    const client: KafkaClient = {
      createProducer: () => {
        const inner = fake.createProducer();
        return {
          ...inner,
          send: async (records) => {
            if (gate) await gate;
            // the send after the first fails (the broker went away)
            if (++sends === 2) throw new Error('injected: the broker is away');
            return inner.send(records);
          },
        };
      },
      createTransactionalProducer: (o) => fake.createTransactionalProducer(o),
      createConsumer: (o) => fake.createConsumer(o),
      admin: () => fake.admin(),
    };
    const p = pipeline(client, 'at-least-once', events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    gate = new Promise((r) => (open = r));
    // offset 0's dead letter goes out in a send that waits; offset 1 is read meanwhile
    await fake.deliver('spans', 0, [{ offset: 0, value: 'not otlp (0)' }]);
    await new Promise((r) => setTimeout(r, 10));
    await fake.deliver('spans', 0, [{ offset: 1, value: 'not otlp (1)' }]);
    gate = undefined;
    open();
    await until(() => fake.committed.get('spans/0') !== undefined && sends >= 2);
    await new Promise((r) => setTimeout(r, 10));
    // a rebalance before that dead letter went out: the partition is read again from its committed offset
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 20));
    const from = Number(fake.committed.get('spans/0')!.offset);
    const again = [{ offset: 0, value: 'not otlp (0)' }, { offset: 1, value: 'not otlp (1)' }].filter((r) => r.offset >= from);
    if (again.length > 0) await fake.deliver('spans', 0, again);
    await new Promise((r) => setTimeout(r, 30));
    await p.stop();
    const offsets = fake.published.filter((r) => r.topic === DLQ).map((r) => String(r.headers?.['x-agent-credit-source-offset']));
    expect(new Set(offsets)).toEqual(new Set(['0', '1']));
  });
});

describe('KafkaPipeline dead letters on replay', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('a dead letter already published is not published again when its record is replayed below the processed position (an open episode held the offset before it; %s)', async (delivery) => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const p = pipeline(fake, delivery, events);
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    // offset 0: spans of an episode that stays open (its verdict never comes); offset 1: undecodable
    const batch = [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, key: 'k', value: 'not otlp at all' }];
    await fake.deliver('spans', 0, batch);
    await until(() => fake.committed.get('spans/0') !== undefined);
    expect(fake.published.filter((r) => r.topic === DLQ)).toHaveLength(1);
    expect(fake.committed.get('spans/0')!.offset).toBe('0'); // held by the open episode
    // a rebalance (same member): the partition is read again from its committed offset
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 20));
    await fake.deliver('spans', 0, batch);
    await new Promise((r) => setTimeout(r, 30));
    await p.stop();
    expect(fake.published.filter((r) => r.topic === DLQ)).toHaveLength(1);
  });
  it('the same for a partly invalid evaluation record (its valid entries are used, the record goes to the DLQ): not again on replay', async () => {
    const fake = new FakeKafka();
    const p = pipeline(fake, 'exactly-once', events, { source: { brokers: ['fake:9092'], ...topics, evaluationsTopic: 'evals' } });
    await p.start();
    fake.assign([{ topic: 'evals', partition: 0 }]);
    // offset 0: a verdict whose spans never come (it waits, holding its record); offset 1: one valid entry, one invalid
    const batch = [
      { offset: 0, value: JSON.stringify({ trace_id: 'a'.repeat(32), name: 'quality', score: 1 }) },
      { offset: 1, value: `${JSON.stringify({ trace_id: 'b'.repeat(32), name: 'quality', score: 1 })}\nnot json` },
    ];
    await fake.deliver('evals', 0, batch);
    await until(() => fake.committed.get('evals/0') !== undefined);
    expect(fake.published.filter((r) => r.topic === DLQ)).toHaveLength(1);
    expect(fake.committed.get('evals/0')!.offset).toBe('0');
    fake.assign([{ topic: 'evals', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 20));
    await fake.deliver('evals', 0, batch);
    await new Promise((r) => setTimeout(r, 30));
    await p.stop();
    expect(fake.published.filter((r) => r.topic === DLQ)).toHaveLength(1);
  });
});
