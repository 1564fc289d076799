/**
 * An input topic deleted while running: kafkajs crashes the consumer ("does not host this
 * topic-partition"), restarts it, and it connects and joins again — until the topic is back.
 * health() names the topic while it rejoins too, not only while "crashed".
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { silentLogger } from '../../src/kafka/log.js';
import { FakeKafka } from './fake-kafka.js';

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('input topic gone, the consumer rejoining after its crash', () => {
  it("health() names the topic and says nothing of the group's session timeout, though the check answered after the restart connected", async () => {
    const fake = new FakeKafka();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', sessionTimeoutMs: 30_000 }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 }),
        processEpisode: async () => [],
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: silentLogger,
      },
    );
    await p.start();
    try {
      fake.handlers!.onState?.('joined');
      fake.missingTopicNames.add('logs');
      // kafkajs: the crash, then (a few hundred ms later) the restarted consumer connects — before
      // the pipeline's check of the input topics has answered
      fake.handlers!.onState?.('crashed', { error: 'This server does not host this topic-partition', restart: true });
      fake.handlers!.onState?.('joining');
      await settle();
      const h = p.health();
      expect(h.ready).toBe(false);
      // it said "joining the group again after a crash (This server does not host this
      // topic-partition): the brokers answer; after an unclean stop the group admits it once the
      // old member's session has timed out (source.kafka.sessionTimeoutMs 30000 ms)" — a wait that
      // ends when the topic is back, not after a session timeout
      expect(h.detail).toContain('input topic gone while running');
      expect(h.detail).toContain('source.kafka.logsTopic: topic "logs" does not exist');
      expect(h.detail).not.toContain('sessionTimeoutMs');
      // a crash not about a topic: the session-timeout wording stays
      fake.missingTopicNames.delete('logs');
      fake.handlers!.onState?.('joined');
      fake.handlers!.onState?.('crashed', { error: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', restart: true });
      fake.handlers!.onState?.('joining');
      expect(p.health().detail).toMatch(/^consumer joining the group again after a crash \(Connection error: connect ECONNREFUSED 127\.0\.0\.1:9092\): the brokers answer; .*source\.kafka\.sessionTimeoutMs 30000 ms\)$/);
    } finally {
      await p.stop();
    }
  });
});
