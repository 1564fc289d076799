/** The replay-filter side topic's preparation at start (src/runtime/replay-filter-topic.ts): what it says about a topic it found. */
import { describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../src/kafka/client.js';
import { prepareReplayFilterTopic, replayFilterRetentionProblem } from '../../src/runtime/replay-filter-topic.js';
import { FakeKafka } from '../kafka/fake-kafka.js';

/** A client that can read a record back and whose side topic exists with `policy` (undefined: a client that cannot tell). */
async function clientWithPolicy(policy: string | undefined): Promise<KafkaClient> {
  const fake = new FakeKafka();
  const admin = await fake.admin();
  return Object.assign(Object.create(fake) as FakeKafka, {
    readRecord: async () => undefined,
    admin: async () => ({
      ...admin,
      ensureTopics: async () => [],
      cleanupPolicies: policy === undefined ? undefined : async (topics: readonly string[]) => new Map(topics.map((t) => [t, policy])),
    }),
  });
}

function recordingLog() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg: msg ?? '' });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('replay-filter side topic: its cleanup policy', () => {
  it('a side topic with delete retention is used, with a warning that names the policy, what it costs and the command that compacts it (nothing said before: an idle partition\'s filter expired without a word)', async () => {
    const { lines, log } = recordingLog();
    const sink = { replayFilterTopic: 'filters', createTopics: true, partitions: 3 };
    const prepared = await prepareReplayFilterTopic(await clientWithPolicy('delete'), sink, log);
    expect(prepared.spill?.topic).toBe('filters');
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toBe(
      'sinks.kafka.replayFilterTopic: topic "filters" has cleanup.policy=delete, so a partition\'s filter is deleted after the topic\'s retention and a partition idle that long replays without it after a restart or rebalance (its open runs\' episodes published again) — compact it: kafka-configs.sh --alter --entity-type topics --entity-name filters --add-config cleanup.policy=compact',
    );
    expect(warns[0]!.obj).toMatchObject({ cleanupPolicy: 'delete' });
  });

  it.each([['compact'], ['compact,delete'], ['delete, compact']])('cleanup.policy %s keeps the latest filter per partition: no warning', async (policy) => {
    const { lines, log } = recordingLog();
    expect((await prepareReplayFilterTopic(await clientWithPolicy(policy), { replayFilterTopic: 'filters', createTopics: true, partitions: 3 }, log)).spill).toBeDefined();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(replayFilterRetentionProblem('filters', policy)).toBeUndefined();
  });

  it('a client that cannot describe the policy (or is not allowed to) is not warned about', async () => {
    const { lines, log } = recordingLog();
    expect((await prepareReplayFilterTopic(await clientWithPolicy(undefined), { replayFilterTopic: 'filters', createTopics: true, partitions: 3 }, log)).spill).toBeDefined();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(replayFilterRetentionProblem('filters', undefined)).toBeUndefined();
  });
});
