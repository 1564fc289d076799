/**
 * The side topic a replay filter is spilled to when it does not fit the offset commit's metadata
 * whole (src/runtime/watermark.ts, `ac5`; `sinks.kafka.replayFilterTopic`): its creation, its
 * checks at start and the records' key. The pipeline writes and reads the records.
 */
import type { KafkaClient, TopicSpec } from '../kafka/client.js';
import type { KafkaLogger } from '../kafka/log.js';
import { withAdmin } from '../kafka/with-admin.js';
import { RECORD_OVERHEAD_BYTES } from '../sinks/kafka/event-records.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from '../sinks/kafka/kafka-event-sink.js';

/**
 * Most bytes of a spilled filter (its record's value): ~400,000 open runs' trace ids on one
 * partition. The topic is created accepting records this large; past it (or past what an existing
 * topic's max.message.bytes accepts) the filter is hashed into the metadata as before, with a warning.
 */
export const REPLAY_FILTER_MAX_BYTES = 16 * 1024 * 1024;

/** The side topic's `max.message.bytes` as the pipeline creates it: a filter of REPLAY_FILTER_MAX_BYTES and its record's framing. */
export const REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES = REPLAY_FILTER_MAX_BYTES + RECORD_OVERHEAD_BYTES;

/**
 * The largest filter a side topic whose `max.message.bytes` is `limit` takes (Kafka's default when
 * it cannot be read); 0 or less: none. `run` (prepareReplayFilterTopic) and `check` say the same.
 */
export function replayFilterMaxBytes(limit: number | undefined): number {
  return Math.min(REPLAY_FILTER_MAX_BYTES, (limit ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES) - RECORD_OVERHEAD_BYTES);
}

/** Where spilled filters go, and how large one may be. */
export interface ReplayFilterTopic {
  readonly topic: string;
  /** Most bytes of a record's value the topic takes. */
  readonly maxBytes: number;
}

/** The side topic as the pipeline creates it: compacted (the latest filter per input partition is all a reader needs), taking filters of REPLAY_FILTER_MAX_BYTES. */
export function replayFilterTopicSpec(topic: string, partitions: number): TopicSpec {
  return { topic, partitions, config: { 'cleanup.policy': 'compact', 'max.message.bytes': String(REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES) } };
}

/**
 * What is wrong with a side topic whose `cleanup.policy` is `policy`, or undefined when it is
 * compacted (or the policy is unknown). Under `delete` alone a filter record is deleted after the
 * topic's retention like any other: a partition that sees no new input for that long keeps its
 * committed pointer to a record that is gone, and its next owner replays without a filter (each
 * replayed run's events published again). Compaction keeps the latest record per partition for ever.
 */
export function replayFilterRetentionProblem(topic: string, policy: string | undefined): string | undefined {
  if (policy === undefined) return undefined;
  if (policy.split(',').map((p) => p.trim()).includes('compact')) return undefined;
  return `topic "${topic}" has cleanup.policy=${policy}, so a partition's filter is deleted after the topic's retention and a partition idle that long replays without it after a restart or rebalance (its open runs' episodes published again) — compact it: kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config cleanup.policy=compact`;
}

/** The key of an input partition's filter records: compaction keeps the latest per key, and a reader checks it is the partition's own. */
export function replayFilterKey(groupId: string, topic: string, partition: number): string {
  return `${groupId}/${topic}/${partition}`;
}

/** What preparing the side topic found: where filters go (undefined: nowhere), and the topic when it created it. */
export interface PreparedReplayFilterTopic {
  readonly spill: ReplayFilterTopic | undefined;
  /** The topic, when this start created it (`createTopics`): for the job's line naming the topics it created. */
  readonly created: string | undefined;
}

/**
 * The side topic, created with the output topics (`createTopics`) or found, and the largest filter
 * it takes; `spill` undefined when filters are not to be spilled — `replayFilterTopic` null, a client that
 * cannot read a record back, a topic that is missing or could not be created (warned: the job runs
 * as before, its filters hashed past ~115 open runs on a partition). Never fails the start: the
 * side topic makes replays exact, and a job started before it existed ran without it.
 */
export async function prepareReplayFilterTopic(
  client: KafkaClient,
  sink: { readonly replayFilterTopic: string | null; readonly createTopics: boolean; readonly partitions: number },
  log: KafkaLogger,
): Promise<PreparedReplayFilterTopic> {
  const topic = sink.replayFilterTopic;
  const none = { spill: undefined, created: undefined };
  if (topic === null) return none;
  const without = 'replay filters that do not fit the offset metadata are hashed (a restart or rebalance may publish episodes again past ~950 open runs on a partition; de-duplicate on event_id)';
  if (client.readRecord === undefined) {
    log.info({ replayFilterTopic: topic }, `sinks.kafka.replayFilterTopic: this Kafka client cannot read a record back at its offset, so ${without}`);
    return none;
  }
  let created: string | undefined;
  try {
    if (sink.createTopics) {
      created = (await withAdmin(client, (admin) => admin.ensureTopics([replayFilterTopicSpec(topic, sink.partitions)]))).find((t) => t === topic);
    } else if ((await withAdmin(client, (admin) => admin.missingTopics([topic]))).length > 0) {
      log.warn(
        { replayFilterTopic: topic },
        `sinks.kafka.replayFilterTopic: topic "${topic}" does not exist and sinks.kafka.createTopics is false, so ${without} — create it compacted (kafka-topics.sh --create --topic ${topic} --config cleanup.policy=compact --config max.message.bytes=${REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES}), or set sinks.kafka.replayFilterTopic to null to say so`,
      );
      return none;
    }
  } catch (err) {
    log.warn({ replayFilterTopic: topic, err: String(err) }, `sinks.kafka.replayFilterTopic: topic "${topic}" could not be created or described (${String(err)}), so ${without} — grant this principal Create and Describe on it, or create it compacted yourself`);
    return none;
  }
  let limit: number | undefined;
  try {
    limit = (await withAdmin(client, async (admin) => admin.maxMessageBytes?.([topic])))?.get(topic);
  } catch {
    limit = undefined; // not allowed to DescribeConfigs: Kafka's default, the smallest a topic of ours takes
  }
  const maxBytes = replayFilterMaxBytes(limit);
  if (maxBytes <= 0) {
    log.warn({ replayFilterTopic: topic, maxMessageBytes: limit }, `sinks.kafka.replayFilterTopic: topic "${topic}" takes records of at most ${limit} bytes, so ${without} — raise its max.message.bytes to ${REPLAY_FILTER_TOPIC_MAX_MESSAGE_BYTES}`);
    return { spill: undefined, created };
  }
  // a side topic made by hand (or by an older version of a tool) with delete retention still works
  // until its records expire: said, not refused
  const policy = await withAdmin(client, async (admin) => (await admin.cleanupPolicies?.([topic]))?.get(topic)).catch(() => undefined);
  const retention = replayFilterRetentionProblem(topic, policy);
  if (retention !== undefined) log.warn({ replayFilterTopic: topic, cleanupPolicy: policy }, `sinks.kafka.replayFilterTopic: ${retention}`);
  log.info({ replayFilterTopic: topic, maxBytes }, `replay filters that do not fit the offset metadata are written to topic "${topic}" (up to ${maxBytes} bytes each)`);
  return { spill: { topic, maxBytes }, created };
}
