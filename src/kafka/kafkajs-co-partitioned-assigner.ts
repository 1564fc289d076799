/**
 * `coPartitionedAssignment` as a kafkajs partition assigner (protocol "AgentCreditCoPartitioned").
 * Consumers list it first and kafkajs's RoundRobinAssigner second, so a group that still has a
 * member without it (a rolling upgrade) agrees on round-robin instead of failing to form.
 */
import type { Assigner, PartitionAssigner } from 'kafkajs';
import { coPartitionedAssignment } from './co-partitioned-assignment.js';
import { AssignerProtocol } from './kafkajs-module.js';

const CO_PARTITIONED_PROTOCOL = 'AgentCreditCoPartitioned';

export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }): Assigner => ({
  name: CO_PARTITIONED_PROTOCOL,
  version: 0,
  async assign({ members, topics }) {
    // kafkajs hands the leader its own subscription as `topics`; the other members' are in their
    // metadata. A group id shared by jobs reading other topics: every member's topics are assigned,
    // each only to the members subscribed to it (coPartitionedAssignment).
    const subscriptions = new Map<string, string[]>();
    for (const m of members) {
      const subscribed = subscribedTopics(m.memberMetadata);
      if (subscribed) subscriptions.set(m.memberId, subscribed);
    }
    const others = [...new Set([...subscriptions.values()].flat())].filter((t) => !topics.includes(t));
    const partitions = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    for (const [t, ps] of await partitionsOfOtherTopics(cluster, others)) partitions.set(t, ps);
    const assignment = coPartitionedAssignment(
      members.map((m) => m.memberId),
      partitions,
      subscriptions,
    );
    return [...assignment].map(([memberId, byTopic]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: Object.fromEntries(byTopic), userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: CO_PARTITIONED_PROTOCOL, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});

/**
 * Partition ids of topics the leader does not read, from one metadata request per topic (a topic
 * that cannot be read — deleted, not authorized — is left out, so it stays unassigned). Not
 * through kafkajs's cluster metadata (`addMultipleTargetTopics`): the topics would stay in every
 * later refresh of the leader's consumer, and once one was deleted each refresh failed with
 * UNKNOWN_TOPIC_OR_PARTITION, crash-restarting the consumer for good.
 */
async function partitionsOfOtherTopics(cluster: Parameters<PartitionAssigner>[0]['cluster'], topics: readonly string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (topics.length === 0) return out;
  type Metadata = { topicMetadata: { topic: string; partitionMetadata: { partitionId: number }[] }[] };
  const pool = (cluster as unknown as { brokerPool?: { findConnectedBroker(): Promise<{ metadata(topics: string[]): Promise<Metadata> }> } }).brokerPool;
  const broker = await pool?.findConnectedBroker().catch(() => undefined);
  if (!broker) return out;
  await Promise.all(
    topics.map(async (topic) => {
      try {
        const found = (await broker.metadata([topic])).topicMetadata.find((t) => t.topic === topic);
        if (found) out.set(topic, found.partitionMetadata.map((p) => p.partitionId));
      } catch {
        /* not readable: unassigned */
      }
    }),
  );
  return out;
}

/** The topics a member subscribed to, from its group-protocol metadata; undefined when it does not decode. */
export function subscribedTopics(metadata: Buffer): string[] | undefined {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    return decoded && Array.isArray(decoded.topics) ? decoded.topics : undefined;
  } catch {
    return undefined;
  }
}
