/**
 * kafkajs errors that mean "the leaders are moving": a topic just created (the broker has not
 * applied its partitions' leadership yet — a loaded single-node KRaft broker answered ListOffsets
 * with NOT_LEADER_FOR_PARTITION a few hundred ms after `createTopics({ waitForLeaders: true })`
 * returned), or a leader that changed. kafkajs's producer retries them after refreshing its
 * metadata; its admin's `fetchTopicOffsets` gives up on the first one.
 */
import { errorChain } from './error-chain.js';

const STALE_METADATA = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION']);

/** True when `err` (or an error it wraps) says kafkajs's view of a topic's partitions or leaders is out of date. */
export function isStaleMetadataError(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if (typeof e.type === 'string' && STALE_METADATA.has(e.type)) return true;
    if (e.name === 'KafkaJSMetadataNotLoaded') return true;
  }
  return false;
}

/** The leader of a partition is moving or not yet taken up (not: the topic is unknown). */
const LEADER_MOVING = new Set(['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION']);

function isLeaderMoving(err: unknown): boolean {
  for (const e of errorChain(err)) if (typeof e.type === 'string' && LEADER_MOVING.has(e.type)) return true;
  return false;
}

/**
 * Whether kafkajs's own retrier has already retried `err` as long as its `retry` settings allow:
 * kafkajs's admin retries UNKNOWN_TOPIC_OR_PARTITION itself (a topic that does not exist: ~7–11 s
 * by default) and then throws KafkaJSNumberOfRetriesExceeded around it. Another round of that
 * doubled the wait for a missing topic's answer, which is the same.
 */
function retriedByKafkajs(err: unknown): boolean {
  return (err as { name?: unknown } | undefined)?.name === 'KafkaJSNumberOfRetriesExceeded';
}

/**
 * `op()`, again after a short wait (100 ms, doubling to 1 s) while it fails because a leader is
 * moving (the leadership errors kafkajs's admin gives up on at once), for up to `timeoutMs`; then
 * the last error. Other errors are thrown at once — an unknown topic too, and anything kafkajs
 * has retried already: a topic that does not exist is reported as such without a longer wait.
 */
export async function whileLeadersSettle<T>(op: () => Promise<T>, timeoutMs = 10_000, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    try {
      return await op();
    } catch (err) {
      if (!isLeaderMoving(err) || retriedByKafkajs(err) || Date.now() + wait > deadline) throw err;
      await sleep(wait);
    }
  }
}
