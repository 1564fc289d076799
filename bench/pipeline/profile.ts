/**
 * The Kafka pipeline run of the benchmark (section 2), alone and repeated, for a CPU profile:
 *
 *   KAFKA_CACHE_DIR=/tmp/kafka-cache node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/pipeline/profile.ts
 *
 * Environment: RUNS (default 4; the first warms the JIT), CREDIT_WORKERS (default 0: credit on the
 * consumer thread), EPISODES (default 1500), KAFKA_BROKERS (else a broker of its own, as the
 * benchmark's). Prints each run's seconds and CPU-seconds (this process + broker).
 * The main thread's profile is the largest .cpuprofile file; worker threads write their own.
 */
import '../../src/kafka/kafkajs-module.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../lib/section.js';

const { openBroker, loadTopic } = await import('./broker.js');
const { fleetRecords } = await import('./data.js');
const { runPipelineOnce, creditPool } = await import('./pipeline-run.js');

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: "${raw}" is not a non-negative integer`);
  return v;
};
const workers = int('CREDIT_WORKERS', 0);
const runs = int('RUNS', 4);
const episodes = int('EPISODES', 1500);
const seed = 20261125;

const pool = await creditPool(workers);
const fleet = await fleetRecords(episodes, seed, 'otlp_proto');
const broker = await openBroker();
const ctx: BenchContext = {
  seed,
  quick: false,
  baseline: false,
  kafka: true,
  repo: join(import.meta.dirname, '../..'),
  workDir: tmpdir(),
  log: (m) => process.stderr.write(`${m}\n`),
};
try {
  const spansTopic = `profile_spans_${Date.now()}`;
  const logsTopic = `profile_logs_${Date.now()}`;
  await loadTopic(broker.brokers, spansTopic, 4, fleet.spanRecords);
  await loadTopic(broker.brokers, logsTopic, 4, fleet.logRecords);
  for (let i = 0; i < runs; i++) {
    const r = await runPipelineOnce(ctx, broker.brokers, { spansTopic, logsTopic, episodes: fleet.episodes, spans: fleet.spans }, workers, pool, undefined, broker.pid, 'none');
    process.stdout.write(`run ${i + 1}/${runs}: ${r.seconds.toFixed(3)} s, CPU ${r.cpu?.processSeconds.toFixed(2)} s (process) + ${r.cpu?.brokerSeconds?.toFixed(2) ?? '?'} s (broker)\n`);
  }
} finally {
  await pool?.close();
  await broker.stop();
}
process.exit(0);
