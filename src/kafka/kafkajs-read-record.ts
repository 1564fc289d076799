/**
 * One record read at an offset, without a consumer group: kafkajs has no group-less fetch, and a
 * short-lived group consumer joins in seconds (the brokers' group.initial.rebalance.delay.ms, 3 s
 * by default, before its first fetch). This uses kafkajs 2.2.4's own cluster (the one its
 * consumers build: metadata, leader lookup, connections, SASL/TLS) and sends one Fetch to the
 * partition's leader — the way the pipeline reads a spilled replay filter at assignment
 * (src/runtime/watermark.ts, `ac5`).
 *
 * read_committed: the brokers hand out records only below the last stable offset, and the records
 * of aborted transactions are dropped with the project's filter (kafkajs-aborted-filter.ts).
 */
import type { IHeaders, Kafka as KafkaInstance } from 'kafkajs';
import type { TopicPartition } from './client.js';
import { filterAbortedMessages, type AbortedTransaction } from './kafkajs-aborted-filter.js';

/** kafkajs's Fetch isolation level READ_COMMITTED. */
const READ_COMMITTED = 1;

/** The parts of kafkajs's internal cluster this reads through (kafkajs 2.2.4 src/cluster). */
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<{ fetch(request: object): Promise<FetchResponse> }>;
}

/** A record as kafkajs decodes it (kafkajs-client.ts turns it into a ConsumedRecord). */
export interface FetchedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: IHeaders;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

interface FetchResponse {
  readonly responses: readonly { readonly partitions: readonly { readonly lastStableOffset: string; readonly highWatermark: string; readonly abortedTransactions?: readonly AbortedTransaction[]; readonly messages: readonly FetchedRecord[] }[] }[];
}

type CreateCluster = (options: { isolationLevel: number; allowAutoTopicCreation: boolean; metadataMaxAge?: number }) => InternalCluster;

/**
 * kafkajs's private cluster factory of `kafka` (the symbol `private:Kafka:createCluster` of its
 * 2.2.4 src/index.js); undefined when this kafkajs has none, so the capability is left out.
 */
export function clusterFactoryOf(kafka: KafkaInstance): CreateCluster | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const f = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  return typeof f === 'function' ? (f as CreateCluster) : undefined;
}

/** Errors that will not pass by asking again: the record cannot be read. */
const FINAL = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'TOPIC_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION']);

/**
 * The record at `offset` of `tp`, read_committed; undefined when it is not there — the offset is
 * out of the partition's range (deleted, retention, a recreated topic), or the partition holds
 * later records but not that one (compacted away, or of an aborted transaction). Retries
 * what may pass (a leader moving, a transaction still open below it: the last stable offset not
 * past it yet) until `timeoutMs`, then rejects with the last reason.
 */
export async function readRecordAt(createCluster: CreateCluster, tp: TopicPartition, offset: string, options: { timeoutMs: number; maxBytes: number }): Promise<FetchedRecord | undefined> {
  const shared = sharedCluster(createCluster);
  const deadline = Date.now() + options.timeoutMs;
  const wanted = BigInt(offset);
  let last = 'no answer';
  try {
    const cluster = await shared.connected;
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt === 0) await cluster.addTargetTopic(tp.topic);
        else await cluster.refreshMetadata();
        const leader = Object.keys(cluster.findLeaderForPartitions(tp.topic, [tp.partition]))[0];
        if (leader === undefined) throw Object.assign(new Error(`topic "${tp.topic}" has no partition ${tp.partition}`), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
        const broker = await cluster.findBroker({ nodeId: leader });
        const maxWaitTime = Math.max(10, Math.min(500, deadline - Date.now()));
        const res = await broker.fetch({
          isolationLevel: READ_COMMITTED,
          maxWaitTime,
          minBytes: 1,
          maxBytes: options.maxBytes,
          topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, fetchOffset: offset, maxBytes: options.maxBytes }] }],
        });
        const p = res.responses[0]?.partitions[0];
        if (p !== undefined) {
          const kept = filterAbortedMessages({ messages: [...p.messages], abortedTransactions: p.abortedTransactions ?? null }).filter((m) => !m.isControlRecord);
          const hit = kept.find((m) => m.offset === offset);
          if (hit) return hit;
          // read up to the last stable offset: past the wanted one, what was handed out is all there is
          if (BigInt(p.lastStableOffset) > wanted || p.messages.some((m) => BigInt(m.offset) > wanted)) return undefined;
          last = `offset ${offset} is not below the last stable offset ${p.lastStableOffset} yet (a transaction still open on the partition)`;
        }
      } catch (err) {
        const e = err as { name?: string; type?: string; message?: string };
        if (e.name === 'KafkaJSOffsetOutOfRange' || e.type === 'OFFSET_OUT_OF_RANGE') return undefined;
        if (e.type !== undefined && FINAL.has(e.type)) throw err;
        last = e.message ?? String(err);
      }
      if (Date.now() >= deadline) throw new Error(`reading ${tp.topic}[${tp.partition}] at ${offset} timed out after ${options.timeoutMs} ms: ${last}`);
      await new Promise<void>((r) => setTimeout(r, Math.min(100 * 2 ** Math.min(attempt, 4), Math.max(0, deadline - Date.now()))).unref());
    }
  } finally {
    await releaseCluster(createCluster, shared);
  }
}

/** A cluster the reads under way share, and how many they are. */
interface SharedCluster {
  readonly cluster: InternalCluster;
  readonly connected: Promise<InternalCluster>;
  users: number;
}

/**
 * The cluster of the reads under way (of one factory: one kafkajs client). The pipeline reads the
 * spilled filters of all the partitions it is given at once; a cluster each opened its own
 * metadata and broker connections (SASL/TLS handshakes included) per partition, at every
 * rebalance. The last read to finish closes it: none is kept between assignments.
 */
const sharedClusters = new WeakMap<CreateCluster, SharedCluster>();

function sharedCluster(createCluster: CreateCluster): SharedCluster {
  let shared = sharedClusters.get(createCluster);
  if (shared === undefined) {
    const cluster = createCluster({ isolationLevel: READ_COMMITTED, allowAutoTopicCreation: false });
    const connected = cluster.connect().then(() => cluster);
    const entry: SharedCluster = { cluster, connected, users: 0 };
    // the reads awaiting it fail with it; one starting after that connects anew
    connected.catch(() => {
      if (sharedClusters.get(createCluster) === entry) sharedClusters.delete(createCluster);
    });
    shared = entry;
    sharedClusters.set(createCluster, shared);
  }
  shared.users++;
  return shared;
}

async function releaseCluster(createCluster: CreateCluster, shared: SharedCluster): Promise<void> {
  if (--shared.users > 0) return;
  // a read starting meanwhile opens a new one
  if (sharedClusters.get(createCluster) === shared) sharedClusters.delete(createCluster);
  await shared.cluster.disconnect().catch(() => undefined);
}
