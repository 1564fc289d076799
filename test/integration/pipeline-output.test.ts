/**
 * End to end on the real broker: OTLP records as the collector's kafka exporter writes them
 * (the recorded fixture records, each to its recorded partition with its key, plus
 * scenario-generator runs) → KafkaPipeline (exactly-once) → output topics, compared with the
 * in-process computation on the same input.
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { client, createTopics, fixtureRecords, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { comparable, makePipeline, pipelineConfig, referenceEvents, runUntilPublished, type PipelineProcessEpisodeFn, type PipelineTopics, type ProcessEpisodeFn } from './support/pipeline-harness.js';

// The integrator's processEpisode (conventions → credit → events). Loaded by a computed specifier
// so this file also type-checks in a tree without it; when the file exists the test must pass.
const PROCESS_EPISODE = new URL('../../src/runtime/process-episode.ts', import.meta.url);
const hasRealProcessEpisode = existsSync(fileURLToPath(PROCESS_EPISODE));
async function realProcessEpisode(): Promise<ProcessEpisodeFn> {
  const specifier = PROCESS_EPISODE.href.replace(/\.ts$/, '.js');
  const mod = (await import(/* @vite-ignore */ specifier)) as { processEpisode: (e: Parameters<ProcessEpisodeFn>[0], o?: object) => ReturnType<ProcessEpisodeFn> };
  return (episode) => mod.processEpisode(episode, {});
}

/** Runs `body` with a pool of 2 credit workers on the default configuration; no worker may have been replaced. */
async function withWorkerPool(body: (pool: import('../../src/runtime/credit-workers/pool.js').CreditWorkerPool) => Promise<unknown>): Promise<void> {
  const { CreditWorkerPool } = await import('../../src/runtime/credit-workers/pool.js');
  const { loadConfig } = await import('../../src/config/index.js');
  const pool = await CreditWorkerPool.start({ size: 2, config: loadConfig({ env: {} }).config, taskTimeoutMs: 30_000 });
  try {
    await body(pool);
    expect(pool.stats().restarts).toBe(0);
  } finally {
    await pool.close();
  }
}

function topicsFor(name: string): PipelineTopics {
  const base = unique(name);
  return {
    spans: `${base}.spans`,
    logs: `${base}.logs`,
    rewards: `${base}.rewards`,
    episodes: `${base}.episodes`,
    preferences: `${base}.preferences`,
    dlq: `${base}.dlq`,
  };
}

async function runCase(
  encoding: 'otlp_proto' | 'otlp_json',
  sourceEncoding: 'otlp_proto' | 'otlp_json' | 'auto',
  delivery: 'exactly-once' | 'at-least-once',
  processEpisode?: ProcessEpisodeFn,
  /** What the pipeline credits with, when not `processEpisode` (the reference always uses that). */
  pipelineProcessEpisode?: PipelineProcessEpisodeFn,
) {
  const c = client();
  const topics = topicsFor(`out-${encoding}`);
  await createTopics(c, [topics.spans, topics.logs], 4);

  const runs = await generateFleet({ episodes: 12, seed: 11 });
  const gen = kafkaRecordsFor(runs, encoding);
  const keyed = (topic: string) => (r: { key: string; value: Uint8Array }): OutgoingRecord => ({ topic, key: r.key === '' ? null : r.key, value: r.value });
  const spanRecords = [...fixtureRecords(encoding, 'otlp_spans', topics.spans), ...gen.spans.map(keyed(topics.spans))];
  const logRecords = [...fixtureRecords(encoding, 'otlp_logs', topics.logs), ...gen.logs.map(keyed(topics.logs))];
  const expected = await referenceEvents(spanRecords, logRecords, processEpisode);
  const expectedEpisodes = new Set(expected.map((e) => e.episode_id)).size;

  await produce(c, [...spanRecords, ...logRecords]);
  const groupId = unique('grp');
  const pipeline = makePipeline(pipelineConfig(topics, groupId, { delivery, source: { brokers: ['unused'], groupId, spansTopic: topics.spans, logsTopic: topics.logs, spansEncoding: sourceEncoding, logsEncoding: sourceEncoding, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } }), 2_000, pipelineProcessEpisode ?? processEpisode);
  const stats = await runUntilPublished(pipeline, expectedEpisodes);
  expect(stats.decodeErrors).toBe(0);
  expect(stats.recordsIn).toBe(spanRecords.length + logRecords.length);

  const records = await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length);
  const got = parseEvents(records);
  // Keys as documented: rewards by agent id, episode credits by episode id.
  for (const r of records) {
    const e = JSON.parse(new TextDecoder().decode(r.value!)) as { event_type: string; agent_id?: string; episode_id: string };
    expect(new TextDecoder().decode(r.key!)).toBe(e.event_type === 'episode_credit' ? e.episode_id : e.agent_id);
  }
  const byId = <T extends { event_id: string }>(es: readonly T[]): T[] => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
  expect(got.length).toBe(expected.length);
  expect(byId(got).map(comparable)).toEqual(byId(expected).map(comparable));
  // The fixture runs are among the episodes (9 recorded traces).
  expect(expectedEpisodes).toBe(9 + runs.length);
}

describe('KafkaPipeline output equals the in-process computation', () => {
  it('otlp_proto records (recorded collector output + generated runs), exactly-once', async () => {
    await runCase('otlp_proto', 'otlp_proto', 'exactly-once');
  });

  it('otlp_json records with encoding auto, at-least-once', async () => {
    await runCase('otlp_json', 'auto', 'at-least-once');
  });

  it.runIf(hasRealProcessEpisode)('with the real processEpisode (conventions → credit → events), exactly-once', async () => {
    await runCase('otlp_proto', 'otlp_proto', 'exactly-once', await realProcessEpisode());
  });

  it.runIf(hasRealProcessEpisode)('with credit in worker threads (runtime.creditWorkers 2), at-least-once: same events as in-process', async () => {
    await withWorkerPool(async (pool) => runCase('otlp_proto', 'otlp_proto', 'at-least-once', await realProcessEpisode(), (episode) => pool.process(episode)));
  });

  it.runIf(hasRealProcessEpisode)('with credit in worker threads replying without the event objects (CreditWorkerPool.credit, as the Kafka job): same events as in-process', async () => {
    await withWorkerPool(async (pool) => runCase('otlp_proto', 'otlp_proto', 'exactly-once', await realProcessEpisode(), (episode) => pool.credit(episode)));
  });
});
