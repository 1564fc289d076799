/**
 * groupMembersLine (src/kafka/group-members.ts): what `agent-credit check` says about the members
 * already in the job's consumer group — a warning naming the other job's topics and the setting
 * to change when they read other topics (one group id, two jobs: they rebalance together), an
 * info line when instances already read these topics (run would share their partitions).
 */
import { describe, expect, it } from 'vitest';
import { groupMembersLine, type GroupMember } from '../../src/kafka/group-members.js';

const member = (topics: readonly string[] | undefined, clientId = 'agent-credit', clientHost = '/10.0.0.7'): GroupMember => ({ clientId, clientHost, topics });

describe('groupMembersLine', () => {
  it('says nothing for a group without members, or whose members’ subscriptions are unknown', () => {
    expect(groupMembersLine('g', ['otlp_spans', 'otlp_logs'], [])).toBeUndefined();
    expect(groupMembersLine('g', ['otlp_spans', 'otlp_logs'], [member(undefined)])).toBeUndefined();
  });

  it('warns, naming the other topics, the members and source.kafka.groupId, when a member reads other topics', () => {
    const line = groupMembersLine('agent-credit', ['json_spans', 'json_logs'], [member(['otlp_spans', 'otlp_logs'], 'billing-credit', '/10.0.0.9')]);
    expect(line?.status).toBe('warn');
    expect(line?.text).toBe(
      'source.kafka.groupId "agent-credit": 1 member(s) of this group read other topics (otlp_spans, otlp_logs) — client billing-credit on /10.0.0.9: jobs reading different topics under one group id rebalance together (each stops reading while the other\'s instances join or leave) — give this job its own source.kafka.groupId',
    );
  });

  it('warns when a member reads only some of these topics (a job without the logs topic), and the warning wins over instances alike', () => {
    const line = groupMembersLine('g', ['otlp_spans', 'otlp_logs'], [member(['otlp_logs', 'otlp_spans']), member(['otlp_spans'])]);
    expect(line?.status).toBe('warn');
    expect(line?.text).toContain('1 member(s) of this group read only some of these topics');
  });

  it('tells of instances that read the same topics (in any order): run joins them and shares the partitions', () => {
    const line = groupMembersLine('g', ['otlp_spans', 'otlp_logs'], [member(['otlp_logs', 'otlp_spans'], 'a', '/10.0.0.1'), member(['otlp_spans', 'otlp_logs'], 'b', '/10.0.0.2')]);
    expect(line).toEqual({ status: 'info', text: 'source.kafka.groupId "g": 2 instance(s) in the group already read these topics (client a on /10.0.0.1, client b on /10.0.0.2): run joins them, and the partitions are shared among all' });
  });

  it('names three members and counts the rest', () => {
    const line = groupMembersLine('g', ['s'], ['a', 'b', 'c', 'd', 'e'].map((id) => member(['s'], id, '/h')));
    expect(line?.text).toContain('(client a on /h, client b on /h, client c on /h and 2 more)');
  });
});
