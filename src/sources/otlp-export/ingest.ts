/**
 * One OTLP Export request's bytes → the handler, for both transports (OTLP/HTTP and OTLP/gRPC):
 * decode (items that do not decode on their own are dropped and counted), count, hand the items to
 * the handler, and merge the decoder's rejections with the handler's into one partial_success.
 * The transports only map the outcome to their statuses, so a span is treated the same whichever
 * way it arrived.
 */
import type { LogRecord, Span } from '../../model/telemetry.js';
import { decodeLogsPartial, decodeTracesPartial, type PartialDecode } from '../../otlp/index.js';
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
    return { kind: 'undecodable', reason: (err as Error).message, threw: true };
  }
  const decoded = result.items;
  const undecodable = undecodableItems(signal, result);
  if (undecodable !== undefined) {
    ctx.telemetry?.decodeErrors.add(1, { signal });
    // nothing of the request is usable: the request as a whole is invalid (not retried)
    if (decoded.length === 0) return { kind: 'undecodable', reason: undecodable, threw: false };
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
