/**
 * Decodes one Kafka record of the spans or logs topic. Pure: never throws; a malformed record
 * becomes `{ ok: false, reason }` for the dead-letter topic.
 */
import type { LogRecord, Span } from '../../model/telemetry.js';
import type { ConsumedRecord } from '../../kafka/client.js';
import { decodeLogs, decodeTraces, detectEncoding, OtlpDecodeError, type OtlpEncoding } from '../../otlp/index.js';
import type { SourceEncoding } from './config.js';

export type TelemetrySignal = 'traces' | 'logs';

export type DecodedRecord =
  | { readonly ok: true; readonly signal: 'traces'; readonly encoding: OtlpEncoding; readonly spans: Span[] }
  | { readonly ok: true; readonly signal: 'logs'; readonly encoding: OtlpEncoding; readonly logs: LogRecord[] }
  | { readonly ok: false; readonly signal: TelemetrySignal; readonly reason: string };

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

export function decodeRecord(record: ConsumedRecord, signal: TelemetrySignal, setting: SourceEncoding): DecodedRecord {
  if (record.value === null || record.value.length === 0) {
    return { ok: false, signal, reason: 'empty record value (tombstone or empty export request)' };
  }
  const encoding = recordEncoding(record, setting);
  try {
    if (signal === 'traces') return { ok: true, signal, encoding, spans: decodeTraces(record.value, encoding) };
    return { ok: true, signal, encoding, logs: decodeLogs(record.value, encoding) };
  } catch (err) {
    const reason = err instanceof OtlpDecodeError ? err.reason : err instanceof Error ? err.message : String(err);
    return { ok: false, signal, reason: `${encoding}: ${reason}` };
  }
}
