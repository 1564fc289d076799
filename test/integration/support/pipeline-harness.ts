/** Builds a KafkaPipeline wired to the test stand-ins, and the in-process reference result. */
import { decodeLogs, decodeTraces, detectEncoding } from '../../../src/otlp/index.js';
import type { CreditedEvents } from '../../../src/events/credited-events.js';
import type { CreditEvent } from '../../../src/events/schemas.js';
import type { OutgoingRecord } from '../../../src/kafka/client.js';
import type { Episode } from '../../../src/model/episode.js';
import { KafkaPipeline, type KafkaPipelineConfigInput } from '../../../src/runtime/kafka-pipeline.js';
import { evaluationsFromLogs } from '../../../src/conventions/index.js';
import { testAssembler } from './test-assembler.js';
import { referenceProcessEpisode } from './reference-credit.js';
import { client } from './kafka-io.js';

export interface PipelineTopics {
  spans: string;
  logs: string;
  rewards: string;
  episodes: string;
  preferences: string;
  dlq: string;
}

/** The six topics of one test, named `<base>.spans`, `<base>.logs`, … (base unique per test). */
export function topicsNamed(base: string): PipelineTopics {
  return { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
}

export function pipelineConfig(topics: PipelineTopics, groupId: string, extra: Partial<KafkaPipelineConfigInput> = {}): KafkaPipelineConfigInput {
  return {
    source: { brokers: ['unused'], groupId, spansTopic: topics.spans, logsTopic: topics.logs, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
    sink: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq }, partitions: 3 },
    tickIntervalMs: 50,
    commitIntervalMs: 100,
    transactionalIdPrefix: groupId,
    ...extra,
  };
}

export { testAssembler };

export type ProcessEpisodeFn = (episode: Episode) => Promise<CreditEvent[]>;
/** What KafkaPipeline takes: the events, or their facts and JSON as a credit worker sends them (CreditWorkerPool.credit). */
export type PipelineProcessEpisodeFn = (episode: Episode) => Promise<readonly CreditEvent[] | CreditedEvents>;

export function makePipeline(config: KafkaPipelineConfigInput, idleMs = 2_000, processEpisode: PipelineProcessEpisodeFn = referenceProcessEpisode): KafkaPipeline {
  return new KafkaPipeline(config, {
    client: client('pipeline'),
    createAssembler: () => testAssembler(idleMs),
    processEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
  });
}

/**
 * In-process computation on the same input: decode every record, group by trace, attach
 * evaluations, `processEpisode` each episode. The reference for what the pipeline must publish.
 */
export async function referenceEvents(
  spanRecords: readonly OutgoingRecord[],
  logRecords: readonly OutgoingRecord[],
  processEpisode: ProcessEpisodeFn = referenceProcessEpisode,
): Promise<CreditEvent[]> {
  const assembler = testAssembler(60_000);
  for (const r of spanRecords) {
    const v = typeof r.value === 'string' ? new TextEncoder().encode(r.value) : r.value;
    assembler.addSpans(decodeTraces(v, detectEncoding(v)));
  }
  for (const r of logRecords) {
    const v = typeof r.value === 'string' ? new TextEncoder().encode(r.value) : r.value;
    assembler.addEvaluations(evaluationsFromLogs(decodeLogs(v, detectEncoding(v))));
  }
  const episodes = assembler.flush('shutdown');
  return (await Promise.all(episodes.map(processEpisode))).flat();
}

/** An event without the fields that legitimately differ between runs (wall clock, close reason). */
export function comparable(e: CreditEvent): unknown {
  const { emitted_at_ms: _t, ...rest } = e;
  if (rest.event_type === 'episode_credit') return { ...rest, close_reason: '*' };
  return rest;
}

/** Starts the pipeline, waits until `episodes` episodes are closed and published, stops it; returns its stats. */
export async function runUntilPublished(pipeline: KafkaPipeline, episodes: number, timeoutMs = 60_000): Promise<ReturnType<KafkaPipeline['stats']>> {
  await pipeline.start();
  try {
    await waitFor(() => pipeline.stats().episodesClosed >= episodes && pipeline.stats().inFlight === 0, timeoutMs, 'all episodes published');
  } finally {
    await pipeline.stop();
  }
  return pipeline.stats();
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
