/**
 * `startKafkaJob` (what `agent-credit run` does with a kafka source) releases what it started when
 * the pipeline cannot start — here because its input topics do not exist on the real broker: the
 * error names the setting, and what the job started (live page, credit worker threads) is closed, so
 * a program that embeds the job can carry on (or retry) without leaking them.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { TopicSettingError } from '../../src/kafka/index.js';
import { MissingTopicError } from '../../src/sources/kafka/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../support/ports.js';
import { brokers, unique } from './support/kafka-io.js';

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
});
