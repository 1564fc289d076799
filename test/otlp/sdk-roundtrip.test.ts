/**
 * Round trip through the real OpenTelemetry JS SDK and the real OTLP serializers:
 * SDK spans/log records → ProtobufXSerializer / JsonXSerializer → our decoders must give back the
 * same ids, times, attributes, events, links, status, resource and scope as the SDK recorded.
 * Expectations are computed from the SDK's own ReadableSpan / ReadableLogRecord objects.
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
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema, type AttributeValue, type LogRecord, type Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../src/otlp/index.js';

const ENCODINGS = ['otlp_proto', 'otlp_json'] as const;

function nanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/**
 * What an SDK attribute value must decode to under the model's conventions: integers outside
 * the safe range become decimal strings (int64 is lossless), Uint8Array stays bytes, nested
 * arrays/maps recurse, null/undefined array members become null.
 */
function expectedValue(v: unknown): AttributeValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    // The serializers write integral numbers in the int64 range as int_value (-0 → 0: int64 has
    // no -0); larger integral doubles stay doubles.
    if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) return Number.isSafeInteger(v) ? v + 0 : BigInt(v).toString();
    return v;
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(expectedValue);
  if (typeof v === 'object') {
    const out: Record<string, AttributeValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = expectedValue(x);
    return out;
  }
  throw new Error(`unexpected SDK attribute value ${String(v)}`);
}

function expectedAttributes(a: object | undefined): Record<string, AttributeValue> {
  return expectedValue(a ?? {}) as Record<string, AttributeValue>;
}

function expectedSpan(s: ReadableSpan): Omit<Span, 'resource' | 'scope'> {
  const ctx = s.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    traceState: ctx.traceState?.serialize() || undefined,
    name: s.name,
    kind: s.kind + 1, // api SpanKind.INTERNAL=0 → OTLP SPAN_KIND_INTERNAL=1
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: expectedAttributes(s.attributes),
    events: s.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: expectedAttributes(e.attributes) })),
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState?.serialize() || undefined,
      attributes: expectedAttributes(l.attributes),
    })),
    status: { code: s.status.code as 0 | 1 | 2, message: s.status.message || undefined },
  };
}

function withoutResourceAndScope(s: Span): Omit<Span, 'resource' | 'scope'> {
  const { resource: _r, scope: _s, ...rest } = s;
  return rest;
}

const SCOPE_ATTRIBUTES = { 'scope.team': 'credit', 'scope.shard': 3 };

/**
 * The JS SDK's tracer API cannot set instrumentation-scope attributes (only loggers can), but the
 * serializers write `instrumentationScope.attributes` when present; a prototype-chained view of
 * each exported span adds them without touching the SDK object.
 */
function withScopeAttributes(spans: ReadableSpan[]): ReadableSpan[] {
  // One scope object per tracer, as the SDK has: the serializer groups ScopeSpans by it.
  const scopes = new Map<object, object>();
  return spans.map((s) => {
    let scope = scopes.get(s.instrumentationScope);
    if (!scope) scopes.set(s.instrumentationScope, (scope = { ...s.instrumentationScope, attributes: SCOPE_ATTRIBUTES }));
    return Object.create(s, { instrumentationScope: { value: scope } }) as ReadableSpan;
  });
}

/** Records an agent-like trace with the real SDK: nested parents, every attribute type, events, links, error status. */
function recordSpans(extra: OtelAttributes = {}): ReadableSpan[] {
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
  chat.addEvent('gen_ai.choice', { index: 0, 'finish.reason': 'tool_calls' }, at(2));
  chat.addEvent('no attributes', at(3));
  chat.end(at(4));
  const toolCtx = trace.setSpan(rootCtx, chat);
  const tool = other.startSpan(
    'execute_tool search_flights',
    {
      kind: SpanKind.INTERNAL,
      startTime: at(5),
      links: [
        { context: chat.spanContext(), attributes: { 'link.kind': 'consumed-output', n: 1 } },
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
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'flights API timed out' });
  tool.end(at(7));
  const producer = tracer.startSpan('handoff', { kind: SpanKind.PRODUCER, startTime: at(8) }, rootCtx);
  producer.setStatus({ code: SpanStatusCode.OK });
  producer.end(at(9));
  tracer.startSpan('consume', { kind: SpanKind.CONSUMER, startTime: at(10) }, rootCtx).end(at(11));
  root.end(at(12));
  return exporter.getFinishedSpans();
}

function serializeSpans(spans: ReadableSpan[], encoding: (typeof ENCODINGS)[number]): Uint8Array {
  const out = (encoding === 'otlp_proto' ? ProtobufTraceSerializer : JsonTraceSerializer).serializeRequest(spans);
  if (!out) throw new Error('serializer returned nothing');
  return out;
}

describe('decodeTraces on real SDK spans serialized by @opentelemetry/otlp-transformer', () => {
  const sdkSpans = withScopeAttributes(recordSpans());

  for (const encoding of ENCODINGS) {
    it(`${encoding}: same ids, times, attributes, events, links, status, resource and scope`, () => {
      const data = serializeSpans(sdkSpans, encoding);
      expect(detectEncoding(data)).toBe(encoding);
      const decoded = decodeTraces(data, encoding);
      expect(decoded.length).toBe(sdkSpans.length);
      const byId = new Map(decoded.map((s) => [s.spanId, s]));
      for (const s of sdkSpans) {
        const got = byId.get(s.spanContext().spanId);
        expect(got, s.name).toBeDefined();
        expect(SpanSchema.safeParse(got).success).toBe(true);
        expect(withoutResourceAndScope(got!)).toEqual(expectedSpan(s));
        expect(got!.resource.attributes).toEqual(expectedAttributes(s.resource.attributes));
        expect(got!.scope).toEqual({
          name: s.instrumentationScope.name,
          version: s.instrumentationScope.version || undefined,
          attributes: SCOPE_ATTRIBUTES,
        });
      }
    });
  }

  it('pins the values the conventions rely on (not only SDK-vs-decoder agreement)', () => {
    const spans = decodeTraces(serializeSpans(sdkSpans, 'otlp_proto'), 'otlp_proto');
    const root = spans.find((s) => s.name === 'invoke_agent triage')!;
    expect(root.parentSpanId).toBe('b7ad6b7169203331');
    expect(root.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(root.traceState).toBe('vendor=opaque,other=1');
    expect(root.kind).toBe(2);
    expect(root.attributes['big.positive']).toBe('1152921504606846976');
    expect(root.attributes['big.negative']).toBe('-4611686018427387904');
    expect(root.attributes['negative.small']).toBe(-42);
    expect(root.attributes['with.nulls']).toEqual(['x', null, 'y']);
    expect(root.startTimeUnixNano).toBe(1_795_575_745_734_176_123n);
    const tool = spans.find((s) => s.name.startsWith('execute_tool'))!;
    expect(tool.status).toEqual({ code: 2, message: 'flights API timed out' });
    expect(tool.events[0]!.name).toBe('exception');
    // The first link points at a span that inherited the remote parent's trace state.
    expect(tool.links.map((l) => l.traceState)).toEqual(['vendor=opaque,other=1', 'k=v']);
    expect(tool.scope.name).toBe('agent-credit.other');
  });

  it('spans of one resource/scope block share the resource and scope objects', () => {
    const spans = decodeTraces(serializeSpans(sdkSpans, 'otlp_proto'), 'otlp_proto');
    const main = spans.filter((s) => s.scope.name === 'agent-credit.test');
    expect(main.length).toBeGreaterThan(1);
    for (const s of main) {
      expect(s.scope).toBe(main[0]!.scope);
      expect(s.resource).toBe(spans[0]!.resource);
    }
  });

  it('decodes the same JSON from a string as from its UTF-8 bytes', () => {
    const bytes = serializeSpans(sdkSpans, 'otlp_json');
    expect(decodeTraces(new TextDecoder().decode(bytes), 'otlp_json')).toEqual(decodeTraces(bytes, 'otlp_json'));
  });
});

/** SDK attribute values: primitives and homogeneous primitive arrays (the SDK drops anything else). */
const sdkAttributeValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Number(b)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 4 }),
);

describe('attribute values round trip (property, real SDK + serializers)', () => {
  it('any SDK attribute set decodes to the SDK-recorded values in both encodings', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), sdkAttributeValue, { maxKeys: 8 }), (attrs) => {
        const spans = recordSpans(attrs);
        const root = spans.find((s) => s.name === 'invoke_agent triage')!;
        for (const encoding of ENCODINGS) {
          const got = decodeTraces(serializeSpans(spans, encoding), encoding).find((s) => s.spanId === root.spanContext().spanId)!;
          expect(got.attributes).toEqual(expectedAttributes(root.attributes));
        }
      }),
      { numRuns: 150 },
    );
  });
});

function recordLogs(): ReadableLogRecord[] {
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

function expectedLog(l: ReadableLogRecord): Omit<LogRecord, 'resource' | 'scope'> {
  const ctx = l.spanContext;
  return {
    timeUnixNano: nanos(l.hrTime),
    observedTimeUnixNano: nanos(l.hrTimeObserved),
    severityNumber: l.severityNumber ?? 0,
    severityText: l.severityText || undefined,
    body: l.body === undefined ? undefined : expectedValue(l.body),
    attributes: expectedAttributes(l.attributes),
    eventName: l.eventName || undefined,
    traceId: ctx?.traceId,
    spanId: ctx?.spanId,
    flags: ctx?.traceFlags ?? 0,
  };
}

describe('decodeLogs on real SDK log records serialized by @opentelemetry/otlp-transformer', () => {
  const sdkLogs = recordLogs();
  for (const encoding of ENCODINGS) {
    it(`${encoding}: same times, severity, body, attributes, event name, ids, resource and scope`, () => {
      const data = (encoding === 'otlp_proto' ? ProtobufLogsSerializer : JsonLogsSerializer).serializeRequest(sdkLogs)!;
      expect(detectEncoding(data)).toBe(encoding);
      const decoded = decodeLogs(data, encoding);
      expect(decoded.length).toBe(3);
      for (let i = 0; i < sdkLogs.length; i++) {
        const got = decoded[i]!;
        expect(LogRecordSchema.safeParse(got).success).toBe(true);
        const { resource, scope, ...rest } = got;
        expect(rest).toEqual(expectedLog(sdkLogs[i]!));
        expect(resource.attributes['service.name']).toBe('task-evaluator');
        expect(scope).toEqual({ name: 'task-evaluator', version: '1.0', attributes: { 'evaluator.kind': 'llm-judge' } });
      }
      expect(decoded[0]!.eventName).toBe('gen_ai.evaluation.result');
      expect(decoded[0]!.traceId).toBe('ba809d519c404c14dca126b6f13ab575');
      expect(decoded[0]!.attributes['raw.bytes']).toEqual(new Uint8Array([0, 1, 2, 250, 255]));
      expect((decoded[0]!.body as Record<string, AttributeValue>).big).toBe('1152921504606846976');
      expect(decoded[1]!.traceId).toBeUndefined();
    });
  }
});
