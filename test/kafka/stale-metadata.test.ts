/**
 * kafkajs's admin `fetchTopicOffsets` gives up at the first NOT_LEADER_FOR_PARTITION: CI failed
 * once when kafka:seed asked for the end offsets of topics it had just created (the broker had
 * not taken up the leadership yet). whileLeadersSettle retries a moving leader's errors, and only those.
 */
import { KafkaJSProtocolError } from 'kafkajs';
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

  it('recognises the error wrapped by kafkajs (a retrier’s cause chain)', () => {
    const wrapped = Object.assign(new Error('outer'), { cause: protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3) });
    expect(isStaleMetadataError(wrapped)).toBe(true);
    expect(isStaleMetadataError(new Error('ECONNREFUSED'))).toBe(false);
  });
});
