/**
 * What publishing the pipeline's output costs on its own, on the same broker: the events the
 * pipeline produces for the fleet (computed in-process, same records: topic, key, JSON value,
 * headers) sent (a) through the pipeline's own producer path (src/kafka KafkajsClient, idempotent,
 * acks = all), (b) by a bare kafkajs producer in 512 KiB sendBatch calls and (c) by another
 * pure-JavaScript client, @platformatic/kafka (a devDependency; kafka-notes.md: "worth a
 * comparison"), in the same 512 KiB sends. None includes consuming or credit: this is the share of
 * the pipeline's time that output alone takes, and whether swapping the client would lower it.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import type { KafkaClient, OutgoingRecord } from '../../src/kafka/client.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { cpuBetween, cpuSample, type CpuSample } from '../lib/cpu.js';
import { loadOptional } from '../lib/optional.js';
import type { FleetRecords } from './data.js';

export interface PublishFloor {
  records: number;
  bytes: number;
  /** Seconds for the pipeline's producer path (KafkajsClient). */
  clientSeconds: number;
  /** Seconds for a bare kafkajs producer. */
  rawSeconds: number;
  /** CPU used by each publisher (this process; the broker's when its pid is known). */
  clientCpu: CpuSample;
  rawCpu: CpuSample;
  /** @platformatic/kafka, or why it did not run. */
  other: { name: string; seconds: number; cpu: CpuSample } | { name: string; notRun: string };
}

/** The 512 KiB chunks (by value bytes) every baseline publisher sends, one request at a time. */
function chunksOf(records: readonly OutgoingRecord[], maxBytes = 512 * 1024): OutgoingRecord[][] {
  const out: OutgoingRecord[][] = [];
  let chunk: OutgoingRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength;
    if (size + n > maxBytes && chunk.length > 0) {
      out.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(r);
    size += n;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

interface PlatformaticModule {
  Producer: new (o: Record<string, unknown>) => {
    send(o: { messages: { topic: string; key?: string; value: string; headers?: Record<string, string> }[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  stringSerializers: unknown;
}

/** The installed version of `name` (its package.json is not in its `exports`: found from its entry point). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? '';
    }
  } catch {
    // the version is only a label
  }
  return '(version unknown)';
}

/** Publishes `records` with @platformatic/kafka (idempotent, acks = all), one 512 KiB send at a time. */
async function publishWithPlatformatic(brokers: string, records: readonly OutgoingRecord[], brokerPid?: number): Promise<PublishFloor['other']> {
  const name = '@platformatic/kafka';
  let mod: PlatformaticModule;
  try {
    const spec = name; // a variable: the package is a devDependency the product never loads
    mod = (await import(spec)) as PlatformaticModule;
  } catch (err) {
    return { name, notRun: `could not load ${name} (${(err as Error).message.split('\n')[0]}; it needs Node ≥ 20.19.4)` };
  }
  const version = packageVersion(name);
  const producer = new mod.Producer({ clientId: 'bench-publish-platformatic', bootstrapBrokers: brokers.split(','), serializers: mod.stringSerializers, idempotent: true, acks: -1 });
  try {
    // Connect and learn every topic's metadata outside the timed part: one small record per topic.
    // (Not a warm-up chunk: on fresh topics the broker's first offset-index entry of a partition
    // is written with its second batch, and that first touch of the index file is slow on some
    // disks; every publisher here pays it inside its timed part, the same way.)
    await producer.send({ messages: [...new Set(records.map((r) => r.topic))].map((topic) => ({ topic, key: 'warm-up', value: '{}' })) });
    const chunks = chunksOf(records).map((c) => c.map((r) => ({ topic: r.topic, key: r.key as string, value: r.value as string, headers: r.headers as Record<string, string> })));
    const c0 = cpuSample(brokerPid);
    const t = performance.now();
    // one request in flight, as the idempotent kafkajs producers (concurrent idempotent sends are refused)
    for (const messages of chunks) await producer.send({ messages });
    return { name: `${name} ${version}`, seconds: (performance.now() - t) / 1000, cpu: cpuBetween(c0, cpuSample(brokerPid)) };
  } finally {
    await producer.close().catch(() => undefined);
  }
}

async function need<T>(spec: string): Promise<T> {
  const r = await loadOptional<T>(spec);
  if ('missing' in r) throw new Error(r.missing);
  return r.mod;
}

/**
 * The credit-free pipeline's "pool" (the benchmark's diagnostic row, profile.ts PRECOMPUTED=1): each
 * episode's events computed beforehand (`fleetEvents`) and looked up, so the pipeline does everything
 * but credit.
 */
export async function precomputedCredit(fleet: FleetRecords): Promise<{ process: (e: { episodeId: string }) => Promise<CreditEvent[]>; close: () => Promise<void> }> {
  const lookup = await fleetEvents(fleet);
  return { process: async (e) => lookup.get(e.episodeId) ?? [], close: async () => undefined };
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

export async function publishFloor(brokers: string, fleet: FleetRecords, tag: string, brokerPid?: number): Promise<PublishFloor> {
  const { KafkajsClient } = await need<{ KafkajsClient: new (o: { brokers: string[]; clientId?: string }) => KafkaClient }>('../src/kafka/index.js');
  const kafka = new Kafka({ clientId: 'bench-publish', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const mk = (v: string) => ({ rewards: `bench_pub_rewards_${v}_${tag}`, episodes: `bench_pub_episodes_${v}_${tag}`, preferences: `bench_pub_prefs_${v}_${tag}`, dlq: `bench_pub_dlq_${v}_${tag}` });
  const a = mk('client');
  const b = mk('raw');
  const c = mk('platformatic');
  // same partitioning as the pipeline's output topics (runPipelineOnce: 4 partitions)
  await admin.createTopics({ topics: [...Object.values(a), ...Object.values(b), ...Object.values(c)].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();
  const recordsA = await outputRecords(fleet, a);
  const retopic = (to: typeof a) => recordsA.map((r, i) => ({ ...r, topic: Object.values(to)[Object.values(a).indexOf(r.topic)] ?? `bench_pub_unknown_${i}` }));
  const recordsB = retopic(b);
  const recordsC = retopic(c);
  const bytes = recordsA.reduce((s, r) => s + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength), 0);

  const client = new KafkajsClient({ brokers: brokers.split(','), clientId: 'bench-publish-client' });
  const producer = client.createProducer({ idempotent: true });
  await producer.connect();
  let c0 = cpuSample(brokerPid);
  let t = performance.now();
  await producer.send(recordsA);
  const clientSeconds = (performance.now() - t) / 1000;
  const clientCpu = cpuBetween(c0, cpuSample(brokerPid));
  await producer.disconnect();

  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  c0 = cpuSample(brokerPid);
  t = performance.now();
  for (const chunk of chunksOf(recordsB)) {
    const byTopic = new Map<string, { key: string | null; value: string; headers?: Record<string, string> }[]>();
    for (const r of chunk) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key as string | null, value: r.value as string, headers: r.headers as Record<string, string> });
    }
    await raw.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }
  const rawSeconds = (performance.now() - t) / 1000;
  const rawCpu = cpuBetween(c0, cpuSample(brokerPid));
  await raw.disconnect();
  const other = await publishWithPlatformatic(brokers, recordsC, brokerPid);
  return { records: recordsA.length, bytes, clientSeconds, rawSeconds, clientCpu, rawCpu, other };
}
