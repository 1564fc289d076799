/**
 * Who else is in the job's consumer group, as `agent-credit check` reports it before `run` joins.
 *
 * Jobs reading different topics under one group id (two deployments left at the default
 * `agent-credit`) each get the partitions of their own topics, but rebalance together: every join
 * or leave of either stops both (README, Ingestion: Kafka). Nothing said so — check reported the
 * group's committed offsets on this job's topics ("no committed offsets yet") and run started
 * without a word (found in the platform trial). Instances reading the same topics are what scaling
 * out is; they are named too, since `run` then takes a share of their partitions (a check against
 * production from a laptop says so before a run would).
 *
 * Pure: the members (KafkaAdmin.groupMembers) in, the line out.
 */

/** A member of a consumer group, from DescribeGroups. */
export interface GroupMember {
  clientId: string;
  /** As the broker saw it, e.g. `/10.0.0.7`. */
  clientHost: string;
  /** The topics it subscribed to (its group-protocol metadata); undefined when that does not decode (another client's protocol, a group between generations). */
  topics: readonly string[] | undefined;
}

/** Members listed by name in a line at most; the rest are counted. */
const NAMED = 3;

function who(members: readonly GroupMember[]): string {
  const named = members.slice(0, NAMED).map((m) => `client ${m.clientId} on ${m.clientHost}`);
  return members.length > NAMED ? `${named.join(', ')} and ${members.length - NAMED} more` : named.join(', ');
}

/**
 * The check line for the group's current members: a warning when one reads topics other than
 * `topics` (this job's input topics), an info line when some read exactly these, none when the
 * group has no member whose subscription is known.
 */
export function groupMembersLine(groupId: string, topics: readonly string[], members: readonly GroupMember[]): { status: 'warn' | 'info'; text: string } | undefined {
  const ours = new Set(topics);
  const known = members.filter((m): m is GroupMember & { topics: readonly string[] } => m.topics !== undefined);
  const same = (m: { topics: readonly string[] }) => m.topics.length === ours.size && m.topics.every((t) => ours.has(t));
  const others = known.filter((m) => !same(m));
  if (others.length > 0) {
    const theirs = [...new Set(others.flatMap((m) => m.topics))].filter((t) => !ours.has(t));
    const reading = theirs.length > 0 ? `other topics (${theirs.join(', ')})` : 'only some of these topics';
    return {
      status: 'warn',
      text: `source.kafka.groupId "${groupId}": ${others.length} member(s) of this group read ${reading} — ${who(others)}: jobs reading different topics under one group id rebalance together (each stops reading while the other's instances join or leave) — give this job its own source.kafka.groupId`,
    };
  }
  const alike = known.filter(same);
  if (alike.length === 0) return undefined;
  return {
    status: 'info',
    text: `source.kafka.groupId "${groupId}": ${alike.length} instance(s) in the group already read these topics (${who(alike)}): run joins them, and the partitions are shared among all`,
  };
}
