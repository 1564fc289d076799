/** Reading trace/span id `bytes` fields from protobuf with length validation. */
import { DecodeFailure } from '../errors.js';
import { allZero, bytesToHex } from '../hex.js';
import { type WireCursor, delimitedEnd } from './wire.js';

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
