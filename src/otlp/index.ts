/**
 * OTLP decoding: `ExportTraceServiceRequest` / `ExportLogsServiceRequest` in protobuf
 * (`otlp_proto`) or OTLP/JSON (`otlp_json`) → immutable model `Span` / `LogRecord` objects.
 */
export { decodeLogs, decodeLogsPartial, decodeTraces, decodeTracesPartial, type PartialDecode } from './decode.js';
export { detectEncoding, OtlpEncodingSchema, type OtlpEncoding } from './encoding.js';
export { OtlpDecodeError } from './errors.js';
