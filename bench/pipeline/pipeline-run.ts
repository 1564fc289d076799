/**
 * Runs the project's KafkaPipeline (src/runtime) over loaded topics, with the real assembler
 * (src/episodes), decoders, conventions and credit (`processEpisode`), and measures it:
 * - `runPipelineOnce`: topics already loaded; time from the first span record reaching the
 *   assembler to every episode closed with its events published and nothing in flight.
 * - `runPipelineLive`: the pipeline runs while records arrive at a steady rate; per episode, the
 *   time from the assembler closing it to its episode_credit event reaching an output consumer.
 * Modules are loaded at run time (lib/optional.ts): a missing stage throws an error naming it.
 */
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import type { KafkaPipelineStats } from '../../src/runtime/kafka-counters.js';
import type { KafkaClient } from '../../src/kafka/client.js';
import { steadyTicks, type SteadyLoad } from '../latency/raw.js';
import { cpuBetween, cpuSample, type CpuSample } from '../lib/cpu.js';
import { int, num } from '../lib/markdown.js';
import { loadOptional } from '../lib/optional.js';
import type { BenchContext } from '../lib/section.js';
import { kafkaClient } from './broker.js';
import type { FleetRecords } from './data.js';

export interface PipelineRun {
  seconds: number;
  /** Episode close → episode_credit consumed, ms (live runs only). */
  latenciesMs: number[];
  /** CPU used from the first span to the end, by this process and the broker (runPipelineOnce only). */
  cpu?: CpuSample;
  stats: KafkaPipelineStats;
  markdown: string;
  notes: string[];
}

/** Called at the edges of a run's timed window (first span in → last episode's events out), e.g. to profile only that. */
export interface TimedWindowHooks {
  onStart?(): void;
  onEnd?(): void;
}

export interface PipelineTopics {
  spansTopic: string;
  logsTopic: string;
  episodes: number;
  spans: number;
}

/** The events, or (credit workers) the packed form the Kafka runtime also takes (src/events/credited-events.ts). */
type ProcessEpisode = (episode: Episode) => Promise<readonly CreditEvent[] | object>;

interface Stages {
  KafkaPipeline: new (config: unknown, deps: unknown) => { start(): Promise<void>; stop(): Promise<void>; stats(): KafkaPipelineStats };
  KafkajsClient: new (o: { brokers: string[]; clientId?: string }) => KafkaClient;
  EpisodeAssembler: new (o?: unknown) => {
    addSpans(s: readonly Span[], p?: unknown): void;
    addEvaluations(e: readonly Evaluation[], p?: unknown): void;
    resolveEvaluation?(e: Evaluation): Evaluation;
    tick(): Episode[];
    flush(r?: string): Episode[];
    dropPartition(t: string, p: number): number;
    lowWatermark(t: string, p: number): string | undefined;
  };
  evaluationsFromLogs: (logs: readonly LogRecord[]) => Evaluation[];
  processEpisode: ProcessEpisode;
  processEpisodeSource: string;
}

export async function loadStages(): Promise<Stages> {
  const need = async (spec: string) => {
    const r = await loadOptional<Record<string, unknown>>(spec);
    if ('missing' in r) throw new Error(r.missing);
    return r.mod;
  };
  const pipeline = await need('../src/runtime/kafka-pipeline.js');
  const kafka = await need('../src/kafka/index.js');
  const episodes = await need('../src/episodes/index.js');
  const conventions = await need('../src/conventions/index.js');
  let processEpisode: ProcessEpisode | undefined;
  let source = '';
  for (const spec of ['../src/runtime/process-episode.js', '../src/runtime/index.js']) {
    const r = await loadOptional<Record<string, unknown>>(spec);
    if ('mod' in r && typeof r.mod.processEpisode === 'function') {
      // what the Kafka job runs: without processEpisode's episode check for library callers
      const fn = (r.mod.processCheckedEpisode ?? r.mod.processEpisode) as (e: Episode, o?: unknown) => Promise<CreditEvent[]>;
      processEpisode = (e) => fn(e, {});
      source = spec.replace(/^\.\.\//, '');
      break;
    }
  }
  if (!processEpisode) throw new Error('src/runtime does not export processEpisode (conventions → credit → events) yet');
  return {
    KafkaPipeline: pipeline.KafkaPipeline as Stages['KafkaPipeline'],
    KafkajsClient: kafka.KafkajsClient as Stages['KafkajsClient'],
    EpisodeAssembler: episodes.EpisodeAssembler as Stages['EpisodeAssembler'],
    evaluationsFromLogs: conventions.evaluationsFromLogs as Stages['evaluationsFromLogs'],
    processEpisode,
    processEpisodeSource: source,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface Harness {
  pipeline: InstanceType<Stages['KafkaPipeline']>;
  closedAt: Map<string, number>;
  firstSpanAt: () => number | undefined;
  /** CPU sample taken when the first span arrived. */
  firstSpanCpu: () => CpuSample | undefined;
  outputTopic: string;
  /** When the broker last acknowledged a send of the pipeline's (performance.now()), if it has. */
  lastAckAt: () => number | undefined;
}

/** What a pipeline instance of a scale-out run (./instances-run.ts) changes: its client, and group timing. */
export interface InstanceOptions {
  wrapClient?: (client: KafkaClient) => KafkaClient;
  source?: { heartbeatIntervalMs?: number; sessionTimeoutMs?: number };
  clientId?: string;
}

/** `target` with `overrides` in place of some methods; every other method runs on `target` itself. */
export function withMethods<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const v = Reflect.get(t, key, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

export function buildPipeline(s: Stages, brokers: string, topics: { spansTopic: string; logsTopic: string }, tag: string, creditConcurrency = 4, brokerPid?: number, compression: 'none' | 'lz4' = 'none', hooks?: TimedWindowHooks, instance: InstanceOptions = {}): Harness {
  const closedAt = new Map<string, number>();
  let firstSpan: number | undefined;
  let firstCpu: CpuSample | undefined;
  const record = (eps: Episode[]) => {
    const t = performance.now();
    for (const e of eps) if (!closedAt.has(e.episodeId)) closedAt.set(e.episodeId, t);
    return eps;
  };
  // the real assembler, observed: when spans first arrive and when each episode closes
  const createAssembler = () => {
    const inner = new s.EpisodeAssembler({});
    return {
      addSpans: (spans: readonly Span[], p?: unknown) => {
        if (firstSpan === undefined) {
          hooks?.onStart?.();
          firstCpu = cpuSample(brokerPid);
          firstSpan = performance.now();
        }
        inner.addSpans(spans, p);
      },
      addEvaluations: (e: readonly Evaluation[], p?: unknown) => inner.addEvaluations(e, p),
      // every port method the pipeline uses must be forwarded: a missing one changes what it does
      ...(inner.resolveEvaluation ? { resolveEvaluation: (e: Evaluation) => inner.resolveEvaluation!(e) } : {}),
      tick: () => record(inner.tick()),
      flush: (r?: string) => record(inner.flush(r)),
      dropPartition: (t: string, p: number) => inner.dropPartition(t, p),
      lowWatermark: (t: string, p: number) => inner.lowWatermark(t, p),
    };
  };
  // The end of the timed window is the broker's acknowledgement of the last events (the
  // definition in RESULTS.md), not the poll that notices it: the poll runs every 20 ms on the
  // pipeline's own thread and would add ~10 ms to every run.
  let lastAck: number | undefined;
  const ackTimed = (client: KafkaClient): KafkaClient =>
    withMethods(client, {
      createProducer: (o) => {
        const p = client.createProducer(o);
        return withMethods(p, { send: (r) => p.send(r).then(() => void (lastAck = performance.now())) });
      },
    });
  const outputTopic = `bench_out_episodes_${tag}`;
  const pipeline = new s.KafkaPipeline(
    {
      source: { brokers: brokers.split(','), groupId: `bench-pipeline-${tag}`, spansTopic: topics.spansTopic, logsTopic: topics.logsTopic, spansEncoding: 'otlp_proto', logsEncoding: 'otlp_proto', maxWaitMs: 100, ...instance.source },
      sink: { topics: { rewards: `bench_out_rewards_${tag}`, episodes: outputTopic, preferences: `bench_out_prefs_${tag}`, dlq: `bench_out_dlq_${tag}` }, partitions: 4, compression },
      delivery: benchDelivery(),
      tickIntervalMs: 20,
      commitIntervalMs: 100,
      creditConcurrency,
    },
    { client: ackTimed((instance.wrapClient ?? ((c: KafkaClient) => c))(new s.KafkajsClient({ brokers: brokers.split(','), clientId: instance.clientId ?? `bench-${tag}` }))), createAssembler, assembler: createAssembler(), processEpisode: s.processEpisode, evaluationsFromLogs: s.evaluationsFromLogs },
  );
  return { pipeline, closedAt, firstSpanAt: () => firstSpan, firstSpanCpu: () => firstCpu, outputTopic, lastAckAt: () => lastAck };
}

/**
 * The delivery the benchmark's pipelines run with: at-least-once (what RESULTS.md reports), or
 * `BENCH_DELIVERY=exactly-once` to measure the transactional path (e.g. its close → reward latency,
 * events read read_committed) — a manual comparison, not a section of its own.
 */
function benchDelivery(): 'at-least-once' | 'exactly-once' {
  const d = process.env.BENCH_DELIVERY ?? 'at-least-once';
  if (d !== 'at-least-once' && d !== 'exactly-once') throw new Error(`BENCH_DELIVERY: "${d}" is not at-least-once or exactly-once`);
  return d;
}

function idle(st: KafkaPipelineStats, episodes: number): boolean {
  return st.episodesClosed >= episodes && st.inFlight === 0 && st.queueDepth === 0;
}

/**
 * A credit worker pool (src/runtime/credit-workers) with the default configuration, or undefined
 * for 0 workers. `process` is the pool's `credit` (the events packed, as the Kafka job takes them)
 * where the pool has one.
 */
export interface CreditPool {
  process: ProcessEpisode;
  close(): Promise<void>;
}

export async function creditPool(workers: number): Promise<CreditPool | undefined> {
  if (workers === 0) return undefined;
  const poolMod = await loadOptional<{ CreditWorkerPool: { start(o: unknown): Promise<{ process: ProcessEpisode; credit?: ProcessEpisode; close(): Promise<void> }> } }>('../src/runtime/credit-workers/pool.js');
  const configMod = await loadOptional<{ AppConfigSchema: { parse(x: unknown): unknown } }>('../src/config/schema.js');
  if ('missing' in poolMod) throw new Error(poolMod.missing);
  if ('missing' in configMod) throw new Error(configMod.missing);
  const pool = await poolMod.mod.CreditWorkerPool.start({ size: workers, config: configMod.mod.AppConfigSchema.parse({}), taskTimeoutMs: 30_000 });
  return { process: (pool.credit ?? pool.process).bind(pool), close: () => pool.close() };
}

/**
 * `creditWorkers`: 0 = credit on the consumer's thread, n = `pool` runs it in n worker threads
 * (runtime.creditWorkers; the pool outlives the run so repeated runs measure warm workers).
 */
export async function runPipelineOnce(ctx: BenchContext, brokers: string, topics: PipelineTopics, creditWorkers = 0, pool?: CreditPool, creditLabel?: string, brokerPid?: number, compression: 'none' | 'lz4' = 'none', hooks?: TimedWindowHooks): Promise<PipelineRun> {
  const s = await loadStages();
  if (creditWorkers > 0 && !pool) throw new Error(`runPipelineOnce: creditWorkers ${creditWorkers} needs a pool (creditPool)`);
  if (pool) s.processEpisode = pool.process.bind(pool);
  const tag = `${ctx.seed}_w${creditWorkers}_${Date.now()}`;
  // as the runtime does (src/runtime/credit-workers creditConcurrencyFor): ≥ 16 episodes per worker
  const h = buildPipeline(s, brokers, topics, tag, creditWorkers > 0 ? Math.max(4, 16 * creditWorkers) : 4, brokerPid, compression, hooks);
  await h.pipeline.start();
  const deadline = Date.now() + (topics.episodes < 500 ? 60_000 : 240_000);
  let end = 0;
  let endCpu: CpuSample | undefined;
  try {
    while (Date.now() < deadline) {
      if (idle(h.pipeline.stats(), topics.episodes)) {
        endCpu = cpuSample(brokerPid);
        end = h.lastAckAt() ?? performance.now();
        hooks?.onEnd?.();
        break;
      }
      await sleep(20);
    }
  } finally {
    await h.pipeline.stop();
  }
  const stats = h.pipeline.stats();
  const first = h.firstSpanAt();
  if (!end || first === undefined) throw new Error(`pipeline did not finish: ${JSON.stringify(stats)}`);
  const seconds = (end - first) / 1000;
  const firstCpu = h.firstSpanCpu();
  return {
    seconds,
    latenciesMs: [],
    ...(firstCpu && endCpu ? { cpu: cpuBetween(firstCpu, endCpu) } : {}),
    stats,
    notes: creditWorkers === 0 && !pool ? [`processEpisode from ${s.processEpisodeSource}.`] : [],
    markdown: `Pipeline counters (credit ${creditLabel ?? (creditWorkers === 0 ? 'on the consumer thread' : `in ${creditWorkers} worker thread${creditWorkers > 1 ? 's' : ''}`)}): ${int(stats.spansIn)} spans in, ${int(stats.evaluationsIn)} evaluations, ${int(stats.episodesClosed)} episodes closed, ${int(stats.eventsOut)} events out, ${int(stats.recordsPublished)} records published, ${int(stats.creditFailures)} credit failures, ${int(stats.decodeErrors)} decode errors, ${int(stats.commits)} commits, ${int(stats.rebalances)} rebalances. Delivery at-least-once (idempotent producer), output compression ${compression}, tick 20 ms, commit every 100 ms. Wall time ${num(seconds)} s.`,
  };
}

export async function runPipelineLive(ctx: BenchContext, brokers: string, fleet: FleetRecords, load: SteadyLoad): Promise<PipelineRun> {
  const s = await loadStages();
  const tag = `live_${ctx.seed}_${Date.now()}`;
  const spansTopic = `bench_live_spans_${tag}`;
  const logsTopic = `bench_live_logs_${tag}`;
  const kafka = kafkaClient(brokers, 'bench-live');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [spansTopic, logsTopic].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();
  const h = buildPipeline(s, brokers, { spansTopic, logsTopic }, tag);
  await h.pipeline.start();
  // output reader: records when each episode's episode_credit event arrives
  const arrivedAt = new Map<string, number>();
  const reader = kafka.consumer({ groupId: `bench-reader-${tag}`, maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topic: h.outputTopic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      try {
        const ev = JSON.parse(message.value?.toString() ?? '{}') as { episode_id?: string };
        if (ev.episode_id && !arrivedAt.has(ev.episode_id)) arrivedAt.set(ev.episode_id, performance.now());
      } catch {
        // not JSON: ignored (counted below as missing)
      }
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  await sleep(1000);
  const n = Math.min(fleet.spanRecords.length, Math.round(load.rate * load.seconds));
  const logsByKey = new Map(fleet.logRecords.map((r) => [r.key, r]));
  try {
    // each tick: one trace's spans record, then its evaluation log record (as a live run emits them)
    await steadyTicks({ rate: load.rate, seconds: n / load.rate }, async (i) => {
      const r = fleet.spanRecords[i]!;
      await producer.send({ topic: spansTopic, acks: -1, messages: [{ key: r.key, value: Buffer.from(r.value) }] });
      const l = logsByKey.get(r.key);
      if (l) await producer.send({ topic: logsTopic, acks: -1, messages: [{ key: l.key, value: Buffer.from(l.value) }] });
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && arrivedAt.size < n) await sleep(50);
  } finally {
    await producer.disconnect();
    await h.pipeline.stop();
    await reader.disconnect();
  }
  const latencies: number[] = [];
  for (const [id, t] of arrivedAt) {
    const c = h.closedAt.get(id);
    if (c !== undefined) latencies.push(t - c);
  }
  const stats = h.pipeline.stats();
  return {
    seconds: load.seconds,
    latenciesMs: latencies,
    stats,
    notes: [`processEpisode from ${s.processEpisodeSource}; ${latencies.length} of ${n} episodes matched close → output.`],
    markdown: '',
  };
}
