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
