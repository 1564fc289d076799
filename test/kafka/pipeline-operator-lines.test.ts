/**
 * What the Kafka job's start and its dead letters say to an operator (found in a platform-team
 * trial of `run`):
 * - "joining the consumer group" comes once the topic checks passed, not before them;
 * - the assignment line numbers assignments as this process's count, not as Kafka's generation id;
 * - the topics the start created are named, in one line;
 * - a member of the group reading other topics is warned of, as `check` warns;
 * - a dead letter's line names the dead-letter topic it went to.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { KafkaClient } from '../../src/kafka/client.js';
import type { KafkaLogger } from '../../src/kafka/log.js';
import { KafkaPipeline, type KafkaPipelineConfigInput } from '../../src/runtime/kafka-pipeline.js';
import { MissingTopicError } from '../../src/sources/kafka/kafka-source.js';
import { MissingOutputTopicError } from '../../src/sinks/kafka/kafka-event-sink.js';
import { FakeKafka } from './fake-kafka.js';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  obj: Record<string, unknown>;
}

function recording(lines: Line[]): KafkaLogger {
  const at = (level: Line['level']) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const JOINING = 'joining the consumer group';

function pipelineOn(client: KafkaClient, lines: Line[], extra: Partial<KafkaPipelineConfigInput> = {}): KafkaPipeline {
  return new KafkaPipeline(
    { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', groupId: 'jobs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000, ...extra },
    { client, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 }), processEpisode: async () => [], evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger: recording(lines) },
  );
}

/** `fake` with a `readRecord` (that finds nothing): the replay filter side topic is then prepared (and created) as with kafkajs. */
function withReadRecord(fake: FakeKafka): KafkaClient {
  return {
    createProducer: () => fake.createProducer(),
    createTransactionalProducer: (o) => fake.createTransactionalProducer(o),
    createConsumer: (o) => fake.createConsumer(o),
    admin: () => fake.admin(),
    readRecord: async () => undefined,
  };
}

describe('the "joining the consumer group" line', () => {
  it('is not logged when an input topic is missing: the start fails on the check alone', async () => {
    const fake = new FakeKafka();
    fake.missingTopicNames.add('logs');
    const lines: Line[] = [];
    await expect(pipelineOn(fake, lines).start()).rejects.toBeInstanceOf(MissingTopicError);
    expect(lines.filter((l) => l.msg.startsWith(JOINING))).toEqual([]);
  });

  it('is not logged when an output topic is missing (createTopics false)', async () => {
    const fake = new FakeKafka();
    fake.missingTopicNames.add('agent_credit.dlq');
    const lines: Line[] = [];
    await expect(pipelineOn(fake, lines).start()).rejects.toBeInstanceOf(MissingOutputTopicError);
    expect(lines.filter((l) => l.msg.startsWith(JOINING))).toEqual([]);
  });

  it('is logged once the topics are checked and prepared, naming the group and its session timeout', async () => {
    const fake = new FakeKafka();
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines, { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', groupId: 'jobs', sessionTimeoutMs: 45_000 } });
    await p.start();
    await p.stop();
    const joining = lines.findIndex((l) => l.msg.startsWith(JOINING));
    expect(joining).toBeGreaterThanOrEqual(0);
    expect(lines[joining]!.obj).toEqual({ brokers: ['fake:9092'], groupId: 'jobs', sessionTimeoutMs: 45_000 });
    expect(lines[joining]!.msg).toContain('source.kafka.sessionTimeoutMs');
    // after the side topic's preparation (its line: this client cannot read a record back)
    const sideTopic = lines.findIndex((l) => l.msg.startsWith('sinks.kafka.replayFilterTopic'));
    expect(sideTopic).toBeGreaterThanOrEqual(0);
    expect(joining).toBeGreaterThan(sideTopic);
  });

  // the job's live page and /metrics answer while the join waits (a session timeout after an
  // unclean stop): with port 0 the start line after the join was the first to name their ports
  it("carries the job's fields — where its page and /metrics answer — beside the group's", async () => {
    const fake = new FakeKafka();
    const lines: Line[] = [];
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', groupId: 'jobs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 }), processEpisode: async () => [], evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger: recording(lines), joiningLineFields: { live: 'http://127.0.0.1:40001', metrics: 'http://127.0.0.1:40002/metrics' } },
    );
    await p.start();
    await p.stop();
    const joining = lines.find((l) => l.msg.startsWith(JOINING));
    expect(joining?.obj).toEqual({ brokers: ['fake:9092'], groupId: 'jobs', sessionTimeoutMs: 30_000, live: 'http://127.0.0.1:40001', metrics: 'http://127.0.0.1:40002/metrics' });
  });
});

describe('the group assignment line', () => {
  it("numbers the assignments as this process's count (assignmentNo), not as a `generation` read for Kafka's group generation id", async () => {
    const fake = new FakeKafka();
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines);
    await p.start();
    try {
      fake.assign([{ topic: 'spans', partition: 0 }]);
      fake.assign([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
      const assignments = lines.filter((l) => l.msg === 'kafka group assignment');
      expect(assignments.map((l) => l.obj.assignmentNo)).toEqual([1, 2]);
      expect(assignments.every((l) => !('generation' in l.obj))).toBe(true);
      expect(assignments[1]!.obj.assignment).toEqual([{ topic: 'spans', partition: 0 }, { topic: 'logs', partition: 0 }]);
    } finally {
      await p.stop();
    }
  });
});

describe('the topics the start created', () => {
  const outputs = ['agent_credit.rewards', 'agent_credit.episodes', 'agent_credit.preferences', 'agent_credit.dlq'];

  it('one info line names every topic created — output, dead-letter and replay filter topics — with the partitions', async () => {
    const fake = new FakeKafka();
    for (const t of [...outputs, 'agent_credit.replay_filters']) fake.missingTopicNames.add(t);
    const lines: Line[] = [];
    const p = pipelineOn(withReadRecord(fake), lines, { sink: { createTopics: true, partitions: 6 } });
    await p.start();
    await p.stop();
    expect(fake.createdTopics.map((t) => t.topic).sort()).toEqual([...outputs, 'agent_credit.replay_filters'].sort());
    const created = lines.filter((l) => l.msg.startsWith('created topic'));
    expect(created).toHaveLength(1);
    expect(created[0]!.level).toBe('info');
    expect(created[0]!.obj).toEqual({ createdTopics: [...outputs, 'agent_credit.replay_filters'], partitions: 6 });
    expect(created[0]!.msg).toBe(
      'created topics "agent_credit.rewards" (sinks.kafka.topics.rewards), "agent_credit.episodes" (sinks.kafka.topics.episodes), "agent_credit.preferences" (sinks.kafka.topics.preferences), "agent_credit.dlq" (sinks.kafka.topics.dlq: dead letters), "agent_credit.replay_filters" (sinks.kafka.replayFilterTopic: compacted), 6 partitions each (sinks.kafka.createTopics; sinks.kafka.partitions)',
    );
  });

  it('names only the ones created (here the dead-letter topic), and says nothing when they all existed', async () => {
    const fake = new FakeKafka();
    fake.missingTopicNames.add('agent_credit.dlq');
    const lines: Line[] = [];
    const p = pipelineOn(withReadRecord(fake), lines, { sink: { createTopics: true, partitions: 1 } });
    await p.start();
    await p.stop();
    const created = lines.filter((l) => l.msg.startsWith('created topic'));
    expect(created.map((l) => l.msg)).toEqual(['created topic "agent_credit.dlq" (sinks.kafka.topics.dlq: dead letters), 1 partition (sinks.kafka.createTopics; sinks.kafka.partitions)']);

    // a second start: everything exists now
    const again: Line[] = [];
    const q = pipelineOn(withReadRecord(fake), again, { sink: { createTopics: true, partitions: 1 } });
    await q.start();
    await q.stop();
    expect(again.filter((l) => l.msg.startsWith('created topic'))).toEqual([]);
  });
});

describe("the group's other members at start", () => {
  it('a member reading other topics: one warn line naming them and the fix, before joining', async () => {
    const fake = new FakeKafka();
    const asked: string[] = [];
    fake.groupMembers = async (groupId) => {
      asked.push(groupId);
      return [
        { clientId: 'billing-1', clientHost: '/10.0.0.7', topics: ['billing_spans'] },
        { clientId: 'agent-credit-2', clientHost: '/10.0.0.8', topics: ['spans', 'logs'] },
      ];
    };
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines);
    await p.start();
    await p.stop();
    expect(asked).toEqual(['jobs']);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain('source.kafka.groupId "jobs": 1 member(s) of this group read other topics (billing_spans) — client billing-1 on /10.0.0.7');
    expect(warns[0]!.msg).toContain('give this job its own source.kafka.groupId');
    expect(lines.indexOf(warns[0]!)).toBeLessThan(lines.findIndex((l) => l.msg.startsWith(JOINING)));
  });

  it('instances reading these topics (scaling out): no warning', async () => {
    const fake = new FakeKafka();
    fake.groupMembers = async () => [{ clientId: 'agent-credit-2', clientHost: '/10.0.0.8', topics: ['logs', 'spans'] }];
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines);
    await p.start();
    await p.stop();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(lines.some((l) => l.level === 'debug' && l.msg.includes('already read these topics'))).toBe(true);
  });

  it('describing the group refused (no Describe ACL): the start goes on, one debug line and no warning', async () => {
    const fake = new FakeKafka();
    fake.groupMembers = async () => {
      throw Object.assign(new Error('Not authorized to access group: Group authorization failed'), { type: 'GROUP_AUTHORIZATION_FAILED' });
    };
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines);
    await p.start();
    await p.stop();
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    const debug = lines.filter((l) => l.level === 'debug' && l.msg.startsWith('could not describe the consumer group'));
    expect(debug).toHaveLength(1);
    expect(debug[0]!.obj.err).toContain('Group authorization failed');
    expect(lines.some((l) => l.msg.startsWith(JOINING))).toBe(true);
  });

  it('describing the group never answering: the start goes on without it (a debug line)', async () => {
    const fake = new FakeKafka();
    fake.groupMembers = () => new Promise(() => undefined);
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines);
    await p.start();
    await p.stop();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(lines.some((l) => l.level === 'debug' && l.msg.startsWith('could not describe the consumer group') && String(l.obj.err).startsWith('no answer within'))).toBe(true);
    expect(lines.some((l) => l.msg.startsWith(JOINING))).toBe(true);
  });
});

describe('dead-letter lines', () => {
  it('name the dead-letter topic the record went to and where it was read; so does the count line after them', async () => {
    const fake = new FakeKafka();
    const lines: Line[] = [];
    const p = pipelineOn(fake, lines, { sink: { createTopics: false, topics: { dlq: 'ops.dead_letters' } } });
    await p.start();
    try {
      fake.assign([{ topic: 'spans', partition: 2 }]);
      // not OTLP: each goes to the dead-letter topic (3 lines, then counts)
      await fake.deliver('spans', 2, [40, 41, 42, 43].map((offset) => ({ offset, value: 'not a protobuf request \u0000\u0001' })));
      const warns = lines.filter((l) => l.level === 'warn');
      expect(warns.slice(0, 3).map((l) => l.obj.offset)).toEqual(['40', '41', '42']);
      expect(warns[0]!.msg).toBe('undecodable record from spans[2]@40 sent to the dead-letter topic "ops.dead_letters" (sinks.kafka.topics.dlq)');
      expect(warns[0]!.obj).toMatchObject({ topic: 'spans', partition: 2, offset: '40', dlqTopic: 'ops.dead_letters' });
      const count = warns[3]!;
      expect(count.msg).toMatch(/^1 more input record\(s\) sent to the dead-letter topic "ops\.dead_letters" since the last line \(4 in all\); the last one, from spans\[2\]@43: \S/);
      expect(count.obj).toMatchObject({ dlqTopic: 'ops.dead_letters', last: { topic: 'spans', partition: 2, offset: '43' } });
    } finally {
      await p.stop();
    }
  });
});
