/**
 * Partition counts of the topics a producer writes to, read from cluster metadata and cached per
 * topic, so records can be assigned their partition before they are sent.
 *
 * Never throws: a topic whose count cannot be read (missing topic, broker error) is reported as
 * `undefined` and asked again after `unknownRetryMs`; the caller then leaves those records'
 * placement to the Kafka client, as without this cache.
 */

/** Reads the partition counts of `topics`; topics it cannot read are absent from the result. */
export type FetchPartitionCounts = (topics: readonly string[]) => Promise<ReadonlyMap<string, number>>;

export interface PartitionCountsOptions {
  fetch: FetchPartitionCounts;
  /**
   * Ms a known count is used before it is read again. Partitions can be added to a topic; kafkajs
   * re-reads its own metadata after `metadataMaxAge` (default 300 000 ms), so the same default
   * keeps key placement close to what kafkajs itself would do after an expansion.
   */
  maxAgeMs?: number;
  /** Ms before a topic whose count could not be read is asked again. Default 10 000. */
  unknownRetryMs?: number;
  /** Called when `fetch` throws (the counts of its topics stay unknown). */
  onError?: (err: unknown, topics: readonly string[]) => void;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  /** Partition count, or undefined when it could not be read. */
  readonly count: number | undefined;
  /** `now()` value from which the entry is read again. */
  readonly expiresAt: number;
}

export class TopicPartitionCounts {
  private readonly entries = new Map<string, Entry>();
  /** Reads under way, per topic, so concurrent sends share one metadata request. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Bumped by invalidate/markUnknown: a read begun before it must not overwrite what they decided. */
  private readonly epochs = new Map<string, number>();
  private readonly maxAgeMs: number;
  private readonly unknownRetryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PartitionCountsOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.unknownRetryMs = options.unknownRetryMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Partition count per topic (`undefined`: not known), reading stale or missing ones first. */
  async lookup(topics: Iterable<string>): Promise<Map<string, number | undefined>> {
    const wanted = [...new Set(topics)];
    const now = this.now();
    const toRead = wanted.filter((t) => !this.inFlight.has(t) && !((this.entries.get(t)?.expiresAt ?? -Infinity) > now));
    if (toRead.length > 0) {
      const read = this.read(toRead);
      for (const t of toRead) this.inFlight.set(t, read);
    }
    const pending = wanted.map((t) => this.inFlight.get(t)).filter((p) => p !== undefined);
    if (pending.length > 0) await Promise.all(pending);
    return new Map(wanted.map((t) => [t, this.entries.get(t)?.count]));
  }

  /** Forgets a topic's count, so the next lookup reads it again (e.g. after a send found it stale). */
  invalidate(topic: string): void {
    this.entries.delete(topic);
    this.bump(topic);
  }

  /**
   * Treats a topic's count as unknown for `unknownRetryMs` (its records are left to the Kafka
   * client): after the client skipped records placed from a fresher count than its own metadata,
   * reading the count again at once would only repeat the skip, with an admin request per send.
   */
  markUnknown(topic: string): void {
    this.entries.set(topic, { count: undefined, expiresAt: this.now() + this.unknownRetryMs });
    this.bump(topic);
  }

  private bump(topic: string): void {
    this.epochs.set(topic, (this.epochs.get(topic) ?? 0) + 1);
  }

  private async read(topics: readonly string[]): Promise<void> {
    const startedAt = topics.map((t) => this.epochs.get(t) ?? 0);
    let counts: ReadonlyMap<string, number> = new Map();
    try {
      counts = await this.options.fetch(topics);
    } catch (err) {
      this.options.onError?.(err, topics);
    }
    const now = this.now();
    for (const [i, t] of topics.entries()) {
      this.inFlight.delete(t);
      // invalidated or marked unknown while this read was under way: its answer may be the stale one
      if ((this.epochs.get(t) ?? 0) !== startedAt[i]) continue;
      const n = counts.get(t);
      const known = n !== undefined && Number.isInteger(n) && n > 0;
      this.entries.set(t, known ? { count: n, expiresAt: now + this.maxAgeMs } : { count: undefined, expiresAt: now + this.unknownRetryMs });
    }
  }
}
