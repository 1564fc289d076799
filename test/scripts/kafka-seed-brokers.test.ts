/**
 * kafka:seed read KAFKA_BROKERS as one broker (a comma list, as the integration tests accept,
 * failed inside kafkajs), and a stopped broker left by an earlier kafka:start gave kafkajs's bare
 * ECONNREFUSED without saying what to do.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerList } from '../../scripts/kafka-seed.js';

const root = join(import.meta.dirname, '../..');

describe('kafka:seed brokers', () => {
  it('KAFKA_BROKERS may list several brokers', () => {
    expect(brokerList('127.0.0.1:9092, 127.0.0.1:9093,')).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(brokerList('127.0.0.1:9092')).toEqual(['127.0.0.1:9092']);
  });

  it('an unreachable broker: exit 1, and the line says to start one', () => {
    // port 1: nothing listens
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/kafka-seed.ts'], { cwd: root, env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1' }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kafka:seed: .*is the broker running\? Start it with `npm run kafka:start`/m);
  }, 60_000);
});
