/**
 * Bytes of request bodies (OTLP/HTTP) or messages (OTLP/gRPC) a receiver reads at once: each
 * request reserves what it may hold while it is read, and one that would pass the limit is not
 * read (the receivers answer 503 / UNAVAILABLE, or let it wait). One request is always admitted
 * while nothing else is being read, so a limit below one request never refuses everything.
 */

/** The receivers' default limit: 4 × the largest request, at least 64 MiB. */
export function defaultInflightLimit(maxRequestBytes: number): number {
  return Math.max(64 * 1024 * 1024, 4 * maxRequestBytes);
}

export class InflightBytes {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get bytes(): number {
    return this.held;
  }

  /**
   * Reserves `bytes`: the release (its later calls do nothing), or undefined past the limit.
   * `onRelease` runs once, after the bytes are free again (e.g. to admit a waiting request).
   */
  reserve(bytes: number, onRelease?: () => void): (() => void) | undefined {
    if (this.held > 0 && this.held + bytes > this.limit) return undefined;
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      onRelease?.();
    };
  }
}
