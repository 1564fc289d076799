/**
 * kafkajs 2.2.4's recovery from OFFSET_OUT_OF_RANGE, replaced (on `ConsumerGroup`'s prototype,
 * `src/consumer/consumerGroup.js`) so it moves the fetch position without committing anything.
 * Installed by src/kafka/kafkajs-module.ts; not optional.
 *
 * Why: when a partition's fetch position is no longer in the log — retention (time or size)
 * removed records the group had not committed past, e.g. the job was down longer than the input
 * topic's retention, or an open episode held the committed offset back that long — kafkajs's
 * `recoverFromOffsetOutOfRange` commits the subscription's default offset (`-2`, "earliest") for
 * the group, with no metadata, even with `autoCommit: false`. That commit went past the
 * pipeline's own: it erased the replay filter the committed offset's metadata carries, and the
 * pipeline — which reads the committed offset itself when a partition is assigned, racing kafkajs's
 * first fetch — found no committed offset. It then took the group for a new one: with
 * `source.kafka.fromBeginning: false` it started the partition at its END and never read the
 * records written while the job was down (on the broker: 3 of 3 runs lost, nothing logged but
 * kafkajs's "Offset out of range, resetting to default offset"); with `true` it read from the
 * log start without the filter, rebuilding episodes whose events were already published.
 *
 * What changes: the partition's position moves to where kafkajs would have reset it (the log start
 * for our subscriptions, `fromBeginning: true`; ListOffsets) in memory only, as a `seek` does with
 * `autoCommit: false`, and a warning says what was skipped. The group's committed offset and its
 * metadata stay as the pipeline wrote them; its next commit moves them. kafkajs's own recovery is
 * kept where it differs: a fetch from a follower (retried on the leader first), and `autoCommit`.
 */
import path from 'node:path';
import { kafkajsRoot } from './kafkajs-internals.js';

/** The kafkajs version whose consumer group this patches; any other version is left alone. */
export const KAFKAJS_OFFSET_OUT_OF_RANGE_VERSION = '2.2.4';
const MODULE = 'src/consumer/consumerGroup.js';
const PATCHED: unique symbol = Symbol.for('agent-credit.kafkajs.offset-out-of-range');

interface OutOfRange {
  readonly topic: string;
  readonly partition: number;
}

/** The members of kafkajs's ConsumerGroup (and its offset manager) that the replacement uses. */
export interface KafkajsConsumerGroup {
  groupId: string;
  memberId: string;
  preferredReadReplicasPerTopicPartition: Record<string, Record<number, number> | undefined>;
  offsetManager: {
    autoCommit: boolean;
    topicConfigurations: Record<string, { fromBeginning?: boolean; fromTimestamp?: number } | undefined>;
    committedOffsets(): Record<string, Record<number, string> | undefined>;
    resolveOffset(tp: { topic: string; partition: number; offset: string }): void;
  };
  cluster: {
    fetchTopicsOffset(topics: { topic: string; fromBeginning?: boolean; fromTimestamp?: number; partitions: { partition: number }[] }[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  };
  logger: { warn(message: string, extra?: object): void };
  recoverFromOffsetOutOfRange(e: OutOfRange): Promise<void>;
}

/** The replacement (`this`: a kafkajs ConsumerGroup; `original`: kafkajs's method). */
export async function recoverWithoutCommit(this: KafkajsConsumerGroup, original: (e: OutOfRange) => Promise<void>, e: OutOfRange): Promise<void> {
  const replicas = this.preferredReadReplicasPerTopicPartition[e.topic];
  const om = this.offsetManager;
  if ((replicas && typeof replicas[e.partition] === 'number') || om.autoCommit) return original.call(this, e);
  const config = om.topicConfigurations[e.topic] ?? { fromBeginning: true };
  const [answer] = await this.cluster.fetchTopicsOffset([{ topic: e.topic, ...config, partitions: [{ partition: e.partition }] }]);
  const offset = answer?.partitions.find((p) => p.partition === e.partition)?.offset;
  if (offset === undefined || !/^\d+$/.test(offset)) return original.call(this, e);
  const committed = om.committedOffsets()[e.topic]?.[e.partition];
  this.logger.warn(
    `Offset out of range (removed by retention before it was read?): reading from offset ${offset}, the partition's ${config.fromBeginning === false ? 'end' : 'start'} now; the group's committed offset is left for the next commit to move`,
    { topic: e.topic, partition: e.partition, committed, groupId: this.groupId, memberId: this.memberId },
  );
  // the next fetch starts at `offset` (resolveOffset names the last offset done), nothing committed
  om.resolveOffset({ topic: e.topic, partition: e.partition, offset: (BigInt(offset) - 1n).toString() });
}

export type OffsetOutOfRangeReport = { installed: true } | { installed: false; reason: string };

/** Patches the ConsumerGroup of the kafkajs that `req` resolves. Idempotent. */
export function installKafkajsOffsetOutOfRange(req: NodeJS.Require): OffsetOutOfRangeReport {
  const found = kafkajsRoot(req, KAFKAJS_OFFSET_OUT_OF_RANGE_VERSION);
  if ('reason' in found) return { installed: false, reason: found.reason };
  const ConsumerGroup = req(path.join(found.root, MODULE)) as { prototype: KafkajsConsumerGroup & { [PATCHED]?: true } };
  const proto = ConsumerGroup.prototype;
  if (typeof proto.recoverFromOffsetOutOfRange !== 'function') {
    return { installed: false, reason: `kafkajs ${KAFKAJS_OFFSET_OUT_OF_RANGE_VERSION}'s ConsumerGroup has no recoverFromOffsetOutOfRange; left alone` };
  }
  if (!proto[PATCHED]) {
    const original = proto.recoverFromOffsetOutOfRange;
    proto.recoverFromOffsetOutOfRange = function (this: KafkajsConsumerGroup, e: OutOfRange) {
      return recoverWithoutCommit.call(this, original, e);
    };
    proto[PATCHED] = true;
  }
  return { installed: true };
}
