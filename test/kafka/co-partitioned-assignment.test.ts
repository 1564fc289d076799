/**
 * The consumer-group assignment keeps input topics co-partitioned (partition p of every topic on
 * one member), covers every partition exactly once, and stays balanced — for any member count,
 * including the counts where kafkajs's RoundRobinAssigner splits a partition number across members.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coPartitionedAssignment, mismatchedPartitionCounts } from '../../src/kafka/co-partitioned-assignment.js';

describe('coPartitionedAssignment', () => {
  it('puts partition p of every topic on one member, each partition once, balanced per topic', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 7 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 3 }), (members, partitions, topicCount) => {
        const topics = new Map(Array.from({ length: topicCount }, (_, t) => [`topic-${t}`, Array.from({ length: partitions }, (_, p) => partitions - 1 - p)]));
        const a = coPartitionedAssignment(members, topics);
        expect([...a.keys()].sort()).toEqual([...new Set(members)].sort());
        const ownerOf = new Map<string, string>(); // `${topic}/${p}` → member
        for (const [member, byTopic] of a) for (const [topic, ps] of byTopic) for (const p of ps) {
          expect(ownerOf.has(`${topic}/${p}`)).toBe(false);
          ownerOf.set(`${topic}/${p}`, member);
        }
        expect(ownerOf.size).toBe(partitions * topicCount);
        for (let p = 0; p < partitions; p++) {
          const owners = new Set([...topics.keys()].map((t) => ownerOf.get(`${t}/${p}`)));
          expect(owners.size).toBe(1);
        }
        for (const topic of topics.keys()) {
          const loads = [...a.values()].map((byTopic) => byTopic.get(topic)?.length ?? 0);
          expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('is the same on every member: it depends on the member set, not its order', () => {
    const topics = new Map([['spans', [0, 1, 2, 3]], ['logs', [3, 2, 1, 0]]]);
    expect(coPartitionedAssignment(['b', 'c', 'a'], topics)).toEqual(coPartitionedAssignment(['a', 'b', 'c'], topics));
    // 4 partitions, 3 members: where round-robin over the flattened list would split partition 0
    expect(coPartitionedAssignment(['a', 'b', 'c'], topics).get('a')).toEqual(new Map([['spans', [0, 3]], ['logs', [0, 3]]]));
  });

  it('gives a topic only to the members subscribed to it (jobs sharing a group id on topics of their own)', () => {
    const topics = new Map([['a.spans', [0, 1, 2]], ['a.logs', [0, 1, 2]], ['b.spans', [0, 1]], ['b.logs', [0, 1]]]);
    const subscriptions = new Map([['m1', ['a.spans', 'a.logs']], ['m2', ['b.spans', 'b.logs']], ['m3', ['a.spans', 'a.logs']]]);
    const a = coPartitionedAssignment(['m1', 'm2', 'm3'], topics, subscriptions);
    expect(a.get('m1')).toEqual(new Map([['a.spans', [0, 2]], ['a.logs', [0, 2]]]));
    expect(a.get('m3')).toEqual(new Map([['a.spans', [1]], ['a.logs', [1]]]));
    expect(a.get('m2')).toEqual(new Map([['b.spans', [0, 1]], ['b.logs', [0, 1]]]));
    // a topic nobody subscribed to is left out; a member without known subscriptions takes part in every topic
    expect(coPartitionedAssignment(['m1'], new Map([['c', [0]]]), subscriptions).get('m1')).toEqual(new Map());
    expect(coPartitionedAssignment(['m1', 'x'], new Map([['a.spans', [0, 1]]]), subscriptions).get('x')).toEqual(new Map([['a.spans', [1]]]));
  });

  it('names topics whose partition counts differ', () => {
    expect(mismatchedPartitionCounts(new Map([['s', 4], ['l', 4]]))).toEqual([]);
    expect(mismatchedPartitionCounts(new Map([['s', 4]]))).toEqual([]);
    expect(mismatchedPartitionCounts(new Map([['s', 4], ['l', 2]]))).toEqual(['s: 4', 'l: 2']);
  });
});
