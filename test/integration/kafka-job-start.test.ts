/**
 * `startKafkaJob` (what `agent-credit run` does with a kafka source) releases what it started when
 * the pipeline cannot start — here because its input topics do not exist on the real broker: the
 * error names the setting, and what the job started (live page, credit worker threads) is closed, so
 * a program that embeds the job can carry on (or retry) without leaking them.
 */
import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { TopicSettingError } from '../../src/kafka/index.js';
import { MissingTopicError } from '../../src/sources/kafka/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../support/ports.js';
import { brokers, client, createTopics, unique } from './support/kafka-io.js';

describe('startKafkaJob', () => {
  it('frees the live page port (closing everything it started) when the pipeline cannot start', async () => {
    const port = await freePort();
    const base = unique('job');
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } },
        sinks: { stdout: { enabled: false }, live: { enabled: true, host: '127.0.0.1', port }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
        runtime: { creditWorkers: 1 },
      },
    });
    const err = await startKafkaJob(config, silentLogger()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MissingTopicError);
    expect(err).toBeInstanceOf(TopicSettingError); // the CLI exits 2, as for other configuration errors
    expect((err as Error).message).toContain(`source.kafka.spansTopic: topic "${base}.spans" does not exist`);
    // the live page's port is free again
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => again.close(() => r()));
  });

  // On the broker (group.max.session.timeout.ms 1800000) with sessionTimeoutMs 1900000: kafkajs's
  // first join was refused and the consumer crashed for good before start resolved, then the job
  // logged "agent-credit running on Kafka" and "not live …: a restart is what helps" — a restart
  // is refused the same way.
  it('does not say "running" nor "a restart is what helps" when the brokers refuse the session timeout', async () => {
    const base = unique('job-session');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 1);
    const lines: { msg: string; level: number; reason?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs`, sessionTimeoutMs: 1_900_000, heartbeatIntervalMs: 3_000 } },
        sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      },
    });
    const job = await startKafkaJob(config, logger);
    try {
      const msgs = lines.map((l) => l.msg);
      expect(msgs).not.toContain('agent-credit running on Kafka');
      const started = msgs.findIndex((m) => m.startsWith('agent-credit started on Kafka, but its consumer has stopped for good'));
      expect(started).toBeGreaterThan(msgs.findIndex((m) => m.startsWith('kafka consumer crashed on a setting the brokers refuse')));
      const notLive = lines.find((l) => l.msg.startsWith('agent-credit is not live'));
      expect(notLive?.msg).toMatch(/a restart fails the same way until the setting the reason names is changed/);
      expect(notLive?.msg).not.toMatch(/a restart is what helps/);
      expect(notLive?.reason).toMatch(/set source\.kafka\.sessionTimeoutMs within it/);
      expect(msgs.indexOf(notLive!.msg)).toBeGreaterThan(started);
    } finally {
      await job.stop();
    }
  });
});
