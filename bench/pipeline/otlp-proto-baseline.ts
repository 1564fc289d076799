/**
 * Baseline decoder for the decode benchmark: protobufjs (reflection, the generic library most JS
 * OTLP consumers use) over the OTLP trace schema. Field numbers follow
 * opentelemetry-proto (common/v1, resource/v1, trace/v1, collector/trace/v1).
 */
import protobuf from 'protobufjs';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11;
  uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const root = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: true }).root;
const Request = root.lookupType('otlp.ExportTraceServiceRequest');

interface DecodedRequest {
  resource_spans: { scope_spans: { spans: unknown[] }[] }[];
}

/** protobufjs decode to message objects (no conversion); returns the span count. */
export function protobufjsDecode(bytes: Uint8Array): number {
  const msg = Request.decode(bytes) as unknown as DecodedRequest;
  let n = 0;
  for (const rs of msg.resource_spans) for (const ss of rs.scope_spans) n += ss.spans.length;
  return n;
}

/** protobufjs decode + toObject (longs as strings, bytes as hex-able Buffers): plain objects like ours. */
export function protobufjsDecodeToObject(bytes: Uint8Array): number {
  const obj = Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: false }) as DecodedRequest;
  let n = 0;
  for (const rs of obj.resource_spans ?? []) for (const ss of rs.scope_spans ?? []) n += ss.spans?.length ?? 0;
  return n;
}
