/**
 * OTLP bytes of recorded runs, produced by the real serializers of @opentelemetry/otlp-transformer
 * (what the OTLP/HTTP exporters put on the wire).
 */
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type OtlpEncodingName = 'otlp_proto' | 'otlp_json';

const utf8 = new TextDecoder();

function must(bytes: Uint8Array | undefined, what: string): Uint8Array {
  // The serializers return undefined only on internal failure; surface it instead of sending nothing.
  if (!bytes) throw new Error(`@opentelemetry/otlp-transformer returned no bytes for ${what}`);
  return bytes;
}

/** ExportTraceServiceRequest (protobuf) holding `spans`. */
export function tracesToProto(spans: ReadableSpan[]): Uint8Array {
  return must(ProtobufTraceSerializer.serializeRequest(spans), 'ExportTraceServiceRequest (protobuf)');
}

/** ExportTraceServiceRequest as OTLP/JSON text. */
export function tracesToJson(spans: ReadableSpan[]): string {
  return utf8.decode(must(JsonTraceSerializer.serializeRequest(spans), 'ExportTraceServiceRequest (JSON)'));
}

/** ExportLogsServiceRequest (protobuf) holding `records`. */
export function logsToProto(records: ReadableLogRecord[]): Uint8Array {
  return must(ProtobufLogsSerializer.serializeRequest(records), 'ExportLogsServiceRequest (protobuf)');
}

/** ExportLogsServiceRequest as OTLP/JSON text. */
export function logsToJson(records: ReadableLogRecord[]): string {
  return utf8.decode(must(JsonLogsSerializer.serializeRequest(records), 'ExportLogsServiceRequest (JSON)'));
}

/** Traces in `encoding`: protobuf bytes, or the JSON text as UTF-8 bytes. */
export function encodeTraces(spans: ReadableSpan[], encoding: OtlpEncodingName): Uint8Array {
  return encoding === 'otlp_proto' ? tracesToProto(spans) : must(JsonTraceSerializer.serializeRequest(spans), 'ExportTraceServiceRequest (JSON)');
}

/** Logs in `encoding`: protobuf bytes, or the JSON text as UTF-8 bytes. */
export function encodeLogs(records: ReadableLogRecord[], encoding: OtlpEncodingName): Uint8Array {
  return encoding === 'otlp_proto' ? logsToProto(records) : must(JsonLogsSerializer.serializeRequest(records), 'ExportLogsServiceRequest (JSON)');
}
