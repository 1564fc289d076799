import { describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';

describe('local broker from global-setup', () => {
  it('accepts a topic, a produced record and a group read of it', async () => {
    const brokers = inject('kafkaBrokers');
    const kafka = new Kafka({ clientId: 'broker-smoke', brokers: [brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `smoke-${Date.now()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `${topic}-g` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
    });
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    expect(got).toBe('hello');
  });
});
