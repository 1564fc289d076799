/**
 * The small Kafka client interface the runtime needs, in project terms, so the kafkajs
 * implementation (kafkajs-client.ts) can be swapped for another client (e.g. @platformatic/kafka)
 * without touching sources, sinks or the runtime.
 *
 * Offsets are decimal strings (Kafka int64). "Commit offset" always means the NEXT offset to read.
 */
import type { KafkaCompression } from './compression-codecs.js';
import type { GroupMember } from './group-members.js';

/** A consumed record. `key`/`value` are the raw bytes (null for a null key/value). */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** Header values as bytes; a header repeated on the record keeps its last value. */
  readonly headers: Readonly<Record<string, Uint8Array>>;
  /** Record timestamp, ms since epoch. */
  readonly timestampMs: number;
  /**
   * Set when the client could not read the records of a batch (e.g. a compressed payload that
   * does not decompress): the reason. The record then stands for the whole batch: `offset` is the
   * batch's last offset and `value` the batch's bytes as received, for the dead-letter topic.
   */
  readonly unreadable?: string;
}

/** A record to produce. Without `partition`, the client's default partitioner hashes the key. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string | Uint8Array | null;
  readonly value: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string | Uint8Array>>;
  readonly partition?: number;
  /**
   * `recordBytes` of this record (src/kafka/produce-chunks.ts), when whoever built it measured it
   * already (event records are, against sinks.kafka.maxRecordBytes): the producer's chunking takes
   * it instead of measuring the key, value and every header again. When set, it must be that value.
   */
  readonly bytes?: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A group offset to commit: `offset` is the next offset to read; `metadata` ≤ a few KiB. */
export interface OffsetCommit extends TopicPartition {
  readonly offset: string;
  readonly metadata?: string;
}

/** A committed group offset as fetched; `offset` is `-1` when the group has none. */
export interface CommittedOffset extends TopicPartition {
  readonly offset: string;
  readonly metadata: string | null;
}

/** One fetched batch of one partition. */
export interface RecordBatch extends TopicPartition {
  readonly records: readonly ConsumedRecord[];
  /** Log end offset of the partition at fetch time (for lag). */
  readonly highWatermark: string;
}

/** Control handed to the batch handler: heartbeats and liveness checks while it works. */
export interface BatchControl {
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping: stop processing the batch. */
  isRunning(): boolean;
  /** True when a rebalance made this batch obsolete: stop processing it. */
  isStale(): boolean;
  /** Marks records up to and including `offset` as processed for the fetch position (not a commit). */
  resolveOffset(offset: string): void;
}

export interface ConsumerHandlers {
  /** Called for each fetched batch, one at a time per partition; the fetch position advances only via `resolveOffset`. */
  onBatch(batch: RecordBatch, control: BatchControl): Promise<void>;
  /** Called after every group (re)join with this member's full new assignment. */
  onAssignment(assignment: readonly TopicPartition[]): void;
  /**
   * The consumer's group membership changed: `joining` (connected to the brokers, joining the
   * group: at start, and after a crash the client restarts — once the brokers answer again),
   * `rebalancing` (a join under way), `crashed` (the fetch loop failed; `restart` says whether the
   * client starts it again by itself), `stopped` (the loop ended: a stop, rejoin or disconnect).
   * `joined` comes with `onAssignment`. Optional.
   */
  onState?(state: ConsumerState, detail?: { error?: string; restart?: boolean }): void;
  /**
   * After each fetched batch of a partition: `next`, the offset after its last record, counting
   * those no `onBatch` sees — transaction markers and, with read_committed, aborted records (a
   * batch of only those reaches no `onBatch`). A partition written in transactions ends in a commit
   * marker, so its last record handed out is not its last offset. When `onBatch` resolved the
   * batch's last record (or it had none to hand out), the fetch position is `next`. Optional.
   */
  onBatchEnd?(tp: TopicPartition, next: string): void;
  /**
   * The brokers as the client's connections see them: `unreachable` (a connection to a broker
   * failed — the Kafka client retries it for ~10 s or more before the consumer crashes, a group
   * member meanwhile), `answered` (a fetch or heartbeat of this consumer came back). Optional.
   */
  onBrokers?(state: 'unreachable' | 'answered', error?: string): void;
}

export type ConsumerState = 'joining' | 'joined' | 'rebalancing' | 'crashed' | 'stopped';

export interface ConsumerOptions {
  groupId: string;
  /** Ms; how long the group waits for a dead member before reassigning its partitions. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Upper bound on bytes fetched per partition per request. */
  maxBytesPerPartition?: number;
  /** Ms the broker may hold a fetch open waiting for data. Default 1 000. */
  maxWaitMs?: number;
  /** `read_committed` to see only committed transactional records. Default read_uncommitted. */
  isolation?: 'read_committed' | 'read_uncommitted';
  /** Partitions processed concurrently by one member (default 1). */
  partitionsConsumedConcurrently?: number;
  /** Ms before topic metadata is read again: partitions added to a topic are noticed within this. Default 30 000. */
  metadataMaxAgeMs?: number;
}

/** Group consumer without auto-commit: the runtime commits explicitly (offset watermark). */
export interface KafkaConsumer {
  connect(): Promise<void>;
  subscribe(topics: readonly string[], options?: { fromBeginning?: boolean }): Promise<void>;
  /** Starts the fetch loop; resolves once running (not when it ends). */
  run(handlers: ConsumerHandlers): Promise<void>;
  /**
   * Leaves the group and joins again with the same handlers: the group rebalances, every
   * partition is assigned anew (`onAssignment`) and read from its committed offset. For a member
   * whose state for a partition can no longer be trusted (see KafkaPipeline's self-fence check).
   */
  rejoin(): Promise<void>;
  /**
   * Commits group offsets outside any transaction (at-least-once mode). KafkajsClient sends them in
   * requests of at most OFFSET_COMMIT_METADATA_BYTES of metadata each: the coordinator refuses a
   * commit whose offsets together pass __consumer_offsets' max.message.bytes.
   */
  commit(offsets: readonly OffsetCommit[]): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /**
   * Moves an assigned partition's fetch position to `offset` (the next offset to read) from its
   * next fetch on; commits nothing. A batch of the partition still in hand is then stale.
   */
  seek(partition: TopicPartition, offset: string): void;
  /** Leaves the group and closes connections. */
  disconnect(): Promise<void>;
}

/** Where a produced record was written. */
export interface RecordPosition {
  readonly partition: number;
  readonly offset: string;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  send(records: readonly OutgoingRecord[]): Promise<void>;
  /**
   * Sends one record (acks = all) and resolves with where it was written. Optional: without it
   * (and `KafkaClient.readRecord`) the replay filter is never spilled to a side topic.
   */
  sendRecord?(record: OutgoingRecord): Promise<RecordPosition>;
  disconnect(): Promise<void>;
}

/** One transaction: records and group offsets become visible together, or not at all. */
export interface KafkaTransaction {
  send(records: readonly OutgoingRecord[]): Promise<void>;
  /**
   * Sends one record in the transaction and resolves with where it was written (visible to
   * read_committed readers iff the transaction commits). Optional, as `KafkaProducer.sendRecord`.
   */
  sendRecord?(record: OutgoingRecord): Promise<RecordPosition>;
  sendOffsets(groupId: string, offsets: readonly OffsetCommit[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface KafkaTransactionalProducer {
  /** Connects and initialises the transactional id, fencing any older producer with the same id. */
  connect(): Promise<void>;
  transaction(): Promise<KafkaTransaction>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly config?: Readonly<Record<string, string>>;
}

export interface KafkaAdmin {
  /** The given topics that do not exist on the cluster. */
  missingTopics(topics: readonly string[]): Promise<string[]>;
  /**
   * Creates the topics that do not exist yet (existing ones are left as they are); resolves with
   * the ones this call created, for the job to say so. When the brokers answer that some already
   * exist (another client created them since they were listed), which ones this call created is
   * not known, and none are named.
   */
  ensureTopics(topics: readonly TopicSpec[]): Promise<string[]>;
  /** Committed offsets (+ metadata) of a group for the given topics. */
  fetchCommittedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]>;
  /** Log end offset per partition. */
  fetchEndOffsets(topic: string): Promise<{ partition: number; offset: string; /** log start offset (retention may have moved it), when the client knows it */ low?: string }[]>;
  /**
   * Per partition, the offset of the first record whose timestamp is at or after `timestampMs`
   * (the end offset when there is none). Optional: without it a reader starts at the log start.
   */
  offsetsForTimestamp?(topic: string, timestampMs: number): Promise<{ partition: number; offset: string }[]>;
  /** Partition count per topic, from metadata; topics the cluster does not know are left out. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /**
   * Effective `max.message.bytes` per existing topic (its own setting or the broker default). A
   * topic that does not exist, or may not be described, may fail the call (kafkajs does): ask about
   * topics found, and catch. Optional: a client without it skips the start check.
   */
  maxMessageBytes?(topics: readonly string[]): Promise<Map<string, number>>;
  /**
   * Effective `cleanup.policy` per topic (`delete`, `compact` or `compact,delete`). A topic that
   * does not exist may fail the call (kafkajs: UNKNOWN_TOPIC_OR_PARTITION), as for maxMessageBytes:
   * ask about topics found. Optional: a client without it skips the check that the replay-filter
   * side topic is compacted.
   */
  cleanupPolicies?(topics: readonly string[]): Promise<Map<string, string>>;
  /**
   * The range of session timeouts every broker accepts (the highest `group.min.session.timeout.ms`
   * and the lowest `group.max.session.timeout.ms`: any may coordinate the group), or undefined when a
   * broker does not say. Optional: a client without
   * it, or one not allowed to DescribeConfigs on the cluster, skips the check.
   */
  sessionTimeoutRange?(): Promise<{ min: number; max: number } | undefined>;
  /**
   * The brokers' `offset.metadata.max.bytes` (the lowest of every broker's: the group's coordinator
   * may be any of them), or undefined when one of them does not say.
   * Optional: without it the replay filter is sized for Kafka's default (4096) and shortened when
   * a commit is refused.
   */
  offsetMetadataMaxBytes?(): Promise<number | undefined>;
  /**
   * Whether the brokers would create these topics (CreateTopics with validateOnly: nothing is
   * created); rejects with their refusal as `ensureTopics` would. Optional: without it `check`
   * cannot tell.
   */
  validateTopics?(topics: readonly TopicSpec[]): Promise<void>;
  /**
   * The group's current members and the topics each subscribed to (DescribeGroups; none for a
   * group without members). Optional: without it `check` does not say who else is in the group.
   */
  groupMembers?(groupId: string): Promise<GroupMember[]>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Deletes consumer groups that have no members (e.g. a short-lived reader's); one that does not exist is no error. */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  /** Idempotent producer (acks=all, one in-flight request): no duplicates from producer retries. Default true. */
  idempotent?: boolean;
  /** Batch compression (Kafka's `compression.type`). Default none. */
  compression?: KafkaCompression;
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  /** Broker aborts a transaction left open this long (ms) by a dead producer. Default 60 000. */
  transactionTimeoutMs?: number;
  /** Batch compression (Kafka's `compression.type`). Default none. */
  compression?: KafkaCompression;
}

/** Factory for all Kafka connections of one process. */
export interface KafkaClient {
  createProducer(options?: ProducerOptions): KafkaProducer;
  createTransactionalProducer(options: TransactionalProducerOptions): KafkaTransactionalProducer;
  createConsumer(options: ConsumerOptions): KafkaConsumer;
  /** Connected admin client; call `disconnect` when done. */
  admin(): Promise<KafkaAdmin>;
  /**
   * Caps the bytes of one partition's batch per topic in later sends (from the topics'
   * `max.message.bytes`, less overhead): the broker refuses a larger batch however small its
   * records. Optional: a client without it keeps its default batch size.
   */
  limitBatchBytes?(limits: ReadonlyMap<string, number>): void;
  /**
   * Reads ahead what sends to these topics need (kafkajs: their partition counts, for key
   * placement), so the first sends do not each wait on a metadata round trip. Never throws: what
   * cannot be read now is read by the send that needs it. Optional.
   */
  prepareSends?(topics: readonly string[]): Promise<void>;
  /**
   * The record at `offset` of a partition, read_committed and without a consumer group;
   * undefined when it is not there (out of the partition's range, compacted away, or of an aborted
   * transaction). Rejects when it cannot tell within `timeoutMs` (or the topic is unknown).
   * `maxBytes` bounds the fetch, not the record: Kafka hands out the batch at the offset whole
   * (KIP-74), so a small one reads a large record and little after it.
   * Optional: a client without it (or without `sendRecord`) never spills the replay filter, and a
   * spilled filter found at assignment is read as "replay everything".
   */
  readRecord?(tp: TopicPartition, offset: string, options: { timeoutMs: number; maxBytes: number }): Promise<ConsumedRecord | undefined>;
}
