/**
 * `startKafkaJob` (what `agent-credit run` does with a kafka source) releases what it started when
 * the pipeline cannot start — here because its input topics do not exist on the real broker: the
 * error names the setting, and what the job started (live page, credit worker threads) is closed, so
 * a program that embeds the job can carry on (or retry) without leaking them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { TopicSettingError } from '../../src/kafka/index.js';
import { KafkaRefusalError } from '../../src/kafka/refusal-error.js';
import { MissingTopicError } from '../../src/sources/kafka/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../support/ports.js';
import { brokers, client, createTopics, unique } from './support/kafka-io.js';

const CLI = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));

/**
 * A Kafka job's configuration on fresh input topics (created) with a status server on a free port
 * and the given live page, and a logger that keeps its lines.
 */
async function jobWithStatusPorts(name: string, live: { enabled: boolean; host?: string; port?: number }) {
  const base = unique(name);
  await createTopics(client(), [`${base}.spans`, `${base}.logs`], 1);
  const lines: { msg: string; metrics?: string; live?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const { config } = loadConfig({
    env: {},
    overrides: {
      source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } },
      sinks: { stdout: { enabled: false }, live, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
      telemetry: { metricsPort: 0, metricsHost: '127.0.0.1' },
    },
  });
  return { config, lines, logger };
}

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

  // With telemetry.metricsPort 0 (a free port) and the live page off, the start line named no
  // address at all — the OTLP/HTTP job's and view's name `metrics` —, so Prometheus and the probes
  // had nowhere to go but `ss -ltnp` (found in the platform trial).
  it("names where /metrics is served in its start line (the status server's port, 0 = the one it got)", async () => {
    const { config, lines, logger } = await jobWithStatusPorts('job-metrics', { enabled: false });
    const job = await startKafkaJob(config, logger);
    try {
      const started = lines.find((l) => l.msg === 'agent-credit running on Kafka');
      expect(started?.live).toBeUndefined();
      expect(started?.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(started?.metrics).not.toMatch(/:0\/metrics$/);
      const res = await fetch(started!.metrics!);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('agent_credit_kafka_records_received_total');
    } finally {
      await job.stop();
    }
  });

  // After a SIGKILL the restarted job waits up to source.kafka.sessionTimeoutMs to join, its page
  // and /readyz (503, "joining the consumer group") already served — and with ports 0 the only line
  // naming them came after the join (found in a platform trial: ~22 s with /readyz unfindable).
  it('names where its live page and /metrics answer in the "joining the consumer group" line, before the join', async () => {
    const { config, lines, logger } = await jobWithStatusPorts('job-joining', { enabled: true, host: '127.0.0.1', port: 0 });
    const job = await startKafkaJob(config, logger);
    try {
      const joining = lines.findIndex((l) => l.msg.startsWith('joining the consumer group'));
      const assigned = lines.findIndex((l) => l.msg === 'kafka group assignment');
      const started = lines.find((l) => l.msg === 'agent-credit running on Kafka');
      expect(joining).toBeGreaterThanOrEqual(0);
      expect(assigned).toBeGreaterThan(joining);
      expect(lines[joining]!.live).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect(lines[joining]!.metrics).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
      expect(lines[joining]!.live).toBe(started?.live);
      expect(lines[joining]!.metrics).toBe(started?.metrics);
      const ready = await fetch(lines[joining]!.metrics!.replace(/\/metrics$/, '/readyz'));
      expect(ready.status).toBe(200);
      expect((await fetch(`${lines[joining]!.live!}/api/agents`)).status).toBe(200);
    } finally {
      await job.stop();
    }
  });

  // On the broker (group.max.session.timeout.ms 1800000) with sessionTimeoutMs 1900000: kafkajs's
  // first join was refused and the consumer crashed for good before start resolved, then the job
  // logged "agent-credit running on Kafka" and "not live …: a restart is what helps" — a restart
  // is refused the same way. Later it said so, but stayed up not live, reading nothing (until a
  // liveness probe restarted it into the same refusal; without one, for ever): a configuration
  // error, so the start fails naming the setting and `run` exits with code 2, as for a missing topic.
  it('fails the start naming the setting when the brokers refuse the session timeout; run exits with code 2', async () => {
    const base = unique('job-session');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 1);
    const lines: { msg: string; level: number; reason?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const file = {
      source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs`, sessionTimeoutMs: 1_900_000, heartbeatIntervalMs: 3_000 } },
      sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { topics: { rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` } } },
    };
    const { config } = loadConfig({ env: {}, text: JSON.stringify(file) });
    const err = await startKafkaJob(config, logger).then(
      async (job) => (await job.stop(), undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaRefusalError);
    expect((err as KafkaRefusalError).refused).toBe('setting');
    expect((err as Error).message).toMatch(/^the Kafka consumer stopped for good: the brokers refuse a setting, and a restart fails the same way until the setting is changed: The session timeout is not within the range .* set source\.kafka\.sessionTimeoutMs within it/);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).not.toContain('agent-credit running on Kafka');
    expect(msgs.some((m) => /a restart is what helps/.test(m))).toBe(false);

    // the CLI: exit code 2 (a configuration error), the message on stderr
    const dir = mkdtempSync(join(tmpdir(), 'job-session-'));
    try {
      writeFileSync(join(dir, 'agent-credit.json'), JSON.stringify({ ...file, source: { ...file.source, kafka: { ...file.source.kafka, groupId: `${base}-cli` } }, telemetry: { logLevel: 'warn' } }));
      const run = spawnSync(process.execPath, [CLI, 'run', '--config', join(dir, 'agent-credit.json')], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/agent-credit: the Kafka consumer stopped for good: the brokers refuse a setting, .*set source\.kafka\.sessionTimeoutMs within it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
