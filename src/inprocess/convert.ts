/**
 * OpenTelemetry SDK objects → the internal telemetry shapes (src/model/telemetry.ts), without a
 * round trip through OTLP bytes. Follows the same conventions as the OTLP decoders: lowercase hex
 * ids, absent/all-zero parent → undefined, unix-nanosecond bigints, OTLP span kind numbers
 * (API kind + 1), flat attributes; resource and scope objects shared by reference per SDK
 * Resource / InstrumentationScope instance.
 */
import type { Attributes as OtelAttributes, AttributeValue as OtelAttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AttributeValue, Attributes, LogRecord, Resource, Scope, Span } from '../model/telemetry.js';

const ZERO_SPAN_ID = '0000000000000000';

/** HrTime ([seconds, nanoseconds]) → unix nanoseconds. */
export function hrTimeToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

function value(v: OtelAttributeValue | AnyValue | undefined): AttributeValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x) => value(x as AnyValue));
  const out: Record<string, AttributeValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, AnyValue>)) out[k] = value(x);
  return out;
}

/** SDK attributes → flat internal attributes; `undefined` entries are dropped (as OTLP export does). */
export function convertAttributes(attrs: OtelAttributes | LogAttributes | undefined): Attributes {
  const out: Attributes = {};
  if (!attrs) return out;
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (v === undefined) continue;
    out[key] = value(v as AnyValue);
  }
  return out;
}

type SdkResource = ReadableSpan['resource'];
type SdkScope = ReadableSpan['instrumentationScope'] & { attributes?: LogAttributes };
/**
 * A span of the OpenTelemetry JS SDK 1.x line (sdk-trace-base 1.x), which many apps still run:
 * its parent is `parentSpanId` and its scope `instrumentationLibrary` (2.x renamed both), the rest
 * is the same. Read as 1.x, every span failed to convert ("Cannot read properties of undefined
 * (reading 'name')", an IngestError asking to report it) and no episode got credit.
 */
type SdkSpan = ReadableSpan & { parentSpanId?: string; instrumentationLibrary?: ReadableSpan['instrumentationScope'] };

/** Shares one internal Resource/Scope per SDK instance (SDKs reuse these objects). */
export class SpanConverter {
  private readonly resources = new WeakMap<object, Resource>();
  private readonly scopes = new WeakMap<object, Scope>();

  resource(r: SdkResource): Resource {
    let out = this.resources.get(r);
    if (!out) {
      out = { attributes: convertAttributes(r.attributes) };
      // A resource still detecting attributes asynchronously may gain some: convert it again later.
      if (!r.asyncAttributesPending) this.resources.set(r, out);
    }
    return out;
  }

  scope(s: SdkScope): Scope {
    let out = this.scopes.get(s);
    if (!out) {
      // Always an attributes object, as the OTLP decoders produce.
      out = { name: s.name, ...(s.version !== undefined ? { version: s.version } : {}), attributes: convertAttributes(s.attributes) };
      this.scopes.set(s, out);
    }
    return out;
  }

  /** ReadableSpan (ended; SDK 2.x, or 1.x: `SdkSpan`) → Span. */
  span(s: SdkSpan): Span {
    const ctx = s.spanContext();
    const parent = (s.parentSpanContext?.spanId ?? s.parentSpanId)?.toLowerCase();
    const traceState = ctx.traceState?.serialize();
    return {
      // lower case, as the OTLP decoders give them: the API takes ids in either case, and the B3 and
      // Jaeger propagators pass a remote parent's on as its header wrote them
      traceId: ctx.traceId.toLowerCase(),
      spanId: ctx.spanId.toLowerCase(),
      parentSpanId: parent && parent !== ZERO_SPAN_ID ? parent : undefined,
      ...(traceState ? { traceState } : {}),
      name: s.name,
      // @opentelemetry/api SpanKind is 0-based INTERNAL..CONSUMER; OTLP adds UNSPECIFIED = 0.
      kind: s.kind + 1,
      startTimeUnixNano: hrTimeToNanos(s.startTime),
      endTimeUnixNano: hrTimeToNanos(s.endTime),
      attributes: convertAttributes(s.attributes),
      events: s.events.map((e) => ({ timeUnixNano: hrTimeToNanos(e.time), name: e.name, attributes: convertAttributes(e.attributes) })),
      links: s.links.map((l) => ({
        traceId: l.context.traceId.toLowerCase(),
        spanId: l.context.spanId.toLowerCase(),
        ...(l.context.traceState ? { traceState: l.context.traceState.serialize() } : {}),
        attributes: convertAttributes(l.attributes),
      })),
      status: { code: s.status.code as 0 | 1 | 2, ...(s.status.message ? { message: s.status.message } : {}) },
      resource: this.resource(s.resource),
      scope: this.scope(s.instrumentationScope ?? s.instrumentationLibrary!),
    };
  }

  /** SDK log record → LogRecord (for evaluation events emitted in-process). */
  logRecord(r: ReadableLogRecord): LogRecord {
    const ctx: SpanContext | undefined = r.spanContext;
    return {
      timeUnixNano: hrTimeToNanos(r.hrTime),
      observedTimeUnixNano: hrTimeToNanos(r.hrTimeObserved),
      severityNumber: r.severityNumber ?? 0,
      ...(r.severityText !== undefined ? { severityText: r.severityText } : {}),
      ...(r.body !== undefined ? { body: value(r.body) } : {}),
      attributes: convertAttributes(r.attributes),
      ...(r.eventName !== undefined ? { eventName: r.eventName } : {}),
      ...(ctx ? { traceId: ctx.traceId.toLowerCase(), spanId: ctx.spanId.toLowerCase(), flags: ctx.traceFlags } : {}),
      resource: this.resource(r.resource),
      scope: this.scope(r.instrumentationScope),
    };
  }
}
