/**
 * The end offsets of a topic that does not exist, on the real broker. kafkajs's admin retries
 * UNKNOWN_TOPIC_OR_PARTITION itself (its `retry` settings) and then throws
 * KafkaJSNumberOfRetriesExceeded around it; whileLeadersSettle (which retries the leadership errors
 * kafkajs's admin gives up on at once) took that for stale metadata and ran kafkajs's whole round
 * again: 14–18 s instead of 7–11 s before the answer "This server does not host this
 * topic-partition". Here kafkajs retries once, so the test stays short.
 */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { whileLeadersSettle } from '../../src/kafka/stale-metadata.js';
import { brokers, unique } from './support/kafka-io.js';

describe('end offsets of a missing topic', () => {
  it('are asked once: kafkajs’s own retries are not repeated', async () => {
    const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } }).admin();
    await admin.connect();
    try {
      const topic = unique('no-such-topic');
      for (const ask of [() => admin.fetchTopicOffsets(topic), () => admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000)]) {
        let calls = 0;
        const err = await whileLeadersSettle(() => {
          calls++;
          return ask();
        }).then(
          () => undefined,
          (e: unknown) => e as Error & { cause?: { type?: string } },
        );
        expect(err?.name).toBe('KafkaJSNumberOfRetriesExceeded');
        expect(err?.cause?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
        expect(calls).toBe(1);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
