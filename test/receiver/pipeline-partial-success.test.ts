import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';

describe('receiver + local pipeline', () => {
  const closed: Episode[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const assembler = new EpisodeAssembler({ graceMs: 60_000, closeOnEvaluation: true });
  const pipeline = new LocalPipeline(
    { creditQueueMax: 1, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
    {
      assembler,
      // Credit is held until the test releases it, to fill the bounded queue.
      processEpisode: async (e) => {
        closed.push(e);
        await gate;
        return [];
      },
      evaluationsFromLogs,
      sinks: [],
    },
  );
  const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20 }, pipeline);
  beforeAll(async () => {
    pipeline.start();
    await receiver.start();
  });
  afterAll(async () => {
    release();
    await receiver.close();
    await pipeline.stop();
  });

  const post = (path: string, body: string | Uint8Array, type: string) => fetch(`${receiver.address().url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

  it('rejects evaluation events that cannot be joined to an episode, as partial success; one that names the response it evaluates waits for it', async () => {
    // Hand-written OTLP/JSON: a gen_ai.evaluation.result event emitted outside any trace context.
    const body = (extra: { key: string; value: { stringValue: string } }[] = []) => JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'evaluator' } }] },
          scopeLogs: [
            {
              scope: { name: 'judge' },
              logRecords: [
                {
                  timeUnixNano: '1700000000000000000',
                  eventName: 'gen_ai.evaluation.result',
                  attributes: [
                    { key: 'gen_ai.evaluation.name', value: { stringValue: 'task_success' } },
                    { key: 'gen_ai.evaluation.score.value', value: { doubleValue: 1 } },
                    ...extra,
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const r = await post('/v1/logs', body(), 'application/json');
    expect(r.status).toBe(200);
    const json = (await r.json()) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
    expect(json.partialSuccess?.rejectedLogRecords).toBe('1');
    expect(json.partialSuccess?.errorMessage).toMatch(/carry no trace id, gen_ai\.conversation\.id \(with episodes\.keyBy: conversation\) or gen_ai\.response\.id; .*or name the response they evaluate/);
    expect(pipeline.stats().evaluationsRejected).toBe(1);
    // gen_ai.response.id (as /v1/evaluations' response_id): accepted, held until that response's LLM span arrives
    const named = await post('/v1/logs', body([{ key: 'gen_ai.response.id', value: { stringValue: 'resp_def' } }]), 'application/json');
    expect(await named.json()).toEqual({});
    expect(pipeline.stats()).toMatchObject({ evaluationsRejected: 1, evaluationsIn: 1 });
    expect(assembler.stats().pendingEvaluations).toBe(1);
    // with episodes.responseIdMemory 0 nothing joins by response id: rejected, not silently dropped
    const forgetful = new LocalPipeline({ creditQueueMax: 1, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 }, { assembler: new EpisodeAssembler({ responseIdMemory: 0 }), processEpisode: async () => [], evaluationsFromLogs, sinks: [] });
    const { decodeLogs } = await import('../../src/otlp/index.js');
    const answer = forgetful.onLogs(decodeLogs(new TextEncoder().encode(body([{ key: 'gen_ai.response.id', value: { stringValue: 'resp_def' } }])), 'otlp_json'));
    expect(answer).toMatchObject({ rejected: 1 });
    await forgetful.stop();
  });

  it('says so in its log (at most once per 30 s) and in evaluations_unjoinable: OTel SDK exporters do not show the partial success', async () => {
    const lines: { obj: unknown; msg: string }[] = [];
    const logger = { warn: (obj: unknown, msg: string) => lines.push({ obj, msg }), info: () => undefined, error: () => undefined, debug: () => undefined } as never;
    const telemetry = new SelfTelemetry();
    const p = new LocalPipeline({ creditQueueMax: 1, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 }, { assembler: new EpisodeAssembler({}), processEpisode: async () => [], evaluationsFromLogs, sinks: [], telemetry, logger });
    p.start();
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 23 });
    const { decodeLogs } = await import('../../src/otlp/index.js');
    // the generated evaluation record, taken out of its span context
    const logs = decodeLogs(run.logsProto, 'otlp_proto').map((l) => ({ ...l, traceId: undefined, spanId: undefined }));
    expect(p.onLogs(logs)).toMatchObject({ rejected: logs.length });
    expect(p.onLogs(logs)).toMatchObject({ rejected: logs.length });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/dropped: emit them inside the evaluated span's context/);
    expect(lines[0]!.obj).toEqual({ rejected: logs.length });
    expect(await telemetry.metricsText()).toMatch(new RegExp(`agent_credit_evaluations_unjoinable_total(\\{[^}]*\\})? ${2 * logs.length}\\b`));
    await p.stop();
    await telemetry.shutdown();
  });

  it('takes a verdict timed in seconds, not nanoseconds, and says so in partial_success with nothing rejected (OTLP: rejected 0 and a message is a warning)', async () => {
    const { verdictAt } = await import('../support/sdk-verdict.js');
    const { decodeExportResponse } = await import('../../src/sources/otlp-http/responses.js');
    // a judge that put $(date +%s) where nanoseconds go: 1,796,000,000 ns, as the SDK's HrTime [1 s, …]
    const r = await post('/v1/logs', verdictAt([1, 796_000_000]), 'application/x-protobuf');
    expect(r.status).toBe(200);
    const partial = decodeExportResponse(new Uint8Array(await r.arrayBuffer()));
    expect(partial?.rejected ?? 0).toBe(0);
    expect(partial?.errorMessage).toMatch(/^1 evaluation event\(s\) taken with a time that is not nanoseconds — evaluation time the log record's time_unix_nano \(timeUnixNano in OTLP\/JSON\) = 1796000000 looks like seconds since the epoch/);
  });

  it('answers 503 (retryable) once the bounded credit queue is full', async () => {
    const a = await generateScenario({ kind: 'success', convention: 'genai', seed: 21 });
    const b = await generateScenario({ kind: 'success', convention: 'genai', seed: 22 });
    expect((await post('/v1/traces', a.tracesProto, 'application/x-protobuf')).status).toBe(200);
    expect((await post('/v1/logs', a.logsProto, 'application/x-protobuf')).status).toBe(200);
    // Episode a closed on its evaluation and sits in credit (held): the queue (max 1) is full.
    expect(closed.map((e) => e.episodeId)).toEqual([a.traceId]);
    const r = await post('/v1/traces', b.tracesProto, 'application/x-protobuf');
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    release();
    await pipeline.drain();
    expect((await post('/v1/traces', b.tracesProto, 'application/x-protobuf')).status).toBe(200);
  });
});
