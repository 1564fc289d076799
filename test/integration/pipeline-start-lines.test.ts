/**
 * What the Kafka job's start says, on the broker: the topics it created (output, dead-letter and
 * replay filter topics, by kafkajs's CreateTopics) in one line, and a member of its consumer group
 * that reads other topics — described (DescribeGroups) while the group is still stable, before this
 * member's join makes it rebalance, when the brokers list no subscriptions — in one warn line,
 * both before "joining the consumer group". The unit tests (test/kafka/pipeline-operator-lines)
 * pin the wording; this pins that kafkajs's answers give them.
 */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { KafkaLogger } from '../../src/kafka/log.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { brokers, client, createTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

interface Line {
  level: string;
  msg: string;
}

describe('the Kafka job start on the broker', () => {
  it('names the topics it created and warns of a group member reading other topics, before joining', { timeout: 30_000 }, async () => {
    const base = unique('start-lines');
    const topics = { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
    await createTopics(client(), [topics.spans, topics.logs, `${base}.other`], 1);
    const group = `${base}-grp`;
    // another job under the same group id, reading its own topic (short fetches: kafkajs notices
    // the rebalance this job's join starts only between them, and the join waits for it)
    const other = new Kafka({ brokers: [brokers()], clientId: 'other-job', logLevel: logLevel.NOTHING }).consumer({ groupId: group, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const joined = new Promise<void>((resolve) => other.on(other.events.GROUP_JOIN, () => resolve()));
    await other.connect();
    const lines: Line[] = [];
    const at = (level: string) => (_obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
    const logger: KafkaLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    try {
      await other.subscribe({ topics: [`${base}.other`] });
      await other.run({ eachMessage: async () => undefined });
      await joined;
      const pipeline = new KafkaPipeline(
        pipelineConfig(topics, group, { delivery: 'at-least-once', sink: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq }, partitions: 2, replayFilterTopic: `${base}.filters` } }),
        { client: client('start-lines'), createAssembler: () => testAssembler(2_000), processEpisode: referenceProcessEpisode, evaluationsFromLogs: (l) => evaluationsFromLogs(l), logger },
      );
      try {
        await pipeline.start();
      } finally {
        await pipeline.stop();
      }
      const joining = lines.findIndex((l) => l.msg.startsWith('joining the consumer group'));
      expect(joining).toBeGreaterThanOrEqual(0);

      const created = lines.filter((l) => l.msg.startsWith('created topics'));
      expect(created).toHaveLength(1);
      for (const t of [topics.rewards, topics.episodes, topics.preferences, topics.dlq, `${base}.filters`]) expect(created[0]!.msg).toContain(`"${t}"`);
      expect(created[0]!.msg).toContain('2 partitions each');
      expect(lines.indexOf(created[0]!)).toBeLessThan(joining);

      const warned = lines.filter((l) => l.level === 'warn' && l.msg.includes('read other topics'));
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toMatch(new RegExp(`^source\\.kafka\\.groupId "${group}": 1 member\\(s\\) of this group read other topics \\(${base}\\.other\\) — client other-job on /\\S+: .* — give this job its own source\\.kafka\\.groupId$`));
      expect(lines.indexOf(warned[0]!)).toBeLessThan(joining);
    } finally {
      await other.disconnect();
    }
  });
});
