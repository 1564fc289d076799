/**
 * OTLP/JSON decoder for `ExportTraceServiceRequest` into model `Span` objects.
 * Ids are hex strings (OTLP/JSON deviation from the protobuf JSON mapping); times are uint64 as
 * decimal strings or numbers; `kind` and `status.code` are enum numbers or names.
 */
import type { Span, SpanEvent, SpanLink, SpanStatus } from '../../model/telemetry.js';
import { type ItemRejections, withPath } from '../errors.js';
import { checkSpanIds, hexId } from '../hex.js';
import { keyValues, resource as decodeResource, scope as decodeScope, scopeBlocks } from './common.js';
import { asArray, asEnum, asObject, asString, asUint64, field, optionalString, type JsonObject } from './values.js';

const JSON_ID_NAMES = { trace: 'traceId', span: 'spanId' } as const;

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;
const SPAN_SCOPES = { current: ['scopeSpans', 'scope_spans'], legacy: ['instrumentationLibrarySpans', 'instrumentation_library_spans'] } as const;
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

/** Decodes a parsed ExportTraceServiceRequest JSON value. Throws DecodeFailure (with path); with `rejects`, a span that fails is recorded there and skipped. */
export function decodeTraceRequestJson(root: unknown, rejects?: ItemRejections): Span[] {
  const req = asObject(root, 'the request');
  const out: Span[] = [];
  const blocks = asArray(field(req, 'resourceSpans', 'resource_spans'), 'resourceSpans');
  for (let i = 0; i < blocks.length; i++) {
    try {
      const rs = asObject(blocks[i], 'ResourceSpans');
      const res = decodeResource(rs.resource);
      const { scopes, name: scopesName, scopeKey } = scopeBlocks(rs, SPAN_SCOPES);
      for (let j = 0; j < scopes.length; j++) {
        try {
          const ss = asObject(scopes[j], 'ScopeSpans');
          const sc = decodeScope(field(ss, scopeKey[0], scopeKey[1]));
          const spans = asArray(ss.spans, 'spans');
          for (let k = 0; k < spans.length; k++) {
            try {
              out.push(span(asObject(spans[k], 'Span'), res, sc));
            } catch (e) {
              if (!rejects) throw withPath(e, `spans[${k}]`);
              rejects.add(e, [`resourceSpans[${i}]`, `${scopesName}[${j}]`, `spans[${k}]`]);
            }
          }
        } catch (e) {
          throw withPath(e, `${scopesName}[${j}]`);
        }
      }
    } catch (e) {
      throw withPath(e, `resourceSpans[${i}]`);
    }
  }
  return out;
}

function span(o: JsonObject, resource: Span['resource'], scope: Span['scope']): Span {
  const traceId = hexId(field(o, 'traceId', 'trace_id'), 'traceId', 16, false)!;
  const spanId = hexId(field(o, 'spanId', 'span_id'), 'spanId', 8, false)!;
  checkSpanIds(traceId, spanId, JSON_ID_NAMES);
  return {
    traceId,
    spanId,
    parentSpanId: hexId(field(o, 'parentSpanId', 'parent_span_id'), 'parentSpanId', 8, true),
    traceState: optionalString(field(o, 'traceState', 'trace_state'), 'traceState'),
    name: asString(o.name, 'name'),
    kind: asEnum(o.kind, 'kind', SPAN_KINDS, 5),
    startTimeUnixNano: asUint64(field(o, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano'),
    endTimeUnixNano: asUint64(field(o, 'endTimeUnixNano', 'end_time_unix_nano'), 'endTimeUnixNano'),
    attributes: keyValues(o.attributes, 'attributes'),
    events: events(o.events),
    links: links(o.links),
    status: status(o.status),
    resource,
    scope,
  };
}

function events(v: unknown): SpanEvent[] {
  const list = asArray(v, 'events');
  const out: SpanEvent[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      const e = asObject(list[i], 'Event');
      out[i] = {
        timeUnixNano: asUint64(field(e, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
        name: asString(e.name, 'name'),
        attributes: keyValues(e.attributes, 'attributes'),
      };
    } catch (e) {
      throw withPath(e, `events[${i}]`);
    }
  }
  return out;
}

function links(v: unknown): SpanLink[] {
  const list = asArray(v, 'links');
  const out: SpanLink[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    try {
      const l = asObject(list[i], 'Link');
      out[i] = {
        traceId: hexId(field(l, 'traceId', 'trace_id'), 'traceId', 16, false)!,
        spanId: hexId(field(l, 'spanId', 'span_id'), 'spanId', 8, false)!,
        traceState: optionalString(field(l, 'traceState', 'trace_state'), 'traceState'),
        attributes: keyValues(l.attributes, 'attributes'),
      };
    } catch (e) {
      throw withPath(e, `links[${i}]`);
    }
  }
  return out;
}

function status(v: unknown): SpanStatus {
  if (v === undefined || v === null) return { code: 0, message: undefined };
  try {
    const s = asObject(v, 'status');
    return {
      code: asEnum(s.code, 'code', STATUS_CODES, 2) as SpanStatus['code'],
      message: optionalString(s.message, 'message'),
    };
  } catch (e) {
    throw withPath(e, 'status');
  }
}
