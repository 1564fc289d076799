/**
 * Evaluation times in seconds or milliseconds at the OTLP/HTTP job's doors: POST /v1/evaluations
 * answers which records it doubts (`warnings`), and the job's log says it once a minute per source
 * — OTLP log records and evaluation records apart. Before, `$(date +%s)` was taken as nanoseconds
 * without a word: the verdict landed in 1970 and the next one read as its correction.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VERDICT_TRACE_ID, verdictAt } from '../support/sdk-verdict.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import type { Logger } from '../../src/telemetry/logger.js';

const traceId = VERDICT_TRACE_ID;

describe('evaluation times in the wrong unit, at the OTLP/HTTP receiver', () => {
  const warned: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger = { warn: (obj: object, msg: string) => void warned.push({ obj: obj as Record<string, unknown>, msg }), error: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;
  const pipeline = new LocalPipeline(
    { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
    { assembler: new EpisodeAssembler({ graceMs: 600_000 }), processEpisode: async () => [], evaluationsFromLogs, sinks: [], logger },
  );
  const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20 }, pipeline);
  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await pipeline.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const post = (path: string, body: string | Uint8Array, type: string) => fetch(`${receiver.address().url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
  const lines = (source: RegExp) => warned.filter((w) => source.test(String(w.obj.source)));

  it('POST /v1/evaluations takes a record in seconds, answers a warning naming the field, the value and the fix, and logs it once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-07T12:00:00Z'));
    const records = [
      { trace_id: traceId, name: 'task_success', score: 1, time_unix_nano: 1_733_580_000 },
      { trace_id: traceId, name: 'tone', score: 1, time_unix_nano: '1733580000123456789' },
    ];
    const r = await post('/v1/evaluations', JSON.stringify(records), 'application/json');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { accepted: number; warnings?: { index: number; message: string }[] };
    expect(body.accepted).toBe(2);
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings![0]!.index).toBe(0);
    expect(body.warnings![0]!.message).toMatch(/^evaluation time time_unix_nano = 1733580000 looks like seconds since the epoch .* multiply seconds by 1e9/);
    // a record in nanoseconds: no warnings key (the answer is as before)
    const fine = await post('/v1/evaluations', JSON.stringify(records[1]), 'application/json');
    expect(await fine.json()).toEqual({ accepted: 1, rejected: 0, errors: [] });

    const records_ = lines(/POST \/v1\/evaluations/);
    expect(records_).toHaveLength(1);
    expect(records_[0]!.obj).toMatchObject({ field: 'time_unix_nano', value: '1733580000', unit: 'seconds', evaluations: 1 });
    // a flood within the minute: no more lines; after it, one line with the count since the last
    for (let i = 0; i < 3; i++) expect((await post('/v1/evaluations', JSON.stringify(records[0]), 'application/json')).status).toBe(200);
    expect(lines(/POST \/v1\/evaluations/)).toHaveLength(1);
    vi.setSystemTime(new Date('2026-12-07T12:01:01Z'));
    expect((await post('/v1/evaluations', JSON.stringify({ ...records[0], time_unix_nano: 1_733_580_000_123 }), 'application/json')).status).toBe(200);
    expect(lines(/POST \/v1\/evaluations/).map((w) => [w.obj.unit, w.obj.evaluations])).toEqual([
      ['seconds', 1],
      ['milliseconds', 4],
    ]);
  });

  it('an OTLP log record timed in seconds is logged under its own source, naming the OTLP field', async () => {
    const r = await post('/v1/logs', verdictAt([1, 733_580_000]), 'application/x-protobuf');
    expect(r.status).toBe(200);
    const logs = lines(/OTLP log records/);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.obj).toMatchObject({ field: "the log record's time_unix_nano (timeUnixNano in OTLP/JSON)", value: '1733580000', unit: 'seconds' });
    expect(logs[0]!.msg).toContain('multiply seconds by 1e9');
    // the SDK's own clock (nanoseconds since the epoch): nothing more
    expect((await post('/v1/logs', verdictAt([1_733_580_000, 5]), 'application/x-protobuf')).status).toBe(200);
    expect(lines(/OTLP log records/)).toHaveLength(1);
  });
});
