/**
 * Telemetry recorded with the real OpenTelemetry JS SDK and serialized with the real
 * @opentelemetry/otlp-transformer serializers: the seeds for round-trip and fuzz tests.
 */
import { SpanKind, SpanStatusCode, context, trace, type Attributes as OtelAttributes, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export const ENCODINGS = ['otlp_proto', 'otlp_json'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const SCOPE_ATTRIBUTES = { 'scope.team': 'credit', 'scope.shard': 3 };

/**
 * The JS SDK's tracer API cannot set instrumentation-scope attributes (only loggers can), but the
 * serializers write `instrumentationScope.attributes` when present; a prototype-chained view of
 * each exported span adds them without touching the SDK object.
 */
export function withScopeAttributes(spans: ReadableSpan[]): ReadableSpan[] {
  // One scope object per tracer, as the SDK has: the serializer groups ScopeSpans by it.
  const scopes = new Map<object, object>();
  return spans.map((s) => {
    let scope = scopes.get(s.instrumentationScope);
    if (!scope) scopes.set(s.instrumentationScope, (scope = { ...s.instrumentationScope, attributes: SCOPE_ATTRIBUTES }));
    return Object.create(s, { instrumentationScope: { value: scope } }) as ReadableSpan;
  });
}

/**
 * Records an agent-like trace with the real SDK: nested parents, every attribute type, events,
 * links, error status. `extra` attributes go on the root span, an event and a link;
 * `statusMessage` is the tool span's error message.
 */
export function recordSpans(extra: OtelAttributes = {}, statusMessage = 'flights API timed out'): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'travel-desk', 'service.instance.id': 'i-1', 'host.cpus': 8, 'deploy.canary': false }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('agent-credit.test', '1.2.3');
  const other = provider.getTracer('agent-credit.other');
  const remote = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
    traceState: new TraceState('vendor=opaque,other=1'),
  });
  const t0: HrTime = [1_795_575_745, 734_176_123];
  const at = (ms: number): HrTime => [t0[0] + Math.floor((t0[1] + ms * 1e6) / 1e9), (t0[1] + ms * 1e6) % 1e9];
  const root = tracer.startSpan(
    'invoke_agent triage',
    {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'triage',
        'gen_ai.usage.input_tokens': 66,
        'big.positive': 2 ** 60,
        'big.negative': -(2 ** 62),
        'negative.small': -42,
        'ratio': 0.25,
        'flag': true,
        'empty.string': '',
        'unicode': 'Montréal → 東京 🚀',
        'strings': ['a', 'b', ''],
        'ints': [1, -2, 3],
        'doubles': [0.5, -1.5],
        'bools': [true, false],
        'with.nulls': ['x', null, 'y'],
        ...extra,
      },
    },
    remote,
  );
  const rootCtx = trace.setSpan(remote, root);
  const chat = tracer.startSpan('chat fake-gpt', { kind: SpanKind.CLIENT, startTime: at(1) }, rootCtx);
  chat.addEvent('gen_ai.choice', { index: 0, 'finish.reason': 'tool_calls', ...extra }, at(2));
  chat.addEvent('no attributes', at(3));
  chat.end(at(4));
  const toolCtx = trace.setSpan(rootCtx, chat);
  const tool = other.startSpan(
    'execute_tool search_flights',
    {
      kind: SpanKind.INTERNAL,
      startTime: at(5),
      links: [
        { context: chat.spanContext(), attributes: { 'link.kind': 'consumed-output', n: 1, ...extra } },
        {
          context: {
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
            spanId: '00f067aa0ba902b7',
            traceFlags: 1,
            traceState: new TraceState('k=v'),
          },
        },
      ],
    },
    toolCtx,
  );
  tool.recordException(new Error('flights API timed out'), at(6));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: statusMessage });
  tool.end(at(7));
  const producer = tracer.startSpan('handoff', { kind: SpanKind.PRODUCER, startTime: at(8) }, rootCtx);
  producer.setStatus({ code: SpanStatusCode.OK });
  producer.end(at(9));
  tracer.startSpan('consume', { kind: SpanKind.CONSUMER, startTime: at(10) }, rootCtx).end(at(11));
  root.end(at(12));
  return exporter.getFinishedSpans();
}

export function serializeSpans(spans: ReadableSpan[], encoding: Encoding): Uint8Array {
  const out = (encoding === 'otlp_proto' ? ProtobufTraceSerializer : JsonTraceSerializer).serializeRequest(spans);
  if (!out) throw new Error('serializer returned nothing');
  return out;
}


export function recordLogs(): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'task-evaluator' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('task-evaluator', '1.0', { attributes: { 'evaluator.kind': 'llm-judge' } });
  const evaluated = trace.setSpanContext(context.active(), {
    traceId: 'ba809d519c404c14dca126b6f13ab575',
    spanId: 'f88bf1aed8035bdb',
    traceFlags: 1,
  });
  logger.emit({
    eventName: 'gen_ai.evaluation.result',
    timestamp: [1_795_575_745, 798_319_226],
    observedTimestamp: [1_795_575_746, 1],
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    context: evaluated,
    attributes: {
      'gen_ai.evaluation.name': 'task_success',
      'gen_ai.evaluation.score.value': 0,
      'gen_ai.evaluation.score.label': 'fail',
      'gen_ai.evaluation.explanation': 'the flights agent refused the booking',
      'nested.map': { a: 1, b: ['x', 2.5], c: { deep: true } },
      'raw.bytes': new Uint8Array([0, 1, 2, 250, 255]),
    },
    body: { verdict: 'fail', scores: [0, 0.5, 1], blob: new Uint8Array([9, 8, 7]), big: 2 ** 60 },
  });
  logger.emit({ body: 'plain string body', severityNumber: SeverityNumber.ERROR2 });
  logger.emit({ eventName: 'empty' });
  return exporter.getFinishedLogRecords();
}


export function serializeLogs(logs: ReadableLogRecord[], encoding: Encoding): Uint8Array {
  const out = (encoding === 'otlp_proto' ? ProtobufLogsSerializer : JsonLogsSerializer).serializeRequest(logs);
  if (!out) throw new Error('serializer returned nothing');
  return out;
}
