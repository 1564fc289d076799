/**
 * KAFKA_JVM (scripts/kafka.ts): the broker's JVM flags. `fast-start` (tests) trades steady-state
 * speed for start-up; `server` is Kafka's own kafka-server-start.sh set, which the benchmark uses.
 * test/integration/broker-restart.test.ts runs a `server` broker and checks its command line.
 */
import { describe, expect, it } from 'vitest';
import { KAFKA_JVM_FLAGS, kafkaJvmProfile } from '../../scripts/kafka.js';

describe('KAFKA_JVM', () => {
  it('empty or unset: fast-start; the two profile names as given', () => {
    expect(kafkaJvmProfile(undefined)).toBe('fast-start');
    expect(kafkaJvmProfile('')).toBe('fast-start');
    expect(kafkaJvmProfile('server')).toBe('server');
    expect(kafkaJvmProfile('fast-start')).toBe('fast-start');
  });

  it('another value: an error naming the variable and both choices', () => {
    expect(() => kafkaJvmProfile('g1')).toThrow(/KAFKA_JVM: "g1" is not a JVM profile; use fast-start \(the default\) or server/);
  });

  it('server has both JIT tiers and G1 with a fixed heap; fast-start stops at C1 with the serial collector', () => {
    const server = KAFKA_JVM_FLAGS.server('1g');
    expect(server).toEqual(expect.arrayContaining(['-Xmx1g', '-Xms1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20']));
    expect(server.some((f) => f.startsWith('-XX:TieredStopAtLevel'))).toBe(false);
    expect(KAFKA_JVM_FLAGS['fast-start']('512m')).toEqual(expect.arrayContaining(['-Xmx512m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']));
  });
});
