/**
 * kafkajs's admin `fetchTopicOffsets` gives up at the first NOT_LEADER_FOR_PARTITION: CI failed
 * once when kafka:seed asked for the end offsets of topics it had just created (the broker had
 * not taken up the leadership yet). whileLeadersSettle retries a moving leader's errors, and only those.
 */
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isStaleMetadataError, whileLeadersSettle } from '../../src/kafka/stale-metadata.js';

const protocolError = (type: string, code: number) => Object.assign(new KafkaJSProtocolError(`broker says ${type}`), { type, code });

describe('whileLeadersSettle', () => {
  it('retries stale-metadata errors with a growing wait until the operation answers', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await whileLeadersSettle(
      async () => {
        calls++;
        if (calls <= 3) throw protocolError(calls === 2 ? 'LEADER_NOT_AVAILABLE' : 'NOT_LEADER_FOR_PARTITION', 6);
        return 'offsets';
      },
      10_000,
      async (ms) => void waits.push(ms),
    );
    expect(result).toBe('offsets');
    expect(waits).toEqual([100, 200, 400]);
  });

  it('throws any other error at once (an unknown topic too), and a moving leader\'s once the time is up', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('not authorized'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    await expect(whileLeadersSettle(async () => { calls++; throw denied; }, 10_000, async () => {})).rejects.toBe(denied);
    expect(calls).toBe(1);
    // an unknown topic is not waited for: kafkajs's admin has retried it already, and the callers name a missing topic
    const unknown = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3);
    calls = 0;
    await expect(whileLeadersSettle(async () => { calls++; throw unknown; }, 10_000, async () => {})).rejects.toBe(unknown);
    expect(calls).toBe(1);
    const stale = protocolError('NOT_LEADER_FOR_PARTITION', 6);
    await expect(whileLeadersSettle(async () => { throw stale; }, 50)).rejects.toBe(stale);
  });

  it('does not start a second round of what kafkajs’s own retrier gave up on: a missing topic (UNKNOWN_TOPIC_OR_PARTITION) answers as fast as before', async () => {
    // kafkajs's admin retries UNKNOWN_TOPIC_OR_PARTITION itself (its `retry`: ~7–11 s by default)
    // and then throws KafkaJSNumberOfRetriesExceeded around it; retried again here, a topic that
    // does not exist took one more such round (measured on the broker: 14–18 s instead of 7–11 s)
    let calls = 0;
    const exhausted = new KafkaJSNumberOfRetriesExceeded(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3), { retryCount: 5, retryTime: 4800 });
    expect(isStaleMetadataError(exhausted)).toBe(true); // still stale metadata to the producer's send (kafkajs-send)
    // the fake sleep gives up at the first wait: no retry is expected (and a wrong one fails at once)
    const noWait = async () => {
      throw new Error('waited to retry');
    };
    await expect(whileLeadersSettle(async () => { calls++; throw exhausted; }, 10_000, noWait)).rejects.toBe(exhausted);
    expect(calls).toBe(1);
  });

  it('recognises the error wrapped by kafkajs (a retrier’s cause chain)', () => {
    const wrapped = Object.assign(new Error('outer'), { cause: protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3) });
    expect(isStaleMetadataError(wrapped)).toBe(true);
    expect(isStaleMetadataError(new Error('ECONNREFUSED'))).toBe(false);
  });
});
