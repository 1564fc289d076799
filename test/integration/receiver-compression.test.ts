/**
 * OTLP/HTTP bodies compressed as the collector's otlphttp exporter can send them besides gzip
 * (`compression: zlib | zstd | snappy | x-snappy-framed | lz4`), by independent encoders (the
 * zstd-jni, snappy-java and lz4-java libraries Kafka ships, the JDK's zlib; support/java-client.ts):
 * accepted, decoded like the plain body; a body whose decompressed size would exceed maxBodyBytes
 * is refused (413); a corrupt one gets 400; an unknown encoding 415 naming the accepted ones.
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

const CODECS = ['zlib', 'zstd', 'snappy', 'x-snappy-framed', 'lz4'] as const;

describe('OTLP/HTTP receiver: the collector otlphttp exporter\'s other compressions', () => {
  it.each(CODECS)('accepts a %s body and decodes the same spans', async (codec) => {
    expect(run.tracesProto.length).toBeLessThan(64 * 1024);
    const body = await compressWithJava(codec, run.tracesProto);
    expect(body.length).toBeLessThan(run.tracesProto.length);
    spans.length = 0;
    const r = await post(body, codec);
    expect(r.status).toBe(200);
    expect(spans.map((s) => s.spanId).sort()).toEqual(run.spans.map((s) => s.spanContext().spanId).sort());
  });

  it.each(CODECS)('refuses a %s body that expands past maxBodyBytes (413), a corrupt one (400)', async (codec) => {
    const big = await compressWithJava(codec, new Uint8Array(1024 * 1024)); // 1 MiB of zeros: a few hundred bytes compressed
    expect(big.length).toBeLessThan(64 * 1024);
    const r = await post(big, codec);
    expect(r.status).toBe(413);
    const corrupt = Buffer.from(await compressWithJava(codec, run.tracesProto));
    corrupt.fill(0xff, corrupt.length >> 1, (corrupt.length >> 1) + 20); // the data, not the header (a header claiming a huge size is a 413)
    expect((await post(corrupt, codec)).status).toBe(400);
  });

  it('refuses an unknown encoding with the accepted ones (415)', async () => {
    const r = await post(run.tracesProto, 'br');
    expect(r.status).toBe(415);
    expect(decodeStatus(new Uint8Array(await r.arrayBuffer())).message).toContain('use gzip, zlib, deflate, zstd, snappy, x-snappy-framed, lz4 or none');
  });
});
