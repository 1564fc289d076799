/**
 * Trace/span id encoding: bytes → lowercase hex via a 256-entry lookup table, and validation
 * of hex ids from OTLP/JSON.
 */
import { Buffer } from 'node:buffer';
import { DecodeFailure } from './errors.js';

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of `buf[start, end)`. Caller guarantees the bounds. */
export function bytesToHex(buf: Uint8Array, start: number, end: number): string {
  // Kafka record values and HTTP bodies are Buffers: Node's native hex gives one flat string,
  // where the loop below builds a chain of 16–32 concatenations (2–3× the time, and garbage).
  if (buf instanceof Buffer) return buf.toString('hex', start, end);
  let out = '';
  for (let i = start; i < end; i++) out += HEX_BYTE[buf[i]!];
  return out;
}

/** True when every byte of `buf[start, end)` is zero (an "unset" id in OTLP). */
export function allZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * A span's trace id and span id of all zeros: OTLP calls such ids invalid, as it does ids of
 * another length (trace.proto: "An ID with all zeroes OR of length other than 16 bytes is
 * considered invalid"). Taken as ids, the spans of every run sent so were one episode (trace id
 * 0…0), and every span of a trace after its first with span id 0…0 a duplicate, dropped.
 */
export const ZERO_TRACE_ID = '0'.repeat(32);
export const ZERO_SPAN_ID = '0'.repeat(16);

/** Throws for a span's all-zero trace or span id (`ZERO_TRACE_ID`); `names`: the fields as the encoding spells them. */
export function checkSpanIds(traceId: string, spanId: string, names: { trace: string; span: string }): void {
  if (traceId === ZERO_TRACE_ID) throw new DecodeFailure(`${names.trace} is all zeros, an invalid trace id in OTLP: a span needs the non-zero id of its trace`);
  if (spanId === ZERO_SPAN_ID) throw new DecodeFailure(`${names.span} is all zeros, an invalid span id in OTLP: a span needs a non-zero id of its own`);
}

const HEX_ID = /^[0-9a-fA-F]*$/;
const ZERO_ID = /^0*$/;

/**
 * Validates an OTLP/JSON hex id (`bytes` fields are hex in OTLP/JSON, not base64) and returns it
 * lowercased. `byteLength` is 16 for trace ids, 8 for span ids.
 * @param optional when true, an empty or all-zero id yields `undefined` instead of an error.
 */
export function hexId(value: unknown, field: string, byteLength: number, optional: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (optional) return undefined;
    throw new DecodeFailure(`${field} is required (${byteLength * 2} hex characters)`);
  }
  if (typeof value !== 'string') throw new DecodeFailure(`${field} must be a hex string, got ${typeof value}`);
  if (value.length !== byteLength * 2 || !HEX_ID.test(value)) {
    throw new DecodeFailure(
      `${field} must be ${byteLength * 2} hex characters (OTLP/JSON ids are hex, not base64), got ${JSON.stringify(value.slice(0, 40))} (${value.length} chars)`,
    );
  }
  if (optional && ZERO_ID.test(value)) return undefined;
  return value.toLowerCase();
}
