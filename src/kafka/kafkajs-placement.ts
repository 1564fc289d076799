/**
 * Records → kafkajs messages with their partition decided before sending, exactly as kafkajs's
 * `Partitioners.DefaultPartitioner` (the Java-compatible murmur2 one the producers are created
 * with) would decide it while sending. Knowing the partition up front lets a send be cut into
 * requests per partition (produce-chunks.ts) instead of per total size.
 */
import type { ICustomPartitioner, IHeaders, Message, PartitionMetadata } from 'kafkajs';
import { Partitioners } from './kafkajs-module.js';
import type { OutgoingRecord } from './client.js';
import { recordBytes, type SizedRecord } from './produce-chunks.js';

/** A record ready for `sendBatch`: its kafkajs message, topic, partition (if known) and size. */
export interface PlacedMessage extends SizedRecord {
  readonly message: Message;
  /** The caller set the partition (not derived from the key). */
  readonly explicit: boolean;
}

/**
 * Key → partition with kafkajs's own default partitioner. For keyed messages it is a pure
 * function of (key bytes, partition count): `toPositive(murmur2(key)) % count`; the partitioner's
 * round-robin state is only used for null keys, which are never passed to it here.
 */
export class KeyPartitioner {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** Partition metadata as kafkajs would see it for a topic with n partitions, all led by a broker. */
  private readonly metadata = new Map<number, PartitionMetadata[]>();
  /**
   * Partition count → string key → partition (output keys repeat: agent ids). The topic is not
   * part of it: for keyed messages the partitioner does not read it. Keyed by the key string
   * itself, so a lookup builds no string (V8 keeps a string's hash). Cleared when full.
   */
  private readonly memo = new Map<number, Map<string, number>>();
  private memoSize = 0;
  private static readonly MEMO_MAX = 65_536;

  /** Partition (0 ≤ p < `partitions`) of a message with a non-null key, on a topic with `partitions` partitions. */
  partition(topic: string, key: Buffer | string, partitions: number): number {
    if (typeof key !== 'string') return this.compute(topic, key, partitions);
    let byKey = this.memo.get(partitions);
    if (!byKey) this.memo.set(partitions, (byKey = new Map()));
    let p = byKey.get(key);
    if (p === undefined) {
      p = this.compute(topic, key, partitions);
      if (this.memoSize >= KeyPartitioner.MEMO_MAX) {
        for (const m of this.memo.values()) m.clear();
        this.memoSize = 0;
      }
      byKey.set(key, p);
      this.memoSize++;
    }
    return p;
  }

  private compute(topic: string, key: Buffer | string, partitions: number): number {
    let partitionMetadata = this.metadata.get(partitions);
    if (!partitionMetadata) {
      partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      this.metadata.set(partitions, partitionMetadata);
    }
    return this.partitioner({ topic, partitionMetadata, message: { key, value: null } });
  }
}

/**
 * kafkajs's DefaultPartitioner (the one KeyPartitioner mirrors), asked only for messages without
 * a partition. kafkajs calls the partitioner for every message it sends, and every record the
 * producers send is placed already (placeRecord); DefaultPartitioner returns such a message's
 * partition too, but first filters the topic's partition list into a new array — a list per
 * record published. The same partitions, without that call.
 */
export const placedFirstPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  return (args) => args.message.partition ?? partitioner(args);
};

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function toKafkajsHeaders(h: Readonly<Record<string, string | Uint8Array>>): IHeaders {
  // Event records carry only string headers: pass the object as is (kafkajs only reads it).
  for (const k in h) {
    if (typeof h[k] !== 'string') {
      const out: IHeaders = {};
      for (const [name, v] of Object.entries(h)) out[name] = typeof v === 'string' ? v : asBuffer(v);
      return out;
    }
  }
  return h as IHeaders;
}

/**
 * A record as a kafkajs message. The partition is the record's own when set; else, for a non-null
 * key on a topic whose partition count is known, the key's partition; else left to kafkajs
 * (`partition: undefined`: null key → kafkajs's round robin, or unknown partition count).
 */
export function placeRecord(r: OutgoingRecord, partitions: number | undefined, partitioner: KeyPartitioner): PlacedMessage {
  const key = r.key === null ? null : typeof r.key === 'string' ? r.key : asBuffer(r.key);
  const message: Message = { key, value: typeof r.value === 'string' ? r.value : asBuffer(r.value) };
  if (r.headers) message.headers = toKafkajsHeaders(r.headers);
  let partition: number | undefined;
  if (r.partition !== undefined) partition = r.partition;
  else if (key !== null && partitions !== undefined) partition = partitioner.partition(r.topic, key, partitions);
  if (partition !== undefined) message.partition = partition;
  return { topic: r.topic, partition, bytes: r.bytes ?? recordBytes(r), message, explicit: r.partition !== undefined };
}

/** Messages grouped by topic for `sendBatch` (order within a topic kept). */
export function topicMessages(placed: readonly PlacedMessage[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const p of placed) {
    let list = byTopic.get(p.topic);
    if (!list) byTopic.set(p.topic, (list = []));
    list.push(p.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The placed messages whose (topic, partition) is missing from a send's acknowledgements.
 * kafkajs silently skips partitions absent from its metadata (`findLeaderForPartitions`), so a
 * message placed on a partition kafkajs does not know yet is not sent and not reported.
 */
export function unacknowledged(placed: readonly PlacedMessage[], acks: readonly { topicName: string; partition: number }[]): PlacedMessage[] {
  // topic → acknowledged partitions: a lookup per message builds no string
  const acked = new Map<string, Set<number>>();
  for (const a of acks) {
    let partitions = acked.get(a.topicName);
    if (!partitions) acked.set(a.topicName, (partitions = new Set()));
    partitions.add(a.partition);
  }
  return placed.filter((p) => p.partition !== undefined && acked.get(p.topic)?.has(p.partition) !== true);
}
