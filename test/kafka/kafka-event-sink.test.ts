/**
 * KafkaEventSink after the broker stopped accepting its producer's sequence numbers
 * (OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID: a kafkajs idempotent producer in that state
 * after a broker crash fails every later send, README: Limits): the failing publish rejects, and
 * the next one goes out on a fresh producer — kept, every publish failed for good. Other send
 * errors keep the producer.
 */
import { describe, expect, it } from 'vitest';
import { KafkaEventSink } from '../../src/sinks/kafka/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { FakeKafka } from './fake-kafka.js';

const topics = { rewards: 't.rewards', episodes: 't.episodes', preferences: 't.preferences', dlq: 't.dlq' };

function event(id: string): CreditEvent {
  return { event_type: 'episode_credit', event_id: id, episode_id: `ep-${id}`, schema_version: '1.0.0' } as unknown as CreditEvent;
}

describe('KafkaEventSink, a producer whose sequence state the broker refuses', () => {
  it('rejects that publish and sends the next one on a fresh producer', async () => {
    const fake = new FakeKafka();
    const sink = new KafkaEventSink(fake, { topics });
    await sink.start();
    await sink.publish([event('a')]);
    fake.poisonProducers(Object.assign(new Error('The broker received an out of order sequence number'), { name: 'KafkaJSProtocolError', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }));
    await expect(sink.publish([event('b')])).rejects.toThrow(/out of order sequence/);
    await sink.publish([event('b')]); // the caller's retry
    await sink.publish([event('c')]);
    expect(fake.published.map((r) => JSON.parse(String(r.value)).event_id)).toEqual(['a', 'b', 'c']);
    expect(sink.producerReplacements()).toBe(1);
    expect(fake.producersCreated).toBe(2);
    expect(sink.recordsPublished()).toBe(3);
    await sink.close();
  });

  it('keeps its producer on other send errors', async () => {
    const fake = new FakeKafka();
    const sink = new KafkaEventSink(fake, { topics });
    await sink.start();
    fake.poisonProducers(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }));
    await expect(sink.publish([event('a')])).rejects.toThrow(/ECONNREFUSED/);
    expect(sink.producerReplacements()).toBe(0);
    expect(fake.producersCreated).toBe(1);
    await sink.close();
  });
});

// On the broker, sinks.kafka.maxRecordBytes 3000000000 (max.message.bytes past an int) or
// sinks.kafka.partitions 2000000: run stopped with kafkajs's bare "agent-credit: Topic creation
// errors", whose per-topic reasons it never showed
describe('output topics the brokers refuse to create', () => {
  it('fail naming each topic\'s setting, the reason and the fix (a configuration error, exit 2)', async () => {
    const { prepareOutputTopics, OutputTopicCreationError } = await import('../../src/sinks/kafka/kafka-event-sink.js');
    const { KafkaSinkConfigSchema } = await import('../../src/sinks/kafka/config.js');
    const { TopicSettingError } = await import('../../src/kafka/topic-setting-error.js');
    const fake = new FakeKafka();
    const admin = await fake.admin();
    const refusal = (type: string, message: string, ts: readonly string[]) =>
      Object.assign(new Error('Topic creation errors'), { name: 'KafkaJSAggregateError', errors: ts.map((topic) => Object.assign(new Error(message), { name: 'KafkaJSCreateTopicError', type, topic })) });
    let thrown: Error = refusal('INVALID_CONFIG', 'Configuration is invalid', [topics.rewards, topics.dlq]);
    const client = Object.assign(Object.create(fake) as FakeKafka, { admin: async () => ({ ...admin, ensureTopics: async () => Promise.reject(thrown) }) });
    const config = KafkaSinkConfigSchema.parse({ topics });
    const err = await prepareOutputTopics(client, config).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(OutputTopicCreationError);
    expect(err).toBeInstanceOf(TopicSettingError);
    expect(err!.message).toBe(
      'sinks.kafka.topics.rewards: the brokers refused to create topic "t.rewards" (INVALID_CONFIG: Configuration is invalid) — its max.message.bytes (sinks.kafka.maxRecordBytes + 16384) is refused: lower sinks.kafka.maxRecordBytes; ' +
        'sinks.kafka.topics.dlq: the brokers refused to create topic "t.dlq" (INVALID_CONFIG: Configuration is invalid) — its max.message.bytes (sinks.kafka.maxRecordBytes + 16384) is refused: lower sinks.kafka.maxRecordBytes (sinks.kafka.createTopics; sinks.kafka.partitions 3)',
    );
    thrown = refusal('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics', [topics.episodes]);
    await expect(prepareOutputTopics(client, config)).rejects.toThrow(/^sinks\.kafka\.topics\.episodes: the brokers refused to create topic "t\.episodes" \(TOPIC_AUTHORIZATION_FAILED: .*\) — grant this principal Create on the topic \(or the cluster\), or create it yourself and set sinks\.kafka\.createTopics: false/);
    // another error is passed on as it is
    thrown = new Error('Connection error: connect ECONNREFUSED');
    await expect(prepareOutputTopics(client, config)).rejects.toThrow(/^Connection error: connect ECONNREFUSED$/);
  });
});
