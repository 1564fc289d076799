/**
 * Entry points: decode a whole OTLP export request (traces or logs) in either encoding.
 * Every failure surfaces as OtlpDecodeError; nothing else escapes (a safety net converts any
 * unexpected runtime error into one, so a poison record can never crash a consumer).
 */
import type { LogRecord, Span } from '../model/telemetry.js';
import { ItemRejections, OtlpDecodeError, toOtlpDecodeError } from './errors.js';
import type { OtlpEncoding } from './encoding.js';
import { decodeLogsRequestJson } from './json/logs.js';
import { jsonErrorPosition } from './json/syntax.js';
import { decodeTraceRequestJson } from './json/traces.js';
import { decodeLogsRequest } from './proto/logs.js';
import { decodeTraceRequest } from './proto/traces.js';
import { createCursor, type WireCursor } from './proto/wire.js';

const TRACE_REQUEST = 'ExportTraceServiceRequest';
const LOGS_REQUEST = 'ExportLogsServiceRequest';

/**
 * Decodes an `ExportTraceServiceRequest` into spans, in request order. Spans of one
 * ResourceSpans / ScopeSpans block share their `resource` / `scope` objects by reference.
 * @throws OtlpDecodeError when the payload is malformed (never retriable).
 */
export function decodeTraces(data: Uint8Array | string, encoding: OtlpEncoding): Span[] {
  return decodeRequest(data, encoding, TRACE_REQUEST, decodeTraceRequest, decodeTraceRequestJson);
}

/**
 * Decodes an `ExportLogsServiceRequest` into log records, in request order.
 * @throws OtlpDecodeError when the payload is malformed (never retriable).
 */
export function decodeLogs(data: Uint8Array | string, encoding: OtlpEncoding): LogRecord[] {
  return decodeRequest(data, encoding, LOGS_REQUEST, decodeLogsRequest, decodeLogsRequestJson);
}

/** What a partial decode returns: the items that decoded, and those it skipped. */
export interface PartialDecode<T> {
  /** The items that decoded, in request order. */
  readonly items: T[];
  /** How many items (spans or log records) failed and were skipped. */
  readonly rejected: number;
  /** The first few reasons (≤ 5), each with its path, as in OtlpDecodeError#reason. */
  readonly reasons: readonly string[];
}

/**
 * Like `decodeTraces`, but a span that fails on its own — a wrong-length id, an out-of-range
 * kind, a bad attribute, or damage inside its own length-delimited bytes — is skipped and counted
 * instead of failing the request, so the spans around it are kept (for OTLP partial success).
 * Anything else — the request's framing, a resource or scope, invalid JSON — still throws.
 * @throws OtlpDecodeError when the request as a whole is malformed.
 */
export function decodeTracesPartial(data: Uint8Array | string, encoding: OtlpEncoding): PartialDecode<Span> {
  const rejects = new ItemRejections(TRACE_REQUEST);
  const items = decodeRequest(data, encoding, TRACE_REQUEST, (c) => decodeTraceRequest(c, rejects), (v) => decodeTraceRequestJson(v, rejects));
  return { items, rejected: rejects.count, reasons: rejects.reasons };
}

/** Like `decodeLogs`, skipping and counting the log records that fail on their own (see `decodeTracesPartial`). */
export function decodeLogsPartial(data: Uint8Array | string, encoding: OtlpEncoding): PartialDecode<LogRecord> {
  const rejects = new ItemRejections(LOGS_REQUEST);
  const items = decodeRequest(data, encoding, LOGS_REQUEST, (c) => decodeLogsRequest(c, rejects), (v) => decodeLogsRequestJson(v, rejects));
  return { items, rejected: rejects.count, reasons: rejects.reasons };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeRequest<T>(
  data: Uint8Array | string,
  encoding: OtlpEncoding,
  root: string,
  fromProto: (c: WireCursor) => T[],
  fromJson: (value: unknown) => T[],
): T[] {
  if (encoding === 'otlp_proto') {
    if (!(data instanceof Uint8Array)) {
      throw new OtlpDecodeError(`otlp_proto needs bytes (Uint8Array), got ${typeof data} in ${root}`);
    }
    try {
      return fromProto(createCursor(data));
    } catch (e) {
      throw toOtlpDecodeError(e, root);
    }
  }
  if (encoding === 'otlp_json') {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new OtlpDecodeError(`otlp_json needs a string or UTF-8 bytes, got ${data === null ? 'null' : typeof data} in ${root}`);
    }
    let text: string;
    try {
      text = typeof data === 'string' ? (data.charCodeAt(0) === 0xfeff ? data.slice(1) : data) : utf8.decode(data);
    } catch (e) {
      throw new OtlpDecodeError(`invalid UTF-8 in the JSON payload of ${root}`, { cause: e });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new OtlpDecodeError(`${describeJsonError(text, e)} in ${root}`, { cause: e });
    }
    try {
      return fromJson(value);
    } catch (e) {
      throw toOtlpDecodeError(e, root);
    }
  }
  throw new OtlpDecodeError(
    `unknown encoding ${JSON.stringify(encoding)}: use 'otlp_proto' or 'otlp_json' (as the collector kafka exporter's \`encoding\`)`,
  );
}

/** "invalid JSON at position P (line L, column C): <parser message>" — positions are UTF-16 offsets. */
function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const detail = message.length > 160 ? `${message.slice(0, 160)}…` : message;
  if (!(error instanceof SyntaxError)) return `unparseable JSON (${detail})`; // e.g. nesting too deep for JSON.parse
  const pos = jsonErrorPosition(text);
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < pos; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return `invalid JSON at position ${pos} (line ${line}, column ${pos - lineStart + 1}): ${detail}`;
}
