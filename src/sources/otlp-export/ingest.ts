/**
 * One OTLP Export request's bytes → the handler, for both transports (OTLP/HTTP and OTLP/gRPC):
 * decode (items that do not decode on their own are dropped and counted), count, hand the items to
 * the handler, and merge the decoder's rejections with the handler's into one partial_success.
 * The transports only map the outcome to their statuses, so a span is treated the same whichever
 * way it arrived.
 */
import type { LogRecord, Span } from '../../model/telemetry.js';
import { decodeLogs, decodeLogsPartial, decodeTraces, decodeTracesPartial, type PartialDecode } from '../../otlp/index.js';
import type { SelfTelemetry } from '../../telemetry/self-metrics.js';
import { ReceiverBusyError, type OtlpHandler } from './handler.js';
import type { OtlpSignal, PartialSuccess } from '../otlp-http/responses.js';

export type IngestOutcome =
  /** Taken; `partial` set when some items were not (the response's partial_success). */
  | { kind: 'accepted'; partial: PartialSuccess | undefined }
  /** Nothing of the request is usable (not retryable). `threw`: the envelope itself did not decode. */
  | { kind: 'undecodable'; reason: string; threw: boolean }
  /** Backpressure from the handler (retryable). */
  | { kind: 'busy'; message: string; retryAfterSeconds: number }
  /** The handler failed otherwise. */
  | { kind: 'failed'; message: string };

export interface IngestContext {
  telemetry?: SelfTelemetry | undefined;
  /** The `source` attribute of the received-items counters. */
  source: 'otlp-http' | 'otlp-grpc';
  /** Told when part of a request was dropped while the rest was taken. */
  onPartlyUndecodable?: ((signal: OtlpSignal, message: string) => void) | undefined;
}

export async function ingestExport(signal: OtlpSignal, body: Uint8Array, encoding: 'otlp_proto' | 'otlp_json', handler: OtlpHandler, ctx: IngestContext): Promise<IngestOutcome> {
  let result: PartialDecode<Span> | PartialDecode<LogRecord>;
  try {
    result = signal === 'traces' ? decodeTracesPartial(body, encoding) : decodeLogsPartial(body, encoding);
  } catch (err) {
    ctx.telemetry?.decodeErrors.add(1, { signal });
    return { kind: 'undecodable', reason: `${(err as Error).message}${otherSignalHint(signal, body, encoding, ctx.source)}`, threw: true };
  }
  const decoded = result.items;
  const foreign = decoded.length === 0 && result.rejected === 0 && encoding === 'otlp_json' ? notAnOtlpJsonRequest(signal, body) : undefined;
  if (foreign !== undefined) {
    ctx.telemetry?.decodeErrors.add(1, { signal });
    return { kind: 'undecodable', reason: foreign, threw: false };
  }
  const undecodable = undecodableItems(signal, result);
  if (undecodable !== undefined) {
    ctx.telemetry?.decodeErrors.add(1, { signal });
    // nothing of the request is usable: the request as a whole is invalid (not retried)
    if (decoded.length === 0) return { kind: 'undecodable', reason: `${undecodable}${otherSignalHint(signal, body, encoding, ctx.source)}`, threw: false };
    ctx.onPartlyUndecodable?.(signal, undecodable);
  }
  if (signal === 'traces') ctx.telemetry?.spansReceived.add(decoded.length, { source: ctx.source });
  else ctx.telemetry?.logRecordsReceived.add(decoded.length, { source: ctx.source });
  let partial: PartialSuccess | void;
  try {
    partial = signal === 'traces' ? await handler.onSpans(decoded as Span[]) : await handler.onLogs(decoded as LogRecord[]);
  } catch (err) {
    if (err instanceof ReceiverBusyError) return { kind: 'busy', message: err.message, retryAfterSeconds: err.retryAfterSeconds };
    return { kind: 'failed', message: `processing failed: ${(err as Error).message}` };
  }
  return { kind: 'accepted', partial: mergePartial(result.rejected, undecodable, partial ?? undefined) };
}

const REQUEST_FIELDS = { traces: ['resourceSpans', 'resource_spans'], logs: ['resourceLogs', 'resource_logs'] } as const;
const ENDPOINTS = { traces: '/v1/traces', logs: '/v1/logs' } as const;

/**
 * What an OTLP/JSON body that decoded to nothing is, when it is not an empty request: OTLP/JSON
 * ignores unknown fields, so an object without the signal's field — a logs request POSTed to
 * /v1/traces (or the reverse), a misspelt `resourcespans`, an evaluation record meant for
 * /v1/evaluations — decoded as an empty request and was answered 200 {}, its content dropped without
 * a word in the response or the log (the Kafka source sends such records to the dead-letter topic
 * with the reason: record-decoder's notAnOtlpRequest). `{}` and empty blocks are empty requests.
 */
function notAnOtlpJsonRequest(signal: OtlpSignal, body: Uint8Array): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const keys = Object.keys(json);
  const [camel, snake] = REQUEST_FIELDS[signal];
  if (keys.length === 0 || keys.includes(camel) || keys.includes(snake)) return undefined;
  const shown = keys.length > 6 ? `${keys.slice(0, 6).join(', ')}, …` : keys.join(', ');
  const what = `not an OTLP ${signal} request: a JSON object without ${camel} (its fields: ${shown})`;
  const other: OtlpSignal = signal === 'traces' ? 'logs' : 'traces';
  if (keys.some((k) => (REQUEST_FIELDS[other] as readonly string[]).includes(k))) {
    return `${what} — it is an OTLP ${other} request: POST it to ${ENDPOINTS[other]} (the exporter's ${other} endpoint, e.g. OTEL_EXPORTER_OTLP_${other.toUpperCase()}_ENDPOINT)`;
  }
  const misspelt = keys.find((k) => k.toLowerCase().replace(/_/g, '') === camel.toLowerCase());
  if (misspelt !== undefined) return `${what} — did you mean ${camel}? (field names are case-sensitive)`;
  if (keys.includes('score') || keys.includes('label')) return `${what} — an evaluation record? POST it to /v1/evaluations`;
  return `${what} — send {"${camel}": [ … ]} (OTLP/JSON, docs: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding)`;
}

/**
 * " — it is an OTLP logs request: …" when a request that does not decode as `signal` decodes as the
 * other one, else ''. OTLP logs in protobuf POSTed to /v1/traces (an exporter's logs endpoint set
 * to the traces path), or the reverse, were refused as "1 span of 1 could not be decoded and was
 * dropped: unexpected wire type 4 at byte 426 in …", naming neither the cause nor the fix (the Kafka
 * source says it for a topic: record-decoder's foreignPayload). Only asked about refused requests.
 */
function otherSignalHint(signal: OtlpSignal, body: Uint8Array, encoding: 'otlp_proto' | 'otlp_json', source: IngestContext['source']): string {
  const other: OtlpSignal = signal === 'traces' ? 'logs' : 'traces';
  try {
    if ((other === 'logs' ? decodeLogs(body, encoding) : decodeTraces(body, encoding)).length === 0) return '';
  } catch {
    return '';
  }
  const where = source === 'otlp-grpc' ? `call ${other === 'logs' ? 'LogsService' : 'TraceService'}/Export` : `POST it to ${ENDPOINTS[other]} (the exporter's ${other} endpoint, e.g. OTEL_EXPORTER_OTLP_${other.toUpperCase()}_ENDPOINT)`;
  return ` — it is an OTLP ${other} request: ${where}`;
}

/** What a partial decode dropped, as the partial_success message; undefined when it dropped nothing. */
function undecodableItems(signal: OtlpSignal, result: PartialDecode<unknown>): string | undefined {
  if (result.rejected === 0) return undefined;
  const what = signal === 'traces' ? 'span' : 'log record';
  const more = result.rejected > result.reasons.length ? `; and ${result.rejected - result.reasons.length} more` : '';
  return `${result.rejected} ${what}${result.rejected === 1 ? '' : 's'} of ${result.rejected + result.items.length} could not be decoded and ${result.rejected === 1 ? 'was' : 'were'} dropped: ${result.reasons.join('; ')}${more}`;
}

/** The decoder's rejections and the handler's, as one partial_success. */
function mergePartial(decodeRejected: number, decodeMessage: string | undefined, handler: PartialSuccess | undefined): PartialSuccess | undefined {
  if (decodeRejected === 0) return handler;
  const messages = [decodeMessage, handler?.errorMessage].filter((m): m is string => !!m);
  return { rejected: decodeRejected + (handler?.rejected ?? 0), errorMessage: messages.join('; ') };
}
