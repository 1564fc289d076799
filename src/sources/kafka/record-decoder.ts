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
    if (signal === 'traces') return { ok: true, signal, encoding, spans: decodeTraces(record.value, encoding) };
    return { ok: true, signal, encoding, logs: decodeLogs(record.value, encoding) };
  } catch (err) {
    const reason = err instanceof OtlpDecodeError ? err.reason : err instanceof Error ? err.message : String(err);
    return { ok: false, signal, reason: `${encoding}: ${reason}${setting === 'auto' || options.encodingHint === false ? '' : otherEncodingHint(record.value, signal, encoding)}` };
  }
}

/**
 * When a record fails with the configured encoding but decodes with the other one, the setting is
 * wrong, not the record: say so in the dead-letter reason (a wrong `spansEncoding` sent every record
 * to the DLQ with only "otlp_json: invalid UTF-8" to go on). Only runs for records that failed.
 */
function otherEncodingHint(value: Uint8Array, signal: 'traces' | 'logs', failed: OtlpEncoding): string {
  const other: OtlpEncoding = failed === 'otlp_proto' ? 'otlp_json' : 'otlp_proto';
  try {
    if (signal === 'traces') decodeTraces(value, other);
    else decodeLogs(value, other);
  } catch {
    return '';
  }
  const key = signal === 'traces' ? 'source.kafka.spansEncoding' : 'source.kafka.logsEncoding';
  // The group commits past each dead-lettered record, so a run with the fixed setting alone never
  // credits the ones already read (on the broker: 18 records to the DLQ, then recordsIn 0).
  return ` — it decodes as ${other}: set ${key} to ${other} (or auto); the records already read are in the dead-letter topic with their original bytes: to credit them, stop the job after the fix and reset source.kafka.groupId's offsets on the topic (kafka-consumer-groups --reset-offsets) to the first of them`;
}
