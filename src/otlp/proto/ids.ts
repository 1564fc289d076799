/** Reading trace/span id `bytes` fields from protobuf with length validation. */
import { DecodeFailure } from '../errors.js';
import { allZero, bytesToHex } from '../hex.js';
import { type WireCursor, delimitedEnd } from './wire.js';

/** The last trace id read and its bytes: the spans of a request are mostly of a few traces, in runs. */
const lastTrace = { bytes: new Uint8Array(16), hex: '' };

function sameBytes(buf: Uint8Array, start: number, ref: Uint8Array): boolean {
  for (let i = 0; i < ref.length; i++) if (buf[start + i] !== ref[i]) return false;
  return true;
}

/**
 * A required 16-byte trace id as lowercase hex — the same string instance as the previous call
 * when the bytes are the same (one string per run of spans of a trace instead of one per span:
 * less garbage, and Map lookups by it reuse the string's cached hash).
 */
export function requiredTraceId(c: WireCursor, end: number, field: string): string {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  if (stop - start !== 16) throw new DecodeFailure(`${field} must be 16 bytes, got ${stop - start}`);
  c.r.pos = stop;
  if (lastTrace.hex !== '' && sameBytes(c.buf, start, lastTrace.bytes)) return lastTrace.hex;
  const hex = bytesToHex(c.buf, start, stop);
  lastTrace.bytes.set(c.buf.subarray(start, stop));
  lastTrace.hex = hex;
  return hex;
}

/**
 * Reads a required id of exactly `byteLength` bytes (16 trace, 8 span) as lowercase hex.
 * `field` is the proto field name used in the error.
 */
export function requiredId(c: WireCursor, end: number, byteLength: number, field: string): string {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  if (stop - start !== byteLength) throw new DecodeFailure(`${field} must be ${byteLength} bytes, got ${stop - start}`);
  c.r.pos = stop;
  return bytesToHex(c.buf, start, stop);
}

/** Reads an optional id: empty or all-zero → `undefined`; otherwise it must be `byteLength` bytes. */
export function optionalId(c: WireCursor, end: number, byteLength: number, field: string): string | undefined {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  c.r.pos = stop;
  if (stop === start) return undefined;
  if (stop - start !== byteLength) throw new DecodeFailure(`${field} must be ${byteLength} bytes or empty, got ${stop - start}`);
  if (allZero(c.buf, start, stop)) return undefined;
  return bytesToHex(c.buf, start, stop);
}

/** Fails when a required id never appeared (proto3 omits empty bytes, so "missing" = 0 bytes). */
export function missingId(field: string, byteLength: number): DecodeFailure {
  return new DecodeFailure(`${field} must be ${byteLength} bytes, got 0 (field absent)`);
}
