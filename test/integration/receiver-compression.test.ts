/**
 * OTLP/HTTP bodies compressed as the collector's otlphttp exporter can send them besides gzip
 * (`compression: zstd | snappy`), by independent encoders (the zstd-jni and snappy-java libraries
 * Kafka ships, support/java-client.ts): accepted, decoded like the plain body; a body whose
 * decompressed size would exceed maxBodyBytes is refused (413) before it is expanded; a corrupt one
 * gets 400; lz4 is refused with the encodings that are accepted (415).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Span } from '../../src/model/telemetry.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver, decodeStatus } from '../../src/sources/otlp-http/index.js';
import { compressWithJava } from './support/java-client.js';

const spans: Span[] = [];
const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024 }, { onSpans: (s: Span[]) => void spans.push(...s), onLogs: () => undefined });
let run: ScenarioRun;
beforeAll(async () => {
  await receiver.start();
  run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 5 });
});
afterAll(() => receiver.close());

const post = (body: Uint8Array, encoding: string) =>
  fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', 'content-encoding': encoding } });

describe('OTLP/HTTP receiver: zstd and snappy bodies', () => {
  it.each(['zstd', 'snappy'] as const)('accepts a %s body and decodes the same spans', async (codec) => {
    expect(run.tracesProto.length).toBeLessThan(64 * 1024);
    const body = await compressWithJava(codec, run.tracesProto);
    expect(body.length).toBeLessThan(run.tracesProto.length);
    spans.length = 0;
    const r = await post(body, codec);
    expect(r.status).toBe(200);
    expect(spans.map((s) => s.spanId).sort()).toEqual(run.spans.map((s) => s.spanContext().spanId).sort());
  });

  it.each(['zstd', 'snappy'] as const)('refuses a %s body that expands past maxBodyBytes (413), a corrupt one (400)', async (codec) => {
    const big = await compressWithJava(codec, new Uint8Array(1024 * 1024)); // 1 MiB of zeros: a few hundred bytes compressed
    expect(big.length).toBeLessThan(64 * 1024);
    const r = await post(big, codec);
    expect(r.status).toBe(413);
    const corrupt = Buffer.from(await compressWithJava(codec, run.tracesProto));
    corrupt.fill(0xff, 4, 24);
    expect((await post(corrupt, codec)).status).toBe(400);
  });

  it('refuses lz4 with the accepted encodings (415)', async () => {
    const r = await post(run.tracesProto, 'lz4');
    expect(r.status).toBe(415);
    expect(decodeStatus(new Uint8Array(await r.arrayBuffer())).message).toContain('use gzip, deflate, zstd, snappy or none');
  });
});
