/**
 * Decodes one Kafka record of the spans, logs or evaluations topic. Pure: never throws; a
 * malformed record becomes `{ ok: false, reason }` for the dead-letter topic.
 */
import type { Evaluation } from '../../model/agents.js';
import type { LogRecord, Span } from '../../model/telemetry.js';
import type { ConsumedRecord } from '../../kafka/client.js';
import { parseEvaluationRecords } from '../../conventions/evaluation-records.js';
import { decodeLogs, decodeTraces, detectEncoding, OtlpDecodeError, type OtlpEncoding } from '../../otlp/index.js';
import type { SourceEncoding } from './config.js';

/** What a topic carries: OTLP traces, OTLP logs, or standalone evaluation records (JSON). */
export type TelemetrySignal = 'traces' | 'logs' | 'evaluations';

export type DecodedRecord =
  | { readonly ok: true; readonly signal: 'traces'; readonly encoding: OtlpEncoding; readonly spans: Span[] }
  | { readonly ok: true; readonly signal: 'logs'; readonly encoding: OtlpEncoding; readonly logs: LogRecord[] }
  | {
      readonly ok: true;
      readonly signal: 'evaluations';
      readonly evaluations: Evaluation[];
      /**
       * Invalid entries of a payload that also had valid ones (JSON array or lines): the valid
       * ones are used, and the record still goes to the dead-letter topic with this reason.
       */
      readonly partialReason?: string;
    }
  | { readonly ok: false; readonly signal: TelemetrySignal; readonly reason: string };

/** How many invalid entries a dead-letter reason lists before summarising. */
const MAX_LISTED_ERRORS = 5;

/**
 * An evaluations-topic record: one JSON evaluation record, a JSON array of them, or JSON lines.
 * Records without `time_unix_nano` take the Kafka record's timestamp.
 */
function decodeEvaluationsRecord(record: ConsumedRecord): DecodedRecord {
  if (record.value === null || record.value.length === 0) {
    return { ok: false, signal: 'evaluations', reason: 'empty record value (tombstone or empty payload)' };
  }
  const receivedAtUnixNano = BigInt(Math.max(0, Math.trunc(record.timestampMs || 0))) * 1_000_000n;
  const { evaluations, errors } = parseEvaluationRecords(record.value, { receivedAtUnixNano });
  if (errors.length === 0) return { ok: true, signal: 'evaluations', evaluations };
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => `#${e.index}: ${e.message}`);
  if (errors.length > MAX_LISTED_ERRORS) listed.push(`and ${errors.length - MAX_LISTED_ERRORS} more`);
  const reason = `evaluation record${errors.length > 1 ? 's' : ''} invalid (${listed.join('; ')}); expected JSON objects { trace_id, conversation_id or response_id, name, score or label, ... } as in schemas/evaluation-record.schema.json`;
  if (evaluations.length === 0) return { ok: false, signal: 'evaluations', reason };
  return { ok: true, signal: 'evaluations', evaluations, partialReason: `${evaluations.length} valid evaluation(s) used; ${reason}` };
}

const textDecoder = new TextDecoder();

function contentTypeOf(record: ConsumedRecord): string | undefined {
  for (const [k, v] of Object.entries(record.headers)) {
    if (k.toLowerCase() === 'content-type') return textDecoder.decode(v);
  }
  return undefined;
}

/** Picks the decoder: a fixed setting wins; `auto` uses the content-type header, else sniffs the bytes. */
export function recordEncoding(record: ConsumedRecord, setting: SourceEncoding): OtlpEncoding {
  if (setting !== 'auto') return setting;
  return detectEncoding(record.value ?? new Uint8Array(0), contentTypeOf(record));
}

/** `encodingHint: false` leaves out the "it decodes as …" fix (`check` words its own). */
export function decodeRecord(record: ConsumedRecord, signal: TelemetrySignal, setting: SourceEncoding, options: { encodingHint?: boolean } = {}): DecodedRecord {
  if (record.unreadable !== undefined) return { ok: false, signal, reason: record.unreadable };
  if (signal === 'evaluations') return decodeEvaluationsRecord(record);
  if (record.value === null || record.value.length === 0) {
    return { ok: false, signal, reason: 'empty record value (tombstone or empty export request)' };
  }
  const encoding = recordEncoding(record, setting);
  try {
    if (signal === 'traces') {
      const spans = decodeTraces(record.value, encoding);
      const notRequest = spans.length === 0 && encoding === 'otlp_json' ? notAnOtlpRequest(record.value, signal) : undefined;
      return notRequest === undefined ? { ok: true, signal, encoding, spans } : { ok: false, signal, reason: `${encoding}: ${notRequest}` };
    }
    const logs = decodeLogs(record.value, encoding);
    const notRequest = logs.length === 0 && encoding === 'otlp_json' ? notAnOtlpRequest(record.value, signal) : undefined;
    return notRequest === undefined ? { ok: true, signal, encoding, logs } : { ok: false, signal, reason: `${encoding}: ${notRequest}` };
  } catch (err) {
    if (setting === 'auto' && contentTypeOf(record) !== undefined && detectEncoding(record.value) !== encoding) {
      // A content-type header is not always the record's own: the collector's kafka exporter
      // copies client metadata into headers (include_metadata_keys), and with `content-type` among
      // them every record carries the content type of the OTLP request the collector received —
      // application/x-protobuf from an SDK's http/protobuf exporter on records the exporter wrote
      // as otlp_json — so each went to the dead-letter topic. The bytes decide when the header's
      // encoding fails.
      const sniffed = decodeRecord({ ...record, headers: {} }, signal, 'auto', options);
      if (sniffed.ok) return sniffed;
    }
    const reason = err instanceof OtlpDecodeError ? err.reason : err instanceof Error ? err.message : String(err);
    const foreign = foreignPayload(record.value, signal);
    if (foreign !== undefined) return { ok: false, signal, reason: `${encoding}: ${reason} — ${foreign}` };
    return { ok: false, signal, reason: `${encoding}: ${reason}${setting === 'auto' || options.encodingHint === false ? '' : otherEncodingHint(record.value, signal, encoding)}` };
  }
}

const REQUEST_FIELDS = {
  traces: { name: 'ExportTraceServiceRequest', camel: 'resourceSpans', snake: 'resource_spans' },
  logs: { name: 'ExportLogsServiceRequest', camel: 'resourceLogs', snake: 'resource_logs' },
} as const;

/**
 * An OTLP/JSON record that decoded to nothing: `{}` and a request with empty (or null) blocks are
 * empty requests, but an object without the request's field and with others is something else —
 * OTLP/JSON ignores unknown fields, so a Jaeger span (`encoding: jaeger_json`), a raw log body
 * (`encoding: raw`) or a request of another signal decoded as an empty request, and the record was
 * committed past without a word (the records of a collector exporting jaeger_json all vanished).
 */
function notAnOtlpRequest(value: Uint8Array, signal: 'traces' | 'logs'): string | undefined {
  const json = parseJson(value);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const req = REQUEST_FIELDS[signal];
  const keys = Object.keys(json);
  if (keys.length === 0 || keys.includes(req.camel) || keys.includes(req.snake)) return undefined;
  return (
    foreignPayload(value, signal) ??
    `not an OTLP ${req.name}: a JSON object without ${req.camel} (its fields: ${listKeys(keys)}) — ${exporterEncodingFix(signal)}`
  );
}

const listKeys = (keys: readonly string[]): string => (keys.length > 6 ? `${keys.slice(0, 6).join(', ')}, …` : keys.join(', '));

const exporterEncodingFix = (signal: 'traces' | 'logs'): string =>
  `set the collector kafka exporter's ${signal} encoding (\`${signal}.encoding\`; \`encoding\` in versions before per-signal settings) to otlp_proto or otlp_json`;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(value: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(value));
  } catch {
    return undefined;
  }
}

/**
 * Says what a record that is not the expected OTLP request is, when its bytes tell: an OTLP request
 * of the other signal (or of metrics), or one of the kafka exporter's non-OTLP encodings — Jaeger
 * (`jaeger_proto`, `jaeger_json`: one span per record), Zipkin v2 (`zipkin_proto`, `zipkin_json`)
 * for traces, `raw` (a log body alone) for logs. Without it such records went to the dead-letter
 * topic as "length 75 at byte 6 runs past the end of its enclosing message", or — JSON — decoded
 * as empty requests. Only asked about records that failed or decoded to nothing.
 */
export function foreignPayload(value: Uint8Array, signal: 'traces' | 'logs'): string | undefined {
  const other = signal === 'traces' ? 'logs' : 'traces';
  for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
    try {
      // OTLP of this signal after all, in the other encoding: the encoding setting is the fix
      if ((signal === 'logs' ? decodeLogs(value, encoding) : decodeTraces(value, encoding)).length > 0) return undefined;
    } catch {
      // not that
    }
    try {
      const n = other === 'logs' ? decodeLogs(value, encoding).length : decodeTraces(value, encoding).length;
      if (n > 0) return `it is an OTLP ${REQUEST_FIELDS[other].name} (${encoding}): this topic carries ${other}, not ${signal} — give the collector kafka exporter's traces and logs a topic each (\`traces.topic\`, \`logs.topic\`; in versions with one \`topic\` setting, an exporter per pipeline) and name them in source.kafka.spansTopic and source.kafka.logsTopic`;
    } catch {
      // not that either
    }
  }
  const json = parseJson(value);
  if (json !== undefined) {
    const first = Array.isArray(json) ? json[0] : json;
    const o = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
    if (!Array.isArray(json) && (o.resourceMetrics !== undefined || o.resource_metrics !== undefined)) {
      return `it is an OTLP ExportMetricsServiceRequest: this topic carries metrics — point the collector's metrics pipeline at another topic`;
    }
    if (signal === 'traces' && !Array.isArray(json) && typeof o.operationName === 'string' && (o.traceId !== undefined || o.spanId !== undefined)) {
      return `it is a Jaeger span in JSON (the kafka exporter's \`encoding: jaeger_json\`), not OTLP — ${exporterEncodingFix(signal)}`;
    }
    if (signal === 'traces' && Array.isArray(json) && typeof o.traceId === 'string' && typeof o.id === 'string') {
      return `it is a list of Zipkin v2 spans in JSON (the kafka exporter's \`encoding: zipkin_json\`), not OTLP — ${exporterEncodingFix(signal)}`;
    }
    if (signal === 'logs' && !(json !== null && typeof json === 'object' && !Array.isArray(json) && (o.resourceLogs !== undefined || o.resource_logs !== undefined))) {
      return `it is JSON but not an OTLP ExportLogsServiceRequest: a log record's body alone, as the kafka exporter's \`encoding: raw\` writes it? — ${exporterEncodingFix(signal)}`;
    }
    return undefined;
  }
  if (signal !== 'traces') return undefined;
  // Jaeger model.Span: trace_id (1, 16 bytes), span_id (2, 8 bytes), operation_name (3) ...
  if (isIdField(value, 0, 0x0a, 16) && isIdField(value, 18, 0x12, 8)) {
    return `it is a Jaeger span in protobuf (the kafka exporter's \`encoding: jaeger_proto\`), not OTLP — ${exporterEncodingFix(signal)}`;
  }
  // Zipkin ListOfSpans: spans (1) of Span { trace_id (1, 16 bytes), parent_id (2, 8) or id (3, 8) ... }
  if (value[0] === 0x0a) {
    let at = 1;
    while (at < value.length && at < 6 && (value[at]! & 0x80) !== 0) at++;
    at++;
    if (isIdField(value, at, 0x0a, 16) && (isIdField(value, at + 18, 0x12, 8) || isIdField(value, at + 18, 0x1a, 8))) {
      return `it is a list of Zipkin v2 spans in protobuf (the kafka exporter's \`encoding: zipkin_proto\`), not OTLP — ${exporterEncodingFix(signal)}`;
    }
  }
  return undefined;
}

/** Whether `value` has, at `at`, a length-delimited field with `tag` and an id of `length` bytes. */
function isIdField(value: Uint8Array, at: number, tag: number, length: number): boolean {
  return at + 2 + length <= value.length && value[at] === tag && value[at + 1] === length;
}

/**
 * When a record fails with the configured encoding but decodes with the other one, the setting is
 * wrong, not the record: say so in the dead-letter reason (a wrong `spansEncoding` sent every record
 * to the DLQ with only "otlp_json: invalid UTF-8" to go on). Only runs for records that failed.
 */
function otherEncodingHint(value: Uint8Array, signal: 'traces' | 'logs', failed: OtlpEncoding): string {
  const other: OtlpEncoding = failed === 'otlp_proto' ? 'otlp_json' : 'otlp_proto';
  try {
    // it must find something: OTLP/JSON ignores unknown fields, so any JSON object "decodes"
    if ((signal === 'traces' ? decodeTraces(value, other) : decodeLogs(value, other)).length === 0) return '';
  } catch {
    return '';
  }
  const key = signal === 'traces' ? 'source.kafka.spansEncoding' : 'source.kafka.logsEncoding';
  // The group commits past each dead-lettered record, so a run with the fixed setting alone never
  // credits the ones already read (on the broker: 18 records to the DLQ, then recordsIn 0).
  return ` — it decodes as ${other}: set ${key} to ${other} (or auto); the records already read are in the dead-letter topic with their original bytes: to credit them, stop the job after the fix and reset source.kafka.groupId's offsets on the topic (kafka-consumer-groups --reset-offsets) to the first of them`;
}
