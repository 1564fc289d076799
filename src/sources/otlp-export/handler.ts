/**
 * What the OTLP receivers (HTTP and gRPC) feed: the local pipeline implements it. Its own module
 * so both transports and the shared ingest step (./ingest.ts) depend on it, not on each other.
 */
import type { Evaluation } from '../../model/agents.js';
import type { LogRecord, Span } from '../../model/telemetry.js';
import type { PartialSuccess } from '../otlp-http/responses.js';

/** Thrown by a handler that cannot take more data now: HTTP answers 503, gRPC UNAVAILABLE; the client retries. */
export class ReceiverBusyError extends Error {
  constructor(
    message: string,
    /** Seconds the client should wait (Retry-After; gRPC RetryInfo). */
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

/**
 * What the receivers feed. Return a PartialSuccess when some items were not accepted (the count
 * and reason go back to the exporter); throw ReceiverBusyError for backpressure.
 */
export interface OtlpHandler {
  onSpans(spans: Span[]): PartialSuccess | void | Promise<PartialSuccess | void>;
  onLogs(logs: LogRecord[]): PartialSuccess | void | Promise<PartialSuccess | void>;
  /** Validated standalone evaluation records; without it `/v1/evaluations` answers 404 (OTLP/HTTP only). */
  onEvaluations?(evaluations: Evaluation[]): void | Promise<void>;
  /** Why a valid evaluation record would join nothing here (refused with this reason, as an invalid one is), or undefined. */
  evaluationRefusal?(evaluation: Evaluation): string | undefined;
}
