/**
 * A missing input topic on the real broker is a configuration error that names the setting, the
 * topic and the fix, before the pipeline connects anything (kafkajs's own subscribe error says only
 * "This server does not host this topic-partition").
 */
import { describe, expect, it } from 'vitest';
import { MissingTopicError } from '../../src/sources/kafka/index.js';
import { client, createTopics, unique } from './support/kafka-io.js';
import { makePipeline, pipelineConfig, type PipelineTopics } from './support/pipeline-harness.js';

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
});
