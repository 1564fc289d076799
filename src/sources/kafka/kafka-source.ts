/**
 * Consumer-group source on the spans and logs topics: fetches batches, decodes each record
 * (src/otlp) and hands the decoded batch to the runtime, which owns offsets (watermark),
 * transactions and backpressure. Auto-commit is off: nothing is committed here.
 */
import { TopicSettingError } from '../../kafka/topic-setting-error.js';
import type { BatchControl, ConsumedRecord, ConsumerState, KafkaClient, KafkaConsumer, TopicPartition } from '../../kafka/client.js';
import { withAdmin } from '../../kafka/with-admin.js';
import type { KafkaSourceConfig } from './config.js';
import { mismatchedPartitionCounts } from '../../kafka/co-partitioned-assignment.js';
import { decodeRecord, type DecodedRecord, type TelemetrySignal } from './record-decoder.js';

export interface SourceItem {
  readonly record: ConsumedRecord;
  readonly decoded: DecodedRecord;
}

export interface SourceBatch {
  readonly topic: string;
  readonly partition: number;
  readonly signal: TelemetrySignal;
  /** Decoding is lazy (item by item) so a stale or stopping batch is not decoded for nothing. */
  readonly items: Iterable<SourceItem>;
  readonly size: number;
  readonly highWatermark: string;
}

export interface SourceHandler {
  /** Processes one batch; must call `control.resolveOffset` for every record it consumed. */
  onBatch(batch: SourceBatch, control: BatchControl): Promise<void>;
  /** The member's full assignment after every group (re)join. */
  onAssignment(assignment: readonly TopicPartition[]): void;
  /** Group membership changes (ConsumerHandlers.onState). */
  onState?(state: ConsumerState, detail?: { error?: string; restart?: boolean }): void;
  /** Brokers unreachable or answering (ConsumerHandlers.onBrokers). */
  onBrokers?(state: 'unreachable' | 'answered', error?: string): void;
}

export class KafkaTelemetrySource {
  private consumer: KafkaConsumer | undefined;
  private assignment: readonly TopicPartition[] = [];
  /** Backpressure: batches wait at the gate (`onBatch`) until `resume`. */
  private paused = false;
  /** Opens the gate: set while paused. */
  private wake: (() => void) | undefined;
  /** Settles when the gate opens: set while paused. */
  private opened: Promise<void> | undefined;
  /** Partitions stopped until the next assignment (`holdBack`), by `topic\u0000partition`. */
  private readonly heldBack = new Map<string, TopicPartition>();
  /** Partitions stopped while read ahead of the others (`holdAhead`), by `topic\u0000partition`. */
  private readonly heldAhead = new Map<string, TopicPartition>();
  /** Since when the gate is closed (`now()` ms), while paused. */
  private pausedSinceMs: number | undefined;
  /** Ms the gate was closed in all, pauses that ended. */
  private pausedTotalMs = 0;

  constructor(
    private readonly config: KafkaSourceConfig,
    private readonly client: KafkaClient,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Fails with the config key and the fix when an input topic is missing (kafkajs's subscribe would only say
   * "This server does not host this topic-partition", without the topic). Input topics are never
   * created here: they belong to the collector's kafka exporter (or the operator).
   * Returns every input topic with its partition count when the counts differ (empty when they
   * agree): partition p of each topic is assigned to one instance (co-partitioned-assignment.ts),
   * which keeps a trace's spans and evaluation together only when the counts are equal.
   */
  async checkTopics(): Promise<{ mismatchedPartitionCounts: string[]; partitionCounts: ReadonlyMap<string, number> }> {
    const { missing, counts } = await withAdmin(this.client, async (admin) => {
      const missing = await admin.missingTopics(this.topics());
      return { missing, counts: missing.length === 0 ? await this.countPartitions(admin) : new Map<string, number>() };
    });
    if (missing.length === 0) return { mismatchedPartitionCounts: mismatchedPartitionCounts(counts), partitionCounts: counts };
    const key = (t: string) =>
      t === this.config.spansTopic ? 'source.kafka.spansTopic' : t === this.config.evaluationsTopic ? 'source.kafka.evaluationsTopic' : 'source.kafka.logsTopic';
    // listTopics shows only topics this client may Describe: with ACLs, "missing" can mean "hidden"
    const lines = missing.map((t) => `${key(t)}: topic "${t}" does not exist on ${this.config.brokers.join(',')} (or this client may not Describe it: check its ACLs)`);
    const logsHint = this.config.logsTopic && missing.includes(this.config.logsTopic) ? '; to read no evaluation logs, set source.kafka.logsTopic to null' : '';
    throw new MissingTopicError(
      `${lines.join('; ')} — create ${missing.length > 1 ? 'them' : 'it'} (the collector's kafka exporter writes otlp_spans / otlp_logs by default; e.g. kafka-topics.sh --create --topic ${missing[0]}) or point the setting at the topic your exporter writes${logsHint}`,
      missing,
    );
  }

  /**
   * Partition count of every input topic, read now (the runtime compares them with the counts at
   * start after each group assignment: partitions added while running move trace ids).
   */
  async partitionCounts(): Promise<Map<string, number>> {
    return withAdmin(this.client, (admin) => this.countPartitions(admin));
  }

  private async countPartitions(admin: Awaited<ReturnType<KafkaClient['admin']>>): Promise<Map<string, number>> {
    const counts = new Map(await admin.partitionCounts(this.topics()));
    // A topic whose metadata request failed is left out there: count it from its end offsets
    // (one ListOffsets answer per partition), so a transient failure cannot hide a mismatch.
    for (const t of this.topics()) if (!counts.has(t)) counts.set(t, (await admin.fetchEndOffsets(t)).length);
    return counts;
  }

  /** Topics this source reads. */
  topics(): string[] {
    const { spansTopic, logsTopic, evaluationsTopic } = this.config;
    return [spansTopic, ...(logsTopic ? [logsTopic] : []), ...(evaluationsTopic ? [evaluationsTopic] : [])];
  }

  /** What a topic of this source carries. */
  signalOf(topic: string): TelemetrySignal {
    if (topic === this.config.spansTopic) return 'traces';
    return topic === this.config.evaluationsTopic ? 'evaluations' : 'logs';
  }

  async start(handler: SourceHandler): Promise<void> {
    const consumer = this.client.createConsumer({
      groupId: this.config.groupId,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      maxBytesPerPartition: this.config.maxBytesPerPartition,
      maxWaitMs: this.config.maxWaitMs,
      isolation: this.config.isolationLevel,
      metadataMaxAgeMs: this.config.metadataMaxAgeMs,
    });
    this.consumer = consumer;
    await consumer.connect();
    // Always from the beginning for a partition without a commit: kafkajs applies `fromBeginning`
    // to EVERY such partition for the consumer's life, so `false` started partitions added to a
    // topic later at their end (their first records lost). `fromBeginning: false` is about a NEW
    // group: the runtime moves such a group's partitions to their end (KafkaPipeline
    // placeUncommitted, with `seek`).
    await consumer.subscribe(this.topics(), { fromBeginning: true });
    await consumer.run({
      onAssignment: (assignment) => {
        // kafkajs keeps partitions paused across a rejoin; the runtime drops its queued work on a
        // rejoin, so fetching starts again for everything.
        if (this.heldBack.size > 0 || this.heldAhead.size > 0) consumer.resume([...this.heldBack.values(), ...this.heldAhead.values()]);
        this.openGate();
        this.heldBack.clear();
        this.heldAhead.clear();
        this.assignment = assignment;
        handler.onAssignment(assignment);
      },
      onState: (state, detail) => handler.onState?.(state, detail),
      onBrokers: (state, error) => handler.onBrokers?.(state, error),
      onBatch: async (batch, control) => {
        if (this.paused) {
          await this.whilePaused(control);
          // the partition moved (a rebalance) or the consumer stops: nothing resolved, so
          // whoever reads the partition next fetches these records again
          if (!control.isRunning() || control.isStale()) return;
        }
        const signal = this.signalOf(batch.topic);
        const encoding = signal === 'traces' ? this.config.spansEncoding : this.config.logsEncoding; // unused for evaluations (JSON)
        const records = batch.records;
        const items: Iterable<SourceItem> = {
          *[Symbol.iterator]() {
            for (const record of records) yield { record, decoded: decodeRecord(record, signal, encoding) };
          },
        };
        return handler.onBatch(
          { topic: batch.topic, partition: batch.partition, signal, items, size: records.length, highWatermark: batch.highWatermark },
          control,
        );
      },
    });
  }

  /**
   * Stops fetching (backpressure); idempotent. The next batch the consumer hands over waits in
   * `onBatch` until `resume`, and the consumer fetches nothing more meanwhile (it fetches again
   * only once its batches are handled). Not the consumer's own pause: with every partition paused,
   * kafkajs's fetch loop sleeps `maxWaitMs` (1 s by default) before it looks again, so each
   * resume waited up to that long: with `runtime.creditQueueMax` 32 (9 pauses per run) the bench
   * fleet took 8.5–9.2 s per run, the consumer thread 18–22 % busy; held here, 1.4–2.1 s.
   */
  pause(): void {
    if (this.paused || !this.consumer) return;
    this.paused = true;
    this.pausedSinceMs = this.now();
    this.opened = new Promise<void>((resolve) => (this.wake = resolve));
  }

  resume(): void {
    if (!this.paused || !this.consumer) return;
    this.openGate();
  }

  private openGate(): void {
    const wake = this.wake;
    if (this.pausedSinceMs !== undefined) this.pausedTotalMs += Math.max(0, this.now() - this.pausedSinceMs);
    this.pausedSinceMs = undefined;
    this.paused = false;
    this.wake = undefined;
    this.opened = undefined;
    wake?.();
  }

  /**
   * Holds a batch while paused, heartbeating (the group would otherwise take the partitions
   * away), until `resume`, a new assignment, a rebalance (`isStale`) or the consumer's stop.
   */
  private async whilePaused(control: BatchControl): Promise<void> {
    while (this.paused && control.isRunning() && !control.isStale()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.opened, new Promise<void>((r) => (timer = setTimeout(r, GATE_CHECK_MS)))]);
      clearTimeout(timer);
      if (this.paused) await control.heartbeat();
    }
  }

  /**
   * Stops fetching on one partition until the next group assignment, whatever `resume` says: for
   * a partition this member may no longer commit (a fenced transactional producer), whose
   * records would only be read, assembled and credited for nothing until the group moves it.
   */
  holdBack(tp: TopicPartition): void {
    if (!this.consumer) return;
    this.heldBack.set(`${tp.topic}\u0000${tp.partition}`, tp);
    this.consumer.pause([tp]);
  }

  /**
   * Stops fetching on one partition read ahead of the others in record time (KafkaPipeline
   * `alignInputs`) until `releaseAhead` or the next assignment. Idempotent.
   */
  holdAhead(tp: TopicPartition): void {
    const key = `${tp.topic}\u0000${tp.partition}`;
    if (!this.consumer || this.heldAhead.has(key)) return;
    this.heldAhead.set(key, tp);
    this.consumer.pause([tp]);
  }

  /** Fetches again a partition `holdAhead` stopped (unless `holdBack` stopped it too). */
  releaseAhead(tp: TopicPartition): void {
    const key = `${tp.topic}\u0000${tp.partition}`;
    if (!this.consumer || !this.heldAhead.delete(key)) return;
    if (!this.heldBack.has(key)) this.consumer.resume([tp]);
  }

  isHeldAhead(tp: TopicPartition): boolean {
    return this.heldAhead.has(`${tp.topic}\u0000${tp.partition}`);
  }

  /** Moves an assigned partition's fetch position (next offset to read); commits nothing. */
  seek(tp: TopicPartition, offset: string): void {
    this.consumer?.seek(tp, offset);
  }

  isPaused(): boolean {
    return this.paused;
  }

  /**
   * Ms the gate has been closed for backpressure since this source was made (the current pause
   * included): time in which nothing was read, though records may wait in the topics. The
   * runtime's assembler clock leaves it out (KafkaPipeline `assemblerClock`).
   */
  pausedMs(): number {
    return this.pausedTotalMs + (this.pausedSinceMs === undefined ? 0 : Math.max(0, this.now() - this.pausedSinceMs));
  }

  /** Leaves the group and joins again: every partition assigned anew, read from its committed offset. */
  async rejoin(): Promise<void> {
    if (this.consumer) await this.consumer.rejoin();
  }

  /** Non-transactional group commit (at-least-once mode). */
  commit(offsets: Parameters<KafkaConsumer['commit']>[0]): Promise<void> {
    if (!this.consumer) return Promise.resolve();
    return this.consumer.commit(offsets);
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect();
  }
}

/**
 * Ms between a held batch's checks of a stop or rebalance (kafkajs's `isRunning` / `isStale`),
 * each with a heartbeat call (sent when the heartbeat interval is due).
 */
const GATE_CHECK_MS = 100;

/** An input topic of the Kafka source does not exist. */
export class MissingTopicError extends TopicSettingError {
  override readonly name = 'MissingTopicError';
}
