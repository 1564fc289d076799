/**
 * `grpc-status-details-bin`: the google.rpc.Status a gRPC error carries in its trailers, here with a
 * google.rpc.RetryInfo — how the OTLP spec has an OTLP/gRPC server say how long a throttled client
 * should wait (opentelemetry-proto docs/specification.md, "OTLP/gRPC Throttling").
 *
 * - google.rpc.Status    { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
 * - google.protobuf.Any  { string type_url = 1; bytes value = 2; }
 * - google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }
 * - google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; }
 *
 * The Python OTLP gRPC exporter (opentelemetry-exporter-otlp-proto-grpc, checked on 1.45.2) does
 * not read the Status details: it takes the delay from a trailer of its own,
 * `google.rpc.retryinfo-bin`, holding the RetryInfo alone — so the receiver sends both.
 */
import protobuf from 'protobufjs/minimal.js';
import { statusBody } from '../otlp-http/responses.js';

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** The trailer the Python OTLP gRPC exporter reads the retry delay from: a google.rpc.RetryInfo. */
export const RETRY_INFO_TRAILER = 'google.rpc.retryinfo-bin';

/** A google.rpc.RetryInfo of `retryDelaySeconds` (whole seconds). */
export function retryInfo(retryDelaySeconds: number): Buffer {
  const seconds = Math.max(0, Math.floor(retryDelaySeconds));
  const duration = protobuf.Writer.create();
  if (seconds > 0) duration.uint32((1 << 3) | 0).int64(seconds);
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(duration.finish()).finish());
}

/** The Status bytes for `code` / `message` with a RetryInfo of `retryDelaySeconds`. */
export function statusWithRetryInfo(code: number, message: string, retryDelaySeconds: number): Buffer {
  const any = protobuf.Writer.create().uint32((1 << 3) | 2).string(RETRY_INFO_TYPE_URL).uint32((2 << 3) | 2).bytes(retryInfo(retryDelaySeconds)).finish();
  // code and message as the HTTP receiver's Status; the details field appended (protobuf fields concatenate)
  return Buffer.concat([statusBody('protobuf', code, message), protobuf.Writer.create().uint32((3 << 3) | 2).bytes(any).finish()]);
}

/** Reads the retry delay (seconds) of a Status with a RetryInfo; undefined without one (for tests and clients). */
export function retryDelayOf(statusBytes: Uint8Array): number | undefined {
  const r = protobuf.Reader.create(statusBytes);
  let delay: number | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 3 || (tag & 7) !== 2) {
      r.skipType(tag & 7);
      continue;
    }
    const any = protobuf.Reader.create(r.bytes());
    let typeUrl = '';
    let value: Uint8Array | undefined;
    while (any.pos < any.len) {
      const t = any.uint32();
      if (t >>> 3 === 1) typeUrl = any.string();
      else if (t >>> 3 === 2) value = any.bytes();
      else any.skipType(t & 7);
    }
    if (typeUrl !== RETRY_INFO_TYPE_URL || !value) continue;
    delay = retryInfoDelayOf(value);
  }
  return delay;
}

/** The retry delay (seconds) of a google.rpc.RetryInfo (0 when it has none). */
export function retryInfoDelayOf(retryInfoBytes: Uint8Array): number {
  let delay = 0;
  const info = protobuf.Reader.create(retryInfoBytes);
  while (info.pos < info.len) {
    const t = info.uint32();
    if (t >>> 3 !== 1) {
      info.skipType(t & 7);
      continue;
    }
    const d = protobuf.Reader.create(info.bytes());
    while (d.pos < d.len) {
      const u = d.uint32();
      if (u >>> 3 === 1) delay = Number(d.int64().toString());
      else d.skipType(u & 7);
    }
  }
  return delay;
}
