/**
 * Protobuf decoder for `ExportLogsServiceRequest` (opentelemetry/proto/collector/logs/v1 and
 * logs/v1/logs.proto) straight into model `LogRecord` objects.
 *
 * Field numbers: ExportLogsServiceRequest.resource_logs=1; ResourceLogs resource=1,
 * scope_logs=2, schema_url=3; ScopeLogs scope=1, log_records=2, schema_url=3; LogRecord
 * time_unix_nano=1 (fixed64), observed_time_unix_nano=11 (fixed64), severity_number=2 (enum),
 * severity_text=3, body=5 (AnyValue), attributes=6, dropped_attributes_count=7, flags=8 (fixed32),
 * trace_id=9, span_id=10, event_name=12.
 *
 * trace_id/span_id are optional on logs: empty or all-zero → undefined; otherwise they must be
 * 16/8 bytes. An empty body (AnyValue with no value) → undefined; empty strings → undefined for
 * severity_text and event_name.
 */
import type { AttributeValue, Attributes, LogRecord, Resource, Scope } from '../../model/telemetry.js';
import { type ItemRejections, withPath } from '../errors.js';
import { decodeAnyValue, decodeAttribute, settledAttributes } from './common.js';
import { optionalId } from './ids.js';
import { decodeExportRequest } from './envelope.js';
import { type WireCursor, delimitedEnd, fixed32, fixed64, int32, internedString, skip, string, tag } from './wire.js';

/** Decodes a whole ExportLogsServiceRequest. Throws DecodeFailure (with path) on malformed input; with `rejects`, skips the records that fail alone (envelope.ts). */
export function decodeLogsRequest(c: WireCursor, rejects?: ItemRejections): LogRecord[] {
  return decodeExportRequest(c, NAMES, decodeLogRecord, rejects);
}

const NAMES = { resource: 'resource_logs', scope: 'scope_logs', item: 'log_records', legacyScope: 'instrumentation_library_logs' } as const;

function decodeLogRecord(c: WireCursor, end: number, resource: Resource, scope: Scope): LogRecord {
  const r = c.r;
  let timeUnixNano = 0n;
  let observedTimeUnixNano = 0n;
  let severityNumber = 0;
  let severityText: string | undefined;
  let body: AttributeValue | undefined;
  const attributes: Attributes = {};
  let nAttributes = 0;
  let eventName: string | undefined;
  let traceId: string | undefined;
  let spanId: string | undefined;
  let flags = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    switch (t) {
      case (1 << 3) | 1:
        timeUnixNano = fixed64(c, end);
        break;
      case (11 << 3) | 1:
        observedTimeUnixNano = fixed64(c, end);
        break;
      case (2 << 3) | 0:
        severityNumber = int32(c, end);
        break;
      case (3 << 3) | 2: {
        const s = string(c, end);
        severityText = s === '' ? undefined : s;
        break;
      }
      case (5 << 3) | 2: {
        const stop = delimitedEnd(c, end);
        try {
          const v = decodeAnyValue(c, stop, 0);
          body = v === null ? undefined : v;
        } catch (e) {
          throw withPath(e, 'body');
        }
        break;
      }
      case (6 << 3) | 2:
        decodeAttribute(c, end, attributes, 'attributes', nAttributes++);
        break;
      case (8 << 3) | 5:
        flags = fixed32(c, end);
        break;
      case (9 << 3) | 2:
        traceId = optionalId(c, end, 16, 'trace_id');
        break;
      case (10 << 3) | 2:
        spanId = optionalId(c, end, 8, 'span_id');
        break;
      case (12 << 3) | 2: {
        const s = internedString(c, end);
        eventName = s === '' ? undefined : s;
        break;
      }
      default:
        skip(c, t & 7, end);
    }
  }
  return {
    timeUnixNano,
    observedTimeUnixNano,
    severityNumber,
    severityText,
    body,
    attributes: settledAttributes(attributes, nAttributes),
    eventName,
    traceId,
    spanId,
    flags,
    resource,
    scope,
  };
}
