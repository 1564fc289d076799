/**
 * One `send` of the kafkajs producers: records placed on their partitions up front
 * (kafkajs-placement.ts), cut into as few requests as the per-partition batch bound allows
 * (produce-chunks.ts), each request awaited (acks = all) before the next, so per-partition order
 * and the idempotent producer's single in-flight request are kept.
 */
import type { ProducerBatch, RecordMetadata } from 'kafkajs';
import type { OutgoingRecord } from './client.js';
import { placeRecord, topicMessages, unacknowledged, type KeyPartitioner, type PlacedMessage } from './kafkajs-placement.js';
import type { KafkaLogger } from './log.js';
import type { TopicPartitionCounts } from './partition-counts.js';
import { chunkRecords, type ChunkLimits } from './produce-chunks.js';
import { isStaleMetadataError } from './stale-metadata.js';

/** `producer.sendBatch` or `transaction.sendBatch`. */
export type SendBatch = (batch: ProducerBatch) => Promise<RecordMetadata[]>;

export interface PartitionedSendContext {
  readonly counts: TopicPartitionCounts;
  readonly partitioner: KeyPartitioner;
  readonly limits: ChunkLimits;
  readonly logger: KafkaLogger;
}

/**
 * Sends `records` with `sendBatch`, one request per chunk, in order. Resolves when every record
 * is acknowledged; returns the number of `sendBatch` calls made.
 *
 * A record placed (from its key) on a partition kafkajs's metadata does not have yet would be
 * skipped by kafkajs without an error: such records are found in the acknowledgements and sent
 * again without a partition (kafkajs places them on its own metadata), and the topic's count is
 * treated as unknown for `unknownRetryMs` (records left to kafkajs) before it is read again. A
 * record whose caller-set partition is skipped fails the send. A send that fails with a metadata
 * error drops the cached counts of the chunk's topics before rethrowing
 * (kafkajs has already retried it after refreshing its own metadata).
 */
export async function sendPartitioned(sendBatch: SendBatch, records: readonly OutgoingRecord[], ctx: PartitionedSendContext, compression = 0): Promise<number> {
  if (records.length === 0) return 0;
  const counts = await ctx.counts.lookup(records.map((r) => r.topic));
  const placed = records.map((r) => placeRecord(r, counts.get(r.topic), ctx.partitioner));
  let requests = 0;
  for (const chunk of chunkRecords(placed, ctx.limits)) {
    requests++;
    const missing = unacknowledged(chunk, await send(sendBatch, chunk, ctx, compression));
    if (missing.length > 0) requests += await resendUnplaced(sendBatch, missing, ctx, compression);
  }
  return requests;
}

async function send(sendBatch: SendBatch, chunk: readonly PlacedMessage[], ctx: PartitionedSendContext, compression: number): Promise<RecordMetadata[]> {
  try {
    // none (0) is left out, as kafkajs's own default
    return await sendBatch(compression === 0 ? { topicMessages: topicMessages(chunk), acks: -1 } : { topicMessages: topicMessages(chunk), acks: -1, compression });
  } catch (err) {
    if (isStaleMetadataError(err)) for (const t of new Set(chunk.map((p) => p.topic))) ctx.counts.invalidate(t);
    throw err;
  }
}

async function resendUnplaced(sendBatch: SendBatch, missing: readonly PlacedMessage[], ctx: PartitionedSendContext, compression: number): Promise<number> {
  const topics = [...new Set(missing.map((p) => p.topic))];
  // kafkajs's metadata lags the count we read (up to its metadataMaxAge): leave these topics'
  // placement to kafkajs for a while instead of re-reading the same count on every send.
  for (const t of topics) ctx.counts.markUnknown(t);
  const explicit = missing.filter((p) => p.explicit);
  if (explicit.length > 0) {
    const where = [...new Set(explicit.map((p) => `${p.topic}[${p.partition}]`))].join(', ');
    throw new Error(
      `kafka send: ${explicit.length} record(s) were not sent because the producer's metadata has no partition ${where}; ` +
        'set OutgoingRecord.partition below the topic\'s partition count (or leave it unset to partition by key)',
    );
  }
  ctx.logger.warn(
    { kafka: { topics, records: missing.length } },
    'partition count of an output topic changed: records placed by kafkajs on its own metadata instead',
  );
  const unplaced = missing.map((p): PlacedMessage => {
    const { partition: _dropped, ...message } = p.message;
    return { ...p, partition: undefined, message };
  });
  let requests = 0;
  for (const chunk of chunkRecords(unplaced, ctx.limits)) {
    requests++;
    await send(sendBatch, chunk, ctx, compression);
  }
  return requests;
}
