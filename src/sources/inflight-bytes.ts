/**
 * Bytes of request bodies (OTLP/HTTP) or messages (OTLP/gRPC) a receiver reads at once — or both
 * receivers of a job together, sharing one (src/runtime/local-job.ts): each
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
  private readonly freed = new Set<() => void>();

  /**
   * `sharedBy`: the receivers that share this budget (e.g. "OTLP/HTTP and OTLP/gRPC"), named in
   * their refusals; unset for a receiver's own.
   */
  constructor(
    readonly limit: number,
    readonly sharedBy?: string,
  ) {}

  /**
   * Calls `listener` after every release, whoever reserved (a receiver whose requests wait for room
   * hears the other receiver's releases too); returns the unsubscription.
   */
  onFree(listener: () => void): () => void {
    this.freed.add(listener);
    return () => void this.freed.delete(listener);
  }

  /** Bytes reserved now. */
  get bytes(): number {
    return this.held;
  }

  /** Reserves `bytes`: the release (its later calls do nothing), or undefined past the limit. */
  reserve(bytes: number): (() => void) | undefined {
    if (this.held > 0 && this.held + bytes > this.limit) return undefined;
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      for (const listener of this.freed) listener();
    };
  }

  /**
   * Why a request does not fit, for the refusals of the receivers: `what` this receiver reads
   * (its own budget), or the requests of all that share it.
   */
  fullMessage(what: 'request bodies' | 'request messages'): string {
    return this.sharedBy
      ? `the receivers are reading ${this.held} bytes of requests already (limit ${this.limit}, 4 × source.http.maxBodyBytes for ${this.sharedBy} together)`
      : `the receiver is reading ${this.held} bytes of ${what} already (limit ${this.limit}, 4 × source.http.maxBodyBytes)`;
  }
}
