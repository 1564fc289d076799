/**
 * Spans and log records for cases the fixtures lack, recorded with the real OpenTelemetry JS SDK,
 * serialized with the real otlp-transformer serializers and decoded by src/otlp — the same path
 * production data takes.
 */
import { context, trace, type Context, type HrTime, type Span as OtelSpan, type Tracer } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanLimits } from '@opentelemetry/sdk-trace-base';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { EpisodeCredit, MessageReward } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode, type ProcessEpisodeOptions } from '../../src/runtime/process-episode.js';

export type Encoding = 'otlp_proto' | 'otlp_json';

const T0 = 1_795_575_745;
/** A timestamp `ms` milliseconds after a fixed origin (deterministic ordering). */
export function at(ms: number): HrTime {
  return [T0 + Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

export interface Recorder {
  readonly tracer: Tracer;
  /** Starts a span at `startMs` under `parent` (a span or a context; none = new trace). */
  start(name: string, startMs: number, attributes?: Record<string, unknown>, parent?: OtelSpan | Context, links?: OtelSpan[]): OtelSpan;
}

/** Runs `build` against a fresh SDK tracer (with `spanLimits`, if given), then returns the exported spans decoded by src/otlp. */
export function recordSpans(build: (r: Recorder) => void, encoding: Encoding = 'otlp_proto', serviceName = 'sdk-agents', spanLimits?: SpanLimits): Span[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(spanLimits ? { spanLimits } : {}),
  });
  const tracer = provider.getTracer('agent-credit.conventions.test', '1.0.0');
  build({
    tracer,
    start(name, startMs, attributes = {}, parent, links = []) {
      const ctx = parent === undefined ? context.active() : 'spanContext' in parent ? trace.setSpan(context.active(), parent) : parent;
      return tracer.startSpan(
        name,
        {
          startTime: at(startMs),
          attributes: attributes as never,
          links: links.map((l) => ({ context: l.spanContext() })),
          ...(parent === undefined ? { root: true } : {}),
        },
        ctx,
      );
    },
  });
  const finished = exporter.getFinishedSpans();
  const bytes = (encoding === 'otlp_proto' ? ProtobufTraceSerializer : JsonTraceSerializer).serializeRequest(finished);
  if (!bytes) throw new Error('serializer returned nothing');
  return decodeTraces(bytes, encoding);
}

/** Runs `emit` against a fresh SDK logger, then returns the exported records decoded by src/otlp. */
export function recordLogs(emit: (logger: Logger) => void, encoding: Encoding = 'otlp_proto'): LogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'task-evaluator' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  emit(provider.getLogger('task-evaluator', '1.0.0'));
  const bytes = (encoding === 'otlp_proto' ? ProtobufLogsSerializer : JsonLogsSerializer).serializeRequest(exporter.getFinishedLogRecords());
  if (!bytes) throw new Error('serializer returned nothing');
  return decodeLogs(bytes, encoding);
}

/** Context carrying a remote parent, so log records get the trace/span ids of an evaluated span. */
export function contextOf(traceId: string, spanId: string): Context {
  return trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 });
}

/** A closed trace-keyed episode of `spans` with a run-level `task_success` verdict of `score` (as the assembler hands it to credit). */
export function episodeOf(spans: Span[], score: number): Episode {
  const traceId = spans[0]!.traceId;
  return {
    episodeId: traceId, keyMode: 'trace', traceIds: [traceId], spans,
    evaluations: [{ name: 'task_success', score, traceId, source: 'log-event', timeUnixNano: 1n }],
    closeReason: 'evaluation-arrived', openedAtMs: 0, closedAtMs: 0, correction: false, revision: 0, duplicateSpans: 0, lateSpans: 0, bytes: 0, sources: [],
  };
}

/** Each agent's Shapley credit (by agent name) when `spans` are one run judged `score` (default 1), through `processEpisode`. */
export async function creditOf(spans: Span[], score = 1): Promise<Map<string, number>> {
  const events = await processEpisode(episodeOf(spans, score));
  return new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
}

/**
 * The run of `spans` and `logs` (its verdict among them) through the real assembler and `processEpisode`
 * (with `options`, e.g. a job's `credit` section): its episode_credit and message_reward events.
 * Throws unless they make exactly one episode.
 */
export async function creditEventsOf(spans: Span[], logs: LogRecord[], options?: ProcessEpisodeOptions): Promise<{ credit: EpisodeCredit; rewards: MessageReward[] }> {
  const asm = new EpisodeAssembler();
  asm.addSpans(spans);
  asm.addEvaluations(evaluationsFromLogs(logs));
  const episodes = asm.flush('shutdown');
  if (episodes.length !== 1) throw new Error(`expected one episode, got ${episodes.length}`);
  const events = await processEpisode(episodes[0]!, options);
  return {
    credit: events.find((e): e is EpisodeCredit => e.event_type === 'episode_credit')!,
    rewards: events.filter((e): e is MessageReward => e.event_type === 'message_reward'),
  };
}

/** One agent's credit in an episode_credit event. */
export const creditOfAgent = (ev: EpisodeCredit, name: string): number => ev.agents.find((a) => a.agent_name === name)!.credit;
