/**
 * Errors of the OTLP decoders.
 *
 * A decode error is never retriable: the same bytes always fail the same way, so a consumer
 * should dead-letter or skip the record, not retry it.
 */

/** Thrown for every malformed OTLP payload (protobuf or JSON). `reason` says what and where. */
export class OtlpDecodeError extends Error {
  /** What is wrong and where, e.g. `traceId must be 16 bytes, got 7 in ExportTraceServiceRequest.resource_spans[0]…`. */
  readonly reason: string;
  /** Always false: malformed input does not get better on retry. */
  readonly retriable = false;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`OTLP decode failed: ${reason}`, options);
    this.name = 'OtlpDecodeError';
    this.reason = reason;
  }
}

/**
 * Internal failure raised deep inside a decoder. Enclosing message decoders add their field
 * path on the way out (see `withPath`), so the happy path pays nothing for error context.
 */
export class DecodeFailure extends Error {
  /** Path segments, innermost first (reversed when the reason is built). */
  readonly segments: string[] = [];
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'DecodeFailure';
  }
}

/** Turns any error thrown while decoding into a DecodeFailure and adds one path segment. */
export function withPath(error: unknown, segment: string): DecodeFailure {
  const failure =
    error instanceof DecodeFailure
      ? error
      : new DecodeFailure(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  failure.segments.push(segment);
  return failure;
}

/** How many rejection reasons a partial decode keeps (the count is always complete). */
const MAX_REJECTION_REASONS = 5;

/**
 * The items (spans, log records) a partial decode skipped: how many, and the first reasons
 * (each a full OtlpDecodeError reason with its path). An item is skipped only when its bounds are
 * known — a protobuf item whose length prefix fits its ScopeSpans/ScopeLogs, a JSON array element —
 * so the items around it decode as they would without it.
 */
export class ItemRejections {
  count = 0;
  readonly reasons: string[] = [];
  constructor(private readonly root: string) {}

  /** Records a failed item; `segments` is its path below the request, outermost first. */
  add(error: unknown, segments: readonly string[]): void {
    this.count++;
    if (this.reasons.length >= MAX_REJECTION_REASONS) return;
    let failure: DecodeFailure | undefined;
    for (let i = segments.length - 1; i >= 0; i--) failure = withPath(failure ?? error, segments[i]!);
    this.reasons.push(toOtlpDecodeError(failure ?? error, this.root).reason);
  }
}

/** Converts whatever a decoder threw into the public error, rooted at `root` (the request message name). */
export function toOtlpDecodeError(error: unknown, root: string): OtlpDecodeError {
  if (error instanceof OtlpDecodeError) return error;
  const failure = withPath(error, root);
  const path = failure.segments.slice().reverse().join('.');
  return new OtlpDecodeError(`${failure.detail} in ${path}`, { cause: error });
}
