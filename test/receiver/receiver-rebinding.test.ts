/**
 * The OTLP/HTTP receiver (127.0.0.1:4318 by default, open without source.http.auth) and DNS
 * rebinding: a web page the operator visits, served from attacker.example:4318 and its name then
 * rebound to 127.0.0.1, is same-origin with the receiver — its fetch() may POST application/json or
 * application/x-protobuf without a CORS preflight — so without a guard it could send spans and
 * evaluation records that the job credits and publishes (rewards and preference pairs a trainer
 * reads). The live page and the status server refuse such a Host already; the receiver must too,
 * and still take exports naming localhost or a loopback literal.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver, decodeStatus } from '../../src/sources/otlp-http/index.js';
import type { Evaluation } from '../../src/model/agents.js';

class RecordingHandler {
  spans: Span[] = [];
  logs: LogRecord[] = [];
  evaluations: Evaluation[] = [];
  onSpans(spans: Span[]) {
    this.spans.push(...spans);
  }
  onLogs(logs: LogRecord[]) {
    this.logs.push(...logs);
  }
  onEvaluations(e: Evaluation[]) {
    this.evaluations.push(...e);
  }
}

const handler = new RecordingHandler();
let receiver: OtlpHttpReceiver;
let run: ScenarioRun;

beforeAll(async () => {
  receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 }, handler);
  await receiver.start();
  run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 7 });
});
afterAll(() => receiver.close());

/** A POST to the receiver with the given Host header (what a browser sends: the page's own name). */
function post(path: string, host: string, contentType: string, body: Uint8Array | string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: receiver.address().port, path, method: 'POST', headers: { Host: host, 'content-type': contentType } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('OTLP/HTTP receiver on a loopback address', () => {
  it('refuses an export naming another host (a rebound name): 403 naming source.http.host, nothing ingested', async () => {
    const port = receiver.address().port;
    handler.spans = [];
    handler.logs = [];
    handler.evaluations = [];
    const traces = await post('/v1/traces', `attacker.example:${port}`, 'application/x-protobuf', run.tracesProto);
    expect(traces.status).toBe(403);
    expect(decodeStatus(traces.body).message).toContain('source.http.host');
    const logs = await post('/v1/logs', `attacker.example:${port}`, 'application/json', run.logsJson);
    expect(logs.status).toBe(403);
    expect(JSON.parse(logs.body.toString()).message).toContain('source.http.host');
    const record = JSON.stringify({ trace_id: run.traceId, name: 'task_success', score: 1 });
    const evaluations = await post('/v1/evaluations', `attacker.example:${port}`, 'application/json', record);
    expect(evaluations.status).toBe(403);
    expect(JSON.parse(evaluations.body.toString()).error).toContain('source.http.host');
    expect([handler.spans.length, handler.logs.length, handler.evaluations.length]).toEqual([0, 0, 0]);
  });

  it('takes exports naming localhost or a loopback literal', async () => {
    const port = receiver.address().port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      handler.spans = [];
      const r = await post('/v1/traces', host, 'application/x-protobuf', run.tracesProto);
      expect(r.status, host).toBe(200);
      expect(handler.spans.length, host).toBe(run.spans.length);
    }
  });
});
