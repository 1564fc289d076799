/**
 * The Kafka pipeline run of the benchmark (section 2), alone and repeated, for a CPU profile of
 * its timed window only (first span in → last episode's events published):
 *
 *   KAFKA_CACHE_DIR=/tmp/kafka-cache PROFILE_DIR=/tmp/prof node --import tsx --import ./bench/lib/use-build.mjs bench/pipeline/profile.ts
 *   node --import tsx bench/pipeline/profile-summary.ts /tmp/prof/*.cpuprofile
 *
 * Without `--import ./bench/lib/use-build.mjs` it measures the sources through tsx instead of the
 * compiled build that `npm run bench` and `npm start` run (it prints which).
 * Environment: RUNS (default 4), WARM (default 2: runs not profiled, they warm the JIT),
 * CREDIT_WORKERS (default 0: credit on the consumer thread), EPISODES (default 1500),
 * COMPRESSION (none | lz4, default none), INSTANCES (default 1; 2–4: that many pipeline instances in
 * one group, each on its own thread — ./instances-run.ts; not profiled; the topics have 4
 * partitions, so a fifth instance would get none), PROFILE_DIR (one .cpuprofile per profiled run; without
 * it nothing is profiled), HEAP=1 (a .heapprofile of the window's allocations instead, sampled
 * every 4 KiB, collected ones included: ./heap-summary.ts sums them), KAFKA_BROKERS (else a
 * broker of its own, as the benchmark's), PRECOMPUTED=1 (credit free, as the benchmark's diagnostic
 * run: each episode's events computed before the runs and looked up, so the profile is the consumer
 * thread's own work — decode, assembly, serialization, produce; CREDIT_WORKERS=0, INSTANCES=1 only).
 * Prints each run's seconds, CPU-seconds (this process + broker) and the main thread's
 * event-loop utilization over the window (near 1: that thread is the limit) and its own CPU time
 * (Linux /proc; unlike the utilization, not raised by other processes taking the cores). The profiler runs
 * in-process (node:inspector), so setup, group join and teardown stay out of the profile — a
 * whole-process `--cpu-prof` mixes them in. Worker threads (CREDIT_WORKERS > 0) are not profiled; the
 * busiest thread besides the main one (the credit worker) has its CPU time printed.
 */
import '../../src/kafka/kafkajs-module.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/section.js';

const { mainThreadCpuSeconds, threadCpuSeconds, busiestOtherThreadSeconds } = await import('../lib/cpu.js');
const { benchCode } = await import('../lib/code.js');
const { openBroker, loadTopic } = await import('./broker.js');
const { fleetRecords } = await import('./data.js');
const { runPipelineOnce, creditPool } = await import('./pipeline-run.js');
const { runPipelineInstances, startInstances } = await import('./instances-run.js');

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: "${raw}" is not a non-negative integer`);
  return v;
};
const workers = int('CREDIT_WORKERS', 0);
const runs = int('RUNS', 4);
const warm = int('WARM', 2);
const episodes = int('EPISODES', 1500);
const instances = Math.max(1, int('INSTANCES', 1));
if (instances > 4) throw new Error(`INSTANCES: ${instances} instances for topics of 4 partitions: at most 4`);
const compression = process.env.COMPRESSION ?? 'none';
if (compression !== 'none' && compression !== 'lz4') throw new Error(`COMPRESSION: "${compression}" is not none or lz4`);
const profileDir = process.env.PROFILE_DIR;
const heap = process.env.HEAP === '1';
const precomputed = process.env.PRECOMPUTED === '1';
if (precomputed && (workers > 0 || instances > 1)) throw new Error('PRECOMPUTED=1: credit is looked up on the consumer thread — with CREDIT_WORKERS=0 and INSTANCES=1 only');
const seed = 20261125;
process.stdout.write(`code: ${benchCode()}\n`);

const session = profileDir ? new Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r))));
if (session && profileDir) {
  mkdirSync(profileDir, { recursive: true });
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  if (heap) await post('HeapProfiler.enable');
}

const fleet = await fleetRecords(episodes, seed, 'otlp_proto');
const pool = precomputed ? await (await import('./publish-floor.js')).precomputedCredit(fleet) : await creditPool(workers);
const instancePool = instances > 1 ? await startInstances(instances) : undefined;
const broker = await openBroker();
const ctx: BenchContext = {
  seed,
  quick: false,
  baseline: false,
  kafka: true,
  repo: join(fileURLToPath(new URL('.', import.meta.url)), '../..'), // not `import.meta`'s dirname: Node 20.11+
  workDir: tmpdir(),
  log: (m) => process.stderr.write(`${m}\n`),
};
try {
  const spansTopic = `profile_spans_${Date.now()}`;
  const logsTopic = `profile_logs_${Date.now()}`;
  await loadTopic(broker.brokers, spansTopic, 4, fleet.spanRecords);
  await loadTopic(broker.brokers, logsTopic, 4, fleet.logRecords);
  for (let i = 0; i < runs; i++) {
    const profiled = session !== undefined && i >= warm;
    let elu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
    // busy % counts time the thread was runnable but not running (other processes on the cores); its CPU time does not
    let mainCpuAtStart: number | undefined;
    let mainCpu: number | undefined;
    let threadsAtStart: Map<number, number> | undefined;
    let workerCpu: number | undefined;
    let stopped: Promise<unknown> | undefined;
    // session.post is asynchronous but the inspector handles it on this thread before the next task
    const hooks = {
      onStart: () => {
        elu = performance.eventLoopUtilization();
        mainCpuAtStart = mainThreadCpuSeconds();
        if (workers > 0) threadsAtStart = threadCpuSeconds();
        if (profiled) void (heap ? post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }) : post('Profiler.start'));
      },
      onEnd: () => {
        if (elu) elu = performance.eventLoopUtilization(elu);
        const now = mainThreadCpuSeconds();
        if (mainCpuAtStart !== undefined && now !== undefined) mainCpu = now - mainCpuAtStart;
        if (threadsAtStart) workerCpu = busiestOtherThreadSeconds(threadsAtStart, threadCpuSeconds());
        if (profiled) stopped = post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
      },
    };
    const topics = { spansTopic, logsTopic, episodes: fleet.episodes, spans: fleet.spans };
    const r = instancePool
      ? await runPipelineInstances(ctx, broker.brokers, topics, instancePool, broker.pid, compression)
      : await runPipelineOnce(ctx, broker.brokers, topics, workers, pool, undefined, broker.pid, compression, hooks);
    let file = '';
    if (stopped) {
      const { profile } = (await stopped) as { profile: unknown };
      file = join(profileDir!, `run-${String(i + 1).padStart(2, '0')}.${heap ? 'heapprofile' : 'cpuprofile'}`);
      writeFileSync(file, JSON.stringify(profile));
    }
    const u = elu ? `, main thread busy ${(100 * elu.utilization).toFixed(1)} %${mainCpu !== undefined ? ` (CPU ${mainCpu.toFixed(2)} s)` : ''}${workerCpu !== undefined ? `, busiest other thread (the credit worker) CPU ${workerCpu.toFixed(2)} s` : ''}` : '';
    process.stdout.write(`run ${i + 1}/${runs}: ${r.seconds.toFixed(3)} s, CPU ${r.cpu?.processSeconds.toFixed(2)} s (process) + ${r.cpu?.brokerSeconds?.toFixed(2) ?? '?'} s (broker)${u}${file ? ` → ${file}` : ''}\n`);
  }
} finally {
  session?.disconnect();
  await pool?.close();
  await instancePool?.close();
  await broker.stop();
}
process.exit(0);
