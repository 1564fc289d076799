/**
 * Tiny builder of hand-written protobuf messages for error-path and edge-case tests, on
 * protobufjs's Writer. Only for inputs the OTel serializers never produce (malformed messages,
 * unknown fields, odd field orders); valid telemetry in tests comes from the real SDK.
 */
import protobuf from 'protobufjs/minimal.js';

const { Writer } = protobuf;
type Part = Uint8Array;

export function concat(...parts: Part[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** Length-delimited field (message, string bytes or bytes). */
export function ld(field: number, ...payload: Part[]): Uint8Array {
  return Writer.create().uint32((field << 3) | 2).bytes(concat(...payload)).finish();
}
export function str(field: number, s: string): Uint8Array {
  return Writer.create().uint32((field << 3) | 2).string(s).finish();
}
/** Varint field; numbers beyond 32 bits or negative are written as int64. */
export function varint(field: number, n: number | bigint): Uint8Array {
  const w = Writer.create().uint32((field << 3) | 0);
  return (typeof n === 'bigint' || n < 0 || n > 0xffffffff ? w.int64(n.toString()) : w.uint32(n)).finish();
}
export function fixed64(field: number, n: bigint): Uint8Array {
  return Writer.create().uint32((field << 3) | 1).fixed64(n.toString()).finish();
}
export function fixed32(field: number, n: number): Uint8Array {
  return Writer.create().uint32((field << 3) | 5).fixed32(n).finish();
}
export function double(field: number, n: number): Uint8Array {
  return Writer.create().uint32((field << 3) | 1).double(n).finish();
}
/** A proto2 group (wire types 3/4) holding `inner`, as old senders could emit for unknown fields. */
export function group(field: number, ...inner: Part[]): Uint8Array {
  return concat(
    Writer.create().uint32((field << 3) | 3).finish(),
    ...inner,
    Writer.create().uint32((field << 3) | 4).finish(),
  );
}
export function raw(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}
export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** KeyValue with a string value. */
export function kvString(key: string, value: string): Uint8Array {
  return concat(str(1, key), ld(2, str(1, value)));
}
export function kv(key: string, anyValue: Uint8Array): Uint8Array {
  return concat(str(1, key), ld(2, anyValue));
}

export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const SPAN_ID = 'eee19b7ec3c1b174';

/** A minimal valid Span payload, with extra fields appended. */
export function span(...extra: Part[]): Uint8Array {
  return concat(ld(1, hexBytes(TRACE_ID)), ld(2, hexBytes(SPAN_ID)), str(5, 'op'), ...extra);
}
/** ExportTraceServiceRequest with one ResourceSpans / ScopeSpans holding the given span payloads. */
export function traceRequest(...spans: Uint8Array[]): Uint8Array {
  return ld(1, ld(2, ld(1, str(1, 'scope')), ...spans.map((s) => ld(2, s))));
}
/** ExportLogsServiceRequest with one ResourceLogs / ScopeLogs holding the given log record payloads. */
export function logsRequest(...records: Uint8Array[]): Uint8Array {
  return ld(1, ld(2, ld(1, str(1, 'scope')), ...records.map((r) => ld(2, r))));
}
