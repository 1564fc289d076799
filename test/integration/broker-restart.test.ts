/**
 * The broker goes away mid-stream and comes back (a crash: SIGKILL, then a restart on the same
 * data and port), as in a rolling restart or a node failure. The pipeline, in its own process,
 * must ride it out without being restarted: a read_committed reader sees every episode's events,
 * equal to the in-process computation — exactly once in exactly-once mode, at least once (the
 * same content when repeated) in at-least-once mode.
 *
 * Runs its own broker (scripts/kafka.ts), since the shared one serves the other test files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import { startChild, type PipelineChild } from './support/child.js';
import { exactlyOnceSetUp, expectAtLeastOnce, expectExactlyOnce, readAllEvents } from './support/exactly-once.js';
import { produce, unique } from './support/kafka-io.js';
import { waitFor } from './support/pipeline-harness.js';

let kafka: RunningKafka | undefined;
const pipelines: PipelineChild[] = [];

beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);

afterAll(async () => {
  for (const p of pipelines) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await p.exited;
  }
  await kafka?.stop();
}, 60_000);

describe('broker crash and restart mid-stream', { timeout: 240_000 }, () => {
  it.each([
    ['exactly-once', 'every event exactly once, none missing'],
    ['at-least-once', 'every event at least once, none missing'],
  ] as const)('%s: the running pipeline recovers — %s', async (delivery, _guarantee) => {
    const broker = kafka!;
    const c = new KafkajsClient({ brokers: [broker.brokers], clientId: 'it-restart' });
    const { topics, spans, logs, expected, episodes } = await exactlyOnceSetUp(c, `restart-${delivery}`, 30, 47);
    expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(episodes);
    await produce(c, spans);
    const child = startChild({ brokers: broker.brokers, topics, groupId: unique('restart-grp'), delivery, creditDelayMs: 120, idleMs: 60_000 });
    pipelines.push(child);
    await produce(c, logs.slice(0, 12));
    const progress = () => (delivery === 'exactly-once' ? child.stats()?.transactions : child.stats()?.commits) ?? 0;
    await waitFor(() => progress() >= 1 && (child.stats()?.episodesClosed ?? 0) >= 5, 60_000, `first commits (${child.output()})`);

    const before = child.stats()!;
    await broker.restart({ signal: 'SIGKILL', downMs: 3_000 });
    // Still the same process: it was not restarted, it recovered.
    expect(child.proc.exitCode).toBeNull();
    expect(child.proc.signalCode).toBeNull();

    await produce(c, logs.slice(12));
    const got = await readAllEvents(c, topics, expected);
    if (delivery === 'exactly-once') expectExactlyOnce(got, expected);
    else expectAtLeastOnce(got, expected);
    const after = child.stats()!;
    // The outage reached the pipeline: its group membership or its transactions failed meanwhile.
    expect(after.rebalances - before.rebalances + after.commitFailures - before.commitFailures).toBeGreaterThan(0);
    expect(after.episodesClosed).toBeGreaterThan(before.episodesClosed);
    expect(after.decodeErrors).toBe(0);
    expect(child.proc.exitCode).toBeNull();
  });
});
