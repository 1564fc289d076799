/**
 * Topic creation that waits until the new topics can be used. kafkajs's `createTopics` with
 * `waitForLeaders` retries only "leader not available"; a KRaft broker whose metadata has not yet
 * caught up with a topic it just created answers "unknown topic or partition" instead, and kafkajs
 * gives up with "This server does not host this topic-partition" — a fresh broker failed a job's
 * (or a test's) first start that way, now and then (test-suite review: 5 runs in a row of one
 * broker test, then passes). Created is created: wait for the metadata to show the topics.
 */
import type { Admin, ITopicConfig } from 'kafkajs';

/** Created topics show in the metadata within this on a healthy broker; longer is a real problem. */
const METADATA_WAIT_MS = 15_000;
const POLL_MS = 100;

type CreatingAdmin = Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>;

const isUnknownTopic = (err: unknown): boolean => (err as { type?: string } | null)?.type === 'UNKNOWN_TOPIC_OR_PARTITION';

/**
 * Creates the topics (none may exist yet; an existing one is left) and resolves once every one of
 * them has a leader for every partition: true when this request created them all, false when the
 * brokers said some already existed (another instance created them between listing and creating;
 * kafkajs does not say which of the others it created).
 */
export async function createTopicsAndWait(admin: CreatingAdmin, topics: ITopicConfig[], waitMs = METADATA_WAIT_MS, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<boolean> {
  try {
    // kafkajs: false when every topic it could not create already existed
    return await admin.createTopics({ waitForLeaders: true, topics });
  } catch (err) {
    // Another instance may have created it between listing and creating.
    if (String((err as Error).message).includes('already exists')) return false;
    if (!isUnknownTopic(err)) throw err;
  }
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
      // created (kafkajs bailed on the metadata after the brokers had answered the creation)
      if (meta.length === names.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return true;
    } catch (err) {
      if (!isUnknownTopic(err) && !/leader/i.test(String((err as Error).message))) throw err;
    }
    if (Date.now() >= deadline) throw new Error(`created topics ${names.join(', ')}, but the broker's metadata did not show them with leaders within ${waitMs} ms`);
    await sleep(POLL_MS);
  }
}
