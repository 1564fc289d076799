import { describe, expect, it } from 'vitest';
import { KafkaSourceConfigSchema } from '../../src/sources/kafka/config.js';
import { KafkaTelemetrySource } from '../../src/sources/kafka/kafka-source.js';
import { FakeKafka } from './fake-kafka.js';

describe('KafkaTelemetrySource pausing', () => {
  it('a held-back partition stays paused through backpressure resumes until the next assignment', async () => {
    const fake = new FakeKafka();
    const source = new KafkaTelemetrySource(KafkaSourceConfigSchema.parse({ brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' }), fake);
    await source.start({ onBatch: async () => {}, onAssignment: () => {} });
    const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }, { topic: 'logs', partition: 0 }];
    fake.assign(assignment);
    source.holdBack({ topic: 'spans', partition: 0 });
    expect([...fake.paused]).toEqual(['spans/0']);
    source.pause(); // backpressure
    expect([...fake.paused].sort()).toEqual(['logs/0', 'spans/0', 'spans/1']);
    source.resume();
    expect([...fake.paused]).toEqual(['spans/0']);
    fake.assign(assignment); // a new group assignment: everything is fetched again
    expect([...fake.paused]).toEqual([]);
    // held back while paused by backpressure: the next assignment resumes both
    source.holdBack({ topic: 'spans', partition: 1 });
    source.pause();
    fake.assign(assignment);
    expect([...fake.paused]).toEqual([]);
    expect(source.isPaused()).toBe(false);
  });
});
