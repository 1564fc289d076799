/**
 * Round trip through the real OpenTelemetry JS SDK and the real OTLP serializers:
 * SDK spans/log records → ProtobufXSerializer / JsonXSerializer → our decoders must give back the
 * same ids, times, attributes, events, links, status, resource and scope as the SDK recorded.
 * Expectations are computed from the SDK's own ReadableSpan / ReadableLogRecord objects.
 */
import type { HrTime } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema, type AttributeValue, type LogRecord, type Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../src/otlp/index.js';
import { ENCODINGS, SCOPE_ATTRIBUTES, recordLogs, recordSpans, serializeLogs, serializeSpans, withScopeAttributes } from './sdk-telemetry.js';

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
  it('any SDK attribute set (on spans, events, links) and status message decodes to what the SDK recorded, in both encodings', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), sdkAttributeValue, { maxKeys: 8 }),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        (attrs, statusMessage) => {
          const spans = recordSpans(attrs, statusMessage);
          for (const encoding of ENCODINGS) {
            const decoded = new Map(decodeTraces(serializeSpans(spans, encoding), encoding).map((s) => [s.spanId, s]));
            for (const s of spans) expect(withoutResourceAndScope(decoded.get(s.spanContext().spanId)!)).toEqual(expectedSpan(s));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

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
      const data = serializeLogs(sdkLogs, encoding);
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
