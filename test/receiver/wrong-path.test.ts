/**
 * An exporter whose endpoint holds a path of its own, or none where one is needed, or that sends
 * metrics: the receiver's 404 named only its paths ("no OTLP endpoint at /v1/traces/v1/traces: use
 * POST /v1/traces"), not the exporter setting that sent the request there. Now the answer (and so
 * the job's warning) says which variable takes which form, with this receiver's address.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ExportResult } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { unknownPathMessage } from '../../src/sources/wrong-path.js';

const handler = { spans: [] as Span[], onSpans(spans: Span[]) { this.spans.push(...spans); }, onLogs(_logs: LogRecord[]) {}, onEvaluations() {} };
const problems: string[] = [];
const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, onProblem: (p) => void problems.push(p.message) }, handler);
let url = '';
let run: ScenarioRun;

beforeAll(async () => {
  await receiver.start();
  url = receiver.address().url;
  run = await generateScenario({ kind: 'success', convention: 'genai', seed: 11 });
});
afterAll(() => receiver.close());

/**
 * The answer the real OTLP/HTTP exporter gets when given `exporterUrl` (used as given, as
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is): a google.rpc.Status in protobuf, which the exporter keeps
 * as text (`data`) — its message reads there as it is (UTF-8), the bytes around it do not.
 */
async function exportTo(exporterUrl: string): Promise<string> {
  const exporter = new OTLPTraceExporter({ url: exporterUrl, timeoutMillis: 3_000 });
  const result = await new Promise<ExportResult>((resolve) => exporter.export(run.spans as never, resolve)).finally(() => exporter.shutdown());
  expect(result.code).not.toBe(0);
  const error = result.error as { code?: number; data?: string } | undefined;
  expect(error?.code).toBe(404);
  return error?.data ?? '';
}

describe('OTLP/HTTP receiver: a POST to a path it does not serve names the exporter setting', () => {
  it('the signal path twice (OTEL_EXPORTER_OTLP_ENDPOINT given with /v1/traces): the base URL without it', async () => {
    const message = await exportTo(`${url}/v1/traces/v1/traces`);
    expect(problems.at(-1)).toMatch(/^no OTLP endpoint at \/v1\/traces\/v1\/traces: the receiver serves /);
    // before: "no OTLP endpoint at /v1/traces/v1/traces: use POST /v1/traces or POST /v1/logs (…)"
    expect(message).toContain('no OTLP endpoint at /v1/traces/v1/traces');
    expect(message).toContain(`OTEL_EXPORTER_OTLP_ENDPOINT=${url} `);
    expect(message).toContain(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes the full URL, ${url}/v1/traces`);
    expect(handler.spans).toEqual([]);
    expect(message).toContain(problems.at(-1));
  });

  it('the root (a signal endpoint without a path, used as given): the full URL, or the base variable', async () => {
    const message = await exportTo(url);
    expect(message).toContain('no OTLP endpoint at /');
    expect(message).toContain(`give the full URL (${url}/v1/traces, ${url}/v1/logs), or set OTEL_EXPORTER_OTLP_ENDPOINT=${url} instead`);
  });

  it('metrics (NodeSDK exports them to the same endpoint by default): OTEL_METRICS_EXPORTER=none, as the gRPC receiver says', async () => {
    const r = await fetch(`${url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceMetrics":[]}' });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { message: string }).message).toMatch(/^no OTLP endpoint at \/v1\/metrics: agent-credit takes traces and logs, not metrics: set OTEL_METRICS_EXPORTER=none in the app/);
  });

  it('a GET (a browser, a probe) keeps the plain answer: no exporter sent it', async () => {
    const r = await fetch(`${url}/`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { message: string }).message).toBe('no OTLP endpoint at /: use POST /v1/traces or POST /v1/logs (or /v1/evaluations for evaluation records)');
  });
});

describe('unknownPathMessage', () => {
  it('reads a prefix before an exporter path as a base endpoint with a path, and leaves other paths to the plain answer', () => {
    expect(unknownPathMessage('/otlp/v1/logs', 'http://h:4318', false)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://h:4318 ');
    expect(unknownPathMessage('/v2/traces', 'http://h:4318', false)).toBe('no OTLP endpoint at /v2/traces: use POST /v1/traces or POST /v1/logs');
  });

  it('metrics behind the same wrong base endpoint: the base URL, and that metrics are not taken at all', () => {
    // NodeSDK with OTEL_EXPORTER_OTLP_ENDPOINT=…/v1/traces posts its metrics to /v1/traces/v1/metrics:
    // told only to fix the base URL, the app's next metrics export met the other 404 (OTEL_METRICS_EXPORTER=none)
    const message = unknownPathMessage('/v1/traces/v1/metrics', 'http://h:4318', false);
    expect(message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://h:4318 ');
    expect(message).toContain('set OTEL_METRICS_EXPORTER=none in the app');
    expect(unknownPathMessage('/v1/traces/v1/traces', 'http://h:4318', false)).not.toContain('OTEL_METRICS_EXPORTER');
  });
});
