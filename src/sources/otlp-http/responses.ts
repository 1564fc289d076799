/**
 * OTLP/HTTP response bodies (opentelemetry-proto collector/{trace,logs}/v1 and google.rpc.Status), in the
 * encoding of the request: `application/x-protobuf` or `application/json` (proto3 JSON mapping,
 * lowerCamelCase names, int64 as a decimal string).
 *
 * - ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
 *   ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
 * - ExportLogsServiceResponse  { ExportLogsPartialSuccess partial_success = 1; }
 *   ExportLogsPartialSuccess  { int64 rejected_log_records = 1; string error_message = 2; }
 * - google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }
 *
 * Full success leaves `partial_success` unset (empty body in protobuf, `{}` in JSON).
 */
import protobuf from 'protobufjs/minimal.js';

export type OtlpSignal = 'traces' | 'logs';
export type BodyEncoding = 'protobuf' | 'json';

export const CONTENT_TYPES: Readonly<Record<BodyEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

export interface PartialSuccess {
  /** Items of the request that were not accepted (≥ 0). */
  rejected: number;
  /** Why; required by the spec whenever `rejected` > 0, optional (a warning) otherwise. */
  errorMessage?: string;
}

/** Body of a 200 response. `partial` undefined or `{ rejected: 0 }` without message = full success. */
export function exportResponse(signal: OtlpSignal, encoding: BodyEncoding, partial?: PartialSuccess): Uint8Array {
  const set = partial !== undefined && (partial.rejected > 0 || (partial.errorMessage ?? '') !== '');
  if (encoding === 'json') {
    if (!set) return Buffer.from('{}');
    const field = signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords';
    const ps: Record<string, string> = {};
    if (partial.rejected > 0) ps[field] = String(partial.rejected);
    if (partial.errorMessage) ps.errorMessage = partial.errorMessage;
    return Buffer.from(JSON.stringify({ partialSuccess: ps }));
  }
  if (!set) return new Uint8Array(0);
  const inner = protobuf.Writer.create();
  if (partial.rejected > 0) inner.uint32((1 << 3) | 0).int64(partial.rejected);
  if (partial.errorMessage) inner.uint32((2 << 3) | 2).string(partial.errorMessage);
  const bytes = inner.finish();
  return protobuf.Writer.create().uint32((1 << 3) | 2).bytes(bytes).finish();
}

/** gRPC status codes used in `google.rpc.Status.code` beside the HTTP status. */
export const GrpcCode = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** Body of an error response (4xx/5xx). */
export function statusBody(encoding: BodyEncoding, code: number, message: string): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32((1 << 3) | 0).int32(code);
  if (message) w.uint32((2 << 3) | 2).string(message);
  return w.finish();
}

/** Reads a protobuf google.rpc.Status (for tests and clients). */
export function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  const r = protobuf.Reader.create(bytes);
  let code = 0;
  let message = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) code = r.int32();
    else if (tag >>> 3 === 2) message = r.string();
    else r.skipType(tag & 7);
  }
  return { code, message };
}

/** Reads a protobuf Export*ServiceResponse (for tests and clients). */
export function decodeExportResponse(bytes: Uint8Array): PartialSuccess | undefined {
  const r = protobuf.Reader.create(bytes);
  let out: PartialSuccess | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const inner = protobuf.Reader.create(r.bytes());
      out = { rejected: 0 };
      while (inner.pos < inner.len) {
        const t = inner.uint32();
        if (t >>> 3 === 1) out.rejected = Number(inner.int64().toString());
        else if (t >>> 3 === 2) out.errorMessage = inner.string();
        else inner.skipType(t & 7);
      }
    } else r.skipType(tag & 7);
  }
  return out;
}
