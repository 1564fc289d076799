/**
 * Exactly-once on a broker whose `transaction.max.timeout.ms` (30 s here) is below the producers'
 * transaction timeout (60 s by default): the broker refuses every transactional producer's claim
 * (InitProducerId: INVALID_TRANSACTION_TIMEOUT, whose kafkajs message misnames the setting
 * max.transaction.timeout.ms). `check` fails naming the broker setting and
 * sinks.kafka.transactionTimeoutMs (it warned about the transaction coordinator and said ready);
 * `run`'s error line and /readyz name them too, at once and with no input (it stayed ready), and
 * after the first batch crashed the consumer, and the job then fails (`failed`; `run` exits with
 * code 2); with sinks.kafka.transactionTimeoutMs within the
 * cap, check is ready and the job credits its episodes.
 *
 * Runs its own broker (scripts/kafka.ts) with the lower cap; the shared one serves the others.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { startKafkaJob, type KafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { KafkaRefusalError } from '../../src/kafka/refusal-error.js';
import type { KafkaClient } from '../../src/kafka/client.js';
import { useOwnBroker } from './support/own-broker.js';
import { freePort } from '../support/ports.js';
import { createTopics, produce, readTopics, fleetRecords, unique } from './support/kafka-io.js';
import { topicsNamed, waitFor } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const CLI = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));
const { broker, clientOf, cleanups } = useOwnBroker({ 'transaction.max.timeout.ms': '30000' });

async function inputOf(c: KafkaClient, prefix: string, episodes: number, seed: number) {
  const base = unique(prefix);
  const topics = topicsNamed(base);
  await createTopics(c, [topics.spans, topics.logs], 2);
  const { all: records } = await fleetRecords(topics, { episodes, seed });
  return { base, topics, records };
}

function configOf(base: string, topics: ReturnType<typeof topicsNamed>, metricsPort: number, transactionTimeoutMs?: number) {
  return loadConfig({
    env: {},
    overrides: {
      source: { kind: 'kafka', grpc: { port: 0 }, kafka: { brokers: [broker().brokers], groupId: `${base}-grp`, spansTopic: topics.spans, logsTopic: topics.logs } },
      sinks: {
        stdout: { enabled: false },
        live: { enabled: false },
        kafka: { delivery: 'exactly-once', ...(transactionTimeoutMs !== undefined ? { transactionTimeoutMs } : {}), topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq } },
      },
      telemetry: { metricsPort },
      runtime: { creditWorkers: 0 },
    },
  }).config;
}

function jobLog() {
  const lines: { level: number; msg: string; fix?: string }[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }), done()) });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

async function readyz(port: number): Promise<{ status: number; detail: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { components?: { kafka?: { detail?: string } } };
  return { status: res.status, detail: body.components?.kafka?.detail ?? '' };
}

const NAMED = /sinks\.kafka\.transactionTimeoutMs 60000 ms: it is above their transaction\.max\.timeout\.ms .*set sinks\.kafka\.transactionTimeoutMs to at most the brokers' transaction\.max\.timeout\.ms, or raise that on every broker/;

describe('exactly-once under a broker transaction.max.timeout.ms below the transaction timeout', () => {
  it('check fails naming transaction.max.timeout.ms and sinks.kafka.transactionTimeoutMs; within the cap it is ready', { timeout: 90_000 }, async () => {
    const { base, topics } = await inputOf(clientOf('tx-cap-check'), 'tx-cap-check', 1, 1);
    const refused = await runChecks(configOf(base, topics, 0));
    const text = renderCheckReport(refused);
    expect(refused.ok, text).toBe(false);
    expect(text).toMatch(new RegExp(`✗ exactly-once: run's transactional producers would publish nothing: the brokers refuse .*${NAMED.source}`));

    const fine = await runChecks(configOf(base, topics, 0, 30_000));
    const fineText = renderCheckReport(fine);
    expect(fineText).toContain(`✓ exactly-once: this principal may claim transactional ids under "${base}-grp-${topics.spans}-"`);
    expect(fineText).toContain('with a transaction timeout of 30000 ms (sinks.kafka.transactionTimeoutMs)');
    expect(fine.ok, fineText).toBe(true);
  });

  it('run: the error line and /readyz name the broker setting and the key at once, input or not; within the cap the episodes are credited', { timeout: 120_000 }, async () => {
    const c = clientOf('tx-cap-run');
    const { base, topics, records } = await inputOf(c, 'tx-cap-run', 3, 7);
    const port = await freePort();
    const { lines, logger } = jobLog();
    const job: KafkaJob = await startKafkaJob(configOf(base, topics, port), logger, (e) => referenceProcessEpisode(e));
    cleanups.push(() => job.stop());
    try {
      // no input yet: the partitions' producers were refused at assignment
      await waitFor(() => lines.some((l) => l.level === 50 && l.msg.startsWith('preparing partition failed')), 30_000, 'the preparation failure logged');
      const logged = lines.find((l) => l.level === 50 && l.msg.startsWith('preparing partition failed'))!;
      expect(logged.msg).toMatch(NAMED);
      expect(logged.fix).toMatch(NAMED);
      let r = await readyz(port);
      for (let i = 0; i < 20 && r.status === 200; i++) r = await readyz(port).then(async (x) => (await new Promise((ok) => setTimeout(ok, 100)), x));
      expect(r.status).toBe(503);
      expect(r.detail).toMatch(/^preparing partition .* failed, nothing can be published: the brokers refuse/);
      expect(r.detail).toMatch(NAMED);

      // the first batch awaits its partition's preparation and crashes the consumer: still named
      await produce(c, records);
      await waitFor(() => lines.some((l) => l.msg.startsWith('kafka consumer crashed')), 30_000, 'the consumer crash');
      await new Promise((ok) => setTimeout(ok, 1_500)); // the job reads the pipeline's health every second
      r = await readyz(port);
      expect(r.status).toBe(503);
      expect(r.detail).toMatch(NAMED);
      // a restart fails the same way: the job says it has failed, naming the fix (run exits 2), rather than stay up reading nothing
      const failed = await Promise.race([job.failed, new Promise<undefined>((ok) => setTimeout(ok, 5_000, undefined))]);
      expect(failed).toBeInstanceOf(KafkaRefusalError);
      expect(failed?.refused).toBe('setting');
      expect(failed?.message).toMatch(NAMED);
    } finally {
      await job.stop();
    }

    // `run` on the same input: stopped at the first batch's crash, it exits with code 2 (it stayed up not live)
    const dir = mkdtempSync(join(tmpdir(), 'tx-cap-cli-'));
    try {
      const file = join(dir, 'agent-credit.json');
      const { source, sinks } = configOf(`${base}-cli`, topics, 0);
      writeFileSync(file, JSON.stringify({ source: { kind: 'kafka', kafka: { brokers: source.kafka!.brokers, groupId: source.kafka!.groupId, spansTopic: topics.spans, logsTopic: topics.logs } }, sinks: { stdout: { enabled: false }, live: { enabled: false }, kafka: { delivery: 'exactly-once', topics: sinks.kafka.topics } }, telemetry: { logLevel: 'error' } }));
      const cli = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      cleanups.push(async () => cli.kill('SIGKILL'));
      let stderr = '';
      cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((ok) => cli.on('exit', ok));
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(new RegExp(`agent-credit: the Kafka consumer stopped for good: the brokers refuse a setting, .*${NAMED.source}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // the key within the cap: the same input is credited
    const port2 = await freePort();
    const ok = jobLog();
    const job2 = await startKafkaJob(configOf(`${base}-b`, topics, port2, 30_000), ok.logger, (e) => referenceProcessEpisode(e));
    cleanups.push(() => job2.stop());
    try {
      const credited = await readTopics(c, [topics.episodes], (rs) => rs.length >= 3, 60_000);
      expect(credited).toHaveLength(3);
      expect((await readyz(port2)).status).toBe(200);
      expect(ok.lines.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await job2.stop();
    }
  });
});
