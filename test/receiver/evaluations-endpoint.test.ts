/**
 * `POST /v1/evaluations` on the embedded receiver: standalone evaluation records (JSON) from a
 * judge service join the spans that arrived over OTLP; the episode closes on its evaluation and
 * is credited with it. Invalid records are reported back (count + reasons), never silently dropped.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { SelfTelemetry } from '../../src/telemetry/self-metrics.js';

describe('POST /v1/evaluations', () => {
  const credited: { episode: Episode; events: CreditEvent[] }[] = [];
  const pipeline = new LocalPipeline(
    { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
    {
      assembler: new EpisodeAssembler({ graceMs: 60_000, closeOnEvaluation: true }),
      processEpisode: async (episode) => {
        const events = await processEpisode(episode);
        credited.push({ episode, events });
        return events;
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
    await receiver.close();
    await pipeline.stop();
  });
  const post = (body: string | Uint8Array, type: string, headers: Record<string, string> = {}) =>
    fetch(`${receiver.address().url}/v1/evaluations`, { method: 'POST', body, headers: { 'content-type': type, ...headers } });

  it('joins a judge’s JSON evaluation to spans sent over OTLP and credits the episode with it', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 31 });
    expect((await fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body: run.tracesProto, headers: { 'content-type': 'application/x-protobuf' } })).status).toBe(200);
    // The scenario's own evaluation (OTLP log), re-sent as the JSON record a judge service writes.
    const [ev] = evaluationsFromLogs(decodeLogs(run.logsProto!, 'otlp_proto'));
    expect(ev).toBeDefined();
    const record = { trace_id: ev!.traceId, span_id: ev!.spanId, name: ev!.name, score: ev!.score, time_unix_nano: String(ev!.timeUnixNano) };
    const r = await post(`${JSON.stringify(record)}\n`, 'application/x-ndjson');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 1, rejected: 0, errors: [] });
    await pipeline.drain();
    const mine = credited.find((c) => c.episode.episodeId === run.traceId)!;
    expect(mine).toBeDefined();
    expect(mine.episode.closeReason).toBe('evaluation-arrived');
    const head = mine.events[0]!;
    expect(head.event_type).toBe('episode_credit');
    if (head.event_type === 'episode_credit') expect(head.evaluation).toMatchObject({ name: ev!.name, score: ev!.score, source: 'evaluations-stream' });
  });

  // From the trainer pass: a judge that retries its POST of a record without time_unix_nano made a
  // correction per retry (agent-credit filled in the receive time, and the times differed)
  it('the same record without time_unix_nano posted again (a judge retrying) is a duplicate, not a correction; a new score is one', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 32 });
    expect((await fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body: run.tracesProto, headers: { 'content-type': 'application/x-protobuf' } })).status).toBe(200);
    const [ev] = evaluationsFromLogs(decodeLogs(run.logsProto!, 'otlp_proto'));
    const record = { trace_id: ev!.traceId, span_id: ev!.spanId, name: ev!.name, score: ev!.score };
    for (let i = 0; i < 2; i++) {
      expect((await post(JSON.stringify(record), 'application/json')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 5)); // a later receive time
      await pipeline.drain();
    }
    const mine = () => credited.filter((c) => c.episode.episodeId === run.traceId);
    expect(mine().map((c) => c.episode.revision)).toEqual([0]);
    expect((await post(JSON.stringify({ ...record, score: 0 }), 'application/json')).status).toBe(200);
    await pipeline.drain();
    expect(mine().map((c) => c.episode.revision)).toEqual([0, 1]);
    // the judge changes its mind back: a re-judgment (compared with the latest post, not any), then a retry of it
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
      expect((await post(JSON.stringify(record), 'application/json')).status).toBe(200);
      await pipeline.drain();
    }
    expect(mine().map((c) => c.episode.revision)).toEqual([0, 1, 2]);
    expect(mine().at(-1)!.episode.evaluations.map((e) => e.score)).toEqual([ev!.score, 0, ev!.score]);
  });

  it("README Quickstart's curl record, the run's trace id put in, is accepted as its comment shows and credits the run", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = /^curl -s http:\/\/127\.0\.0\.1:4318\/v1\/evaluations -H 'content-type: application\/json' \\\n {2}-d '(\{.*\})'\n# (\{.*\})$/m.exec(readme);
    expect(example, 'the curl example in README.md Quickstart').not.toBeNull();
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 33 });
    expect((await fetch(`${receiver.address().url}/v1/traces`, { method: 'POST', body: run.tracesProto, headers: { 'content-type': 'application/x-protobuf' } })).status).toBe(200);
    const record = { ...JSON.parse(example![1]!), trace_id: run.traceId };
    const r = await post(JSON.stringify(record), 'application/json');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(JSON.parse(example![2]!));
    await pipeline.drain();
    const head = credited.find((c) => c.episode.episodeId === run.traceId)?.events[0];
    expect(head).toMatchObject({ event_type: 'episode_credit', evaluation: { name: record.name, score: record.score, source: 'evaluations-stream' } });
  });

  it('accepts the valid records of a partly invalid array and reports the others', async () => {
    const trace = 'ab'.repeat(16);
    const r = await post(gzipSync(JSON.stringify([{ trace_id: trace, name: 'judge', label: 'pass' }, { trace_id: trace, name: 'judge' }])), 'application/json', { 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 1, rejected: 1, errors: [{ index: 1, message: 'score: needs score or label' }] });
  });

  it('answers 400 with the reasons when no record is valid, 415 and 405 for the wrong request', async () => {
    const bad = await post('{"name": "judge", "score": 1}', 'application/json');
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; rejected: number; errors: { index: number; message: string }[] };
    expect(body.error).toMatch(/no valid evaluation record: each needs trace_id, conversation_id or response_id/);
    expect(body.errors).toEqual([{ index: 0, message: 'trace_id: needs trace_id, conversation_id or response_id to join it to an episode (a trace_id of all zeros is none: an invalid span context)' }]);
    // OTLP/JSON habits: camelCase ids are named in the error (unknown keys are otherwise ignored)
    const camel = (await (await post(JSON.stringify({ traceId: 'ab'.repeat(16), name: 'judge', score: 1 }), 'application/json')).json()) as typeof body;
    expect(camel.errors[0]!.message).toMatch(/needs trace_id.* \(found traceId: the keys are snake_case — trace_id\)$/);
    // a misspelt key was ignored unnamed: {"socre": 0.8} read "score: needs score or label"
    const typo = (await (await post(JSON.stringify({ trace_id: 'ab'.repeat(16), name: 'judge', socre: 0.8 }), 'application/json')).json()) as typeof body;
    expect(typo.errors[0]!.message).toBe('score: needs score or label (found socre — did you mean score?)');
    const noTypo = (await (await post(JSON.stringify({ trace_id: 'ab'.repeat(16), name: 'judge', verdict: 'ok' }), 'application/json')).json()) as typeof body;
    expect(noTypo.errors[0]!.message).toBe('score: needs score or label');
    expect((await post('{}', 'text/plain')).status).toBe(415);
    const get = await fetch(`${receiver.address().url}/v1/evaluations`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  // A judge that stores OTel trace ids as UUIDs posted one: refused with only "trace_id: 32 hex
  // chars" — which, dashes aside, it was. The answer now shows what came and the fix.
  it('says what a refused trace id was, and to drop a UUID\'s dashes or a 0x', async () => {
    const errorOf = async (traceId: string) => ((await (await post(JSON.stringify({ trace_id: traceId, name: 'judge', score: 1 }), 'application/json')).json()) as { errors: { message: string }[] }).errors[0]!.message;
    expect(await errorOf('e33dfd50-e115-6b7a-d0f4-f1a5929fe746')).toBe(
      `trace_id: 32 hex chars, got "e33dfd50-e115-6b7a-d0f4-f1a5929fe746" (36 chars) — send it as 32 hex digits, without dashes (as OTel's spanContext() gives it)`,
    );
    expect(await errorOf('0xe33dfd50e1156b7ad0f4f1a5929fe746')).toMatch(/, got "0xe33dfd50e1156b7ad0f4f1a5929fe746" \(34 chars\) — send it as 32 hex digits, without 0x/);
    expect(await errorOf('e33dfd50e1156b7ad0f4f1a5929fe74')).toBe('trace_id: 32 hex chars, got "e33dfd50e1156b7ad0f4f1a5929fe74" (31 chars)');
  });

  // zod's own wording ("name: Invalid input: expected string, received undefined", "score: …
  // expected number, received string") named neither what the field is nor the fix
  it('says what a missing name is, and what a score takes', async () => {
    const errorOf = async (record: object) => ((await (await post(JSON.stringify(record), 'application/json')).json()) as { errors: { message: string }[] }).errors[0]!.message;
    const id = 'ab'.repeat(16);
    expect(await errorOf({ trace_id: id, evaluation_name: 'task_success', score: 1 })).toBe('name: needs the evaluation\'s name, e.g. "task_success" (as gen_ai.evaluation.name names an OTLP verdict)');
    // "0.9" is a score, as in an OTLP verdict (test/conventions/evaluation-records.test.ts)
    expect(await errorOf({ trace_id: id, name: 'task_success', score: 'high' })).toBe('score: a number, a numeric string ("0.8"), a percent string ("80%") or a boolean, got the string "high" — a verdict in words goes in label');
  });

  // A judge keyed by chat session posted {conversation_id, name, score} to the default job (trace
  // keying): 200 {accepted: 1}, yet the record joined nothing — the assembler counted it
  // unjoinable and a throttled log line was all that said so; the run was skipped "no evaluation".
  it('refuses a record naming only a conversation_id while episodes are keyed by trace, saying which key to set', async () => {
    const only = await post(JSON.stringify({ conversation_id: 'chat-7', name: 'task_success', score: 1 }), 'application/json');
    expect(only.status).toBe(400);
    const body = (await only.json()) as { rejected: number; errors: { index: number; message: string }[] };
    expect(body.rejected).toBe(1);
    expect(body.errors[0]!.message).toMatch(/names only a conversation.*episodes\.keyBy: conversation.*trace_id/);
    const both = await post(JSON.stringify([{ conversation_id: 'chat-7', trace_id: 'ab'.repeat(16), name: 'task_success', score: 1 }, { conversation_id: 'chat-7', name: 'task_success', score: 1 }]), 'application/json');
    expect(await both.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 1 }] });
  });

  it.each([
    ['JSON lines', '{}\n'.repeat(10_001), 'application/x-ndjson'],
    ['a JSON array', `[${Array.from({ length: 10_001 }, () => '{}').join(',')}]`, 'application/json'],
  ])('refuses more than 10,000 records in one request with 413, parsing none (%s; a 15 MB body of {} lines held the process 52 s)', async (_form, body, type) => {
    const r = await post(body, type);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toMatch(/more than 10000 records in one payload: send at most 10000 per request or Kafka record/);
  });

});

describe('POST /v1/evaluations on /metrics', () => {
  // a judge posting records without ids beside valid ones got 200 {accepted, rejected}: the
  // refused records were counted nowhere (the Kafka source counts each one it dead-letters)
  it('counts every refused record in decode_errors_total{signal="evaluations"}, in a partly valid request and in one refused whole', async () => {
    const telemetry = new SelfTelemetry();
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 1_000, creditTimeoutMs: 5_000 },
      { assembler: new EpisodeAssembler({ graceMs: 60_000 }), processEpisode: async () => [], evaluationsFromLogs, sinks: [], telemetry },
    );
    const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, telemetry }, pipeline);
    pipeline.start();
    await receiver.start();
    try {
      const post = (records: unknown[]) => fetch(`${receiver.address().url}/v1/evaluations`, { method: 'POST', body: JSON.stringify(records), headers: { 'content-type': 'application/json' } });
      const trace = 'cd'.repeat(16);
      // one valid, two without any id (a judge outside any span context)
      expect((await post([{ trace_id: trace, name: 'judge', score: 1 }, { name: 'judge', score: 0 }, { name: 'judge', score: 1 }])).status).toBe(200);
      expect((await post([{ name: 'judge', score: 1 }])).status).toBe(400);
      const text = await telemetry.metricsText();
      expect(text).toMatch(/^agent_credit_decode_errors_total\{signal="evaluations",otel_scope_name="agent-credit"\} 3$/m);
      expect(text).toMatch(/^agent_credit_evaluations_received_total\{otel_scope_name="agent-credit"\} 1$/m);
    } finally {
      await receiver.close();
      await pipeline.stop();
      await telemetry.shutdown();
    }
  });
});
