/**
 * Replay order, undecodable requests and unmatched evaluations (src/runtime/local-replay.ts), on
 * runs recorded with the real OpenTelemetry JS SDK (src/scenarios) that span several minutes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSummary, SummaryCollector } from '../../src/cli/summary.js';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent, EpisodeCredit } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const config = loadConfig({ env: {} }).config;
const RUNS = 12;
const SPACING_MS = 30_000; // 12 runs over 5.5 minutes: far past episodes.pendingEvaluationTtlMs (60 s)

interface Logged {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}
function recordingLogger() {
  const lines: Logged[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') } as never };
}

async function replay(inputs: string[]) {
  const sink = new CollectingSink();
  const { lines, logger } = recordingLogger();
  const stats = await replayFiles(config, listOtlpFiles(inputs), { sinks: [sink], logger });
  const credits = sink.events.filter((e): e is EpisodeCredit => e.event_type === 'episode_credit');
  return { events: sink.events, credits, stats, lines };
}

const strip = (events: readonly CreditEvent[]) => events.map((e) => JSON.stringify({ ...e, emitted_at_ms: 0 }));

let base: string;
let dump: string;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'replay-order-'));
  // A collector Kafka dump: <topic>/<partition>-<offset>.bin, one trace per spans record, one evaluation per logs record.
  const runs = await generateFleet({ episodes: RUNS, seed: 42, baseTimeMs: Date.UTC(2026, 0, 1), spacingMs: SPACING_MS, mix: { success: 1, 'error-retry': 1 } });
  const records = kafkaRecordsFor(runs, 'otlp_proto');
  dump = join(base, 'kdump');
  for (const [topic, list] of [['otlp_spans', records.spans], ['otlp_logs', records.logs]] as const) {
    mkdirSync(join(dump, topic), { recursive: true });
    list.forEach((r, offset) => writeFileSync(join(dump, topic, `0-${offset}.bin`), r.value));
  }
}, 120_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('replay feeds requests in event-time order across all inputs', () => {
  it('a collector dump spanning minutes gives every run once, at revision 0, closed by its evaluation, whatever the path order', async () => {
    // path order: otlp_logs/ sorts before otlp_spans/ — it gave 1-3 of 12 episodes (evaluations expired before their spans)
    const logsFirst = await replay([dump]);
    expect(logsFirst.credits).toHaveLength(RUNS);
    expect(logsFirst.credits.every((e) => e.episode_revision === 0 && e.close_reason === 'evaluation-arrived')).toBe(true);
    expect(logsFirst.stats).toMatchObject({ episodesSkipped: 0, unmatchedEvaluations: { expired: 0, pendingAtEnd: 0, unjoinable: 0 } });
    // spans first: runs closed root-ended before their verdict, and came out as revision 1
    const spansFirst = await replay([join(dump, 'otlp_spans'), join(dump, 'otlp_logs')]);
    expect(spansFirst.credits).toHaveLength(RUNS);
    expect(spansFirst.credits.every((e) => e.episode_revision === 0)).toBe(true);
    expect(strip(spansFirst.events)).toEqual(strip(logsFirst.events));
  }, 120_000);

  it('traces/ and logs/ folders of OTLP/HTTP bodies, and one .jsonl file per signal, read the same as the dump', async () => {
    const expected = strip((await replay([dump])).events);
    const layout = join(base, 'layout');
    mkdirSync(join(layout, 'logs'), { recursive: true });
    mkdirSync(join(layout, 'traces'), { recursive: true });
    const runs = await generateFleet({ episodes: RUNS, seed: 42, baseTimeMs: Date.UTC(2026, 0, 1), spacingMs: SPACING_MS, mix: { success: 1, 'error-retry': 1 } });
    const recs = kafkaRecordsFor(runs, 'otlp_json');
    recs.logs.forEach((r, i) => writeFileSync(join(layout, 'logs', `${String(i).padStart(4, '0')}.json`), r.value));
    recs.spans.forEach((r, i) => writeFileSync(join(layout, 'traces', `${String(i).padStart(4, '0')}.json`), r.value));
    const fromFolders = await replay([layout]);
    expect(fromFolders.credits).toHaveLength(RUNS);
    expect(fromFolders.credits.every((e) => e.episode_revision === 0)).toBe(true);
    const jsonl = join(base, 'jsonl');
    mkdirSync(jsonl);
    const line = (v: Uint8Array) => Buffer.from(v).toString('utf8').replace(/\n/g, ' ');
    writeFileSync(join(jsonl, 'a-logs.jsonl'), recs.logs.map((r) => line(r.value)).join('\n') + '\n');
    writeFileSync(join(jsonl, 'b-traces.jsonl'), recs.spans.map((r) => line(r.value)).join('\n') + '\n');
    const fromLines = await replay([jsonl]);
    expect(fromLines.credits).toHaveLength(RUNS);
    expect(strip(fromLines.events)).toEqual(strip(fromFolders.events));
    // same runs, same credit as the protobuf dump (event ids and values)
    expect(strip(fromFolders.events)).toEqual(expected);
  }, 120_000);
});

describe('replay: the order the inputs are given in', () => {
  it('two verdicts of the same nanosecond in directories given in either order: the same events in the same order', async () => {
    // Two runs of one start whose judge logged both verdicts at one time, each run in a directory of its own:
    // their log requests tie, and the order of the inputs broke the tie (the episodes came out swapped).
    const runs = await generateFleet({ episodes: 2, seed: 7, baseTimeMs: Date.UTC(2026, 0, 1), spacingMs: 0, mix: { success: 1, 'error-retry': 1 } });
    const recs = kafkaRecordsFor(runs, 'otlp_json');
    const text = (v: Uint8Array) => Buffer.from(v).toString('utf8');
    const times = [...recs.spans, ...recs.logs].flatMap((r) => [...text(r.value).matchAll(/"(?:endTimeUnixNano|timeUnixNano)":"?(\d+)/g)].map((m) => BigInt(m[1]!)));
    const tie = times.reduce((a, b) => (a > b ? a : b)).toString();
    const dirs = ['run-a', 'run-b'].map((d) => join(base, 'ties', d));
    dirs.forEach((dir, i) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'traces.json'), recs.spans[i]!.value);
      writeFileSync(join(dir, 'logs.json'), text(recs.logs[i]!.value).replace(/"(timeUnixNano|observedTimeUnixNano)":"?\d+"?/g, `"$1":"${tie}"`));
    });
    const given = await replay(dirs);
    expect(given.credits.map((e) => e.close_reason)).toEqual(['evaluation-arrived', 'evaluation-arrived']);
    const reversed = await replay([...dirs].reverse());
    expect(strip(reversed.events)).toEqual(strip(given.events));
  }, 120_000);
});

describe('undecodable requests are skipped and reported, the rest is replayed', () => {
  it('a garbage file and a bad .jsonl line: each logged at error with its path and reason, counted; every good episode still emitted', async () => {
    const dir = join(base, 'mixed');
    mkdirSync(dir);
    const genai = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
    for (const f of readdirSync(genai)) copyFileSync(join(genai, f), join(dir, f));
    writeFileSync(join(dir, '0002a-traces.pb'), 'garbage\n');
    writeFileSync(join(dir, 'z-traces.jsonl'), '{"resourceSpans": [}\n\n');
    const good = await replay([genai]);
    const r = await replay([dir]);
    expect(r.credits).toHaveLength(3);
    expect(strip(r.events)).toEqual(strip(good.events));
    expect(r.stats.undecodable.map((u) => u.name)).toEqual([join(dir, '0002a-traces.pb'), `${join(dir, 'z-traces.jsonl')}:1`]);
    expect(r.stats.undecodable[0]!.reason).toMatch(/cannot decode as OTLP traces \(otlp_proto\), nor as logs/);
    const errors = r.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.obj.file)).toEqual(r.stats.undecodable.map((u) => u.name));
    expect(errors.every((l) => typeof l.obj.reason === 'string' && /skipped/.test(l.msg))).toBe(true);
  });
});

describe('JSON that is not an OTLP request is named, not replayed as an empty one', () => {
  it("a previous replay's events.jsonl in the input directory: each line skipped as agent-credit's own output, the telemetry still credited", async () => {
    const genai = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
    const good = await replay([genai]);
    const dir = join(base, 'with-output');
    mkdirSync(dir);
    for (const f of readdirSync(genai)) copyFileSync(join(genai, f), join(dir, f));
    // the real output of the replay above, as `replay --out <dir>` writes it
    writeFileSync(join(dir, 'events.jsonl'), good.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ resourceMetrics: [] }));
    writeFileSync(join(dir, 'empty-traces.json'), '{}');
    const r = await replay([dir]);
    expect(strip(r.events)).toEqual(strip(good.events));
    // before: no error, one warning "no spans or log records in this file (empty?)" per file
    expect(r.stats.undecodable.map((u) => u.name)).toEqual([...good.events.map((_, i) => `${join(dir, 'events.jsonl')}:${i + 1}`), join(dir, 'metrics.json')]);
    expect(r.stats.undecodable[0]!.reason).toMatch(/not an OTLP traces or logs request .*its fields: schema_version, .*agent-credit's own output/);
    expect(r.stats.undecodable.at(-1)!.reason).toMatch(/an OTLP metrics request: replay reads traces and logs/);
    // an empty request is still only that: a warning
    expect(r.lines.filter((l) => l.level === 'warn' && /empty\?/.test(l.msg)).map((l) => l.obj.file)).toEqual([join(dir, 'empty-traces.json')]);
  });
});

describe('unmatched evaluations and skipped episodes are counted', () => {
  it('logs without their spans: each evaluation counted as unmatched and logged at warn with the count (it was silent even at debug)', async () => {
    const r = await replay([join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http', '0004-logs.pb')]);
    expect(r.credits).toHaveLength(0);
    expect(r.stats.unmatchedEvaluations).toEqual({ expired: 0, pendingAtEnd: 3, unjoinable: 0 });
    const warned = r.lines.filter((l) => l.level === 'warn' && /joined no episode/.test(l.msg));
    expect(warned.map((l) => l.obj)).toEqual([{ unmatched: 3, expired: 0, pendingAtEnd: 3, unjoinable: 0 }]);
  });

  it('spans without evaluations: the episodes closed without credit are counted, and the summary says both counts', async () => {
    const genai = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
    const r = await replay(['0001-traces.pb', '0002-traces.pb', '0003-traces.pb'].map((f) => join(genai, f)));
    expect(r.credits).toHaveLength(0);
    expect(r.stats.episodesSkipped).toBe(3);
    const c = new SummaryCollector();
    c.add(r.events);
    const text = renderSummary(c.summary(), { ...r.stats, undecodable: r.stats.undecodable.length });
    expect(text.split('\n')[1]).toBe('skipped episodes (closed without credit): 3   credit failures: 0   unmatched evaluations: 0   undecodable requests skipped: 0');
  });
});
