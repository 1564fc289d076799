/**
 * In-memory `KafkaClient` for unit tests of the runtime: the test drives assignments and
 * batches; sends, transactions and commits are recorded. Not a broker model: no partitioning,
 * no fetching on its own.
 */
import type {
  BatchControl,
  CommittedOffset,
  ConsumedRecord,
  ConsumerHandlers,
  ConsumerOptions,
  KafkaAdmin,
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  KafkaTransactionalProducer,
  OffsetCommit,
  OutgoingRecord,
  TopicPartition,
  TopicSpec,
} from '../../src/kafka/client.js';
import type { GroupMember } from '../../src/kafka/group-members.js';

export class FakeKafka implements KafkaClient {
  handlers: ConsumerHandlers | undefined;
  readonly published: OutgoingRecord[] = [];
  readonly committed = new Map<string, OffsetCommit>();
  /** Offsets of every committed transaction, recorded when it lands (before `offsetApplyDelayMs`). */
  readonly landedOffsets: OffsetCommit[] = [];
  readonly paused = new Set<string>();
  transactions = 0;
  /** Topics the fake cluster reports as not existing (all others exist). */
  readonly missingTopicNames = new Set<string>();
  /** Producers created (createProducer). */
  producersCreated = 0;
  /** Transactional producers created (each claims its transactional id again). */
  txProducersCreated = 0;
  /** consumer.rejoin() calls; each assigns the last assignment again. */
  rejoins = 0;
  private lastAssignment: readonly TopicPartition[] = [];
  private poisonedUpTo = 0;
  private poisonError: Error | undefined;

  /**
   * Every send of the producers created so far fails with `error` from now on (a broker that no
   * longer accepts their sequence numbers); producers created later send normally.
   */
  poisonProducers(error: Error, options: { withRecordsOnly?: boolean } = {}): void {
    this.poisonedUpTo = this.producersCreated;
    this.poisonError = error;
    this.poisonWithRecordsOnly = options.withRecordsOnly === true;
  }
  /** `poisonProducers` fails only sends that carry records: an empty send returns at once, as the kafkajs client's does. */
  private poisonWithRecordsOnly = false;

  createProducer(): KafkaProducer {
    const id = ++this.producersCreated;
    return {
      connect: async () => {},
      send: async (records) => {
        if (id <= this.poisonedUpTo && (!this.poisonWithRecordsOnly || records.length > 0)) throw this.poisonError!;
        this.published.push(...records);
      },
      disconnect: async () => {},
    };
  }

  /** The next `n` transaction commits fail with `error` (e.g. a producer fenced by its own replacement). */
  failCommits(n: number, error: Error, options: { withRecordsOnly?: boolean } = {}): void {
    this.commitFailuresLeft = n;
    this.commitError = error;
    this.commitFailsWithRecordsOnly = options.withRecordsOnly === true;
  }
  /** `failCommits` fails only transactions that carry records (e.g. one output topic refuses them); offsets-only ones commit. */
  private commitFailsWithRecordsOnly = false;
  private commitFailuresLeft = 0;
  private commitError: Error | undefined;

  /**
   * The next `n` commits lose their answer (the connection drops after EndTxn left): the commit
   * lands on the "broker" when `landed`, and the caller sees a connection error either way. As
   * in kafkajs, the transaction can no longer be aborted once its commit was sent.
   */
  loseCommitAnswers(n: number, landed: boolean): void {
    this.lostAnswersLeft = n;
    this.lostAnswerLands = landed;
  }
  private lostAnswersLeft = 0;
  private lostAnswerLands = true;

  /** Delay of transactional producers' connect and disconnect (ms), to widen races in tests. */
  txDelayMs = 0;
  /**
   * Ms after a transaction commits before its offsets show in `fetchCommittedOffsets`, as Kafka
   * 3.x's classic group coordinator applies them asynchronously (records are visible at once).
   */
  offsetApplyDelayMs = 0;
  /** Topics created through the admin client (ensureTopics), as asked for. */
  readonly createdTopics: TopicSpec[] = [];
  /** The admin client's `groupMembers` (DescribeGroups); unset: the admin has none, as a client without it. */
  groupMembers: ((groupId: string) => Promise<GroupMember[]>) | undefined;
  /** Group ids deleted through the admin client. */
  readonly deletedGroups: string[] = [];
  /** Transaction commits never answer while set (a broker that went silent mid-commit). */
  hangCommits = false;
  /** Commits that hung (`hangCommits`). */
  hungCommits = 0;
  /** Transactional producers connected and not disconnected. */
  connectedTxProducers = 0;
  /** `admin()` never answers while set. */
  hangAdmin = false;
  /** The next `n` aborts fail (e.g. the connection is gone). */
  failAborts(n: number): void {
    this.abortFailuresLeft = n;
  }
  private abortFailuresLeft = 0;
  /** Latest claim per transactional id: as on a broker, connecting (InitProducerId) fences the previous producer. */
  private readonly txClaims = new Map<string, number>();
  /** Transactions refused because their producer was fenced by a newer claim of its id. */
  fencedTransactions = 0;
  private wedgedUpTo = 0;

  /**
   * Every transactional producer created so far refuses new transactions from now on, as a
   * kafkajs producer whose state machine is stuck (e.g. in COMMITTING after a failed EndTxn) does;
   * producers created later work.
   */
  wedgeTxProducers(): void {
    this.wedgedUpTo = this.txProducersCreated;
  }

  private lostMappingUpTo = 0;
  private lostMappingError: Error | undefined;

  /**
   * The broker forgot the transactional ids of every transactional producer created so far (e.g.
   * transactional.id.expiration.ms passed on an idle partition): their next transaction's first
   * request (AddPartitionsToTxn / AddOffsetsToTxn) fails with `error`, nothing is registered, so
   * kafkajs aborts it locally without error — as long as they live. A producer created later claims
   * the id again (InitProducerId) and works.
   */
  forgetTransactionalIds(error: Error): void {
    this.lostMappingUpTo = this.txProducersCreated;
    this.lostMappingError = error;
  }

  createTransactionalProducer(options?: { transactionalId: string }): KafkaTransactionalProducer {
    const serial = ++this.txProducersCreated;
    const id = options?.transactionalId ?? '';
    let connected = false;
    const pause = () => (this.txDelayMs > 0 ? new Promise((r) => setTimeout(r, this.txDelayMs)) : Promise.resolve());
    return {
      connect: async () => {
        await pause();
        this.txClaims.set(id, serial);
        connected = true;
        this.connectedTxProducers++;
      },
      transaction: async () => {
        if (serial <= this.wedgedUpTo) throw new Error('Transaction state exception: Invalid transition COMMITTING --> TRANSACTING');
        if (!connected) throw new Error('The producer is disconnected');
        if (this.txClaims.get(id) !== serial) {
          this.fencedTransactions++;
          throw Object.assign(new Error('There is a newer producer with the same transactionalId which fences the current one'), { name: 'KafkaJSProtocolError', type: 'PRODUCER_FENCED' });
        }
        const records: OutgoingRecord[] = [];
        const offsets: OffsetCommit[] = [];
        let commitSent = false;
        const land = () => {
          this.published.push(...records);
          this.landedOffsets.push(...offsets);
          const apply = () => {
            for (const o of offsets) this.committed.set(`${o.topic}/${o.partition}`, o);
          };
          if (this.offsetApplyDelayMs > 0) setTimeout(apply, this.offsetApplyDelayMs);
          else apply();
          this.transactions++;
        };
        const mappingLost = () => {
          if (serial <= this.lostMappingUpTo) throw this.lostMappingError!;
        };
        return {
          send: async (r) => {
            if (r.length > 0) mappingLost();
            records.push(...r);
          },
          sendOffsets: async (_g, o) => {
            mappingLost();
            offsets.push(...o);
          },
          commit: async () => {
            if (this.hangCommits) {
              this.hungCommits++;
              await new Promise<never>(() => undefined);
            }
            if (this.commitFailuresLeft > 0 && (!this.commitFailsWithRecordsOnly || records.length > 0)) {
              this.commitFailuresLeft--;
              throw this.commitError!;
            }
            if (this.lostAnswersLeft > 0) {
              this.lostAnswersLeft--;
              commitSent = true;
              if (this.lostAnswerLands) land();
              throw Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' });
            }
            land();
          },
          abort: async () => {
            if (commitSent) throw new Error('Invalid state transition COMMITTING -> ABORTING');
            if (this.abortFailuresLeft > 0) {
              this.abortFailuresLeft--;
              throw Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' });
            }
          },
        };
      },
      disconnect: async () => {
        // like kafkajs: disconnecting a producer that is already disconnecting returns at once
        if (!connected) return;
        connected = false;
        this.connectedTxProducers--;
        await pause();
      },
    };
  }

  /** What `fetchEndOffsets` answers per topic (none: an empty list, as before). */
  readonly endOffsets = new Map<string, { partition: number; offset: string; low?: string }[]>();

  /** Every `seek` of a consumer, in order. */
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];

  /** Options of every consumer created, in order. */
  readonly consumerOptions: ConsumerOptions[] = [];

  createConsumer(options: ConsumerOptions): KafkaConsumer {
    this.consumerOptions.push(options);
    return {
      connect: async () => {},
      subscribe: async () => {},
      run: async (h) => void (this.handlers = h),
      commit: async (offsets) => {
        for (const o of offsets) this.committed.set(`${o.topic}/${o.partition}`, o);
      },
      pause: (tps) => tps.forEach((tp) => this.paused.add(`${tp.topic}/${tp.partition}`)),
      resume: (tps) => tps.forEach((tp) => this.paused.delete(`${tp.topic}/${tp.partition}`)),
      seek: (tp, offset) => void this.seeks.push({ ...tp, offset }),
      rejoin: async () => {
        this.rejoins++;
        this.handlers!.onAssignment(this.lastAssignment);
      },
      disconnect: async () => {},
    };
  }

  /** Ms an `admin()` call takes to connect (asked at each call): a slow connection, to widen races in tests. */
  adminDelayMs: (() => number) | undefined;

  async admin(): Promise<KafkaAdmin> {
    if (this.hangAdmin) await new Promise<never>(() => undefined);
    const delay = this.adminDelayMs?.() ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return {
      missingTopics: async (topics) => topics.filter((t) => this.missingTopicNames.has(t)),
      // creates the missing ones (missingTopicNames), and says which, as a broker's admin would
      ensureTopics: async (specs) => {
        const created = specs.filter((s) => this.missingTopicNames.has(s.topic));
        for (const s of created) this.missingTopicNames.delete(s.topic);
        this.createdTopics.push(...created);
        return created.map((s) => s.topic);
      },
      ...(this.groupMembers ? { groupMembers: this.groupMembers } : {}),
      fetchCommittedOffsets: async (_g, topics): Promise<CommittedOffset[]> =>
        [...this.committed.values()].filter((o) => topics.includes(o.topic)).map((o) => ({ ...o, metadata: o.metadata ?? null })),
      fetchEndOffsets: async (topic) => this.endOffsets.get(topic) ?? [],
      partitionCounts: async () => new Map(),
      deleteTopics: async () => {},
      deleteGroups: async (ids) => void this.deletedGroups.push(...ids),
      disconnect: async () => {},
    };
  }

  assign(tps: readonly TopicPartition[]): void {
    this.lastAssignment = tps;
    this.handlers!.onAssignment(tps);
  }

  /** Delivers one batch and resolves when the pipeline handled it; returns the resolved offsets. */
  /** Hands one batch to the consumer; `highWatermark` defaults to the offset after the last record (read to the end). */
  async deliver(topic: string, partition: number, values: readonly { key?: string; value: Uint8Array | string; offset: number; timestampMs?: number }[], highWatermark?: number): Promise<string[]> {
    const resolved: string[] = [];
    const records: ConsumedRecord[] = values.map((v) => ({
      topic,
      partition,
      offset: String(v.offset),
      key: v.key === undefined ? null : new TextEncoder().encode(v.key),
      value: typeof v.value === 'string' ? new TextEncoder().encode(v.value) : v.value,
      headers: {},
      timestampMs: v.timestampMs ?? 0,
    }));
    const control: BatchControl = { heartbeat: async () => {}, isRunning: () => true, isStale: () => false, resolveOffset: (o) => void resolved.push(o) };
    await this.handlers!.onBatch({ topic, partition, records, highWatermark: String(highWatermark ?? (values.at(-1)?.offset ?? -1) + 1) }, control);
    return resolved;
  }
}
