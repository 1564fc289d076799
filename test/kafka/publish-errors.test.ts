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
