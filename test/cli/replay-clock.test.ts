/**
 * Replay closes a run as the job would have live, whatever other runs the input holds: its clock
 * starts with the input (the job's start counts as an evaluation arriving, so runs wait
 * episodes.awaitEvaluationMs for their verdict), and what is due by a request's time closes before
 * that request's records join (the job's timer). Data: runs recorded with the real OpenTelemetry JS
 * SDK (src/scenarios), the judge's verdict re-emitted through a real LoggerProvider at a later time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { encodeLogs, encodeTraces, generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { CollectingSink } from '../support/collecting-sink.js';

const config = loadConfig({ env: {} }).config; // graceMs 2 s, awaitEvaluationMs 10 s
const T0 = Date.UTC(2026, 0, 1);
const endMs = (run: ScenarioRun) => Math.max(...run.spans.map((s) => s.endTime[0] * 1e3 + s.endTime[1] / 1e6));
const startMs = (run: ScenarioRun) => Math.min(...run.spans.map((s) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6));

/** The run's verdict as its judge logs it `delayMs` after the run ended (real SDK record, OTLP protobuf). */
async function verdictAfter(run: ScenarioRun, delayMs: number): Promise<Uint8Array> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  const given = run.logRecords.find((r) => r.attributes['gen_ai.evaluation.name'] === 'task_success')!;
  const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: run.traceId, spanId: run.rootSpanId, traceFlags: TraceFlags.SAMPLED });
  provider.getLogger('judge').emit({ eventName: 'gen_ai.evaluation.result', attributes: given.attributes, timestamp: endMs(run) + delayMs, context });
  await provider.forceFlush();
  return encodeLogs(exporter.getFinishedLogRecords(), 'otlp_proto');
}

let base: string;
let run: ScenarioRun;
/** Another run (spans only) ending `ms` after `run`. */
let otherAt: (ms: number) => Promise<ScenarioRun>;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'replay-clock-'));
  run = await generateScenario({ kind: 'success', convention: 'genai', seed: 1, baseTimeMs: T0 });
  const probe = await generateScenario({ kind: 'success', convention: 'genai', seed: 2, baseTimeMs: T0 });
  otherAt = async (ms) => {
    const other = await generateScenario({ kind: 'success', convention: 'genai', seed: 2, baseTimeMs: Math.round(endMs(run) + ms - (endMs(probe) - startMs(probe))) });
    expect(Math.abs(endMs(other) - endMs(run) - ms)).toBeLessThan(500);
    return other;
  };
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Replays `run` with its verdict `delayMs` late, alone or with another run's spans request `otherAtMs` after it; `run`'s events and credits, and the skipped count. */
async function replayRun(name: string, delayMs: number, otherAtMs?: number) {
  const dir = join(base, name);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, '1-traces.pb'), encodeTraces(run.spans, 'otlp_proto'));
  writeFileSync(join(dir, 'logs', '1.pb'), await verdictAfter(run, delayMs));
  if (otherAtMs !== undefined) writeFileSync(join(dir, '2-traces.pb'), encodeTraces((await otherAt(otherAtMs)).spans, 'otlp_proto'));
  const sink = new CollectingSink();
  const stats = await replayFiles(config, listOtlpFiles([dir]), { sinks: [sink] });
  const events = sink.events.filter((e) => e.episode_id === run.traceId).map((e) => ({ ...e, emitted_at_ms: 0 }));
  const credits = events.filter((e): e is EpisodeCredit => e.event_type === 'episode_credit');
  return { events, credits: credits.map((e) => [e.episode_revision, e.close_reason]), skipped: stats.episodesSkipped };
}

describe('replay closes a run as the job would, whatever else the input holds', () => {
  it('a verdict 5 s after the run (within awaitEvaluationMs) credits it at revision 0, also when another request comes between', async () => {
    const alone = await replayRun('5s-alone', 5_000);
    expect(alone.credits).toEqual([[0, 'evaluation-arrived']]);
    // without the fix: the replay's clock started at 0, so "evaluations arriving" had ended in
    // 1970 — the run closed at graceMs when the other request came, 3 s after it (skipped), its
    // verdict made revision 1
    const between = await replayRun('5s-between', 5_000, 3_000);
    expect(between.credits).toEqual([[0, 'evaluation-arrived']]);
    expect(between.skipped).toBe(1); // the other run: no verdict in the input
    expect(between.events).toEqual(alone.events);
  });

  it('a verdict 20 s after the run (past awaitEvaluationMs) is its late verdict, revision 1, also when no other request comes between', async () => {
    // another request 15 s after the run: its tick closes the run (waited out) before the verdict comes
    const between = await replayRun('20s-between', 20_000, 15_000);
    expect(between.credits).toEqual([[1, 'evaluation-arrived']]);
    // without the fix: nothing ticked between the run and its verdict, which joined it — revision 0, other event ids
    const alone = await replayRun('20s-alone', 20_000);
    expect(alone.credits).toEqual([[1, 'evaluation-arrived']]);
    expect(alone.events).toEqual(between.events);
  });
});
