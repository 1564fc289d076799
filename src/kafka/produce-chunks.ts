/**
 * Splitting one `send` into produce requests the broker accepts, with as few requests as possible.
 *
 * The broker rejects a partition's record batch above `message.max.bytes` (default 1 MiB + 12 B;
 * topics may lower it with `max.message.bytes`), and kafkajs puts all records of one `sendBatch`
 * call for a partition into one batch. So the bound that matters is *per partition*: a request may
 * carry many partitions' batches as long as each stays under the budget. Records whose partition is
 * not known before sending (null key, or a topic whose partition count could not be read) may land
 * in any partition of their topic, so they count against every partition of that topic.
 *
 * Pure: no I/O, no kafkajs.
 */

/** A record as the chunker sees it. */
export interface SizedRecord {
  readonly topic: string;
  /** The partition it will be written to; `undefined` when the client picks it while sending. */
  readonly partition: number | undefined;
  /** Estimated bytes in the record batch (`recordBytes`); ≥ 64, the fixed per-record overhead it adds. */
  readonly bytes: number;
}

/** Bounds on one produce request. */
export interface ChunkLimits {
  /**
   * Estimated bytes of one partition's batch in one request. Keep well under the broker's
   * `message.max.bytes` (1 MiB by default) since it is an estimate. A single record above it
   * still goes, alone in its partition's batch.
   */
  readonly partitionBytes: number;
  /**
   * Estimated bytes of one request over all partitions (the broker's `socket.request.max.bytes`
   * is 100 MiB; kafkajs builds each request in one buffer). A single record above it goes alone.
   */
  readonly requestBytes: number;
  /**
   * Per topic, a lower bound on one partition's batch than `partitionBytes`: for topics whose
   * `max.message.bytes` is below it (the broker refuses a larger batch however small its records).
   */
  readonly topicPartitionBytes?: ReadonlyMap<string, number>;
}

/**
 * 512 KiB per partition batch (half the broker default: room for the estimate and for topics with
 * a somewhat lower `max.message.bytes`), 2 MiB per request. Larger requests were not faster on the
 * benchmark fleet: kafkajs grows each request buffer by doubling and zero-fills every step, so
 * 4–8 MiB requests cost more CPU (and GC) than the round trips they save on a local broker.
 */
export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { partitionBytes: 512 * 1024, requestBytes: 2 * 1024 * 1024 };

/** The smallest `recordBytes` value (fixed overhead, empty key and value). */
const MIN_RECORD_BYTES = 64;

/**
 * Upper estimate of a record's size in a v2 record batch: key, value, header names and values
 * with each one's length varint, plus 64 B for the record's own length/attribute/timestamp/
 * offset/key/value/header-count varints (≤ 36 B). The header lengths were once in the 64 B too,
 * which held for a few headers, not for a record with tens of thousands (a dead-lettered input
 * record keeps all of its headers): such a record passed the `maxRecordBytes` check while its
 * batch was over the dead-letter topic's `max.message.bytes`, refused by the broker at every retry.
 */
export function recordBytes(r: {
  readonly key: string | Uint8Array | null;
  readonly value: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string | Uint8Array>>;
}): number {
  let n = MIN_RECORD_BYTES + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength);
  if (r.key !== null) n += typeof r.key === 'string' ? Buffer.byteLength(r.key) : r.key.byteLength;
  const h = r.headers;
  if (h) {
    for (const k in h) {
      const v = h[k]!;
      const kb = Buffer.byteLength(k);
      const vb = typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
      n += kb + vb + lengthVarintBytes(kb) + lengthVarintBytes(vb);
    }
  }
  return n;
}

/** Bytes of the zigzag varint a v2 record writes for a length. */
function lengthVarintBytes(length: number): number {
  let zz = length * 2;
  let n = 1;
  while (zz >= 128) {
    zz = Math.floor(zz / 128);
    n++;
  }
  return n;
}

/** Bytes one chunk holds for one topic. */
interface TopicLoad {
  /** Bytes per known partition. */
  readonly partitions: Map<number, number>;
  /** Largest value in `partitions` (0 when empty). */
  maxPartition: number;
  /** Bytes of records with an unknown partition: they may land in any partition. */
  unknown: number;
}

interface Chunk<T> {
  readonly records: T[];
  readonly topics: Map<string, TopicLoad>;
  bytes: number;
}

/** Per topic: the last chunk each known partition used, the last chunk an unknown-partition record used, and the last chunk any record used. */
interface TopicOrder {
  readonly partitions: Map<number, number>;
  unknown: number;
  any: number;
}

/**
 * Splits records into chunks, each sent as one request, such that in every chunk
 * - each partition's estimated bytes (its own records + the topic's unknown-partition records)
 *   ≤ `limits.partitionBytes`, unless the partition's batch holds a single record;
 * - the total ≤ `limits.requestBytes`, unless the chunk holds a single record;
 * and records that go (or may go) to the same partition keep their relative order across and
 * within chunks (chunks are sent one after the other). Records of different partitions may be
 * reordered: a record goes to the first chunk, not before its partition's previous record, where
 * it fits. Every record appears exactly once.
 */
export function chunkRecords<T extends SizedRecord>(records: readonly T[], limits: ChunkLimits = DEFAULT_CHUNK_LIMITS): T[][] {
  if (!(limits.partitionBytes > 0) || !(limits.requestBytes > 0)) {
    throw new RangeError(`chunk limits must be positive (partitionBytes ${limits.partitionBytes}, requestBytes ${limits.requestBytes})`);
  }
  const chunks: Chunk<T>[] = [];
  const order = new Map<string, TopicOrder>();
  /** Chunks before this one cannot take even the smallest record (keeps the scan short on long sends). */
  let firstOpen = 0;
  for (const r of records) {
    let o = order.get(r.topic);
    if (!o) order.set(r.topic, (o = { partitions: new Map(), unknown: 0, any: 0 }));
    const p = r.partition;
    // Not before the last record that is (or may be) in the same partition.
    let c = Math.max(firstOpen, p === undefined ? o.any : Math.max(o.partitions.get(p) ?? 0, o.unknown));
    while (c < chunks.length && !fits(chunks[c]!, r, limits)) c++;
    if (c === chunks.length) chunks.push({ records: [], topics: new Map(), bytes: 0 });
    add(chunks[c]!, r);
    if (p === undefined) o.unknown = c;
    else o.partitions.set(p, c);
    if (c > o.any) o.any = c;
    while (firstOpen < chunks.length && chunks[firstOpen]!.bytes + MIN_RECORD_BYTES > limits.requestBytes) firstOpen++;
  }
  return chunks.map((ch) => ch.records);
}

function fits(chunk: Chunk<SizedRecord>, r: SizedRecord, limits: ChunkLimits): boolean {
  if (chunk.bytes > 0 && chunk.bytes + r.bytes > limits.requestBytes) return false;
  const load = chunk.topics.get(r.topic);
  if (!load) return true;
  const batch = load.unknown + (r.partition === undefined ? load.maxPartition : (load.partitions.get(r.partition) ?? 0));
  const cap = Math.min(limits.partitionBytes, limits.topicPartitionBytes?.get(r.topic) ?? Infinity);
  return batch === 0 || batch + r.bytes <= cap;
}

function add<T extends SizedRecord>(chunk: Chunk<T>, r: T): void {
  chunk.records.push(r);
  chunk.bytes += r.bytes;
  let load = chunk.topics.get(r.topic);
  if (!load) chunk.topics.set(r.topic, (load = { partitions: new Map(), maxPartition: 0, unknown: 0 }));
  if (r.partition === undefined) {
    load.unknown += r.bytes;
  } else {
    const b = (load.partitions.get(r.partition) ?? 0) + r.bytes;
    load.partitions.set(r.partition, b);
    if (b > load.maxPartition) load.maxPartition = b;
  }
}
