/**
 * Replay reads JSON evaluation records (a dump of source.kafka.evaluationsTopic, or the bodies
 * posted to POST /v1/evaluations) and joins them as the receiver job does. It read such files as
 * OTLP, refused each as "not an OTLP traces or logs request" and exited 1 with every verdict left
 * out: a fleet whose judge wrote records could not be replayed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config/index.js';
import { evaluationsFromLogs, parseEvaluationRecords } from '../../src/conventions/index.js';
import { ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { replayFiles, type ReplayStats } from '../../src/runtime/local-replay.js';
import { buildLocalStages } from '../../src/runtime/local-stages.js';
import { generateFleet, type ScenarioRun } from '../../src/scenarios/index.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import type { EventSink } from '../../src/sinks/types.js';

const config = loadConfig({ env: {} }).config;
const BASE_MS = Date.UTC(2026, 0, 5, 9);

/** A judge's record of a run's verdict, from the evaluation log record the generator emitted. */
function recordOf(e: Evaluation, timed = true): Record<string, unknown> {
  const r: Record<string, unknown> = { trace_id: e.traceId, name: e.name };
  if (e.spanId !== undefined) r.span_id = e.spanId;
  if (e.score !== undefined && e.scoreFromLabel !== true) r.score = e.score;
  if (e.label !== undefined) r.label = e.label;
  if (timed) r.time_unix_nano = String(e.timeUnixNano);
  return r;
}

/** Collects the events, without `emitted_at_ms` (the wall clock at publication). */
const collector = (into: Omit<CreditEvent, 'emitted_at_ms'>[]): EventSink => ({
  name: 'test',
  start: async () => undefined,
  publish: (events) => void into.push(...events.map(({ emitted_at_ms: _, ...e }) => e)),
  flush: async () => undefined,
  close: async () => undefined,
});
type Events = Omit<CreditEvent, 'emitted_at_ms'>[];

let runs: ScenarioRun[];
let records: Record<string, unknown>[];
let dirs: string[] = [];
beforeAll(async () => {
  runs = await generateFleet({ episodes: 6, seed: 7, mix: { success: 1, saboteur: 1, failure: 1 }, conventions: ['genai'], baseTimeMs: BASE_MS, spacingMs: 20_000 });
  records = runs.flatMap((r) => evaluationsFromLogs(decodeLogs(r.logsProto, 'otlp_proto')).map((e) => recordOf(e)));
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory with each run's spans under traces/ and `evaluations` (file name → content) beside them. */
function corpus(evaluations: Record<string, string>, sub = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'replay-evals-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'traces'));
  runs.forEach((r, i) => writeFileSync(join(dir, 'traces', `${String(i + 1).padStart(4, '0')}-traces.pb`), r.tracesProto));
  if (sub !== '') mkdirSync(join(dir, sub));
  for (const [name, text] of Object.entries(evaluations)) writeFileSync(join(dir, sub, name), text);
  return dir;
}

async function replay(dir: string, cfg: AppConfig = config): Promise<{ events: Events; stats: ReplayStats }> {
  const events: Events = [];
  const stats = await replayFiles(cfg, listOtlpFiles([dir]), { sinks: [collector(events)] });
  return { events, stats };
}

/**
 * The receiver job (LocalPipeline, as `run` builds it) fed the same spans and records as they
 * arrive live: each run's spans when it ends, then its judge's records posted as one body
 * (parsed and refused as the receiver does), on a clock that follows them.
 */
async function receiverJob(bodies: readonly string[]): Promise<Events> {
  const events: Events = [];
  const clock = new ManualClock(BASE_MS);
  const stages = await buildLocalStages(config, clock);
  const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks: [collector(events)] });
  try {
    runs.forEach((run, i) => {
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      clock.set(Math.max(clock.now(), ...spans.map((s) => Number(s.endTimeUnixNano / 1_000_000n))));
      pipeline.tick();
      pipeline.onSpans(spans);
      pipeline.tick();
      const { evaluations, errors } = parseEvaluationRecords(bodies[i]!, { receivedAtUnixNano: BigInt(clock.now()) * 1_000_000n, refuse: (e) => pipeline.evaluationRefusal(e) });
      expect(errors).toEqual([]);
      clock.set(Math.max(clock.now(), ...evaluations.map((e) => Number(e.timeUnixNano / 1_000_000n))));
      pipeline.tick();
      pipeline.onEvaluations(evaluations);
      pipeline.tick();
    });
    await pipeline.stop('shutdown');
  } finally {
    await stages.close();
  }
  return events;
}

const bodyOf = (i: number) => JSON.stringify(records.filter((r) => r.trace_id === runs[i]!.traceId));

describe('replay of spans and JSON evaluation records', () => {
  it('gives the events the receiver job gives for the same spans and records (JSON lines under evaluations/)', async () => {
    const live = await receiverJob(runs.map((_, i) => bodyOf(i)));
    expect(live.filter((e) => e.event_type === 'episode_credit')).toHaveLength(runs.length);
    const { events, stats } = await replay(corpus({ 'verdicts.jsonl': records.map((r) => JSON.stringify(r)).join('\n') }, 'evaluations'));
    expect(stats.undecodable).toEqual([]);
    expect(stats.invalidEvaluations).toEqual([]);
    expect(stats.evaluationsIn).toBe(records.length);
    expect(events).toEqual(live);
  });

  it('recognises records by content too: one record per .json file, or a JSON array, anywhere in the input', async () => {
    const live = await receiverJob(runs.map((_, i) => bodyOf(i)));
    const perFile = Object.fromEntries(records.map((r, i) => [`verdict-${i}.json`, JSON.stringify(r)]));
    expect((await replay(corpus(perFile))).events).toEqual(live);
    expect((await replay(corpus({ 'posted.json': JSON.stringify(records) }))).events).toEqual(live);
  });

  it('a record without time_unix_nano is placed after the spans of its trace and timed as received: the same episodes, credited at revision 0', async () => {
    const untimed = runs.flatMap((r) => evaluationsFromLogs(decodeLogs(r.logsProto, 'otlp_proto')).map((e) => JSON.stringify(recordOf(e, false))));
    const { events, stats } = await replay(corpus({ 'verdicts.jsonl': untimed.join('\n') }, 'evaluations'));
    expect(stats.invalidEvaluations).toEqual([]);
    const credits = events.filter((e) => e.event_type === 'episode_credit');
    expect(credits.map((e) => e.episode_id).sort()).toEqual(runs.map((r) => r.traceId).sort());
    expect(credits.every((e) => e.episode_revision === 0 && (e as { close_reason?: string }).close_reason === 'evaluation-arrived')).toBe(true);
  });

  it('records timed in seconds are replayed as given, with one warning naming the replayed files, the field, the value and the fix', async () => {
    const inSeconds = records.map((r) => ({ ...r, time_unix_nano: Number(BigInt(r.time_unix_nano as string) / 1_000_000_000n) }));
    const warned: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = { warn: (obj: object, msg: string) => void warned.push({ obj: obj as Record<string, unknown>, msg }), error: () => undefined, info: () => undefined, debug: () => undefined, trace: () => undefined, fatal: () => undefined };
    const stats = await replayFiles(config, listOtlpFiles([corpus({ 'verdicts.jsonl': inSeconds.map((r) => JSON.stringify(r)).join('\n') }, 'evaluations')]), { sinks: [], logger: logger as never });
    expect(stats.evaluationsIn).toBe(records.length);
    const lines = warned.filter((w) => w.obj.source === 'evaluation records (replayed files)');
    expect(lines).toHaveLength(1); // once a minute, not once a record
    expect(lines[0]!.obj).toMatchObject({ field: 'time_unix_nano', value: String(inSeconds[0]!.time_unix_nano), unit: 'seconds', evaluations: 1 });
    expect(lines[0]!.msg).toContain('multiply seconds by 1e9');
  });

  it('invalid records are refused with the receiver\'s reasons, counted and not fatal: the valid ones are replayed', async () => {
    const bad = [
      { trace_id: runs[0]!.traceId, name: 'task_success' }, // no score or label
      { traceId: runs[1]!.traceId, name: 'task_success', score: 1 }, // camelCase
    ];
    const file = JSON.stringify([...records.filter((r) => r.trace_id !== runs[0]!.traceId), ...bad]);
    const { events, stats } = await replay(corpus({ 'posted.json': file }, 'evaluations'));
    const expected = parseEvaluationRecords(file, { receivedAtUnixNano: 0n }).errors;
    expect(expected).toHaveLength(2);
    expect(stats.invalidEvaluations.map((u) => u.reason)).toEqual(expected.map((e) => e.message));
    expect(stats.invalidEvaluations[0]!.name).toMatch(/posted\.json record #\d+$/);
    expect(stats.undecodable).toEqual([]);
    // every run but the first (whose record was left out) is credited
    expect(new Set(events.filter((e) => e.event_type === 'episode_credit').map((e) => e.episode_id)).size).toBe(runs.length - 1);
  });

  it('a record naming only a conversation is refused as the receiver refuses it when episodes are keyed by trace', async () => {
    const conversationOnly = { conversation_id: 'c-1', name: 'task_success', score: 1, time_unix_nano: String(BigInt(BASE_MS) * 1_000_000n) };
    const { stats } = await replay(corpus({ 'posted.jsonl': [...records, conversationOnly].map((r) => JSON.stringify(r)).join('\n') }, 'evaluations'));
    expect(stats.invalidEvaluations).toHaveLength(1);
    expect(stats.invalidEvaluations[0]!.reason).toMatch(/names only a conversation/);
    expect(stats.evaluationsIn).toBe(records.length);
  });

  it('a file under evaluations/ that is no JSON is undecodable, as before; OTLP logs there are read as logs', async () => {
    const dir = corpus({ 'garbage.json': '{"trace_id": ', '0001-logs.pb': '' }, 'evaluations');
    writeFileSync(join(dir, 'evaluations', '0001-logs.pb'), runs[1]!.logsProto);
    const { stats } = await replay(dir);
    expect(stats.undecodable).toHaveLength(0);
    expect(stats.invalidEvaluations).toHaveLength(1);
    expect(stats.invalidEvaluations[0]!.reason).toMatch(/not JSON/);
    expect(stats.evaluationsIn).toBe(1); // the log record's
  });

  it('agent-credit replay: the events of the valid records on stdout, the refused ones in the summary, exit code 1', () => {
    const bad = { trace_id: runs[0]!.traceId, name: 'task_success' };
    const dir = corpus({ 'verdicts.jsonl': [...records, bad].map((r) => JSON.stringify(r)).join('\n') }, 'evaluations');
    const cli = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));
    const run = spawnSync(process.execPath, [cli, 'replay', dir], { encoding: 'utf8', env: { ...process.env, AGENT_CREDIT_TELEMETRY_LOG_LEVEL: 'error' } });
    const credits = run.stdout.split('\n').filter((l) => l.includes('"event_type":"episode_credit"'));
    expect(credits).toHaveLength(runs.length);
    expect(run.stderr).toMatch(/evaluation records refused: 1/);
    expect(run.stderr).toMatch(/verdicts\.jsonl:\d+ record #0.*needs score or label/);
    expect(run.stderr).toMatch(/1 evaluation record\(s\) refused/);
    expect(run.status).toBe(1);
  }, 60_000);
});
