/**
 * Kafka part of section 2 (and the broker for section 3): the same topic drained by a bare kafkajs
 * consumer (baseline, median of 3 fresh groups) and processed by the full pipeline
 * (src/runtime KafkaPipeline: decode → assemble → credit → publish).
 */
import { int, num, table } from '../lib/markdown.js';
import type { BenchContext } from '../lib/section.js';
import { median } from '../lib/stats.js';
import { drainRaw, loadTopic, openBroker, type DrainResult } from './broker.js';
import type { FleetRecords } from './data.js';
import { runPipelineOnce, type PipelineRun } from './pipeline-run.js';

export interface KafkaBenchResult {
  rawSpansPerSecond?: number;
  pipelineSpansPerSecond?: number;
  markdown: string;
  notes: string[];
  data: unknown;
}

export async function kafkaPipelineBenchmark(ctx: BenchContext, fleet: FleetRecords): Promise<KafkaBenchResult> {
  const notes: string[] = [];
  const broker = await openBroker();
  try {
    ctx.log(`pipeline: broker ${broker.version} at ${broker.brokers}; loading ${fleet.spanRecords.length} span records`);
    const spansTopic = `bench_spans_${ctx.seed}_${Date.now()}`;
    const logsTopic = `bench_logs_${ctx.seed}_${Date.now()}`;
    await loadTopic(broker.brokers, spansTopic, 4, fleet.spanRecords);
    await loadTopic(broker.brokers, logsTopic, 4, fleet.logRecords);
    const raw: DrainResult[] = [];
    for (let i = 0; i < 3; i++) raw.push(await drainRaw(broker.brokers, [spansTopic], fleet.spanRecords.length, `bench-raw-${i}-${Date.now()}`));
    const rawSeconds = median(raw.map((r) => r.seconds));
    const rawSpansPerSecond = fleet.spans / rawSeconds;
    let pipeline: PipelineRun | undefined;
    try {
      pipeline = await runPipelineOnce(ctx, broker.brokers, { spansTopic, logsTopic, episodes: fleet.episodes, spans: fleet.spans });
      notes.push(...pipeline.notes);
    } catch (err) {
      notes.push(`Kafka pipeline not measured: ${(err as Error).message.split('\n')[0]}`);
    }
    const pipelineSpansPerSecond = pipeline ? fleet.spans / pipeline.seconds : undefined;
    const rows = [
      ['baseline: bare kafkajs consumer (eachBatch, no processing), median of 3', int(fleet.spanRecords.length), num(rawSeconds), int(rawSpansPerSecond), ''],
      [
        'ours: KafkaPipeline decode → assemble → credit → publish',
        int(fleet.spanRecords.length + fleet.logRecords.length),
        pipeline ? num(pipeline.seconds) : 'not run',
        pipelineSpansPerSecond ? int(pipelineSpansPerSecond) : 'not run',
        pipelineSpansPerSecond ? `${num(pipelineSpansPerSecond / rawSpansPerSecond)} ${pipelineSpansPerSecond / rawSpansPerSecond >= 0.5 ? '✓' : '✗'} (goal ≥ 0.5)` : '',
      ],
    ];
    const markdown = [
      `Broker: Apache Kafka ${broker.version} (${broker.started ? 'started by scripts/kafka.ts for this run' : 'external, KAFKA_BROKERS'}), topics with 4 partitions, ${int(fleet.episodes)} episodes = ${int(fleet.spans)} spans in ${int(fleet.spanRecords.length)} span records + ${int(fleet.logRecords.length)} evaluation log records. Time is first record delivered → last record (baseline) / last episode's events acknowledged (ours); group join excluded.`,
      table(['consumer', 'records', 'seconds', 'spans/s', 'ours ÷ baseline'], rows),
      pipeline ? pipeline.markdown : '',
    ].join('\n\n');
    return { rawSpansPerSecond, pipelineSpansPerSecond, markdown, notes, data: { raw, pipeline } };
  } finally {
    await broker.stop();
  }
}
