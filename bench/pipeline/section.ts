/**
 * Section 2: pipeline throughput. In-process decode (src/otlp) and assembly (src/episodes) per
 * core against generic baselines; then the full Kafka pipeline (src/runtime) on the real broker
 * against a bare kafkajs consumer draining the same topic in the same run.
 */
import type { Span } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { int, num, table } from '../lib/markdown.js';
import { loadOptional } from '../lib/optional.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { throughput, type Throughput } from '../lib/timing.js';
import { fleetRecords, type FleetRecords } from './data.js';
import { processEpisodeCost, type ProcessCost } from './process.js';
import { decodeBenchmark, naiveGrouping, type DecodeResult } from './inprocess.js';
import { kafkaPipelineBenchmark, type KafkaBenchResult } from './kafka-bench.js';
import { assemblePass, decodeAssemblePass, type EpisodesModule } from './assemble.js';

const DECODE_ASSEMBLE_GOAL = 100_000; // spans/s per core (issue 4)

/**
 * Assembly throughput (and decode + assembly) over the fleet's decoded spans. A function of its
 * own so that those spans (~30k, with every attribute) are garbage once it returns: held by the
 * section through the Kafka runs, they were old-generation heap that every major GC of the
 * pipeline runs marked again — work a deployed pipeline does not have.
 */
async function assemblyThroughput(proto: FleetRecords, minMs: number, notes: string[]): Promise<{ naive: Throughput; assemble?: Throughput; decodeAssemble?: Throughput }> {
  const batches: Span[][] = proto.spanRecords.map((r) => decodeTraces(r.value, 'otlp_proto'));
  const naive = throughput(() => naiveGrouping(batches), minMs);
  const episodesMod = await loadOptional<EpisodesModule>('../src/episodes/index.js');
  if (!('mod' in episodesMod)) {
    notes.push(`Assembly not measured: ${episodesMod.missing}.`);
    return { naive };
  }
  try {
    const assemble = throughput(() => assemblePass(episodesMod.mod, batches), minMs);
    const decodeAssemble = throughput(() => decodeAssemblePass(episodesMod.mod, proto.spanRecords.map((r) => r.value), (b) => decodeTraces(b, 'otlp_proto')), minMs);
    return { naive, assemble, decodeAssemble };
  } catch (err) {
    notes.push(`Assembly benchmark failed: ${(err as Error).message}`);
    return { naive };
  }
}

export async function pipelineSection(ctx: BenchContext): Promise<SectionResult> {
  const t0 = performance.now();
  const episodes = ctx.quick ? 40 : 1500;
  const minMs = ctx.quick ? 50 : 1500;
  const notes: string[] = [];
  const headline: Record<string, number> = {};
  ctx.log(`pipeline: generating a ${episodes}-episode fleet (both encodings)`);
  const proto = await fleetRecords(episodes, ctx.seed, 'otlp_proto');
  const json = await fleetRecords(episodes, ctx.seed, 'otlp_json');

  // decode
  const decode: DecodeResult[] = [
    decodeBenchmark(proto.spanRecords.map((r) => r.value), 'otlp_proto', minMs),
    decodeBenchmark(json.spanRecords.map((r) => r.value), 'otlp_json', minMs),
  ];
  for (const d of decode) headline[`decode_${d.encoding}_spans_per_s`] = d.ours.perSecond;

  // assemble (+ decode)
  const { naive, assemble, decodeAssemble } = await assemblyThroughput(proto, minMs, notes);
  for (const [k, t] of [['assemble_spans_per_s', assemble], ['decode_assemble_spans_per_s', decodeAssemble]] as const) if (t) headline[k] = t.perSecond;

  // credit stage alone (in-process): the ceiling of the pipeline's credit work per core
  let proc: ProcessCost | undefined;
  try {
    proc = await processEpisodeCost(proto, ctx.quick ? 40 : 600);
    headline.process_episode_spans_per_s = proc.spansPerSecond;
  } catch (err) {
    notes.push(`processEpisode cost not measured: ${(err as Error).message.split('\n')[0]}`);
  }

  // Kafka
  let kafka: KafkaBenchResult | undefined;
  if (ctx.kafka) {
    try {
      kafka = await kafkaPipelineBenchmark(ctx, proto);
      if (kafka.rawSpansPerSecond) headline.kafka_raw_spans_per_s = kafka.rawSpansPerSecond;
      if (kafka.pipelineSpansPerSecond) headline.kafka_pipeline_spans_per_s = kafka.pipelineSpansPerSecond;
      notes.push(...kafka.notes);
    } catch (err) {
      notes.push(`Kafka benchmark failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    notes.push('Kafka part not run (`--no-kafka`, or `--quick` without KAFKA_BROKERS).');
  }

  const decodeRows = decode.flatMap((d) => [
    [d.encoding, 'ours: src/otlp decodeTraces → model Span', int(d.ours.perSecond), '—', int(d.bytes / d.spans)],
    ...d.baselines.map((b) => [d.encoding, `baseline: ${b.name}`, int(b.result.perSecond), num(d.ours.perSecond / b.result.perSecond), '']),
  ]);
  const asmRows = [
    ['baseline: Map<traceId, Span[]> grouping only (lower bound)', int(naive.perSecond), ''],
    ['ours: EpisodeAssembler.addSpans, episodes handed out every 64 records', assemble ? int(assemble.perSecond) : 'not run', assemble ? num(assemble.perSecond / naive.perSecond) : ''],
    ['ours: decode (proto) + assemble, record by record', decodeAssemble ? int(decodeAssemble.perSecond) : 'not run', decodeAssemble ? `${decodeAssemble.perSecond >= DECODE_ASSEMBLE_GOAL ? '✓' : '✗'} goal ≥ ${int(DECODE_ASSEMBLE_GOAL)}/s` : ''],
  ];
  const md = [
    `Input: a ${episodes}-episode fleet from the scenario generator (all kinds, all three conventions; ${int(proto.spans)} spans, ${int(proto.spans / episodes)} per episode), one record per trace as the collector writes it. One thread (= one core); median of 3 rounds of ≥ ${minMs} ms after a warm-up pass.`,
    notes.map((n) => `- ${n}`).join('\n'),
    '### Decode',
    table(['encoding', 'decoder', 'spans/s', 'ours ÷ this', 'bytes/span'], decodeRows.map((r) => r.map(String))),
    '### Assemble (issue 4 goal: ≥ 100k spans/s per core through decode + assemble)',
    table(['what', 'spans/s', 'ratio / verdict'], asmRows),
    '### Credit stage alone (in-process, one at a time)',
    proc
      ? table(
          ['what', 'episodes', 'spans', 'episodes/s', 'spans/s', 'p50 ms', 'p99 ms', 'events'],
          [['ours: processEpisode (conventions → credit → events) on assembled fleet episodes', int(proc.episodes), int(proc.spans), num(proc.episodesPerSecond), int(proc.spansPerSecond), num(proc.p50Ms), num(proc.p99Ms), int(proc.events)]],
        )
      : 'Not measured (see notes).',
    '### Kafka (real broker)',
    kafka ? kafka.markdown : 'Not run (see notes).',
    kafka?.pipelineSpansPerSecond && proc
      ? `Per core, decode + assemble runs at ${decodeAssemble ? int(decodeAssemble.perSecond) : 'n/a'} spans/s and credit (\`processEpisode\`, conventions → credit → events) at ${int(proc.spansPerSecond)} spans/s (${num(proc.p50Ms)} ms per episode at p50); the best Kafka pipeline run reaches ${int(kafka.pipelineSpansPerSecond)} spans/s end to end, publishing included (see "Publishing alone").`
      : '',
  ].filter((x) => x !== '');
  const anyKafka = kafka?.pipelineSpansPerSecond !== undefined;
  return {
    title: 'Pipeline throughput',
    status: assemble && anyKafka ? 'ran' : 'partial',
    markdown: md.join('\n\n'),
    plots: [],
    data: { episodes, spans: proto.spans, decode, naive, assemble, decodeAssemble, processEpisode: proc, kafka: kafka?.data },
    headline,
    seconds: (performance.now() - t0) / 1000,
  };
}
