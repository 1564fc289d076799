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
import { decodeReplayMetadata, encodeReplayMetadata } from '../../src/runtime/watermark.js';
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

describe('KafkaPipeline replay metadata: records that fed no episode', () => {
  it("re-sent records of an episode already published (the collector's exporters retry) do not make a replay rebuild that episode and publish it again", async () => {
    const fake = new FakeKafka();
    const [a, b, c] = await runs(3);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const p = pipeline(fake, 'exactly-once', processEpisode, { commitIntervalMs: 20 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    // A's spans and C's verdict wait (no verdict, no spans), holding both partitions' offsets at 0;
    // B closes on its verdict and is published
    const spans = [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }];
    const logs = [{ offset: 0, value: c!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }];
    await fake.deliver('spans', 0, spans);
    await fake.deliver('logs', 0, logs);
    const bCredits = () => fake.published.filter((r) => r.topic === 'agent_credit.episodes' && r.key === b!.spans[0]!.key).length;
    await until(() => bCredits() === 1);
    // the exporters send B's records again (retries): duplicates, dropped by the assembler
    spans.push({ offset: 2, value: b!.spans[0]!.value });
    logs.push({ offset: 2, value: b!.logs[0]!.value });
    await fake.deliver('spans', 0, spans.slice(2));
    await fake.deliver('logs', 0, logs.slice(2));
    const processed = (tp: string) => decodeReplayMetadata(fake.committed.get(tp)?.metadata)?.processedNext === '3';
    await until(() => processed('spans/0') && processed('logs/0'));
    expect([fake.committed.get('spans/0')!.offset, fake.committed.get('logs/0')!.offset]).toEqual(['0', '0']);
    // a rebalance: both partitions are read again from offset 0
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await new Promise((r) => setTimeout(r, 20));
    await fake.deliver('spans', 0, spans);
    await fake.deliver('logs', 0, logs);
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    expect(bCredits()).toBe(1);
  });
});

describe('EpisodeAssembler.holdsTrace (what the Kafka runtime names in its replay metadata)', () => {
  it('holds a trace whose one record opened and closed its episode until tick() returns it; not a span dropped as a duplicate after that', async () => {
    const run = (await import('../../src/scenarios/index.js')).kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed: 7 }), 'otlp_proto');
    const { decodeTraces, decodeLogs } = await import('../../src/otlp/index.js');
    const spans = decodeTraces(run.spans[0]!.value, 'otlp_proto');
    const traceId = spans[0]!.traceId;
    const assembler = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true });
    // the verdict first (it waits), then the spans in one record: the episode opens and closes there
    assembler.addEvaluations(evaluationsFromLogs(decodeLogs(run.logs[0]!.value, 'otlp_proto')), { topic: 'logs', partition: 0, offset: '0' });
    assembler.addSpans(spans, { topic: 'spans', partition: 0, offset: '0' });
    expect(assembler.holdsTrace(traceId)).toBe(true);
    expect(assembler.tick()).toHaveLength(1);
    expect(assembler.holdsTrace(traceId)).toBe(false);
    assembler.addSpans(spans, { topic: 'spans', partition: 0, offset: '1' }); // re-sent
    expect(assembler.stats().duplicateSpans).toBe(spans.length);
    expect(assembler.holdsTrace(traceId)).toBe(false);
  });

  it('forgets a closed episode not yet returned when its partition is dropped, and keeps the others', async () => {
    const { decodeTraces, decodeLogs } = await import('../../src/otlp/index.js');
    const { kafkaRecordsFor } = await import('../../src/scenarios/index.js');
    const assembler = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true });
    const traces: string[] = [];
    for (const [seed, partition] of [[7, 0], [8, 1]] as const) {
      const run = kafkaRecordsFor(await generateScenario({ kind: 'success', convention: 'genai', seed }), 'otlp_proto');
      const spans = decodeTraces(run.spans[0]!.value, 'otlp_proto');
      traces.push(spans[0]!.traceId);
      assembler.addEvaluations(evaluationsFromLogs(decodeLogs(run.logs[0]!.value, 'otlp_proto')), { topic: 'logs', partition, offset: '0' });
      assembler.addSpans(spans, { topic: 'spans', partition, offset: '0' });
    }
    expect(traces.map((t) => assembler.holdsTrace(t))).toEqual([true, true]); // both closed, not returned
    expect(assembler.dropPartition('spans', 0)).toBe(1);
    expect(traces.map((t) => assembler.holdsTrace(t))).toEqual([false, true]);
    expect(assembler.tick().map((e) => e.traceIds[0])).toEqual([traces[1]]);
    expect(traces.map((t) => assembler.holdsTrace(t))).toEqual([false, false]);
  });
});

describe('KafkaPipeline exactly-once: a crash right after the transaction that published a run', () => {
  it("the run's verdict is not read again as waiting for it: the logs partition's offset and filter go in that transaction (before, they lagged one commit, and the new owner's verdict waited out pendingEvaluationTtlMs and counted as expired)", async () => {
    const fake = new FakeKafka();
    const [a, b] = await runs(2);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    // The first instance dies (kill -9) once its logs partition's producer has committed once: from
    // then on its commits never answer, so nothing it does later lands.
    const logsCommits = { n: 0 };
    const dying: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => {
        const inner = fake.createTransactionalProducer(o);
        if (!/-logs-0$/.test(o?.transactionalId ?? '')) return inner;
        return {
          ...inner,
          transaction: async () => {
            const tx = await inner.transaction();
            return { ...tx, commit: async () => (++logsCommits.n > 1 ? new Promise<never>(() => undefined) : tx.commit()) };
          },
        };
      },
      createConsumer: (o) => fake.createConsumer(o),
      admin: () => fake.admin(),
    };
    const assemblers: EpisodeAssembler[] = [];
    const withTtl = (client: KafkaClient) =>
      new KafkaPipeline(
        { source: { brokers: ['fake:9092'], ...topics }, sink: { createTopics: false }, delivery: 'exactly-once', tickIntervalMs: 20, commitIntervalMs: 10_000, shutdownTimeoutMs: 100, closeTimeoutMs: 300 },
        {
          client,
          createAssembler: () => {
            const asm = new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000, closeOnEvaluation: true, pendingEvaluationTtlMs: 150 });
            assemblers.push(asm);
            return asm;
          },
          processEpisode,
          evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        },
      );
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }];
    const first = withTtl(dying);
    await first.start();
    fake.assign(assignment);
    // A's run and its verdict; B's verdict, whose run is not read yet (verdicts first: it waits)
    const spans = [{ offset: 0, value: a!.spans[0]!.value }, { offset: 1, value: b!.spans[0]!.value }];
    const logs = [{ offset: 0, value: a!.logs[0]!.value }, { offset: 1, value: b!.logs[0]!.value }];
    await fake.deliver('spans', 0, spans.slice(0, 1));
    await fake.deliver('logs', 0, logs);
    const credits = (run: typeof a) => fake.published.filter((r) => r.topic === 'agent_credit.episodes' && r.key === run!.spans[0]!.key).length;
    await until(() => credits(a) === 1);
    await new Promise((r) => setTimeout(r, 50));
    // the new owner: it claims both transactional ids (the first instance is fenced) and replays
    // from the committed offsets
    const next = withTtl(fake);
    await next.start();
    fake.assign(assignment);
    await new Promise((r) => setTimeout(r, 30));
    const from = (tp: string) => Number(fake.committed.get(tp)?.offset ?? 0);
    await fake.deliver('logs', 0, logs.filter((r) => r.offset >= from('logs/0')));
    await fake.deliver('spans', 0, spans.filter((r) => r.offset >= from('spans/0')));
    await until(() => credits(b) === 1);
    // past the TTL: nothing was left waiting for a run that never comes
    await new Promise((r) => setTimeout(r, 400));
    const stats = assemblers.at(-1)!.stats();
    expect(stats.expiredEvaluations).toBe(0);
    expect(stats.pendingEvaluations).toBe(0);
    // every run once, B with the verdict it waited for
    expect([credits(a), credits(b)]).toEqual([1, 1]);
    await next.stop();
    await first.stop();
  });

  it("a new owner reads a logs partition's committed offset only once it has claimed the spans partition's transactional id of that number: the spans partition's transactions commit that offset too, and the previous owner's last one must be fenced or finished before the read", async () => {
    const fake = new FakeKafka();
    const order: string[] = [];
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => {
        const inner = fake.createTransactionalProducer(o);
        const id = o?.transactionalId ?? '';
        return {
          ...inner,
          connect: async () => {
            // the spans partition's claim is the slow one (the broker finishing the old owner's transaction)
            if (id.endsWith('-spans-0')) await new Promise((r) => setTimeout(r, 100));
            await inner.connect();
            order.push(`claim ${id}`);
          },
        };
      },
      createConsumer: (o) => fake.createConsumer(o),
      admin: async () => {
        const admin = await fake.admin();
        return {
          ...admin,
          fetchCommittedOffsets: async (groupId, t) => {
            order.push(`read ${t.join(',')}`);
            return admin.fetchCommittedOffsets(groupId, t);
          },
        };
      },
    };
    const p = pipeline(client, 'exactly-once', events);
    await p.start();
    fake.assign([{ topic: 'logs', partition: 0 }, { topic: 'spans', partition: 0 }]);
    await until(() => order.includes('read logs') && order.includes('read spans'));
    await p.stop();
    expect(order.indexOf('claim agent-credit-logs-0')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('read logs')).toBeGreaterThan(order.indexOf('claim agent-credit-spans-0'));
  });

  it("a commit round begins with the spans partition's transaction, which carries the run's events (and the logs partition's offsets), even when the logs partition comes first in the assignment: queued first in their shared chain, the logs partition's own transaction held the events back by one", async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    const begun: string[] = [];
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => {
        const inner = fake.createTransactionalProducer(o);
        return { ...inner, transaction: async () => (begun.push(o?.transactionalId ?? ''), inner.transaction()) };
      },
      createConsumer: (o) => fake.createConsumer(o),
      admin: () => fake.admin(),
    };
    const p = pipeline(client, 'exactly-once', processEpisode);
    await p.start();
    fake.assign([{ topic: 'logs', partition: 0 }, { topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }]);
    await until(() => fake.published.some((r) => r.topic === 'agent_credit.episodes'));
    await p.stop();
    expect(begun[0]).toBe('agent-credit-spans-0');
    // the logs partition's offset went in it: committed past the verdict, by that transaction
    expect(fake.landedOffsets.find((o) => o.topic === 'logs')?.offset).toBe('1');
  });
});

describe('KafkaPipeline exactly-once: a lost commit answer on a transaction that carried a logs partition', () => {
  it("is left to the partition number's new owner when that owner has committed the logs partition since: the logs offset went in that transaction too, so a look at the spans partition alone re-claimed its transactional id (fencing the new owner there) and published the batch again", async () => {
    const fake = new FakeKafka();
    const [a] = await runs(1);
    const { processEpisode } = await import('../../src/runtime/process-episode.js');
    let newOwnerSpans: ReturnType<FakeKafka['createTransactionalProducer']> | undefined;
    const newOwnerTag = 'b0b0b0b0.1.1';
    const client: KafkaClient = {
      createProducer: () => fake.createProducer(),
      createTransactionalProducer: (o) => {
        const inner = fake.createTransactionalProducer(o);
        if (!/-spans-0$/.test(o?.transactionalId ?? '')) return inner;
        return {
          ...inner,
          transaction: async () => {
            const tx = await inner.transaction();
            let carriesLogs = false;
            return {
              ...tx,
              sendOffsets: async (groupId, offsets) => {
                carriesLogs ||= offsets.some((x) => x.topic === 'logs');
                return tx.sendOffsets(groupId, offsets);
              },
              commit: async () => {
                if (carriesLogs && newOwnerSpans === undefined) {
                  // Meanwhile the group gave partition 0 to another instance (this one was cut off
                  // and has not noticed): it claimed both transactional ids, read, and committed the
                  // logs partition in a transaction of its own. This commit's answer is then lost.
                  const spans = fake.createTransactionalProducer({ transactionalId: 'agent-credit-spans-0' });
                  const logs = fake.createTransactionalProducer({ transactionalId: 'agent-credit-logs-0' });
                  await spans.connect();
                  await logs.connect();
                  const theirs = await logs.transaction();
                  await theirs.sendOffsets('agent-credit', [{ topic: 'logs', partition: 0, offset: '1', metadata: encodeReplayMetadata('1', [], undefined, newOwnerTag) }]);
                  await theirs.commit();
                  newOwnerSpans = spans;
                  fake.loseCommitAnswers(1, false);
                }
                return tx.commit();
              },
            };
          },
        };
      },
      createConsumer: (o) => fake.createConsumer(o),
      admin: () => fake.admin(),
    };
    const p = pipeline(client, 'exactly-once', processEpisode, { commitIntervalMs: 50 });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: a!.spans[0]!.value }]);
    await fake.deliver('logs', 0, [{ offset: 0, value: a!.logs[0]!.value }]);
    const episodes = () => fake.published.filter((r) => r.topic === 'agent_credit.episodes').length;
    // settles either way: the partition left to the new owner (fetching stopped), or the batch published again
    for (let i = 0; i < 250 && !fake.paused.has('spans/0') && episodes() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await p.stop();
    expect(newOwnerSpans).toBeDefined();
    // the new owner's claim of the spans partition's id stands, and nothing of the batch went out here
    await expect(newOwnerSpans!.transaction()).resolves.toBeDefined();
    expect(episodes()).toBe(0);
    expect(fake.committed.get('logs/0')?.metadata).toContain(newOwnerTag);
    expect(fake.paused.has('spans/0')).toBe(true);
  });
});
