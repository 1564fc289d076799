/**
 * What publishing the pipeline's output costs on its own, on the same broker: the events the
 * pipeline produces for the fleet (computed in-process, same records: topic, key, JSON value,
 * headers) sent (a) through the pipeline's own producer path (src/kafka KafkajsClient, idempotent,
 * acks = all) and (b) by a bare kafkajs producer in 512 KiB sendBatch calls. Neither includes
 * consuming or credit: this is the share of the pipeline's time that output alone takes.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import type { KafkaClient, OutgoingRecord } from '../../src/kafka/client.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { loadOptional } from '../lib/optional.js';
import type { FleetRecords } from './data.js';

export interface PublishFloor {
  records: number;
  bytes: number;
  /** Seconds for the pipeline's producer path (KafkajsClient). */
  clientSeconds: number;
  /** Seconds for a bare kafkajs producer. */
  rawSeconds: number;
}

async function need<T>(spec: string): Promise<T> {
  const r = await loadOptional<T>(spec);
  if ('missing' in r) throw new Error(r.missing);
  return r.mod;
}

/** Every episode's events for the fleet, computed in-process (decode → assemble → processEpisode), by episode id. */
export async function fleetEvents(fleet: FleetRecords): Promise<Map<string, CreditEvent[]>> {
  const { EpisodeAssembler } = await need<{ EpisodeAssembler: new (o?: unknown) => { addSpans(s: readonly Span[]): void; addEvaluations(e: readonly Evaluation[]): void; flush(r?: string): Episode[] } }>('../src/episodes/index.js');
  const { evaluationsFromLogs } = await need<{ evaluationsFromLogs: (l: unknown) => Evaluation[] }>('../src/conventions/index.js');
  const { processEpisode } = await need<{ processEpisode: (e: Episode) => Promise<CreditEvent[]> }>('../src/runtime/process-episode.js');
  const asm = new EpisodeAssembler({ maxOpenEpisodes: fleet.episodes + 16 });
  for (const r of fleet.spanRecords) asm.addSpans(decodeTraces(r.value, fleet.encoding));
  for (const l of fleet.logRecords) asm.addEvaluations(evaluationsFromLogs(decodeLogs(l.value, fleet.encoding)));
  const out = new Map<string, CreditEvent[]>();
  for (const e of asm.flush('shutdown')) out.set(e.episodeId, await processEpisode(e));
  return out;
}

/** The pipeline's output records for the fleet. */
async function outputRecords(fleet: FleetRecords, topics: { rewards: string; episodes: string; preferences: string; dlq: string }): Promise<OutgoingRecord[]> {
  const { eventRecord } = await need<{ eventRecord: (e: CreditEvent, t: typeof topics) => OutgoingRecord }>('../src/sinks/kafka/event-records.js');
  return [...(await fleetEvents(fleet)).values()].flat().map((ev) => eventRecord(ev, topics));
}

export async function publishFloor(brokers: string, fleet: FleetRecords, tag: string): Promise<PublishFloor> {
  const { KafkajsClient } = await need<{ KafkajsClient: new (o: { brokers: string[]; clientId?: string }) => KafkaClient }>('../src/kafka/index.js');
  const kafka = new Kafka({ clientId: 'bench-publish', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const mk = (v: string) => ({ rewards: `bench_pub_rewards_${v}_${tag}`, episodes: `bench_pub_episodes_${v}_${tag}`, preferences: `bench_pub_prefs_${v}_${tag}`, dlq: `bench_pub_dlq_${v}_${tag}` });
  const a = mk('client');
  const b = mk('raw');
  // same partitioning as the pipeline's output topics (runPipelineOnce: 4 partitions)
  await admin.createTopics({ topics: [...Object.values(a), ...Object.values(b)].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();
  const recordsA = await outputRecords(fleet, a);
  const recordsB = recordsA.map((r, i) => ({ ...r, topic: Object.values(b)[Object.values(a).indexOf(r.topic)] ?? `bench_pub_unknown_${i}` }));
  const bytes = recordsA.reduce((s, r) => s + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength), 0);

  const client = new KafkajsClient({ brokers: brokers.split(','), clientId: 'bench-publish-client' });
  const producer = client.createProducer({ idempotent: true });
  await producer.connect();
  let t = performance.now();
  await producer.send(recordsA);
  const clientSeconds = (performance.now() - t) / 1000;
  await producer.disconnect();

  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  t = performance.now();
  let chunk: OutgoingRecord[] = [];
  let size = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const byTopic = new Map<string, { key: string | null; value: string; headers?: Record<string, string> }[]>();
    for (const r of chunk) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key as string | null, value: r.value as string, headers: r.headers as Record<string, string> });
    }
    await raw.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    chunk = [];
    size = 0;
  };
  for (const r of recordsB) {
    const n = typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength;
    if (size + n > 512 * 1024) await flush();
    chunk.push(r);
    size += n;
  }
  await flush();
  const rawSeconds = (performance.now() - t) / 1000;
  await raw.disconnect();
  return { records: recordsA.length, bytes, clientSeconds, rawSeconds };
}
