/**
 * Exactly-once when a transaction's commit happens but its answer is lost (the connection drops
 * after EndTxn(commit) reached the broker) — what a broker crash mid-commit, or a network cut,
 * does to a client. kafkajs then reports the commit as failed and cannot abort it; a pipeline
 * that retried the batch would publish every event of it twice. The pipeline must find out
 * whether the commit landed: then publish nothing again; if not, publish the batch anew.
 *
 * On Kafka 4.1.1 and 3.9.1 (whose classic group coordinator applies a committed transaction's
 * offsets asynchronously, the window OffsetFetch `require_stable` exists for): a real broker of
 * this test's own per version, whose pipeline listener is advertised on the port of a
 * fault-injecting TCP proxy (support/kafka-fault-proxy.ts) that forwards EndTxn(commit) requests
 * and drops the broker's answers to chosen ones. The test's own input and output go through the
 * broker's PLAINTEXT listener directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { startChild, type PipelineChild } from './support/child.js';
import { exactlyOnceSetUp, expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { startKafkaFaultProxy, type KafkaFaultProxy } from './support/kafka-fault-proxy.js';
import { produce, unique } from './support/kafka-io.js';
import { waitFor } from './support/pipeline-harness.js';

const VERSIONS = ['4.1.1', '3.9.1'] as const;
const brokers = new Map<string, { kafka: RunningKafka; proxy: KafkaFaultProxy }>();
const pipelines: PipelineChild[] = [];

beforeAll(async () => {
  await Promise.all(
    VERSIONS.map(async (version) => {
      let listener: string | undefined;
      const proxy = await startKafkaFaultProxy(() => listener ?? '127.0.0.1:1');
      const proxyPort = Number(proxy.address.slice(proxy.address.lastIndexOf(':') + 1));
      const kafka = await startKafka({ version, extraListeners: [{ name: 'PROXIED', protocol: 'PLAINTEXT', advertisedPort: proxyPort }] }).catch(async (err: unknown) => {
        await proxy.close();
        throw err;
      });
      listener = kafka.listeners.PROXIED!;
      brokers.set(version, { kafka, proxy });
    }),
  );
}, 240_000);

afterAll(async () => {
  for (const p of pipelines) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await p.exited;
  }
  for (const { kafka, proxy } of brokers.values()) {
    await proxy.close();
    await kafka.stop();
  }
}, 60_000);

describe.each(VERSIONS)('exactly-once on Kafka %s: a commit whose answer is lost', { timeout: 180_000 }, (version) => {
  it.each([
    ['answer', 'the broker committed: the batch is not published again'],
    ['request', 'the broker never saw the commit: the batch is published by a new transaction'],
  ] as const)('lost: the %s — %s; every event appears exactly once', async (lose, _what) => {
    const { kafka, proxy } = brokers.get(version)!;
    const c = new KafkajsClient({ brokers: [kafka.brokers], clientId: 'it-lost-answer' });
    const { topics, spans, logs, expected } = await exactlyOnceSetUp(c, `lost-${lose}`, 24, 53);
    await produce(c, spans);
    const child = startChild({ brokers: proxy.address, topics, groupId: unique('lost-answer-grp'), delivery: 'exactly-once', creditDelayMs: 20, idleMs: 60_000 });
    pipelines.push(child);
    await produce(c, logs.slice(0, 8));
    await waitFor(() => (child.stats()?.transactions ?? 0) >= 1 && (child.stats()?.episodesClosed ?? 0) >= 3, 60_000, `first transactions (${child.output()})`);

    // From here on, the next three transactions that publish events lose their commit's answer
    // (the broker committed them; the pipeline never hears so) or the commit request itself.
    proxy.dropCommitAnswers(3, { withRecords: true, lose });
    const droppedBefore = proxy.dropped;
    await produce(c, logs.slice(8));
    const got = await readAllEvents(c, topics, expected);
    expect(proxy.dropped - droppedBefore).toBe(3);
    expectExactlyOnce(got, expected);
    // The pipeline noticed each lost answer and resolved it (rather than retrying or stalling).
    await waitFor(() => (child.stats()?.commitOutcomesUnknown ?? 0) >= 3, 30_000, 'the lost commits resolved');
    const s = child.stats()!;
    expect(s.commitOutcomesUnknown).toBe(3);
    // resolved as committed (nothing to retry) or as aborted (a failed transaction, retried)
    expect(s.commitFailures).toBe(lose === 'answer' ? 0 : 3);
    expect(s.decodeErrors).toBe(0);
    expect(child.proc.exitCode).toBeNull();
  });
});
