/**
 * createTopicsAndWait (src/kafka/kafkajs-create-topics.ts): a broker that answers "unknown topic"
 * to the metadata request right after creating the topic (KRaft metadata not caught up) is waited
 * for, not taken as a failure; other errors still fail.
 */
import { describe, expect, it } from 'vitest';
import { createTopicsAndWait } from '../../src/kafka/kafkajs-create-topics.js';

const unknownTopic = () => Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
const meta = (leader: number) => ({ topics: [{ name: 't', partitions: [{ partitionErrorCode: 0, partitionId: 0, leader, replicas: [1], isr: [1] }] }] });

function fakeAdmin(createError: Error | undefined, metadataAnswers: (() => unknown)[]) {
  let calls = 0;
  return {
    calls: () => calls,
    createTopics: async () => {
      if (createError) throw createError;
      return true;
    },
    fetchTopicMetadata: async () => {
      const answer = metadataAnswers[Math.min(calls++, metadataAnswers.length - 1)]!;
      return answer() as ReturnType<typeof meta>;
    },
  };
}
const noSleep = async () => undefined;

describe('createTopicsAndWait', () => {
  it('waits for the metadata when creation ends in "unknown topic" (kafkajs bails on it)', async () => {
    const admin = fakeAdmin(unknownTopic(), [() => { throw unknownTopic(); }, () => meta(-1), () => meta(1)]);
    // created: the brokers answered the creation before kafkajs bailed on the metadata
    expect(await createTopicsAndWait(admin as never, [{ topic: 't', numPartitions: 1 }], 5_000, noSleep)).toBe(true);
    expect(admin.calls()).toBe(3);
  });

  it('is done at once when kafkajs created and waited (true), and when the topic already exists (false: created by another client)', async () => {
    const created = fakeAdmin(undefined, [() => meta(1)]);
    expect(await createTopicsAndWait(created as never, [{ topic: 't', numPartitions: 1 }], 5_000, noSleep)).toBe(true);
    expect(created.calls()).toBe(0);
    expect(await createTopicsAndWait(fakeAdmin(new Error('Topic with this name already exists'), []) as never, [{ topic: 't' }], 5_000, noSleep)).toBe(false);
    // kafkajs answers false when every topic it could not create already existed
    const raced = { ...fakeAdmin(undefined, []), createTopics: async () => false };
    expect(await createTopicsAndWait(raced as never, [{ topic: 't' }, { topic: 'u' }], 5_000, noSleep)).toBe(false);
  });

  it('fails on other errors, and when the topics never show', async () => {
    await expect(createTopicsAndWait(fakeAdmin(new Error('Topic authorization failed'), []) as never, [{ topic: 't' }], 5_000, noSleep)).rejects.toThrow(/authorization/);
    await expect(createTopicsAndWait(fakeAdmin(unknownTopic(), [() => { throw unknownTopic(); }]) as never, [{ topic: 't' }], 0, noSleep)).rejects.toThrow(/did not show them with leaders within 0 ms/);
  });
});
