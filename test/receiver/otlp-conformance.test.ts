/**
 * OTLP/HTTP conformance of the receiver (opentelemetry-proto docs/specification.md, OTLP/HTTP),
 * with the real OTel JS exporters where the payload is valid: the status codes the exporters act
 * on (200 + partial_success, 400, 413, 415, 503 + Retry-After), answers in the request's encoding,
 * gzip from the exporter's own `compression`, and whether the exporter retries what the spec says
 * is retryable (429/502/503/504) and nothing else.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { OtlpHttpReceiver, ReceiverBusyError, decodeExportResponse, decodeStatus, type PartialSuccess } from '../../src/sources/otlp-http/index.js';
import { recordSpans, serializeSpans } from '../otlp/sdk-telemetry.js';

class Handler {
  spans: Span[] = [];
  calls = 0;
  /** When each request reached the handler (ms). */
  callTimes: number[] = [];
  /** Requests answered 503 before the handler takes spans again. */
  busyFor = 0;
  fail: Error | undefined;
  reply: (n: number) => PartialSuccess | void = () => undefined;
  onSpans(spans: Span[]) {
    this.calls++;
    this.callTimes.push(performance.now());
    if (this.busyFor > 0) {
      this.busyFor--;
      // Retry-After: 1, as the product sends (never 0: the OTel JS exporter reads 0 as a -1 ms delay)
      throw new ReceiverBusyError('credit queue full');
    }
    if (this.fail) throw this.fail;
    this.spans.push(...spans);
    return this.reply(spans.length);
  }
  onLogs(_logs: LogRecord[]) {
    return undefined;
  }
  reset() {
    Object.assign(this, { spans: [], calls: 0, callTimes: [], busyFor: 0, fail: undefined, reply: () => undefined });
  }
}

const handler = new Handler();
const problems: number[] = [];
const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024, onProblem: (p) => problems.push(p.status) }, handler);
let url = '';
const sdkSpans: ReadableSpan[] = recordSpans();

beforeAll(async () => {
  await receiver.start();
  url = receiver.address().url;
});
afterAll(() => receiver.close());

type Protocol = 'http/protobuf' | 'http/json';
const PROTOCOLS: Protocol[] = ['http/protobuf', 'http/json'];

async function exportWith(protocol: Protocol, spans: ReadableSpan[], options: { compression?: CompressionAlgorithm; headers?: Record<string, string>; path?: string } = {}): Promise<ExportResult> {
  const config = { url: `${url}${options.path ?? '/v1/traces'}`, timeoutMillis: 15_000, compression: options.compression, headers: options.headers };
  const exporter = protocol === 'http/json' ? new OTLPTraceExporterJson(config) : new OTLPTraceExporterProto(config);
  try {
    return await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  } finally {
    await exporter.shutdown();
  }
}

/** Captures the SDK's diag messages (the exporter reports partial success there). */
async function withDiag<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  const logger: DiagLogger = { error: log, warn: log, info: log, debug: () => undefined, verbose: () => undefined };
  diag.setLogger(logger, { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true });
  try {
    return { result: await run(), lines };
  } finally {
    diag.disable();
  }
}

const post = (body: Uint8Array | string, headers: Record<string, string>, path = '/v1/traces') => fetch(`${url}${path}`, { method: 'POST', body, headers });
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('OTLP/HTTP conformance with the real OTel JS exporters', () => {
  for (const protocol of PROTOCOLS) {
    it(`${protocol}: the exporter's own gzip compression is accepted`, async () => {
      handler.reset();
      const result = await exportWith(protocol, sdkSpans, { compression: CompressionAlgorithm.GZIP });
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(handler.spans.map((s) => s.spanId).sort()).toEqual(sdkSpans.map((s) => s.spanContext().spanId).sort());
    });

    it(`${protocol}: 503 + Retry-After (backpressure) is retried after the time it names, until accepted`, async () => {
      handler.reset();
      handler.busyFor = 1;
      const result = await exportWith(protocol, sdkSpans);
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(handler.calls).toBe(2);
      expect(handler.spans.length).toBe(sdkSpans.length);
      // the exporter waited the Retry-After's second (it retried after 1 ms when the test sent 0, which it reads as -1 ms)
      expect(handler.callTimes[1]! - handler.callTimes[0]!).toBeGreaterThanOrEqual(950);
    });

    it(`${protocol}: a processing failure (500) is not retried`, async () => {
      handler.reset();
      handler.fail = new Error('sink down');
      const result = await exportWith(protocol, sdkSpans);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(handler.calls).toBe(1);
    });

    it(`${protocol}: partial success reaches the exporter (success, with the rejected count in its diag warning)`, async () => {
      handler.reset();
      handler.reply = () => ({ rejected: 2, errorMessage: 'two spans rejected: test' });
      const { result, lines } = await withDiag(() => exportWith(protocol, sdkSpans));
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(handler.calls).toBe(1); // a partial success is not retried
      const warning = lines.find((l) => l.includes('Partial Success'));
      expect(warning).toMatch(/"rejectedSpans":(2|"2")/);
      expect(warning).toMatch(/two spans rejected: test/);
    });

    it(`${protocol}: 400 (undecodable: a Content-Encoding the body does not have) is not retried`, async () => {
      handler.reset();
      problems.length = 0;
      const result = await exportWith(protocol, sdkSpans, { headers: { 'Content-Encoding': 'gzip' } });
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(problems).toEqual([400]);
      expect(handler.calls).toBe(0);
    });

    it(`${protocol}: 413 (a body over maxBodyBytes) is not retried`, async () => {
      handler.reset();
      problems.length = 0;
      const big = recordSpans({ 'big.text': 'x'.repeat(70 * 1024) });
      const result = await exportWith(protocol, big);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(problems).toEqual([413]);
      expect(handler.calls).toBe(0);
    });
  }
});

/** The span as the SDK would export it with a 7-byte trace id (a broken propagator or hand-made context). */
function withBadTraceId(span: ReadableSpan): ReadableSpan {
  const ctx = { ...span.spanContext(), traceId: '0af7651916cd43' };
  return Object.create(span, { spanContext: { value: () => ctx } }) as ReadableSpan;
}

describe('OTLP/HTTP partial success: spans that do not decode are dropped, the others taken', () => {
  for (const protocol of PROTOCOLS) {
    it(`${protocol}: the real exporter sending one span with a wrong-length trace id gets 200 + partial_success (rejected 1), the other spans arrive`, async () => {
      handler.reset();
      const spans = sdkSpans.map((s, i) => (i === 1 ? withBadTraceId(s) : s));
      const { result, lines } = await withDiag(() => exportWith(protocol, spans));
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(handler.spans.map((s) => s.spanId).sort()).toEqual(sdkSpans.filter((_, i) => i !== 1).map((s) => s.spanContext().spanId).sort());
      const warning = lines.find((l) => l.includes('Partial Success'));
      expect(warning).toMatch(/"rejectedSpans":(1|"1")/);
      expect(warning).toMatch(/1 span of \d+ could not be decoded and was dropped: trace_?[iI]d must be /);
    });
  }

  it('the decoder\'s rejections and the handler\'s add up in one partial_success', async () => {
    handler.reset();
    handler.reply = () => ({ rejected: 2, errorMessage: 'handler: two late spans' });
    const spans = sdkSpans.map((s, i) => (i === 0 ? withBadTraceId(s) : s));
    const r = await post(serializeSpans(spans, 'otlp_proto'), PROTO);
    expect(r.status).toBe(200);
    const partial = decodeExportResponse(new Uint8Array(await r.arrayBuffer()));
    expect(partial?.rejected).toBe(3);
    expect(partial?.errorMessage).toMatch(/^1 span of \d+ could not be decoded and was dropped: trace_id must be 16 bytes, got 7 in ExportTraceServiceRequest\.resource_spans\[0\]\.scope_spans\[\d+\]\.spans\[\d+\]; handler: two late spans$/);
    expect(handler.spans.length).toBe(sdkSpans.length - 1);
  });

  it('a request none of whose spans decode is 400 (not retried), and the handler gets nothing', async () => {
    handler.reset();
    const r = await post(serializeSpans(sdkSpans.map(withBadTraceId), 'otlp_json'), JSON_TYPE);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 3, message: expect.stringMatching(new RegExp(`^undecodable traces request: ${sdkSpans.length} spans of ${sdkSpans.length} could not be decoded`)) });
    expect(handler.calls).toBe(0);
  });

  it('log records likewise (JSON): 200 with rejectedLogRecords', async () => {
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { spanId: 'xyz' }, { body: { stringValue: 'b' } }] }] }] });
    const r = await post(body, JSON_TYPE, '/v1/logs');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/^1 log record of 3 could not be decoded and was dropped: spanId must be 16 hex characters/) } });
  });
});

describe('OTLP/HTTP conformance: status codes and bodies', () => {
  it('an empty protobuf body is an empty request: 200 with an empty ExportTraceServiceResponse', async () => {
    handler.reset();
    const r = await post(new Uint8Array(0), PROTO);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await r.arrayBuffer()).byteLength).toBe(0);
  });

  it('an empty JSON body is undecodable: 400 with a JSON Status; `{}` is an empty request: 200 `{}`', async () => {
    const r = await post('', JSON_TYPE);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toMatchObject({ code: 3, message: expect.stringMatching(/invalid JSON/) });
    const e = await post('{}', JSON_TYPE);
    expect(e.status).toBe(200);
    expect(await e.json()).toEqual({});
  });

  it('unknown JSON fields and the original snake_case names are accepted', async () => {
    handler.reset();
    const json = JSON.parse(new TextDecoder().decode(serializeSpans(sdkSpans, 'otlp_json'))) as { resourceSpans: unknown[] };
    const doc = { resource_spans: json.resourceSpans, someFutureField: { nested: [1, 2] } };
    const r = await post(JSON.stringify(doc), JSON_TYPE);
    expect(r.status).toBe(200);
    expect(handler.spans.length).toBe(sdkSpans.length);
  });

  it('413, 415 and 503 answer a protobuf request with a protobuf Status, a JSON request with JSON', async () => {
    const big = new Uint8Array(65 * 1024);
    const p = await post(big, PROTO);
    expect([p.status, p.headers.get('content-type')]).toEqual([413, 'application/x-protobuf']);
    expect(decodeStatus(new Uint8Array(await p.arrayBuffer())).code).toBe(8);
    const j = await post(new Uint8Array(65 * 1024).fill(0x20), JSON_TYPE);
    expect([j.status, j.headers.get('content-type')]).toEqual([413, 'application/json']);
    expect(await j.json()).toMatchObject({ code: 8 });
    const e = await post(serializeSpans(sdkSpans, 'otlp_proto'), { ...PROTO, 'content-encoding': 'br' });
    expect([e.status, e.headers.get('content-type')]).toEqual([415, 'application/x-protobuf']);
    handler.reset();
    handler.busyFor = 1;
    const b = await post(serializeSpans(sdkSpans, 'otlp_json'), JSON_TYPE);
    expect([b.status, b.headers.get('content-type'), b.headers.get('retry-after')]).toEqual([503, 'application/json', '1']);
    expect(await b.json()).toMatchObject({ code: 14 });
  });

  it('an empty gzip body is a corrupt one (400); gzip of an empty protobuf body is an empty request (200)', async () => {
    const r = await post(new Uint8Array(0), { ...PROTO, 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(decodeStatus(new Uint8Array(await r.arrayBuffer())).message).toMatch(/invalid gzip body/);
    const e = await post(gzipSync(new Uint8Array(0)), { ...PROTO, 'content-encoding': 'gzip' });
    expect(e.status).toBe(200);
  });

  it('a request without a Content-Type is 415', async () => {
    const r = await fetch(`${url}/v1/traces`, { method: 'POST', body: new Uint8Array(serializeSpans(sdkSpans, 'otlp_proto')) });
    expect(r.status).toBe(415);
  });

  it('full success in protobuf leaves partial_success unset', async () => {
    handler.reset();
    handler.reply = () => ({ rejected: 0 });
    const r = await post(serializeSpans(sdkSpans, 'otlp_proto'), PROTO);
    expect(decodeExportResponse(new Uint8Array(await r.arrayBuffer()))).toBeUndefined();
  });
});
