/**
 * Consumer-group assignment that keeps the input topics co-partitioned: partition p of every
 * subscribed topic goes to the same member. A trace's spans and its evaluation are keyed by trace
 * id on topics with the same partition count (the collector's `partition_traces_by_id` /
 * `partition_logs_by_trace_id`), so they share a partition number — and must share an instance,
 * or the episode never meets its evaluation. kafkajs's RoundRobinAssigner deals the flattened
 * list of topic-partitions round-robin, which splits partition p across members whenever the
 * partition count is not a multiple of the member count (4 partitions, 3 instances: spans 0 →
 * member 0, logs 0 → member 1). Pure; src/kafka/kafkajs-client.ts wraps it as a kafkajs assigner.
 */

/** Member id → topic → partitions (ascending). Every member appears, possibly with nothing. */
export type Assignment = Map<string, Map<string, number[]>>;

/**
 * Partition number p → the (p mod n)-th member in sorted member-id order, for every topic.
 * Balanced: per topic, member loads differ by at most one partition.
 *
 * `subscriptions` (member id → the topics it subscribed to): a topic's partitions go only to the
 * members subscribed to it, n counting those. One group id can be shared by jobs reading different
 * topics (two deployments left at the default `agent-credit`): without it, each member got
 * partitions of topics it does not read (kafkajs drops them) — those partitions were read by
 * nobody. Members of one job subscribe to the same topics, so its topics stay co-partitioned. A
 * member missing from `subscriptions` takes part in every topic.
 */
export function coPartitionedAssignment(memberIds: readonly string[], topics: ReadonlyMap<string, readonly number[]>, subscriptions?: ReadonlyMap<string, readonly string[]>): Assignment {
  const all = [...new Set(memberIds)].sort();
  const out: Assignment = new Map(all.map((m) => [m, new Map<string, number[]>()]));
  if (all.length === 0) return out;
  for (const [topic, partitions] of topics) {
    const members = subscriptions ? all.filter((m) => subscriptions.get(m)?.includes(topic) ?? true) : all;
    if (members.length === 0) continue;
    for (const p of [...partitions].sort((a, b) => a - b)) {
      const member = members[p % members.length]!;
      const byTopic = out.get(member)!;
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(p);
    }
  }
  return out;
}

/**
 * Every topic with its count (`topic: n`) when the counts are not all equal — co-partitioning
 * cannot hold then, and the whole picture says which to change; empty when they agree.
 */
export function mismatchedPartitionCounts(counts: ReadonlyMap<string, number>): string[] {
  const values = [...counts.values()];
  if (values.length < 2 || values.every((c) => c === values[0])) return [];
  return [...counts].map(([t, c]) => `${t}: ${c}`);
}
