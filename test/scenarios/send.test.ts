import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';

/** A minimal OTLP/HTTP receiver that records request bodies by path. */
async function receiver(status = 200) {
  const bodies: { path: string; contentType: string; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${port}`, bodies };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe('sendScenario (real OTLP/HTTP exporters)', () => {
  it('POSTs protobuf traces to /v1/traces and the evaluation to /v1/logs', async () => {
    const rx = await receiver();
    const runs = await Promise.all([1, 2].map((seed) => generateScenario({ kind: 'saboteur', convention: 'genai', seed })));
    const sent = await sendScenario(rx.url, runs);
    expect(sent).toEqual({ spans: runs[0]!.spans.length + runs[1]!.spans.length, logRecords: 4 }); // verdict + evaluation each
    const traces = rx.bodies.filter((b) => b.path === '/v1/traces');
    const logs = rx.bodies.filter((b) => b.path === '/v1/logs');
    expect(traces[0]!.contentType).toBe('application/x-protobuf');
    const spans = traces.flatMap((b) => decodeTraces(new Uint8Array(b.body), 'otlp_proto'));
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(runs.map((r) => r.traceId)));
    expect(logs.flatMap((b) => decodeLogs(new Uint8Array(b.body), 'otlp_proto')).map((l) => l.traceId)).toEqual(runs.flatMap((r) => [r.traceId, r.traceId]));
  });

  it('can send OTLP/JSON', async () => {
    const rx = await receiver();
    const run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 3 });
    await sendScenario(rx.url, run, { protocol: 'http/json' });
    const body = rx.bodies.find((b) => b.path === '/v1/traces')!;
    expect(body.contentType).toBe('application/json');
    expect(decodeTraces(body.body.toString('utf8'), 'otlp_json')).toHaveLength(run.spans.length);
  });

  it('rejects when the receiver refuses', async () => {
    const rx = await receiver(400);
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3 });
    await expect(sendScenario(rx.url, run, { timeoutMillis: 2000 })).rejects.toThrow(/OTLP traces export failed/);
  });
});
