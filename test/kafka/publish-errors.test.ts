/**
 * publishFailureHint on the errors kafkajs throws (its own KafkaJSProtocolError objects, bare and
 * inside its retry wrapper): NOT_ENOUGH_REPLICAS / NOT_ENOUGH_REPLICAS_AFTER_APPEND had no hint, so
 * the error line said "retrying (the output topics exist: a broker away? see err)" and never named
 * min.insync.replicas or acks. Kafka 4.1 on one broker accepts acks=all writes to a topic with
 * min.insync.replicas 2 (its replica count caps it), so the classification is tested here on the
 * objects kafkajs builds from the error codes.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { publishFailureHint } from '../../src/sinks/kafka/publish-errors.js';

const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error & { type: string; code: number } };
const { KafkaJSNumberOfRetriesExceeded } = require('kafkajs/src/errors.js') as { KafkaJSNumberOfRetriesExceeded: new (e: Error, o: { retryCount: number; retryTime: number }) => Error };

const sink = { topics: { rewards: 'r', episodes: 'e', preferences: 'p', dlq: 'd' }, maxRecordBytes: 1_000_000 };

describe('publishFailureHint: too few in-sync replicas', () => {
  for (const code of [19, 20]) {
    it(`names min.insync.replicas and acks for ${createErrorFromCode(code).type}, bare and after kafkajs's retries`, () => {
      const err = createErrorFromCode(code);
      expect(err.name).toBe('KafkaJSProtocolError');
      for (const e of [err, new KafkaJSNumberOfRetriesExceeded(err, { retryCount: 5, retryTime: 100 })]) {
        const hint = publishFailureHint(e, sink, []);
        expect(hint).toMatch(/fewer in-sync replicas than its min\.insync\.replicas/);
        expect(hint).toMatch(/acks=all/);
        expect(hint).toMatch(/replication factor \(r, e, p, d;/);
      }
    });
  }

  it('leaves an error it cannot name without a hint', () => {
    expect(publishFailureHint(createErrorFromCode(7), sink, [])).toBeUndefined(); // REQUEST_TIMED_OUT
  });
});

describe('publishFailureHint: an output topic deleted while running', () => {
  // The hint said `kafka-topics.sh --create --topic <t>`: created so, the topic got the brokers'
  // default partition count (1 on the local broker) instead of sinks.kafka.partitions, and Kafka's
  // default max.message.bytes — which the job's next start (and `check`) refuses when
  // sinks.kafka.maxRecordBytes was raised above it.
  const err = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });

  it('gives the create command with sinks.kafka.partitions', () => {
    const hint = publishFailureHint(err, { ...sink, partitions: 4 }, ['r']);
    expect(hint).toContain('kafka-topics.sh --create --topic r --partitions 4: sinks.kafka.partitions)');
    expect(hint).not.toContain('max.message.bytes');
  });

  it('and the max.message.bytes the job creates the topic with when sinks.kafka.maxRecordBytes is raised', () => {
    const hint = publishFailureHint(err, { ...sink, maxRecordBytes: 4_000_000, partitions: 3 }, ['d']);
    expect(hint).toContain(`kafka-topics.sh --create --topic d --partitions 3 --config max.message.bytes=${4_000_000 + 16 * 1024}: sinks.kafka.partitions, max.message.bytes for sinks.kafka.maxRecordBytes)`);
  });
});
