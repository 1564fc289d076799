/**
 * Scalar readers for OTLP/JSON (the protobuf JSON mapping with OTLP's deviations): field lookup
 * by lowerCamel or original snake_case name, int64/uint64 as decimal strings or numbers, enums as
 * numbers or names, doubles incl. "NaN"/"Infinity", bytes as base64. `null` means "field absent".
 */
import { DecodeFailure } from '../errors.js';
import { finiteOrName } from '../proto/common.js';

export type JsonObject = Record<string, unknown>;

/** Describes a JSON value's type for error messages. */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Requires a JSON object (not null, not an array). */
export function asObject(v: unknown, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DecodeFailure(`${what} must be an object, got ${typeName(v)}`);
  }
  return v as JsonObject;
}

const EMPTY: readonly unknown[] = Object.freeze([]);

/** A repeated field: absent/null → empty; otherwise it must be an array. */
export function asArray(v: unknown, what: string): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) throw new DecodeFailure(`${what} must be an array, got ${typeName(v)}`);
  return v;
}

/** Reads field `camel`, falling back to its original proto name `snake` (both are valid JSON names). */
export function field(o: JsonObject, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

/** A string field: absent/null → ''. */
export function asString(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DecodeFailure(`${what} must be a string, got ${typeName(v)}`);
  return v;
}

/** A string field where '' means unset → undefined. */
export function optionalString(v: unknown, what: string): string | undefined {
  const s = asString(v, what);
  return s === '' ? undefined : s;
}

const UINT_DECIMAL = /^[0-9]{1,20}$/;
const INT_DECIMAL = /^-?[0-9]{1,19}$/;
const UINT64_MAX = 0xffffffffffffffffn;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A fixed64/uint64 field (timestamps in unix ns): decimal string or non-negative integer number; absent → 0n. */
export function asUint64(v: unknown, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'string') {
    if (UINT_DECIMAL.test(v)) {
      const n = BigInt(v);
      if (n <= UINT64_MAX) return n;
    }
    throw new DecodeFailure(`${what} must be an unsigned 64-bit decimal, got ${JSON.stringify(v.slice(0, 40))}`);
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number(UINT64_MAX)) {
    // Numbers above 2^53 were already rounded by JSON.parse; senders should use strings.
    return BigInt(v);
  }
  throw new DecodeFailure(`${what} must be an unsigned 64-bit integer (string or number), got ${typeName(v)} ${String(v).slice(0, 40)}`);
}

/**
 * An int64 value: number when a safe integer, else its exact decimal string (model convention).
 * JSON numbers must be integral. An integral number beyond the int64 range is kept as the number
 * it is: the OTel JS JSON serializer writes every integral double (e.g. 1e19) as `intValue`,
 * and its protobuf serializer writes the same value as a double, so both decode alike.
 */
export function asInt64(v: unknown, what: string): number | string {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v + 0; // -0 → 0: int64 has no negative zero
    if (Number.isInteger(v)) return v >= -(2 ** 63) && v < 2 ** 63 ? BigInt(v).toString() : v;
  } else if (typeof v === 'string' && INT_DECIMAL.test(v)) {
    const n = BigInt(v);
    if (n >= INT64_MIN && n <= INT64_MAX) {
      const asNumber = Number(n);
      return Number.isSafeInteger(asNumber) ? asNumber : n.toString();
    }
  }
  throw new DecodeFailure(`${what} must be a signed 64-bit integer (string or number), got ${typeName(v)} ${String(v).slice(0, 40)}`);
}

/** An int32/uint32 field given as number or decimal string; absent → 0. */
export function asInt32(v: unknown, what: string, unsigned: boolean): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?[0-9]{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= (unsigned ? 0 : -(2 ** 31)) && n <= (unsigned ? 2 ** 32 - 1 : 2 ** 31 - 1)) {
    return n;
  }
  throw new DecodeFailure(`${what} must be a${unsigned ? 'n unsigned' : ' signed'} 32-bit integer, got ${typeName(v)} ${String(v).slice(0, 40)}`);
}

/**
 * An enum field: its number, or its name as the protobuf JSON mapping allows
 * (e.g. `SPAN_KIND_SERVER`). Values outside `max` are rejected (`max` = highest defined number).
 */
export function asEnum(v: unknown, what: string, names: readonly string[], max: number): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') {
    const i = names.indexOf(v);
    if (i >= 0) return i;
  } else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v;
  throw new DecodeFailure(`${what} must be 0..${max} or one of ${names.join('|')}, got ${typeName(v)} ${String(v).slice(0, 40)}`);
}

/**
 * A double: a JSON number, a numeric string, or "NaN" / "Infinity" / "-Infinity", which are kept
 * as those strings (see `finiteOrName` in proto/common.ts: the model's numbers are finite). A JSON
 * number past the double range (`1e999`) is parsed by JSON.parse as ±Infinity: named likewise.
 */
export function asDouble(v: unknown, what: string): number | string {
  if (typeof v === 'number') return finiteOrName(v);
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v;
    const n = Number(v);
    if (v.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw new DecodeFailure(`${what} must be a number, got ${typeName(v)} ${String(v).slice(0, 40)}`);
}

/** A bool: only JSON true/false. */
export function asBool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new DecodeFailure(`${what} must be true or false, got ${typeName(v)}`);
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** A bytes value: standard or URL-safe base64, padded or not. */
export function asBase64Bytes(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !BASE64.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
    throw new DecodeFailure(`${what} must be a base64 string, got ${typeName(v)} ${String(v).slice(0, 40)}`);
  }
  return new Uint8Array(Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64'));
}
