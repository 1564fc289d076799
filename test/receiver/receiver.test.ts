import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { generateScenario, sendScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver, ReceiverBusyError, decodeExportResponse, decodeStatus, type PartialSuccess } from '../../src/sources/otlp-http/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';

/** Handler whose behaviour each test sets; records what it got. */
class RecordingHandler {
  spans: Span[] = [];
  logs: LogRecord[] = [];
  reply: (n: number) => PartialSuccess | void = () => undefined;
  busy = false;
  onSpans(spans: Span[]) {
    if (this.busy) throw new ReceiverBusyError('credit queue full', 2);
    this.spans.push(...spans);
    return this.reply(spans.length);
  }
  onLogs(logs: LogRecord[]) {
    this.logs.push(...logs);
    return this.reply(logs.length);
  }
}

const handler = new RecordingHandler();
const telemetry = new SelfTelemetry();
const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 256 * 1024, telemetry }, handler);
let url = '';
let run: ScenarioRun;

beforeAll(async () => {
  await receiver.start();
  url = receiver.address().url;
  run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 7 });
});
afterAll(async () => {
  await receiver.close();
  await telemetry.shutdown();
});

const post = (path: string, body: Uint8Array | string, headers: Record<string, string>) => fetch(`${url}${path}`, { method: 'POST', body, headers });
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

describe('OTLP/HTTP receiver', () => {
  it('accepts protobuf traces and answers an empty ExportTraceServiceResponse in protobuf', async () => {
    handler.spans = [];
    const r = await post('/v1/traces', run.tracesProto, { 'content-type': 'application/x-protobuf' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect(decodeExportResponse(await bytes(r))).toBeUndefined();
    expect(handler.spans.length).toBe(run.spans.length);
    expect(new Set(handler.spans.map((s) => s.traceId))).toEqual(new Set([run.traceId]));
  });

  it('accepts JSON logs and answers in JSON', async () => {
    handler.logs = [];
    const r = await post('/v1/logs', run.logsJson, { 'content-type': 'application/json; charset=utf-8' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({});
    expect(handler.logs.length).toBe(run.logRecords.length);
  });

  it('decompresses gzip bodies', async () => {
    handler.spans = [];
    const r = await post('/v1/traces', gzipSync(run.tracesProto), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(handler.spans.length).toBe(run.spans.length);
  });

  it('is what the real OTLP exporters talk to (proto and JSON)', async () => {
    handler.spans = [];
    handler.logs = [];
    await sendScenario(url, run, { protocol: 'http/protobuf' });
    await sendScenario(url, run, { protocol: 'http/json' });
    expect(handler.spans.length).toBe(2 * run.spans.length);
    expect(handler.logs.length).toBe(2 * run.logRecords.length);
  });

  it('reports partial success with the rejected count and message, in both encodings', async () => {
    handler.reply = (n) => ({ rejected: n - 1, errorMessage: 'some spans rejected: test' });
    try {
      const p = await post('/v1/traces', run.tracesProto, { 'content-type': 'application/x-protobuf' });
      expect(p.status).toBe(200);
      expect(decodeExportResponse(await bytes(p))).toEqual({ rejected: run.spans.length - 1, errorMessage: 'some spans rejected: test' });
      const j = await post('/v1/logs', run.logsJson, { 'content-type': 'application/json' });
      expect(j.status).toBe(200);
      const body = (await j.json()) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
      expect(body.partialSuccess?.errorMessage).toBe('some spans rejected: test');
      expect(Number(body.partialSuccess?.rejectedLogRecords ?? 0)).toBe(run.logRecords.length - 1);
    } finally {
      handler.reply = () => undefined;
    }
  });

  it('answers 400 with a google.rpc.Status for undecodable bodies, in the request encoding', async () => {
    const p = await post('/v1/traces', new Uint8Array([0x0a, 0xff, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' });
    expect(p.status).toBe(400);
    const st = decodeStatus(await bytes(p));
    expect(st.code).toBe(3);
    expect(st.message).toMatch(/undecodable traces request/);
    const j = await post('/v1/logs', '{"resourceLogs": [', { 'content-type': 'application/json' });
    expect(j.status).toBe(400);
    expect(((await j.json()) as { message: string }).message).toMatch(/undecodable logs request/);
    // the usual cause: the wrong content type for the body
    const asProto = await post('/v1/traces', ' {"resourceSpans": [{"scopeSpans": []}]}', { 'content-type': 'application/x-protobuf' });
    expect(asProto.status).toBe(400);
    expect(decodeStatus(await bytes(asProto)).message).toMatch(/the body looks like JSON: send it with content-type application\/json/);
    const asJson = await post('/v1/traces', new Uint8Array([0x0a, 0xff, 0xff, 0xff]), { 'content-type': 'application/json' });
    expect(((await asJson.json()) as { message: string }).message).toMatch(/protobuf is sent with content-type application\/x-protobuf/);
  });

  // OTLP/JSON ignores unknown fields: a logs request POSTed to /v1/traces decoded as an empty traces
  // request, answered 200 {}, and its records were dropped without a word
  it('refuses an OTLP/JSON body without the signal\'s field that is not an empty request, saying what it is', async () => {
    handler.spans = [];
    handler.logs = [];
    const logsToTraces = await post('/v1/traces', run.logsJson, { 'content-type': 'application/json' });
    expect(logsToTraces.status).toBe(400);
    expect(((await logsToTraces.json()) as { message: string }).message).toMatch(
      /^undecodable traces request: not an OTLP traces request: a JSON object without resourceSpans \(its fields: resourceLogs\) — it is an OTLP logs request: POST it to \/v1\/logs/,
    );
    const tracesToLogs = await post('/v1/logs', run.tracesJson, { 'content-type': 'application/json' });
    expect(tracesToLogs.status).toBe(400);
    expect(((await tracesToLogs.json()) as { message: string }).message).toMatch(/it is an OTLP traces request: POST it to \/v1\/traces/);
    const misspelt = await post('/v1/traces', '{"resourcespans": [{"scopeSpans": []}]}', { 'content-type': 'application/json' });
    expect(((await misspelt.json()) as { message: string }).message).toMatch(/did you mean resourceSpans\?/);
    const evaluation = await post('/v1/traces', '{"trace_id": "0af7651916cd43dd8448eb211c80319c", "name": "task_success", "score": 0.8}', { 'content-type': 'application/json' });
    expect(((await evaluation.json()) as { message: string }).message).toMatch(/an evaluation record\? POST it to \/v1\/evaluations/);
    // empty requests stay accepted
    for (const body of ['{}', '{"resourceSpans": []}', '{"resource_spans": null}']) {
      const r = await post('/v1/traces', body, { 'content-type': 'application/json' });
      expect(r.status).toBe(200);
    }
    expect(handler.spans).toHaveLength(0);
    expect(handler.logs).toHaveLength(0);
  });

  // "1 span of 1 could not be decoded and was dropped: unexpected wire type 4 at byte 426 in …": neither the cause nor the fix
  it('says when a protobuf request that does not decode is one of the other signal, and where it goes', async () => {
    const logsToTraces = await post('/v1/traces', run.logsProto, { 'content-type': 'application/x-protobuf' });
    expect(logsToTraces.status).toBe(400);
    expect(decodeStatus(await bytes(logsToTraces)).message).toMatch(/^undecodable traces request: .* — it is an OTLP logs request: POST it to \/v1\/logs \(the exporter's logs endpoint/);
    const tracesToLogs = await post('/v1/logs', run.tracesProto, { 'content-type': 'application/x-protobuf' });
    expect(tracesToLogs.status).toBe(400);
    expect(decodeStatus(await bytes(tracesToLogs)).message).toMatch(/^undecodable logs request: .* — it is an OTLP traces request: POST it to \/v1\/traces/);
    // garbage is not said to be either
    const garbage = await post('/v1/traces', new Uint8Array([0x0a, 0xff, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' });
    expect(decodeStatus(await bytes(garbage)).message).not.toMatch(/it is an OTLP/);
  });

  // a JSON array is JSON: it was told "the body does not look like JSON: protobuf is sent with content-type application/x-protobuf"
  it('does not tell a JSON array that it does not look like JSON', async () => {
    const r = await post('/v1/traces', '[{"resourceSpans": []}]', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    const message = ((await r.json()) as { message: string }).message;
    expect(message).toMatch(/the request must be an object, got array/);
    expect(message).not.toMatch(/does not look like JSON/);
  });

  it('answers 400 for corrupt gzip', async () => {
    const r = await post('/v1/traces', new Uint8Array([1, 2, 3, 4]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(decodeStatus(await bytes(r)).message).toMatch(/gzip/);
  });

  it('answers 415 for unsupported content types and encodings', async () => {
    const r = await post('/v1/traces', 'x', { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(((await r.json()) as { message: string }).message).toMatch(/application\/x-protobuf/);
    const e = await post('/v1/traces', run.tracesProto, { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' });
    expect(e.status).toBe(415);
  });

  it('answers 413 for bodies over the limit, also when they only grow past it once decompressed', async () => {
    const big = new Uint8Array(300 * 1024);
    const r = await post('/v1/traces', big, { 'content-type': 'application/x-protobuf' });
    expect(r.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const g = await post('/v1/traces', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(g.status).toBe(413);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(`${url}/v1/metrics`, { method: 'POST', body: 'x', headers: { 'content-type': 'application/json' } })).status).toBe(404);
    const g = await fetch(`${url}/v1/traces`);
    expect(g.status).toBe(405);
    expect(g.headers.get('allow')).toBe('POST');
  });

  it('answers 503 with Retry-After when the handler is saturated', async () => {
    handler.busy = true;
    try {
      const r = await post('/v1/traces', run.tracesProto, { 'content-type': 'application/x-protobuf' });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('2');
      expect(decodeStatus(await bytes(r)).code).toBe(14);
    } finally {
      handler.busy = false;
    }
  });

  it('counts received spans and rejected requests in its metrics', async () => {
    const text = await telemetry.metricsText();
    const spans = Number(/agent_credit_spans_received_total\{[^}]*\} (\d+)/.exec(text)?.[1]);
    expect(spans).toBeGreaterThanOrEqual(run.spans.length * 4);
    expect(text).toMatch(/agent_credit_receiver_requests_rejected_total\{[^}]*status="415"/);
    expect(text).toMatch(/agent_credit_decode_errors_total\{[^}]*signal="traces"/);
  });
});
