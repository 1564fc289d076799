/**
 * Section 3: latency from episode close to its reward events being published, at a steady load,
 * against the broker's own produce → consume latency at the same rate on the same broker.
 */
import { num, table } from '../lib/markdown.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { quantile } from '../lib/stats.js';
import { openBroker } from '../pipeline/broker.js';
import { fleetRecords } from '../pipeline/data.js';
import { runPipelineLive } from '../pipeline/pipeline-run.js';
import { rawLatency } from './raw.js';

export async function latencySection(ctx: BenchContext): Promise<SectionResult> {
  const t0 = performance.now();
  if (!ctx.kafka) {
    return {
      title: 'Latency (episode close → reward event published)',
      status: 'not-run',
      markdown: 'Not run: needs the Kafka broker (`--no-kafka`, or `--quick` without KAFKA_BROKERS).',
      plots: [],
      data: {},
      headline: {},
      seconds: 0,
    };
  }
  // below the pipeline's measured capacity (section 2), so queues stay short: a steady state, not a backlog
  const load = ctx.quick ? { rate: 5, seconds: 2 } : { rate: 10, seconds: 20 };
  const notes: string[] = [];
  const broker = await openBroker();
  const headline: Record<string, number> = {};
  let raw: number[] = [];
  let ours: number[] | undefined;
  try {
    raw = await rawLatency(broker.brokers, load);
    headline.raw_p50_ms = quantile(raw, 0.5);
    headline.raw_p99_ms = quantile(raw, 0.99);
    const fleet = await fleetRecords(Math.round(load.rate * load.seconds), ctx.seed + 2, 'otlp_proto');
    try {
      const live = await runPipelineLive(ctx, broker.brokers, fleet, load);
      ours = live.latenciesMs;
      notes.push(...live.notes);
      headline.pipeline_p50_ms = quantile(ours, 0.5);
      headline.pipeline_p99_ms = quantile(ours, 0.99);
    } catch (err) {
      notes.push(`Pipeline latency not measured: ${(err as Error).message.split('\n')[0]}`);
    }
  } finally {
    await broker.stop();
  }
  const row = (name: string, xs: number[] | undefined) =>
    xs && xs.length ? [name, String(xs.length), num(quantile(xs, 0.5)), num(quantile(xs, 0.99)), num(Math.max(...xs))] : [name, '0', 'not run', 'not run', ''];
  const md = [
    `Steady load: ${load.rate} episodes/s for ${load.seconds} s (one spans record per episode plus its evaluation log record). Ours: time from the assembler closing the episode (its \`tick()\` returning it) to the episode_credit event arriving at a consumer of the output topic. Baseline: bare kafkajs producer → consumer latency of ${load.rate} records/s on the same broker (same consumer fetch settings, maxWaitTimeInMs 100).`,
    notes.map((n) => `- ${n}`).join('\n'),
    table(['path', 'samples', 'p50 ms', 'p99 ms', 'max ms'], [row('baseline: raw produce → consume', raw), row('ours: episode close → episode_credit consumed', ours)]),
    ours && ours.length ? `Ratio ours ÷ baseline: p50 ${num(quantile(ours, 0.5) / quantile(raw, 0.5))}, p99 ${num(quantile(ours, 0.99) / quantile(raw, 0.99))}.` : '',
  ].filter((s) => s !== '');
  return {
    title: 'Latency (episode close → reward event published)',
    status: ours ? 'ran' : 'partial',
    markdown: md.join('\n\n'),
    plots: [],
    data: { load, raw, ours },
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
