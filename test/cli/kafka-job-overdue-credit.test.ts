/**
 * The Kafka job's processEpisode (what KafkaPipeline calls per closed episode) and
 * runtime.creditTimeoutMs: the runtime sends an episode whose credit passes the timeout to the DLQ
 * and lets the computation run on (it cannot cancel it). When that computation ends, its events
 * must reach none of the job's local sinks — the standings (/metrics, the live page's table), the
 * live page, stdout — which would otherwise show credit the output topics never got, and it counts
 * as a credit failure, not as a credited episode.
 */
import { describe, expect, it } from 'vitest';
import { jobProcessEpisode } from '../../src/cli/kafka-job.js';
import { creditedFromEvents, type CreditedEvents } from '../../src/events/credited-events.js';
import type { Episode } from '../../src/model/episode.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { SelfTelemetry } from '../../src/telemetry/self-metrics.js';
import type { EventSink } from '../../src/sinks/types.js';

const sample = (text: string, name: string): number =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

function setup(creditMs: number, creditTimeoutMs: number) {
  const published: CreditedEvents[] = [];
  const sink = { name: 'recording', start: async () => {}, publish: () => {}, publishCredited: (c: CreditedEvents) => void published.push(c), flush: async () => {}, close: async () => {} } satisfies EventSink;
  const telemetry = new SelfTelemetry();
  const stages = { creditTimeoutMs, creditEpisode: () => new Promise<CreditedEvents>((r) => setTimeout(() => r(creditedFromEvents([])), creditMs)) };
  const process = jobProcessEpisode(stages, [sink], telemetry, silentLogger());
  const episode = { episodeId: 'e1', revision: 0, closeReason: 'root-ended', closedAtMs: Date.now() } as unknown as Episode;
  return { published, telemetry, run: () => process(episode) };
}

describe('kafka job: credit that ends past runtime.creditTimeoutMs', () => {
  it('reaches no local sink and counts as a credit failure (the runtime sent the episode to the DLQ at the timeout)', async () => {
    const { published, telemetry, run } = setup(120, 20);
    await expect(run()).rejects.toThrow(/creditTimeoutMs/);
    expect(published).toHaveLength(0);
    const text = await telemetry.metricsText();
    expect(sample(text, 'agent_credit_credit_failures_total')).toBe(1);
    expect(sample(text, 'agent_credit_episodes_without_credit_total')).toBe(0);
    await telemetry.shutdown();
  });

  it('credit within the timeout is published to the local sinks as before', async () => {
    const { published, telemetry, run } = setup(0, 5_000);
    await run();
    expect(published).toHaveLength(1);
    expect(sample(await telemetry.metricsText(), 'agent_credit_credit_failures_total')).toBe(0);
    await telemetry.shutdown();
  });

  it('credit_latency_seconds counts from close, with the wait in the credit queue (runtime.creditConcurrency)', async () => {
    // The runtime calls processEpisode when a credit slot frees: an episode that closed 2 s before
    // (a backlog) was recorded as the few ms of its own computation.
    const telemetry = new SelfTelemetry();
    const stages = { creditTimeoutMs: 5_000, creditEpisode: async () => creditedFromEvents([]) };
    const process = jobProcessEpisode(stages, [], telemetry, silentLogger());
    await process({ episodeId: 'e2', revision: 0, closeReason: 'root-ended', closedAtMs: Date.now() - 2_000 } as unknown as Episode);
    const text = await telemetry.metricsText();
    expect(sample(text, 'agent_credit_credit_latency_seconds_count')).toBe(1);
    expect(sample(text, 'agent_credit_credit_latency_seconds_sum')).toBeGreaterThanOrEqual(2);
    await telemetry.shutdown();
  });
});
