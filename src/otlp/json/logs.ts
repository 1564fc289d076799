/**
 * OTLP/JSON decoder for `ExportLogsServiceRequest` into model `LogRecord` objects.
 * traceId/spanId are optional hex (empty/all-zero → undefined); `severityNumber` is a number or
 * a `SEVERITY_NUMBER_*` name; an empty body (`{}`) → undefined.
 */
import type { LogRecord } from '../../model/telemetry.js';
import { type ItemRejections, withPath } from '../errors.js';
import { hexId } from '../hex.js';
import { anyValue, keyValues, resource as decodeResource, scope as decodeScope, scopeBlocks } from './common.js';
import { asArray, asEnum, asInt32, asObject, asUint64, field, optionalString, type JsonObject } from './values.js';

const LOG_SCOPES = { current: ['scopeLogs', 'scope_logs'], legacy: ['instrumentationLibraryLogs', 'instrumentation_library_logs'] } as const;

const SEVERITY_NAMES: readonly string[] = [
  'SEVERITY_NUMBER_UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) =>
    ['', '2', '3', '4'].map((n) => `SEVERITY_NUMBER_${level}${n}`),
  ),
];

/** Decodes a parsed ExportLogsServiceRequest JSON value. Throws DecodeFailure (with path); with `rejects`, a log record that fails is recorded there and skipped. */
export function decodeLogsRequestJson(root: unknown, rejects?: ItemRejections): LogRecord[] {
  const req = asObject(root, 'the request');
  const out: LogRecord[] = [];
  const blocks = asArray(field(req, 'resourceLogs', 'resource_logs'), 'resourceLogs');
  for (let i = 0; i < blocks.length; i++) {
    try {
      const rl = asObject(blocks[i], 'ResourceLogs');
      const res = decodeResource(rl.resource);
      const { scopes, name: scopesName, scopeKey } = scopeBlocks(rl, LOG_SCOPES);
      for (let j = 0; j < scopes.length; j++) {
        try {
          const sl = asObject(scopes[j], 'ScopeLogs');
          const sc = decodeScope(field(sl, scopeKey[0], scopeKey[1]));
          const records = asArray(field(sl, 'logRecords', 'log_records'), 'logRecords');
          for (let k = 0; k < records.length; k++) {
            try {
              out.push(logRecord(asObject(records[k], 'LogRecord'), res, sc));
            } catch (e) {
              if (!rejects) throw withPath(e, `logRecords[${k}]`);
              rejects.add(e, [`resourceLogs[${i}]`, `${scopesName}[${j}]`, `logRecords[${k}]`]);
            }
          }
        } catch (e) {
          throw withPath(e, `${scopesName}[${j}]`);
        }
      }
    } catch (e) {
      throw withPath(e, `resourceLogs[${i}]`);
    }
  }
  return out;
}

function logRecord(o: JsonObject, resource: LogRecord['resource'], scope: LogRecord['scope']): LogRecord {
  let body;
  try {
    const v = anyValue(o.body, 0);
    body = v === null ? undefined : v;
  } catch (e) {
    throw withPath(e, 'body');
  }
  return {
    timeUnixNano: asUint64(field(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
    observedTimeUnixNano: asUint64(field(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'observedTimeUnixNano'),
    severityNumber: severityNumber(field(o, 'severityNumber', 'severity_number')),
    severityText: optionalString(field(o, 'severityText', 'severity_text'), 'severityText'),
    body,
    attributes: keyValues(o.attributes, 'attributes'),
    eventName: optionalString(field(o, 'eventName', 'event_name'), 'eventName'),
    traceId: hexId(field(o, 'traceId', 'trace_id'), 'traceId', 16, true),
    spanId: hexId(field(o, 'spanId', 'span_id'), 'spanId', 8, true),
    flags: asInt32(o.flags, 'flags', true),
    resource,
    scope,
  };
}

/** Number (any int32: proto3 enums are open, as in the protobuf decoder) or `SEVERITY_NUMBER_*` name. */
function severityNumber(v: unknown): number {
  return typeof v === 'string' && v.startsWith('SEVERITY_NUMBER_')
    ? asEnum(v, 'severityNumber', SEVERITY_NAMES, 24)
    : asInt32(v, 'severityNumber', false);
}
