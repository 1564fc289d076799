/**
 * `agent-credit run` with a kafka source whose live page (or separate metrics port) is taken: the
 * error names the setting to change, as the OTLP/HTTP job's does — it said only
 * `listen EADDRINUSE: address already in use 127.0.0.1:8080` (found in the user-acceptance pass) —
 * and what it started is closed again. No broker needed: the servers start before Kafka is contacted.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../support/ports.js';

const held: Server[] = [];
async function holdPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  held.push(s);
  return (s.address() as { port: number }).port;
}
async function canListen(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

function kafkaConfig(live: number, metricsPort: number | null) {
  return loadConfig({
    env: {},
    overrides: {
      source: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:1'], groupId: 'g', spansTopic: 's', logsTopic: 'l' } },
      sinks: { stdout: { enabled: false }, live: { enabled: true, host: '127.0.0.1', port: live } },
      telemetry: { metricsPort, metricsHost: '127.0.0.1' },
    },
  }).config;
}

describe('startKafkaJob: a port that is taken', () => {
  it('names sinks.live.port when the live page cannot listen', async () => {
    const port = await holdPort();
    const err = (await startKafkaJob(kafkaConfig(port, null), silentLogger()).then(() => undefined, (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('EADDRINUSE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('sinks.live.port (--live-port)');
  });

  it('names telemetry.metricsPort when the metrics server cannot listen, and frees the live page', async () => {
    // the metrics port is held before the live one is picked: picked first and closed, the live port
    // could be handed right back to holdPort's listen(0) (the OS did that to the broker's two ports,
    // e523ce3), and the job failed on sinks.live.port instead
    const metrics = await holdPort();
    const live = await freePort();
    const err = (await startKafkaJob(kafkaConfig(live, metrics), silentLogger()).then(() => undefined, (e: unknown) => e)) as Error;
    expect(err.message).toContain(`127.0.0.1:${metrics}`);
    expect(err.message).toContain('telemetry.metricsPort (--metrics-port)');
    expect(await canListen(live)).toBe(true);
  });
});
