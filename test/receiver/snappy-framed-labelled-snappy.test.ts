/**
 * `Content-Encoding: snappy` with a body in the snappy framing format: what the collector's
 * otlphttp exporter sends for `compression: snappy` up to v0.130 (golang/snappy's buffered writer;
 * v0.131 moved the confighttp.framedSnappy gate to beta, and only then does "snappy" mean one
 * block). The collector's own receiver tells the two apart by the framing format's stream
 * identifier; a receiver that reads "snappy" as a block only answered such a body 400, which the
 * exporter does not retry: the batch was dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Span } from '../../src/model/telemetry.js';
import { snappy } from '../../src/kafka/compression-codecs.js';
import { crc32c } from '../../src/kafka/kafkajs-fast-paths.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';

/** The snappy framing format as golang/snappy's Writer writes it: the stream identifier, then ≤ 64 KiB chunks, compressed, CRC-32C masked. */
function snappyFramed(data: Uint8Array): Buffer {
  const header = (type: number, length: number) => Buffer.from([type, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff]);
  const parts: Buffer[] = [header(0xff, 6), Buffer.from('sNaPpY')];
  for (let at = 0; at < data.length; at += 65_536) {
    const chunk = Buffer.from(data.subarray(at, at + 65_536));
    const c = crc32c(chunk);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
    const block = snappy().compressSync(chunk);
    parts.push(header(0x00, 4 + block.length), crc, block);
  }
  return Buffer.concat(parts);
}

const spans: Span[] = [];
const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 256 * 1024 }, { onSpans: (s: Span[]) => void spans.push(...s), onLogs: () => undefined });
let run: ScenarioRun;
beforeAll(async () => {
  await receiver.start();
  run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 5 });
});
afterAll(() => receiver.close());

const post = (body: Uint8Array, encoding: string) =>
  fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', 'content-encoding': encoding } });

describe('OTLP/HTTP receiver: Content-Encoding snappy with a framed body (collectors up to v0.130)', () => {
  it('is decoded as the framing format: 200 and the same spans as the plain body', async () => {
    const body = snappyFramed(run.tracesProto);
    spans.length = 0;
    const r = await post(body, 'snappy');
    expect(r.status).toBe(200);
    expect(spans.map((s) => s.spanId).sort()).toEqual(run.spans.map((s) => s.spanContext().spanId).sort());
  });

  it('is bounded as x-snappy-framed is (413 past maxBodyBytes); one snappy block is still read as a block', async () => {
    expect((await post(snappyFramed(new Uint8Array(1024 * 1024)), 'snappy')).status).toBe(413);
    spans.length = 0;
    const r = await post(snappy().compressSync(Buffer.from(run.tracesProto)), 'snappy');
    expect(r.status).toBe(200);
    expect(spans.length).toBe(run.spans.length);
  });
});
