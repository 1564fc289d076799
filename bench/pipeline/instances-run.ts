/**
 * Scale-out, as operators do it: n KafkaPipeline instances in one consumer group sharing the
 * input partitions, each on its own thread (./instance-worker.ts: its own heap, event loop and
 * Kafka connections, as a separate process of the job would have). Measured like
 * runPipelineOnce: from the first span reaching any instance's assembler to every episode closed
 * and published by all of them together, with this process's and the broker's CPU time.
 */
import { Worker } from 'node:worker_threads';
import type { KafkaPipelineStats } from '../../src/runtime/kafka-counters.js';
import { cpuBetween, cpuSample, type CpuSample } from '../lib/cpu.js';
import { int, num } from '../lib/markdown.js';
import type { BenchContext } from '../lib/section.js';
import type { FromInstance, ToInstance } from './instance-worker.js';
import type { PipelineRun, PipelineTopics } from './pipeline-run.js';

const boot = new URL('../../src/runtime/credit-workers/boot.mjs', import.meta.url);
const entry = new URL('./instance-worker.ts', import.meta.url);

/** n started instance threads, kept across runs so later runs measure warm code. */
export interface InstancePool {
  readonly workers: readonly Worker[];
  close(): Promise<void>;
}

export async function startInstances(n: number): Promise<InstancePool> {
  const workers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Worker>((resolve, reject) => {
          const w = new Worker(boot, { workerData: { entryUrl: entry.href }, name: 'bench-pipeline-instance' });
          w.once('error', reject);
          w.once('message', (m: FromInstance) => (m.kind === 'ready' ? resolve(w) : reject(new Error(`instance thread: ${JSON.stringify(m)}`))));
        }),
    ),
  );
  return { workers, close: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}

/** Counters summed over instances; `paused` when any is. */
export function sumStats(all: readonly KafkaPipelineStats[]): KafkaPipelineStats {
  const out: Record<string, number | boolean> = {};
  for (const s of all) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') out[k] = ((out[k] as number | undefined) ?? 0) + v;
      else if (typeof v === 'boolean') out[k] = (out[k] as boolean | undefined) === true || v;
    }
  }
  return out as unknown as KafkaPipelineStats;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function runPipelineInstances(ctx: BenchContext, brokers: string, topics: PipelineTopics, pool: InstancePool, brokerPid?: number, compression: 'none' | 'lz4' = 'none', inputPartitions = 8): Promise<PipelineRun> {
  const n = pool.workers.length;
  const tag = `${ctx.seed}_x${n}_${Date.now()}`;
  const latest: (KafkaPipelineStats | undefined)[] = new Array(n).fill(undefined);
  /** Each instance's last acknowledged send, on this thread's clock: the run ends at the latest. */
  const lastAck: (number | undefined)[] = new Array(n).fill(undefined);
  const final: (KafkaPipelineStats | undefined)[] = new Array(n).fill(undefined);
  let started = 0;
  /** Instances done with the run: stopped, failed after `stop`, or their thread gone. */
  const finished = new Set<number>();
  let stopping = false;
  let failure: string | undefined;
  let first: number | undefined;
  let firstCpu: CpuSample | undefined;
  let end: number | undefined;
  let endCpu: CpuSample | undefined;
  const idle = () => {
    if (latest.some((s) => s === undefined)) return false;
    const all = latest as KafkaPipelineStats[];
    return all.reduce((a, s) => a + s.episodesClosed, 0) >= topics.episodes && all.every((s) => s.inFlight === 0 && s.queueDepth === 0);
  };
  const listeners = pool.workers.map((w, i) => {
    const on = (m: FromInstance) => {
      if (m.kind === 'started') started++;
      else if (m.kind === 'stopped') {
        final[i] = m.stats;
        finished.add(i);
      } else if (m.kind === 'failed') {
        failure ??= `instance ${i + 1}: ${m.message}`;
        if (stopping) finished.add(i); // its answer to stop: no 'stopped' follows
      }
      else if (m.kind === 'first') {
        const at = m.at - performance.timeOrigin;
        if (first === undefined) firstCpu = cpuSample(brokerPid);
        first = Math.min(first ?? at, at);
      } else if (m.kind === 'stats') {
        latest[i] = m.stats;
        if (m.lastAckAt !== undefined) lastAck[i] = m.lastAckAt - performance.timeOrigin;
        if (end === undefined && first !== undefined && idle()) {
          endCpu = cpuSample(brokerPid);
          // the broker's acknowledgement of the last events, not this poll (stats come every 10 ms)
          const acks = lastAck.filter((a): a is number => a !== undefined);
          end = acks.length > 0 ? Math.max(...acks) : performance.now();
        }
      }
    };
    // a thread that died answers nothing more: the run fails now, naming it, instead of waiting
    // out the episode deadline and then the stop deadline (whose error hid this one)
    const onError = (err: Error) => {
      failure ??= `instance ${i + 1}: its thread failed: ${err.message}`;
      finished.add(i);
    };
    const onExit = (code: number) => {
      failure ??= `instance ${i + 1}: its thread exited (code ${code})`;
      finished.add(i);
    };
    w.on('message', on);
    w.on('error', onError);
    w.on('exit', onExit);
    return () => {
      w.off('message', on);
      w.off('error', onError);
      w.off('exit', onExit);
    };
  });
  const until = async (what: string, done: () => boolean, ms: number, failFast = true) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (failFast && failure) throw new Error(failure);
      if (Date.now() > deadline) throw new Error(`scale-out run: ${what} not within ${ms} ms: ${JSON.stringify(latest.map((s) => s && { assigned: s.assignedPartitions, closed: s.episodesClosed, inFlight: s.inFlight }))}`);
      await sleep(5);
    }
  };
  let runError: unknown;
  try {
    pool.workers.forEach((w, index) => w.postMessage({ kind: 'run', index, brokers, spansTopic: topics.spansTopic, logsTopic: topics.logsTopic, tag, compression } satisfies ToInstance));
    await until('every instance started', () => started === n, 60_000);
    // every instance holds a share and the shares cover the input: the group has settled
    const balanced = () => latest.every((s) => s !== undefined && s.assignedPartitions > 0) && latest.reduce((a, s) => a + (s?.assignedPartitions ?? 0), 0) === inputPartitions;
    await until('a balanced assignment', balanced, 60_000);
    await sleep(300);
    await until('a balanced assignment (still)', balanced, 60_000);
    for (const w of pool.workers) w.postMessage({ kind: 'go' } satisfies ToInstance);
    await until('every episode published', () => end !== undefined, topics.episodes < 500 ? 60_000 : 240_000);
  } catch (err) {
    runError = err;
  }
  stopping = true;
  for (const w of pool.workers) w.postMessage({ kind: 'stop' } satisfies ToInstance);
  try {
    await until('every instance stopped', () => finished.size === n, 60_000, false);
  } catch (err) {
    runError ??= err; // the run's own error, when it has one, is the one to report
  } finally {
    listeners.forEach((off) => off());
  }
  if (runError !== undefined) throw runError;
  if (failure) throw new Error(failure); // an instance that failed while stopping: no final counters
  const stats = sumStats(final as KafkaPipelineStats[]);
  const seconds = (end! - first!) / 1000;
  const shares = final.map((s) => `${int(s!.episodesClosed)}`).join(' + ');
  return {
    seconds,
    latenciesMs: [],
    ...(firstCpu && endCpu ? { cpu: cpuBetween(firstCpu, endCpu) } : {}),
    stats,
    notes: [],
    markdown: `Pipeline counters (${n} instances in one group, each on its own thread, summed): ${int(stats.spansIn)} spans in, ${int(stats.evaluationsIn)} evaluations, ${int(stats.episodesClosed)} episodes closed (${shares}), ${int(stats.eventsOut)} events out, ${int(stats.recordsPublished)} records published, ${int(stats.creditFailures)} credit failures, ${int(stats.decodeErrors)} decode errors, ${int(stats.commits)} commits, ${int(stats.rebalances)} rebalances. Delivery at-least-once (idempotent producer), output compression ${compression}, tick 20 ms, commit every 100 ms; each instance's first batches were held until the group had settled (instance-worker.ts). Wall time ${num(seconds)} s.`,
  };
}
