/**
 * The OTLP/HTTP receiver with `source.http.tls` / `auth` (src/http/listener-security.ts): https,
 * mutual TLS, bearer tokens — with request bodies from the real OTel JS serializers and one export
 * through the real OTLP/HTTP exporter configured as an app would configure it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveListenerSecurity, type ListenerSecurity } from '../../src/http/listener-security.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver, decodeStatus } from '../../src/sources/otlp-http/index.js';
import { httpsRequest, makeTlsMaterial, type TlsMaterial } from '../support/tls.js';

class RecordingHandler {
  spans: Span[] = [];
  logs: LogRecord[] = [];
  evaluations = 0;
  onSpans(spans: Span[]) {
    this.spans.push(...spans);
  }
  onLogs(logs: LogRecord[]) {
    this.logs.push(...logs);
  }
  onEvaluations(e: unknown[]) {
    this.evaluations += e.length;
  }
}

const TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==';
let tls: TlsMaterial;
let run: ScenarioRun;

beforeAll(async () => {
  tls = makeTlsMaterial();
  run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 7 });
});
afterAll(() => tls.remove());

async function started(security: ListenerSecurity) {
  const handler = new RecordingHandler();
  const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, security }, handler);
  await receiver.start();
  return { handler, receiver, url: receiver.address().url };
}

const PROTO = { 'content-type': 'application/x-protobuf' };

describe('OTLP/HTTP receiver over TLS with a bearer token', () => {
  let handler: RecordingHandler;
  let receiver: OtlpHttpReceiver;
  let url: string;
  let ca: string;
  beforeAll(async () => {
    ca = tls.read(tls.serverCert);
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey }, auth: { token: TOKEN } }, 'source.http');
    ({ handler, receiver, url } = await started(security));
  });
  afterAll(() => receiver.close());

  it('serves https: an OTLP export with the right token is accepted and its spans arrive', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    handler.spans = [];
    const r = await httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, headers: { ...PROTO, authorization: `Bearer ${TOKEN}` }, body: run.tracesProto });
    expect(r.status).toBe(200);
    expect(handler.spans.length).toBe(run.spans.length);
    expect(new Set(handler.spans.map((s) => s.traceId))).toEqual(new Set([run.traceId]));
  });

  it('accepts the scheme in any case (RFC 7235)', async () => {
    const r = await httpsRequest(`${url}/v1/logs`, { method: 'POST', ca, headers: { 'content-type': 'application/json', authorization: `bearer ${TOKEN}` }, body: run.logsJson });
    expect(r.status).toBe(200);
  });

  it('refuses a request without a token: 401, WWW-Authenticate: Bearer, a protobuf Status UNAUTHENTICATED, nothing ingested', async () => {
    handler.spans = [];
    const r = await httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, headers: PROTO, body: run.tracesProto });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="agent-credit"');
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    const status = decodeStatus(r.body);
    expect(status.code).toBe(16);
    expect(status.message).toMatch(/no bearer token: send the header Authorization: Bearer <token> with a token of source\.http\.auth/);
    expect(handler.spans).toEqual([]);
  });

  it('refuses a wrong token (error="invalid_token"), answering a JSON request in JSON, and never echoes the token', async () => {
    handler.logs = [];
    const r = await httpsRequest(`${url}/v1/logs`, { method: 'POST', ca, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}x` }, body: run.logsJson });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="agent-credit", error="invalid_token"');
    const body = JSON.parse(r.body.toString()) as { code: number; message: string };
    expect(body.code).toBe(16);
    expect(body.message).toMatch(/^invalid bearer token/);
    expect(r.body.toString()).not.toContain(TOKEN);
    expect(handler.logs).toEqual([]);
  });

  it('refuses other schemes and unknown paths alike before anything else (401, not 404)', async () => {
    const basic = await httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, headers: { ...PROTO, authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, body: run.tracesProto });
    expect(basic.status).toBe(401);
    const unknown = await httpsRequest(`${url}/v1/metrics`, { method: 'POST', ca, headers: PROTO, body: '' });
    expect(unknown.status).toBe(401);
  });

  // the right token without "Bearer " (OTEL_EXPORTER_OTLP_HEADERS=authorization=<token>) read "invalid bearer token",
  // as a wrong one did: the message says what is missing, never echoing the value
  it('says when the token came without the Bearer scheme, or under another scheme', async () => {
    const json = { 'content-type': 'application/json' };
    const bare = await httpsRequest(`${url}/v1/logs`, { method: 'POST', ca, headers: { ...json, authorization: TOKEN }, body: run.logsJson });
    expect(bare.status).toBe(401);
    expect((JSON.parse(bare.body.toString()) as { message: string }).message).toMatch(/^the Authorization value has no Bearer scheme before the token: send the header Authorization: Bearer <token>/);
    expect(bare.body.toString()).not.toContain(TOKEN);
    const basic = await httpsRequest(`${url}/v1/logs`, { method: 'POST', ca, headers: { ...json, authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, body: run.logsJson });
    expect((JSON.parse(basic.body.toString()) as { message: string }).message).toMatch(/^the Authorization scheme is Basic, not Bearer: send the header Authorization: Bearer <token>/);
    expect(basic.body.toString()).not.toContain(Buffer.from(`u:${TOKEN}`).toString('base64'));
  });

  it('protects /v1/evaluations too (JSON error)', async () => {
    const record = JSON.stringify({ trace_id: run.traceId, name: 'task_success', score: 1 });
    const refused = await httpsRequest(`${url}/v1/evaluations`, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, body: record });
    expect(refused.status).toBe(401);
    expect((JSON.parse(refused.body.toString()) as { error: string }).error).toMatch(/no bearer token/);
    expect(handler.evaluations).toBe(0);
    const ok = await httpsRequest(`${url}/v1/evaluations`, { method: 'POST', ca, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: record });
    expect(ok.status).toBe(200);
    expect(handler.evaluations).toBe(1);
  });

  it('a client that does not trust the certificate does not connect', async () => {
    await expect(httpsRequest(`${url}/v1/traces`, { method: 'POST', headers: PROTO, body: run.tracesProto })).rejects.toThrow(/self[- ]signed/i);
  });

  it("takes an export from the real OTel JS OTLP/HTTP exporter configured as an app would (https url, headers: Authorization, the CA)", async () => {
    handler.spans = [];
    const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces`, headers: { Authorization: `Bearer ${TOKEN}` }, httpAgentOptions: { ca }, timeoutMillis: 10_000 });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(run.spans, resolve));
    await exporter.shutdown();
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(handler.spans.length).toBe(run.spans.length);

    const wrong = new OTLPTraceExporter({ url: `${url}/v1/traces`, headers: { Authorization: 'Bearer nope' }, httpAgentOptions: { ca }, timeoutMillis: 10_000 });
    const refused = await new Promise<ExportResult>((resolve) => wrong.export(run.spans, resolve));
    await wrong.shutdown();
    expect(refused.code).toBe(ExportResultCode.FAILED);
    expect(handler.spans.length).toBe(run.spans.length);
  });
});

describe('OTLP/HTTP receiver with mutual TLS (source.http.tls.clientCaFile)', () => {
  let handler: RecordingHandler;
  let receiver: OtlpHttpReceiver;
  let url: string;
  let ca: string;
  beforeAll(async () => {
    ca = tls.read(tls.serverCert);
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: tls.clientCa } }, 'source.http');
    ({ handler, receiver, url } = await started(security));
  });
  afterAll(() => receiver.close());

  it('accepts a client certificate signed by the client CA', async () => {
    const r = await httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, cert: tls.read(tls.clientCert), key: tls.read(tls.clientKey), headers: PROTO, body: run.tracesProto });
    expect(r.status).toBe(200);
    expect(handler.spans.length).toBe(run.spans.length);
  });

  it('takes the client CA in OpenSSL\'s TRUSTED CERTIFICATE form too (as the Kafka CA bundle does: src/tls/pem-certificates.ts)', async () => {
    const trusted = join(tls.dir, 'client-ca-trusted.pem');
    execFileSync('openssl', ['x509', '-in', tls.clientCa, '-addtrust', 'clientAuth', '-trustout', '-out', trusted], { stdio: 'pipe' });
    expect(tls.read(trusted)).toContain('-----BEGIN TRUSTED CERTIFICATE-----');
    // before: "holds no certificate (its PEM block is TRUSTED CERTIFICATE)"
    const security = resolveListenerSecurity({ tls: { certFile: tls.serverCert, keyFile: tls.serverKey, clientCaFile: trusted } }, 'source.http');
    const other = await started(security);
    try {
      const r = await httpsRequest(`${other.url}/v1/traces`, { method: 'POST', ca, cert: tls.read(tls.clientCert), key: tls.read(tls.clientKey), headers: PROTO, body: run.tracesProto });
      expect(r.status).toBe(200);
      await expect(httpsRequest(`${other.url}/v1/traces`, { method: 'POST', ca, cert: tls.read(tls.strangerCert), key: tls.read(tls.strangerKey), headers: PROTO, body: run.tracesProto })).rejects.toThrow(/unknown ca|socket hang up|ECONNRESET/i);
    } finally {
      await other.receiver.close();
    }
  });

  it('refuses a client without a certificate, and one signed by another CA, in the handshake: nothing ingested', async () => {
    handler.spans = [];
    await expect(httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, headers: PROTO, body: run.tracesProto })).rejects.toThrow(/certificate required|socket hang up|ECONNRESET/i);
    await expect(httpsRequest(`${url}/v1/traces`, { method: 'POST', ca, cert: tls.read(tls.strangerCert), key: tls.read(tls.strangerKey), headers: PROTO, body: run.tracesProto })).rejects.toThrow(/unknown ca|socket hang up|ECONNRESET/i);
    expect(handler.spans).toEqual([]);
  });
});
