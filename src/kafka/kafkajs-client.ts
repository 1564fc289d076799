/**
 * `KafkaClient` implemented with kafkajs 2.2.4.
 *
 * kafkajs facts this relies on (read in the kafkajs 2.2.4 source; test/kafka and test/integration pin them):
 * - `autoCommit: false` + `eachBatchAutoResolve: false`: kafkajs never commits by itself (its
 *   out-of-range recovery did: kafkajs-offset-out-of-range.ts); the fetch position advances only
 *   through `resolveOffset`.
 * - After every group join kafkajs builds a new offset manager that re-reads committed offsets
 *   from the broker, so every assigned partition (kept or new) resumes from its committed offset.
 * - No KIP-447: transactional producers fence zombies only by transactional id.
 * - All records of one `sendBatch` for a partition become one record batch, which the broker
 *   rejects above `message.max.bytes`; partitions missing from kafkajs's metadata are skipped
 *   silently. Sends therefore place records on partitions first and cut requests per partition
 *   (kafkajs-send.ts), and check the acknowledgements.
 */
import type { Admin, Consumer, ConsumerRunConfig, IHeaders, Kafka as KafkaInstance, KafkaConfig, LogEntry, RetryOptions } from 'kafkajs';
import { CoPartitionedAssigner, subscribedTopics } from './kafkajs-co-partitioned-assigner.js';
import { ConfigResourceTypes, Kafka, PartitionAssigners, logLevel as KafkaLogLevel } from './kafkajs-module.js';
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
  KafkaTransaction,
  KafkaTransactionalProducer,
  OffsetCommit,
  OutgoingRecord,
  ProducerOptions,
  RecordPosition,
  TopicPartition,
  TopicSpec,
  TransactionalProducerOptions,
} from './client.js';
import { KeyPartitioner, placedFirstPartitioner } from './kafkajs-placement.js';
import { clusterFactoryOf, readRecordAt } from './kafkajs-read-record.js';
import { createTopicsAndWait } from './kafkajs-create-topics.js';
import { UNREADABLE_BATCH } from './kafkajs-unreadable-batches.js';
import { KAFKAJS_COMPRESSION_TYPES } from './compression-codecs.js';
import { isGroupAuthorizationRefusal } from './group-authorization.js';
import type { KafkaConnectionOptions } from './connection.js';
import { sendPartitioned, type PartitionedSendContext, type SendBatch } from './kafkajs-send.js';
import { silentLogger, type KafkaLogger } from './log.js';
import { TopicPartitionCounts } from './partition-counts.js';
import { DEFAULT_CHUNK_LIMITS, type ChunkLimits } from './produce-chunks.js';
import { whileLeadersSettle } from './stale-metadata.js';

export interface KafkajsClientOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  clientId?: string;
  logger?: KafkaLogger;
  /** Ms to wait for a TCP connection. Default 5 000. */
  connectionTimeoutMs?: number;
  /** Ms to wait for a broker answer. Default 30 000. */
  requestTimeoutMs?: number;
  /**
   * How kafkajs retries a failed request before it gives up (its `retry`: `retries`,
   * `initialRetryTime`, `maxRetryTime`, …). Default kafkajs's: 5 retries from 300 ms, ~10 s in all —
   * e.g. how long a send to a deleted output topic takes to fail.
   */
  retry?: RetryOptions;
  /**
   * How producer sends are cut into requests (see produce-chunks.ts). Default 512 KiB per
   * partition batch, 2 MiB per request. `partitionBytes` must stay under the output topics'
   * `max.message.bytes` (broker `message.max.bytes`, 1 MiB by default).
   */
  produceLimits?: Partial<ChunkLimits>;
  /** Ms the output topics' partition counts are cached (kafkajs's own metadataMaxAge default). Default 300 000. */
  partitionCountMaxAgeMs?: number;
  /** TLS (`true` or node:tls options) and SASL of every connection: connection.ts `resolveKafkaConnection`. */
  ssl?: KafkaConnectionOptions['ssl'];
  sasl?: KafkaConnectionOptions['sasl'];
}

/**
 * Errors kafkajs logs (and retries by itself) in the first seconds of a broker or around
 * transactions; they are expected, so they go to debug, not error.
 */
const EXPECTED_TRANSIENT = [
  'coordinator is loading',
  'coordinator is not available',
  'group coordinator is not available',
  'concurrent operation on the same transaction',
  'CONCURRENT_TRANSACTIONS',
  'rebalance in progress',
  'The group is rebalancing',
  'is not the correct coordinator',
];

/** A broker that cannot be reached: kafkajs logs each attempt, with a stack, before it gives up. */
const CONNECTION_FAILURE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|Connection (error|timeout)|Failed to connect/;
/** One line per (broker, message) at most this often: a wrong broker address gave 6 error lines with stacks. */
const CONNECTION_LOG_INTERVAL_MS = 10_000;

/** Any other kafkajs warn/error line: once per (level, message, error) this often, the repeats at debug. */
const REPEAT_LOG_INTERVAL_MS = 30_000;

/** `due(key)`: true at most once per `intervalMs` per key (the last 100 keys remembered). */
function keyedThrottle(intervalMs: number, now: () => number): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const t = now();
    const at = last.get(key);
    if (at !== undefined && t - at < intervalMs) return false;
    last.set(key, t);
    if (last.size > 100) last.delete(last.keys().next().value!);
    return true;
  };
}

/**
 * Routes kafkajs logs into the project logger with levels that match their meaning. Connection
 * failures are warnings without the stack (the job's own error names source.kafka.brokers when it
 * gives up), at most one per broker and message every 10 s; the rest of a retry storm is debug.
 */
export function kafkajsLogCreator(logger: KafkaLogger, now: () => number = Date.now): KafkaConfig['logCreator'] {
  const connectionDue = keyedThrottle(CONNECTION_LOG_INTERVAL_MS, now);
  const repeatDue = keyedThrottle(REPEAT_LOG_INTERVAL_MS, now);
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...rest } = log;
      const obj = { kafka: rest };
      const text = String(message);
      const transient = EXPECTED_TRANSIENT.some((s) => text.includes(s) || String(rest.error ?? '').includes(s));
      if (level <= KafkaLogLevel.WARN && level !== KafkaLogLevel.NOTHING && CONNECTION_FAILURE.test(`${text} ${String(rest.error ?? '')}`)) {
        const key = `${String(rest.broker ?? '')} ${text} ${String(rest.error ?? '')}`;
        const brief = { kafka: { ...(rest.broker !== undefined ? { broker: rest.broker } : {}), ...(rest.error !== undefined ? { error: String(rest.error) } : {}) } };
        if (!connectionDue(key)) logger.debug(brief, text);
        else {
          logger.warn(brief, `${text} (kafkajs retries; further lines like this at most every 10 s)`);
        }
        return;
      }
      if ((level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) && !transient) {
        // kafkajs logs every attempt of a failure that repeats (a deleted output topic: two error
        // lines per transaction, ~670 a minute): the same line at most every REPEAT_LOG_INTERVAL_MS
        // a delay it names is not what makes a line another one ("Restarting the consumer in
        // 7064ms", then "in 9700ms": each was logged, at error level, while the broker was away)
        if (!repeatDue(`${level} ${text.replace(/\b\d+ ?ms\b/g, 'N ms')} ${String(rest.error ?? '')}`)) {
          logger.debug(obj, text);
          return;
        }
        const line = `${text} (kafkajs; the same line at most every 30 s)`;
        if (level === KafkaLogLevel.ERROR) logger.error(obj, line);
        else logger.warn(obj, line);
      } else logger.debug(obj, text);
    };
}

function toBytes(v: Buffer | string): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** A record as kafkajs hands it out (a consumer's batch, or readRecord's fetch), as the runtime reads it. */
function consumedRecordOf(topic: string, partition: number, m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders; timestamp: string }): ConsumedRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, headers: consumedHeaders(m.headers), timestampMs: Number(m.timestamp) };
}

/**
 * A consumed record's headers as the client interface has them: one value per key (the last of
 * a repeated key). Kafka allows a header without a value (a Java producer's `new RecordHeader(k,
 * null)`), which kafkajs decodes as `null` although its types say otherwise: it becomes an empty
 * value. Passed on as null it crashed whatever read the headers — the dead letter of an
 * undecodable record measuring its size — on every redelivery of the batch.
 */
export function consumedHeaders(headers: IHeaders | undefined): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers) as [string, IHeaders[string] | null][]) {
    if (v === undefined) continue;
    const last = Array.isArray(v) ? (v[v.length - 1] as Buffer | string | null | undefined) : v;
    if (last === undefined) continue;
    out[k] = last === null ? new Uint8Array(0) : toBytes(last);
  }
  return out;
}

function groupOffsets(offsets: readonly OffsetCommit[]) {
  const byTopic = new Map<string, { partition: number; offset: string; metadata?: string }[]>();
  for (const o of offsets) {
    let list = byTopic.get(o.topic);
    if (!list) byTopic.set(o.topic, (list = []));
    list.push({ partition: o.partition, offset: o.offset, ...(o.metadata !== undefined ? { metadata: o.metadata } : {}) });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export class KafkajsClient implements KafkaClient {
  private readonly kafka: KafkaInstance;
  /** Shared by all producers of this client: one metadata read per output topic, not per producer. */
  private readonly sendContext: PartitionedSendContext;
  /** Per-topic batch caps (`limitBatchBytes`), read by every send's chunking. */
  private readonly topicBatchBytes = new Map<string, number>();
  /** When kafkajs last logged a broker's GROUP_AUTHORIZATION_FAILED answer (groupRefusalOf). */
  private groupRefusedAtMs: number | undefined;
  /** The running consumers' `onBrokers`, told of every connection failure kafkajs logs (any connection of this client). */
  private readonly connectionFailureListeners = new Set<(error: string) => void>();
  /** `KafkaClient.readRecord`, through kafkajs's own cluster (kafkajs-read-record.ts); undefined for a kafkajs without one. */
  readonly readRecord: KafkaClient['readRecord'];

  constructor(options: KafkajsClientOptions) {
    if (options.brokers.length === 0) throw new Error('kafka.brokers: at least one bootstrap broker (host:port) is required');
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'agent-credit',
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      logLevel: KafkaLogLevel.INFO,
      logCreator: (level) => {
        const log = kafkajsLogCreator(options.logger ?? silentLogger)!(level);
        return (entry) => {
          // the consumer's crash will not say why (groupRefusalOf): note the brokers' answer
          if (isGroupAuthorizationRefusal(String(entry.log.error ?? ''))) this.groupRefusedAtMs = Date.now();
          // a broker gone: kafkajs retries it with the consumer still a group member (onBrokers)
          if (this.connectionFailureListeners.size > 0 && entry.level <= KafkaLogLevel.WARN && entry.level !== KafkaLogLevel.NOTHING) {
            const text = `${String(entry.log.message)} ${String(entry.log.error ?? '')}`;
            if (CONNECTION_FAILURE.test(text)) for (const l of this.connectionFailureListeners) l(String(entry.log.error ?? entry.log.message));
          }
          log(entry);
        };
      },
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      ...(options.sasl !== undefined ? { sasl: options.sasl } : {}),
    });
    const logger = options.logger ?? silentLogger;
    const limits: ChunkLimits = { ...DEFAULT_CHUNK_LIMITS, ...options.produceLimits, topicPartitionBytes: this.topicBatchBytes };
    if (!(limits.partitionBytes > 0)) throw new Error(`kafka.produceLimits.partitionBytes: must be a positive number of bytes (got ${limits.partitionBytes})`);
    if (!(limits.requestBytes > 0)) throw new Error(`kafka.produceLimits.requestBytes: must be a positive number of bytes (got ${limits.requestBytes})`);
    this.sendContext = {
      counts: new TopicPartitionCounts({
        fetch: (topics) => this.fetchPartitionCounts(topics),
        ...(options.partitionCountMaxAgeMs !== undefined ? { maxAgeMs: options.partitionCountMaxAgeMs } : {}),
        onError: (err, topics) => logger.warn({ kafka: { topics, error: String(err) } }, 'reading partition counts failed; kafkajs places these records itself'),
      }),
      partitioner: new KeyPartitioner(),
      limits,
      logger,
    };
    const createCluster = clusterFactoryOf(this.kafka);
    this.readRecord =
      createCluster === undefined
        ? undefined
        : async (tp, offset, opts) => {
            const m = await readRecordAt(createCluster, tp, offset, opts);
            return m === undefined ? undefined : consumedRecordOf(tp.topic, tp.partition, m);
          };
  }

  /**
   * A consumer crash's error, naming the brokers' refusal of the group when that was the cause.
   * Without Describe on the group the brokers refuse FindCoordinator with GROUP_AUTHORIZATION_FAILED,
   * and kafkajs drops that answer (logged at error a moment before) for "Failed to find group
   * coordinator" — which names neither ACLs nor the group, and is what the job said: "a restart is
   * what helps". The refusal logged within the last minute is taken as the cause.
   */
  private groupRefusalOf(error: string): string {
    if (!/Failed to find group coordinator/i.test(error) || this.groupRefusedAtMs === undefined || Date.now() - this.groupRefusedAtMs > 60_000) return error;
    return `${error}: the brokers answered GROUP_AUTHORIZATION_FAILED (Not authorized to access group)`;
  }

  /**
   * Partition counts from a short-lived admin connection (once per topic per
   * `partitionCountMaxAgeMs`, so no connection is held open between sends). A topic the broker
   * does not know (producers may auto-create it) is left out.
   */
  private async fetchPartitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await partitionCountsOf(admin, topics);
    } finally {
      await admin.disconnect();
    }
  }

  createProducer(options: ProducerOptions = {}): KafkaProducer {
    const idempotent = options.idempotent ?? true;
    const compression = KAFKAJS_COMPRESSION_TYPES[options.compression ?? 'none'];
    const producer = this.kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? 1 : 5,
      createPartitioner: placedFirstPartitioner,
    });
    return {
      connect: () => producer.connect(),
      send: async (records) => {
        await sendPartitioned((batch) => producer.sendBatch(batch), records, this.sendContext, compression);
      },
      sendRecord: (record) => this.sendOne((batch) => producer.sendBatch(batch), record, compression),
      disconnect: () => producer.disconnect(),
    };
  }

  createTransactionalProducer(options: TransactionalProducerOptions): KafkaTransactionalProducer {
    const compression = KAFKAJS_COMPRESSION_TYPES[options.compression ?? 'none'];
    const producer = this.kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
      createPartitioner: placedFirstPartitioner,
    });
    return {
      connect: async () => {
        await producer.connect();
        // kafkajs's connect() only obtains an idempotent producer id; the transactional id is
        // claimed (InitProducerId with it: older producers fenced, their open transaction aborted
        // or, if already committing, finished) on the first transaction(). Claim it now, as the
        // interface promises: callers read committed offsets right after connect(), and a zombie's
        // transaction that still committed after that read would get its episodes published twice.
        // Aborting the empty transaction sends nothing (no partition or offset was added).
        const claim = await producer.transaction();
        await claim.abort();
      },
      transaction: async (): Promise<KafkaTransaction> => {
        const tx = await producer.transaction();
        return {
          send: async (records) => {
            await sendPartitioned((batch) => tx.sendBatch(batch), records, this.sendContext, compression);
          },
          sendRecord: (record) => this.sendOne((batch) => tx.sendBatch(batch), record, compression),
          sendOffsets: (consumerGroupId, offsets) =>
            retryConcurrentTransactions(() => tx.sendOffsets({ consumerGroupId, topics: groupOffsets(offsets) })),
          commit: () => tx.commit(),
          abort: () => tx.abort(),
        };
      },
      disconnect: () => producer.disconnect(),
    };
  }

  createConsumer(options: ConsumerOptions): KafkaConsumer {
    const consumer: Consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      maxWaitTimeInMs: options.maxWaitMs ?? 1_000,
      readUncommitted: (options.isolation ?? 'read_uncommitted') === 'read_uncommitted',
      allowAutoTopicCreation: false,
      metadataMaxAge: options.metadataMaxAgeMs ?? 30_000,
      // partition p of spans, logs and evaluations topics on one instance (co-partitioned-assignment.ts)
      partitionAssigners: [CoPartitionedAssigner, PartitionAssigners.roundRobin],
    });
    let runConfig: ConsumerRunConfig | undefined;
    let closed = false;
    let unreachable: ((error: string) => void) | undefined;
    return {
      connect: () => consumer.connect(),
      subscribe: (topics, opts) => consumer.subscribe({ topics: [...topics], fromBeginning: opts?.fromBeginning ?? true }),
      run: async (handlers: ConsumerHandlers) => {
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          const assignment: TopicPartition[] = [];
          for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
            for (const partition of partitions as number[]) assignment.push({ topic, partition });
          }
          handlers.onAssignment(assignment);
          handlers.onState?.('joined');
        });
        // kafkajs emits CONNECT when a (re)started consumer has connected, before it joins: after a
        // crash the state said "crashed: <connection error>" until the join completed — up to a
        // session timeout after the brokers were back, while the group waited for the old member
        consumer.on(consumer.events.CONNECT, () => handlers.onState?.('joining'));
        consumer.on(consumer.events.REBALANCING, () => handlers.onState?.('rebalancing'));
        consumer.on(consumer.events.CRASH, (e) => handlers.onState?.('crashed', { error: this.groupRefusalOf(String((e.payload.error as Error)?.message ?? e.payload.error)), restart: e.payload.restart }));
        consumer.on(consumer.events.STOP, () => handlers.onState?.('stopped'));
        if (handlers.onBrokers) {
          const onBrokers = handlers.onBrokers.bind(handlers);
          consumer.on(consumer.events.FETCH, () => onBrokers('answered'));
          consumer.on(consumer.events.HEARTBEAT, () => onBrokers('answered'));
          unreachable = (error) => onBrokers('unreachable', error);
          this.connectionFailureListeners.add(unreachable);
        }
        // kafkajs hands no transaction marker to eachBatch and moves past a trailing one when the
        // last record before it is resolved; only its instrumentation says where a batch ended
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          handlers.onBatchEnd?.({ topic: e.payload.topic, partition: e.payload.partition }, (BigInt(e.payload.lastOffset) + 1n).toString());
        });
        runConfig = {
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
          eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
            const records: ConsumedRecord[] = batch.messages.map((m) => {
              const r = consumedRecordOf(batch.topic, batch.partition, m);
              // a stand-in for a batch kafkajs could not decode (kafkajs-unreadable-batches.ts)
              const unreadable = (m as { [UNREADABLE_BATCH]?: string })[UNREADABLE_BATCH];
              return unreadable === undefined ? r : { ...r, unreadable };
            });
            const control: BatchControl = { heartbeat, isRunning, isStale, resolveOffset };
            await handlers.onBatch(
              { topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark },
              control,
            );
          },
        };
        await consumer.run(runConfig);
      },
      rejoin: async () => {
        if (!runConfig) throw new Error('kafka consumer: rejoin() before run()');
        if (closed) return;
        // stop() leaves the group (after the batch in hand); run() joins a new generation and
        // resumes every assigned partition from its committed offset. GROUP_JOIN listeners stay.
        await consumer.stop();
        if (closed) return; // disconnected meanwhile: do not join again
        await consumer.run(runConfig);
      },
      commit: async (offsets) => {
        // one request per OFFSET_COMMIT_METADATA_BYTES of metadata: see there
        for (const chunk of offsetCommitChunks(offsets)) {
          await consumer.commitOffsets(chunk.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, ...(o.metadata !== undefined ? { metadata: o.metadata } : {}) })));
        }
      },
      pause: (tps) => consumer.pause(groupTopics(tps)),
      resume: (tps) => consumer.resume(groupTopics(tps)),
      // kafkajs applies it on the partition's next fetch; with autoCommit off it commits nothing
      seek: (tp, offset) => consumer.seek({ topic: tp.topic, partition: tp.partition, offset }),
      disconnect: () => {
        closed = true;
        if (unreachable) this.connectionFailureListeners.delete(unreachable);
        return consumer.disconnect();
      },
    };
  }

  /**
   * One record sent as `send` sends it (placement, acks = all), and where it was written: the
   * acknowledgement's base offset of its partition — the record's own offset, as it is the only
   * record of its batch.
   */
  private async sendOne(sendBatch: SendBatch, record: OutgoingRecord, compression: number): Promise<RecordPosition> {
    const acks: { topicName: string; partition: number; baseOffset?: string }[] = [];
    await sendPartitioned(
      async (batch) => {
        const res = await sendBatch(batch);
        acks.push(...res);
        return res;
      },
      [record],
      this.sendContext,
      compression,
    );
    const ack = acks.find((a) => a.topicName === record.topic && (record.partition === undefined || a.partition === record.partition));
    if (ack?.baseOffset === undefined || !/^\d+$/.test(ack.baseOffset)) throw new Error(`kafka send: no offset acknowledged for the record sent to ${record.topic}`);
    return { partition: ack.partition, offset: ack.baseOffset };
  }

  async prepareSends(topics: readonly string[]): Promise<void> {
    // lookup never throws (a failed read is logged by onError and retried by the next send); one
    // admin connection for all topics instead of one per topic on the first send that has it
    await this.sendContext.counts.lookup(topics);
  }

  limitBatchBytes(limits: ReadonlyMap<string, number>): void {
    for (const [topic, bytes] of limits) if (bytes > 0) this.topicBatchBytes.set(topic, bytes);
  }

  async admin(): Promise<KafkaAdmin> {
    const admin = this.kafka.admin();
    await admin.connect();
    return {
      missingTopics: async (topics) => {
        const existing = new Set(await admin.listTopics());
        return topics.filter((t) => !existing.has(t));
      },
      ensureTopics: async (topics: readonly TopicSpec[]) => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        if (missing.length === 0) return [];
        const createdAll = await createTopicsAndWait(
          admin,
          missing.map((t) => ({
            topic: t.topic,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? -1,
            configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        );
        return createdAll ? missing.map((t) => t.topic) : [];
      },
      validateTopics: async (topics: readonly TopicSpec[]) => {
        if (topics.length === 0) return;
        // validateOnly creates nothing, so there are no leaders to wait for
        await admin.createTopics({
          validateOnly: true,
          waitForLeaders: false,
          topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor ?? -1, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
        });
      },
      fetchCommittedOffsets: async (groupId, topics): Promise<CommittedOffset[]> => {
        const res = await admin.fetchOffsets({ groupId, topics: [...topics] });
        return res.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset, metadata: p.metadata ?? null })),
        );
      },
      // kafkajs's admin gives up at the first NOT_LEADER_FOR_PARTITION: right after a topic is created
      // (the job's output topics, a seeded input) the broker may still be taking up the leadership
      fetchEndOffsets: async (topic) => {
        const res = await whileLeadersSettle(() => admin.fetchTopicOffsets(topic));
        return res.map((p) => ({ partition: p.partition, offset: p.high, low: p.low }));
      },
      offsetsForTimestamp: async (topic, timestampMs) => (await whileLeadersSettle(() => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs))).map((p) => ({ partition: p.partition, offset: p.offset })),
      partitionCounts: (topics) => partitionCountsOf(admin, topics),
      maxMessageBytes: async (topics) => {
        const out = new Map<string, number>();
        for (const [topic, value] of await topicConfigValues(admin, topics, 'max.message.bytes')) {
          const v = Number(value);
          if (Number.isFinite(v) && v > 0) out.set(topic, v);
        }
        return out;
      },
      cleanupPolicies: (topics) => topicConfigValues(admin, topics, 'cleanup.policy'),
      sessionTimeoutRange: async () => {
        // Every broker's, as for offset.metadata.max.bytes: the group's coordinator, any broker,
        // checks the join, and brokers differ during a rolling change. The range every one of them
        // accepts (highest min, lowest max) is the one a join is sure to pass; the first broker's was
        // taken, so a timeout inside it but outside the coordinator's passed check and was refused.
        const names = ['group.min.session.timeout.ms', 'group.max.session.timeout.ms'] as const;
        const per = await everyBrokersConfig(admin, names);
        if (per === undefined) return undefined;
        let min = 0;
        let max = Number.POSITIVE_INFINITY;
        for (const v of per) {
          min = Math.max(min, v[names[0]]!);
          max = Math.min(max, v[names[1]]!);
        }
        return { min, max };
      },
      offsetMetadataMaxBytes: async () => {
        // Every broker's: the commits go to the group's coordinator, any of them, and brokers differ
        // during a rolling change of this static setting. The first one's was taken: at 64 KiB with
        // the coordinator at 4096, commits were refused until the filter had been halved down to it.
        const name = 'offset.metadata.max.bytes';
        const per = await everyBrokersConfig(admin, [name]);
        return per === undefined ? undefined : Math.min(...per.map((v) => v[name]!));
      },
      groupMembers: async (groupId) => {
        const { groups } = await admin.describeGroups([groupId]);
        // the consumer protocol's members only: a group of another kind keeps its own metadata
        return groups
          .filter((g) => g.groupId === groupId && g.protocolType === 'consumer')
          .flatMap((g) => g.members.map((m) => ({ clientId: m.clientId, clientHost: m.clientHost, topics: m.memberMetadata.length > 0 ? subscribedTopics(m.memberMetadata) : undefined })));
      },
      deleteTopics: (topics) => admin.deleteTopics({ topics: [...topics] }),
      deleteGroups: async (groupIds) => {
        try {
          await admin.deleteGroups([...groupIds]);
        } catch (err) {
          // a group the brokers do not know is gone already (a join they refused never made one):
          // check reported it as "could not be deleted (no DELETE permission on it?)"
          const failed = (err as { groups?: { error?: { type?: string } }[] }).groups;
          if (failed === undefined || failed.length === 0 || !failed.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND')) throw err;
        }
      },
      disconnect: () => admin.disconnect(),
    };
  }
}

/**
 * The named numeric settings of every broker of the cluster, one record per broker — or undefined
 * when any broker does not say one of them (refused, unknown, not a positive integer): a broker that
 * does not say may be the one that matters (a group's coordinator), so no partial answer is given.
 */
async function everyBrokersConfig(admin: Admin, names: readonly string[]): Promise<Record<string, number>[] | undefined> {
  const { brokers } = await admin.describeCluster();
  if (brokers.length === 0) return undefined;
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: brokers.map((b) => ({ type: ConfigResourceTypes.BROKER, name: String(b.nodeId), configNames: [...names] })) });
  const out: Record<string, number>[] = [];
  for (const b of brokers) {
    const r = resources.find((x) => x.resourceName === String(b.nodeId));
    if (r === undefined || r.errorCode !== 0) return undefined;
    const values: Record<string, number> = {};
    for (const n of names) {
      const v = Number(r.configEntries.find((e) => e.configName === n)?.configValue);
      if (!Number.isInteger(v) || v <= 0) return undefined;
      values[n] = v;
    }
    out.push(values);
  }
  return out;
}

/**
 * Most offset metadata (bytes) one OffsetCommit carries. The group coordinator appends a commit's
 * offsets as one batch to __consumer_offsets, at most its max.message.bytes (~1 MB by default) —
 * past it the whole commit fails ("The server experienced an unexpected error"). The replay filter
 * takes up to ~30 KB per partition on brokers whose offset.metadata.max.bytes allows it, so ~34
 * partitions of full filters in one at-least-once commit failed every time, retried for ever.
 */
export const OFFSET_COMMIT_METADATA_BYTES = 512 * 1024;

/**
 * `offsets` in order, cut into runs of at most OFFSET_COMMIT_METADATA_BYTES of metadata each (one
 * offset with more is a run of its own); none when there are no offsets. Each partition's offset
 * is committed whole in one of them; a later run failing leaves the earlier ones committed, as the
 * at-least-once caller expects (it commits them all again).
 */
export function offsetCommitChunks<T extends { readonly metadata?: string | undefined }>(offsets: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let bytes = 0;
  for (const o of offsets) {
    const size = o.metadata === undefined ? 0 : Buffer.byteLength(o.metadata);
    const last = chunks.at(-1);
    if (last === undefined || (last.length > 0 && bytes + size > OFFSET_COMMIT_METADATA_BYTES)) {
      chunks.push([o]);
      bytes = size;
    } else {
      last.push(o);
      bytes += size;
    }
  }
  return chunks;
}

/**
 * kafkajs retries CONCURRENT_TRANSACTIONS on produce but not on AddOffsetsToTxn: a transaction
 * that only sends offsets, begun while the previous commit's markers are still being written,
 * fails at once. The Java client retries it after a short backoff; so do we (the offsets are
 * only marked as added after success, so a retry is safe). ~5 s at most.
 */
async function retryConcurrentTransactions<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 40) throw err;
      await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** attempt, 200)));
    }
  }
}

function groupTopics(tps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) {
    let l = m.get(tp.topic);
    if (!l) m.set(tp.topic, (l = []));
    l.push(tp.partition);
  }
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}

/**
 * Partition count per topic from metadata, one request per topic so that a topic the broker does
 * not know (an error for the whole request) leaves out only itself.
 */
async function partitionCountsOf(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const results = await Promise.allSettled(topics.map((topic) => admin.fetchTopicMetadata({ topics: [topic] })));
  const counts = new Map<string, number>();
  for (const r of results) {
    if (r.status !== 'fulfilled') continue;
    for (const t of r.value.topics) counts.set(t.name, t.partitions.length);
  }
  return counts;
}

/** One topic-level setting's effective value per topic (DescribeConfigs). kafkajs fails the whole call on a resource's error (a missing topic, a denied DescribeConfigs); a resource error it let through is left out. */
async function topicConfigValues(admin: Admin, topics: readonly string[], name: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (topics.length === 0) return out;
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [...new Set(topics)].map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] })),
  });
  for (const r of resources) {
    if (r.errorCode !== 0) continue;
    const value = r.configEntries.find((e) => e.configName === name)?.configValue;
    if (typeof value === 'string') out.set(r.resourceName, value);
  }
  return out;
}
