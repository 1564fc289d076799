/**
 * An exporter given the live page's address (the `live` URL of the start-up line, 8080) instead of
 * the receiver's: it got a bare 405, and the job logged nothing — with the exporter's own log off
 * (the OTel JS default), telemetry went nowhere without a word. The answer and a warning in the
 * job's log now name the receiver.
 */
import { Writable } from 'node:stream';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ExportResult } from '@opentelemetry/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { startKafkaJob } from '../../src/cli/kafka-job.js';
import { startViewJob } from '../../src/cli/view-job.js';
import { FakeKafka } from '../kafka/fake-kafka.js';
import { freePort } from '../support/ports.js';

interface Line {
  level: number;
  msg: string;
  status?: number;
}

describe('telemetry posted to the live page', () => {
  let job: LocalJob;
  const lines: Line[] = [];
  beforeAll(async () => {
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Line), done()) });
    const { config } = loadConfig({ env: {}, overrides: { source: { http: { port: 0 }, grpc: { enabled: false } }, sinks: { stdout: { enabled: false }, live: { port: 0 } } } });
    job = await startLocalJob(config, { logger: pino({ level: 'info' }, stream) });
  });
  afterAll(async () => {
    await job?.stop();
  });

  it('a real OTLP exporter at the live page: the job logs a warning naming the receiver', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3 });
    const exporter = new OTLPTraceExporter({ url: `${job.liveUrl}/v1/traces`, timeoutMillis: 3_000 });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(run.spans as never, resolve)).finally(() => exporter.shutdown());
    expect(result.code).not.toBe(0);
    for (let i = 0; i < 200 && !lines.some((l) => l.status === 405); i++) await new Promise((r) => setTimeout(r, 10));
    const line = lines.find((l) => l.status === 405);
    expect(line?.level).toBe(40);
    expect(line?.msg).toContain('POST /v1/traces reached the live page (sinks.live.port)');
    expect(line?.msg).toContain(`OTEL_EXPORTER_OTLP_ENDPOINT=${job.receiverUrl}`);
  });

  it('an evaluation record posted to the live page is answered with where to post it', async () => {
    const r = await fetch(`${job.liveUrl}/v1/evaluations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trace_id: '0123456789abcdef0123456789abcdef', name: 'task_success', score: 1 }) });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    const body = (await r.json()) as { error: string };
    expect(body.error).toContain('nothing was received');
    expect(body.error).toContain(`the OTLP/HTTP receiver, ${job.receiverUrl} (source.http.port)`);
  });
});

/**
 * The Kafka job and `view` serve the same page: an exporter given its address got the 405, and
 * their log said nothing of it (only the receiver job passed the page its problem logger).
 */
describe('telemetry posted to the live page of a Kafka job or view', () => {
  const collect = () => {
    const lines: Line[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Line), done()) });
    return { lines, logger: pino({ level: 'info' }, stream) };
  };
  const post = (url: string) => fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
  const warned = async (lines: Line[]) => {
    for (let i = 0; i < 200 && !lines.some((l) => l.status === 405); i++) await new Promise((r) => setTimeout(r, 10));
    return lines.find((l) => l.status === 405);
  };
  const kafkaConfig = (livePort: number) =>
    loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: ['127.0.0.1:1'], groupId: 'g', spansTopic: 'in.spans', logsTopic: 'in.logs' } },
        sinks: { stdout: { enabled: false }, live: { host: '127.0.0.1', port: livePort }, kafka: { topics: { episodes: 'v.episodes', rewards: 'v.rewards', preferences: 'v.preferences', dlq: 'v.dlq' } } },
      },
    }).config;

  it('the Kafka job logs a warning naming its input topics', async () => {
    const { lines, logger } = collect();
    const port = await freePort();
    // no broker: the page serves while the job tries to connect, then the start fails
    const started = startKafkaJob(kafkaConfig(port), logger).then(
      (job) => job.stop(),
      () => undefined,
    );
    let r: Response | undefined;
    for (let i = 0; i < 200 && r === undefined; i++) r = await post(`http://127.0.0.1:${port}`).catch(async () => void (await new Promise((res) => setTimeout(res, 10))));
    expect(r?.status).toBe(405);
    const line = await warned(lines);
    expect(line?.level).toBe(40);
    expect(line?.msg).toContain('POST /v1/traces reached the live page (sinks.live.port)');
    expect(line?.msg).toContain('the collector that writes this job\'s input topics (source.kafka.spansTopic "in.spans", logsTopic "in.logs")');
    await started;
  }, 60_000);

  it('view logs a warning too', async () => {
    const { lines, logger } = collect();
    const fake = new FakeKafka();
    const view = await startViewJob(kafkaConfig(0), { logger, sinceMs: null, client: fake });
    try {
      const url = view.liveUrl!;
      expect((await post(url)).status).toBe(405);
      const line = await warned(lines);
      expect(line?.level).toBe(40);
      expect(line?.msg).toContain('POST /v1/traces reached the live page (sinks.live.port)');
      expect(line?.msg).toContain('`view` only shows the job\'s output');
    } finally {
      await view.stop();
    }
  });
});
