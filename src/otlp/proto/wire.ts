/**
 * Protobuf wire-format primitives on top of protobufjs's `Reader` (used as the cursor:
 * `buf`, `pos`, `len`). Every read is bounds-checked against the enclosing message's end and
 * fails with a DecodeFailure naming the byte offset; protobufjs's own `uint32`/`string` clamp
 * or over-read on truncated input, so lengths and varints are read here.
 *
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 3/4 group start/end (proto2, skipped),
 * 5 fixed32.
 */
import protobuf from 'protobufjs/minimal.js';
import { DecodeFailure } from '../errors.js';

export const Reader = protobuf.Reader;
export type Reader = protobuf.Reader;

/** Per-call decoding state: the cursor plus a DataView over the same bytes for fixed64 reads. */
export interface WireCursor {
  readonly r: Reader;
  readonly buf: Uint8Array;
  readonly view: DataView;
}

export function createCursor(data: Uint8Array): WireCursor {
  // A Buffer view (no copy) makes protobufjs create its BufferReader, and gives us Buffer#toString.
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { r: Reader.create(buf), buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength) };
}

/** Reads an unsigned varint of at most 32 significant bits (tags, lengths, enums, uint32). */
export function varint32(c: WireCursor, end: number): number {
  const r = c.r;
  const buf = c.buf;
  let pos = r.pos;
  // Fast paths: tags and most lengths fit in one or two bytes.
  if (pos + 1 < end) {
    const b0 = buf[pos]!;
    if (b0 < 0x80) {
      r.pos = pos + 1;
      return b0;
    }
    const b1 = buf[pos + 1]!;
    if (b1 < 0x80) {
      r.pos = pos + 2;
      return (b0 & 0x7f) | (b1 << 7);
    }
  }
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw new DecodeFailure(`truncated varint at byte ${r.pos}`);
    const b = buf[pos++]!;
    // Bits above 32 are dropped, as protobuf does for int32/uint32/enum fields.
    if (shift < 32) value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      r.pos = pos;
      return value >>> 0;
    }
  }
  throw new DecodeFailure(`varint longer than 10 bytes at byte ${r.pos}`);
}

/** Reads an int32/enum varint as a signed 32-bit number (negative int32 are 10-byte varints). */
export function int32(c: WireCursor, end: number): number {
  return varint32(c, end) | 0;
}

/**
 * Reads an int64 varint (two's complement). Returns a number when the value is a safe integer,
 * else its exact decimal string (the model's lossless int64 convention).
 */
export function int64(c: WireCursor, end: number): number | string {
  const r = c.r;
  const buf = c.buf;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new DecodeFailure(`truncated varint at byte ${r.pos}`);
    const b = buf[pos++]!;
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (7 * i - 32);
    if (b < 0x80) {
      r.pos = pos;
      return int64FromBits(lo >>> 0, hi >>> 0);
    }
  }
  throw new DecodeFailure(`varint longer than 10 bytes at byte ${r.pos}`);
}

const TWO_32 = 4294967296;

function int64FromBits(lo: number, hi: number): number | string {
  if (hi & 0x80000000) {
    // Negative: magnitude = ~value + 1.
    const mlo = ~lo >>> 0;
    const mhi = ~hi >>> 0;
    if (mhi < 0x200000) return -(mhi * TWO_32 + mlo + 1);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  }
  if (hi < 0x200000) return hi * TWO_32 + lo;
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Reads a fixed64 as an unsigned bigint (OTLP timestamps, unix ns). */
export function fixed64(c: WireCursor, end: number): bigint {
  const r = c.r;
  if (r.pos + 8 > end) throw new DecodeFailure(`truncated fixed64 at byte ${r.pos}`);
  const v = c.view.getBigUint64(r.pos, true);
  r.pos += 8;
  return v;
}

/** Reads a fixed32 as an unsigned number. */
export function fixed32(c: WireCursor, end: number): number {
  const r = c.r;
  if (r.pos + 4 > end) throw new DecodeFailure(`truncated fixed32 at byte ${r.pos}`);
  return r.fixed32();
}

/** Reads a little-endian double (wire type 1). */
export function double(c: WireCursor, end: number): number {
  const r = c.r;
  if (r.pos + 8 > end) throw new DecodeFailure(`truncated double at byte ${r.pos}`);
  return r.double();
}

/**
 * Reads the length prefix of a length-delimited field and returns the end offset of its payload
 * (the cursor is left at the payload start).
 */
export function delimitedEnd(c: WireCursor, end: number): number {
  const at = c.r.pos;
  const len = varint32(c, end);
  // varint32 keeps the low 32 bits (right for int32/enum fields); a length of 2^32 or more
  // (5th byte above 0x0f, or a later byte with value bits) must not wrap to a small one and
  // frame the bytes after it as a message.
  if (c.r.pos - at > 4 && lengthOverflows(c.buf, at, c.r.pos)) {
    throw new DecodeFailure(`length of 2^32 or more at byte ${at} runs past the end of its enclosing message (byte ${end})`);
  }
  const stop = c.r.pos + len;
  if (stop > end) {
    throw new DecodeFailure(`length ${len} at byte ${at} runs past the end of its enclosing message (byte ${end})`);
  }
  return stop;
}

/** True when the varint in `buf[at, stop)` (5+ bytes) has value bits at 2^32 or above. */
function lengthOverflows(buf: Uint8Array, at: number, stop: number): boolean {
  if ((buf[at + 4]! & 0x70) !== 0) return true;
  for (let i = at + 5; i < stop; i++) if ((buf[i]! & 0x7f) !== 0) return true;
  return false;
}

/** Reads a bool varint: any non-zero value is true, also one whose low 32 bits are zero. */
export function bool(c: WireCursor, end: number): boolean {
  const at = c.r.pos;
  if (varint32(c, end) !== 0) return true;
  for (let i = at; i < c.r.pos; i++) if ((c.buf[i]! & 0x7f) !== 0) return true;
  return false;
}

/**
 * `buf.toString('utf8', start, stop)` for in-range offsets: Buffer#toString validates its arguments
 * and looks the encoding up on every call before calling this same method (protobufjs's reader
 * calls it directly too). Invalid sequences become U+FFFD either way.
 */
function utf8(buf: Uint8Array, start: number, stop: number): string {
  return (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, stop);
}

/** Reads a UTF-8 string field (invalid sequences become U+FFFD, as protobuf runtimes do). */
export function string(c: WireCursor, end: number): string {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  c.r.pos = stop;
  return utf8(c.buf, start, stop);
}

/** Strings up to this many bytes go through the interning cache. */
const INTERN_MAX_BYTES = 64;
const INTERN_SLOTS = 4096; // power of two; bounded memory: 4096 × 64 bytes
/**
 * The cached strings' bytes, slot `i` at `i * INTERN_MAX_BYTES`, in one preallocated array: a
 * miss (mostly unique values such as ids) copies into it instead of allocating a copy of its own.
 */
const internSlab = new Uint8Array(INTERN_SLOTS * INTERN_MAX_BYTES);
/** The slab read four bytes at a time (slots start at multiples of 64, so aligned reads). */
const internSlabView = new DataView(internSlab.buffer);

/** Whether `view[start, stop)` holds the bytes of the slot at `base`, compared four bytes at a time. */
function sameBytes(view: DataView, start: number, stop: number, base: number): boolean {
  const slab = internSlabView;
  let i = start;
  let k = base;
  for (; i + 4 <= stop; i += 4, k += 4) if (view.getUint32(i, true) !== slab.getUint32(k, true)) return false;
  for (; i < stop; i++, k++) if (view.getUint8(i) !== slab.getUint8(k)) return false;
  return true;
}

/** Byte length of each slot's string; -1 for an empty slot. */
const internLengths = new Int32Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array(INTERN_SLOTS).fill('');

/**
 * Reads a UTF-8 string field that is likely to repeat (attribute keys, span/scope names) through
 * a small process-wide cache keyed by the raw bytes. Returning the same string object for the
 * same bytes avoids re-decoding and lets V8 reuse its internalized form when the string is used
 * as a property key — the single largest cost of building attribute records otherwise.
 */
export function internedString(c: WireCursor, end: number): string {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  c.r.pos = stop;
  const len = stop - start;
  const buf = c.buf;
  if (len > INTERN_MAX_BYTES) return utf8(buf, start, stop);
  // FNV-1a-style hash, four bytes per step (keys are short; this is the hot loop of attribute decoding).
  const view = c.view;
  let h = 0x811c9dc5 ^ len;
  let i = start;
  for (; i + 4 <= stop; i += 4) h = Math.imul(h ^ view.getUint32(i, true), 0x01000193);
  for (; i < stop; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h ^= h >>> 15;
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_BYTES;
  if (internLengths[slot] === len && sameBytes(view, start, stop, base)) return internStrings[slot]!;
  const s = utf8(buf, start, stop);
  // a copy: the caller may reuse its buffer
  for (let k = 0; k < len; k++) internSlab[base + k] = buf[start + k]!;
  internLengths[slot] = len;
  internStrings[slot] = s;
  return s;
}

/** Reads a bytes field as a copy (the input buffer may be reused by the caller). */
export function bytes(c: WireCursor, end: number): Uint8Array {
  const stop = delimitedEnd(c, end);
  const start = c.r.pos;
  c.r.pos = stop;
  // A plain Uint8Array copy: Buffer#slice would share memory and keep the Buffer subclass.
  return new Uint8Array(c.buf.subarray(start, stop));
}

/** Reads a tag: returns `(field << 3) | wireType`; field 0 is invalid protobuf. */
export function tag(c: WireCursor, end: number): number {
  const at = c.r.pos;
  const t = varint32(c, end);
  if (t >>> 3 === 0) throw new DecodeFailure(`invalid field number 0 at byte ${at}`);
  return t;
}

const MAX_GROUP_DEPTH = 32;

/** Skips a field of an unknown number by its wire type, within `end`. */
export function skip(c: WireCursor, wireType: number, end: number, depth = 0): void {
  const r = c.r;
  switch (wireType) {
    case 0:
      varint32(c, end);
      return;
    case 1:
      if (r.pos + 8 > end) throw new DecodeFailure(`truncated fixed64 at byte ${r.pos}`);
      r.pos += 8;
      return;
    case 2:
      r.pos = delimitedEnd(c, end);
      return;
    case 3: {
      // proto2 group: skip nested fields until the matching end-group.
      if (depth >= MAX_GROUP_DEPTH) throw new DecodeFailure(`groups nested deeper than ${MAX_GROUP_DEPTH} at byte ${r.pos}`);
      for (;;) {
        const t = tag(c, end);
        if ((t & 7) === 4) return;
        skip(c, t & 7, end, depth + 1);
      }
    }
    case 5:
      if (r.pos + 4 > end) throw new DecodeFailure(`truncated fixed32 at byte ${r.pos}`);
      r.pos += 4;
      return;
    default:
      throw new DecodeFailure(`unexpected wire type ${wireType} at byte ${r.pos}`);
  }
}
