/** The two payload encodings the collector's kafka exporter writes (and OTLP/HTTP accepts). */
import { z } from 'zod';

/** `otlp_proto`: protobuf binary; `otlp_json`: OTLP/JSON. Names as in the kafka exporter's `encoding` option. */
export const OtlpEncodingSchema = z.enum(['otlp_proto', 'otlp_json']);
export type OtlpEncoding = z.infer<typeof OtlpEncodingSchema>;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Chooses the decoder for a payload. A content type wins when it names one
 * (`application/x-protobuf` or `application/protobuf` → proto, `application/json` → JSON,
 * parameters such as `; charset=utf-8` ignored). Otherwise strings are JSON, and bytes are JSON
 * when the first non-whitespace byte (after an optional UTF-8 BOM) is `{` — except that a payload
 * starting with byte 0x0a must also end with `}`.
 *
 * Why the exception: every ExportTraceServiceRequest/ExportLogsServiceRequest starts with 0x0a
 * (field 1, length-delimited), which is also a JSON newline, and its length byte may be 0x7b
 * (`{`). A payload starting with `{` itself is never valid OTLP protobuf (0x7b is a group start
 * of field 15), so truncated JSON still gets a JSON error.
 */
export function detectEncoding(data: Uint8Array | string, contentType?: string): OtlpEncoding {
  if (contentType) {
    const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
    if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'otlp_proto';
    if (type === 'application/json') return 'otlp_json';
  }
  if (typeof data === 'string') return 'otlp_json';
  if (data.length > 0 && data[0] === OPEN_BRACE) return 'otlp_json';
  // A UTF-8 byte order mark may precede JSON text (TextDecoder drops it when decoding).
  let start = data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  while (start < data.length && isJsonSpace(data[start]!)) start++;
  if (start >= data.length || data[start] !== OPEN_BRACE) return 'otlp_proto';
  if (data[0] !== 0x0a) return 'otlp_json';
  let end = data.length - 1;
  while (end > start && isJsonSpace(data[end]!)) end--;
  return data[end] === CLOSE_BRACE ? 'otlp_json' : 'otlp_proto';
}
