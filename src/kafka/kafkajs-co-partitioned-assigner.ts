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
    const partitions = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    const assignment = coPartitionedAssignment(
      members.map((m) => m.memberId),
      partitions,
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
