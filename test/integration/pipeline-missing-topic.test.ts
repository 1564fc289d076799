/**
 * A missing input topic on the real broker is a configuration error that names the setting, the
 * topic and the fix, before the pipeline connects anything (kafkajs's own subscribe error says only
 * "This server does not host this topic-partition"). One deleted while the pipeline runs is named
 * the same way (an error line, and health()'s detail) while kafkajs crashes and restarts the
 * consumer, whose crashes are logged at warn once, not three times a second; once the topic is
 * back the pipeline is ready again.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { KafkaLogger } from '../../src/kafka/log.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { MissingTopicError } from '../../src/sources/kafka/index.js';
import { client, createTopics, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, testAssembler, waitFor, type PipelineTopics } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

function topicsFor(base: string): PipelineTopics {
  return { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.preferences`, dlq: `${base}.dlq` };
}

describe('missing input topics', () => {
  it('names source.kafka.spansTopic and the topic when the spans topic does not exist', async () => {
    const topics = topicsFor(unique('missing-spans'));
    await createTopics(client(), [topics.logs], 1);
    const pipeline = makePipeline(pipelineConfig(topics, unique('missing-grp')));
    const err = await pipeline.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MissingTopicError);
    expect((err as MissingTopicError).topics).toEqual([topics.spans]);
    expect((err as Error).message).toContain(`source.kafka.spansTopic: topic "${topics.spans}" does not exist`);
    expect((err as Error).message).toMatch(/create it/);
    await pipeline.stop();
  });

  it('names source.kafka.logsTopic and says how to read no logs when only the logs topic is missing', async () => {
    const topics = topicsFor(unique('missing-logs'));
    await createTopics(client(), [topics.spans], 1);
    const pipeline = makePipeline(pipelineConfig(topics, unique('missing-grp')));
    const err = await pipeline.start().then(() => undefined, (e: unknown) => e);
    expect((err as MissingTopicError).topics).toEqual([topics.logs]);
    expect((err as Error).message).toContain(`source.kafka.logsTopic: topic "${topics.logs}" does not exist`);
    expect((err as Error).message).toContain('set source.kafka.logsTopic to null');
    await pipeline.stop();
  });

  it('an input topic deleted while running: an error line and health() name its setting and the topic, the crash loop is not a warn line each time; ready again once it is back', { timeout: 90_000 }, async () => {
    const topics = topicsFor(unique('deleted-logs'));
    const c = client();
    await createTopics(c, [topics.spans, topics.logs], 1);
    const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? '', obj: obj as Record<string, unknown> });
    const logger: KafkaLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('deleted-grp'), { delivery: 'exactly-once' }), {
      client: client('deleted-logs'),
      createAssembler: () => testAssembler(30_000),
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
      logger,
    });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.health().ready, 30_000, 'ready');
      const admin = await c.admin();
      try {
        await admin.deleteTopics([topics.logs]);
      } finally {
        await admin.disconnect();
      }
      await waitFor(() => lines.some((l) => l.level === 'error' && l.msg.includes(`source.kafka.logsTopic: topic "${topics.logs}" does not exist`)), 45_000, 'an error line naming the deleted input topic');
      const h = pipeline.health();
      expect(h.ready).toBe(false);
      expect(h.live).toBe(true);
      expect(h.detail).toContain(`source.kafka.logsTopic: topic "${topics.logs}" does not exist`);
      expect(h.detail).toContain('input topic gone while running');
      // kafkajs restarts the consumer every few hundred ms
      const crashes = () => lines.filter((l) => l.msg.startsWith('kafka consumer crashed'));
      await waitFor(() => crashes().length >= 10, 30_000, 'ten crashes');
      expect(crashes().filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(lines.filter((l) => l.level === 'error' && l.msg.startsWith('input topic gone'))).toHaveLength(1); // at most every 30 s

      await createTopics(c, [topics.logs], 1);
      await waitFor(() => pipeline.health().ready, 45_000, `ready again (${pipeline.health().detail})`);
      expect(pipeline.health().detail).toBe('consuming');
    } finally {
      await pipeline.stop();
    }
  });
});
