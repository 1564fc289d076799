import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { CreditEventSchema, type CreditEvent } from '../../src/events/schemas.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processOptionsOf } from '../../src/runtime/local-stages.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { listOtlpFiles, readOtlpFile } from '../../src/sources/file/index.js';
import { readFileSync } from 'node:fs';
import { CollectingSink } from '../support/collecting-sink.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const FIXTURES = AGENTS_SDK_FIXTURES;
const HTTP_DIRS = ['genai', 'openinference', 'openllmetry'].map((i) => join(FIXTURES, i, 'otlp-http'));

const config = loadConfig({ env: {} }).config;

async function replay(inputs: string[]): Promise<CreditEvent[]> {
  const sink = new CollectingSink();
  await replayFiles(config, listOtlpFiles(inputs), { sinks: [sink] });
  return sink.events;
}

/** Events without the fields that legitimately differ between runs (wall clock, why the episode closed). */
const comparable = (events: readonly CreditEvent[]) =>
  events
    .map((e) => {
      const { emitted_at_ms: _t, ...rest } = e;
      if (rest.event_type === 'episode_credit') return { ...rest, close_reason: '*' };
      return rest;
    })
    .sort((a, b) => a.event_id.localeCompare(b.event_id));

/** The in-process pipeline on the same bytes: decode everything, assemble, close, credit. */
async function inProcess(): Promise<CreditEvent[]> {
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for (const dir of HTTP_DIRS) {
    for (const f of readdirSync(dir).sort()) {
      const bytes = new Uint8Array(readFileSync(join(dir, f)));
      if (f.includes('traces')) spans.push(...decodeTraces(bytes, 'otlp_proto'));
      else logs.push(...decodeLogs(bytes, 'otlp_proto'));
    }
  }
  const assembler = new EpisodeAssembler(config.episodes);
  assembler.addSpans(spans);
  assembler.addEvaluations(evaluationsFromLogs(logs));
  const episodes = [...assembler.tick(), ...assembler.flush('shutdown')];
  const out: CreditEvent[] = [];
  for (const ep of episodes) out.push(...(await processEpisode(ep, processOptionsOf(config))));
  return out;
}

/** A logger that keeps replay's error lines (file and reason) and drops the rest. */
function errorLog() {
  const errors: { file: string; reason: string }[] = [];
  const logger = { warn: () => undefined, info: () => undefined, error: (obj: { file: string; reason: string }) => void errors.push(obj), debug: () => undefined };
  return { errors, logger };
}

describe('replay of the recorded fixtures', () => {
  it('gives the same events with credit in worker threads (runtime.creditWorkers) as in the main thread', async () => {
    const pooled = loadConfig({ env: {}, overrides: { runtime: { creditWorkers: 2 } } }).config;
    const sink = new CollectingSink();
    await replayFiles(pooled, listOtlpFiles(HTTP_DIRS), { sinks: [sink] });
    expect(sink.events.filter((e) => e.event_type === 'episode_credit').length).toBe(9);
    expect(comparable(sink.events)).toEqual(comparable(await replay(HTTP_DIRS)));
  }, 60_000);

  it('with credit workers, an episode queued behind slow ones is not timed out for its wait (runtime.creditTimeoutMs is per episode)', async () => {
    // ~250 ms of credit per episode, 9 episodes on one worker: each within 1000 ms, the last ones done ~2 s after they were queued.
    const slow = join(import.meta.dirname, '../runtime/modules/slow.mjs');
    const pooled = loadConfig({ env: {}, overrides: { runtime: { creditWorkers: 1, creditTimeoutMs: 1_000 }, credit: { game: 'module', module: { path: slow } } } }).config;
    const sink = new CollectingSink();
    const stats = await replayFiles(pooled, listOtlpFiles(HTTP_DIRS), { sinks: [sink] });
    expect(sink.events.filter((e) => e.event_type === 'episode_credit').length).toBe(9);
    expect(stats).toMatchObject({ creditFailures: 0 });
  }, 60_000);

  it('OTLP/HTTP bodies, collector kafka dumps (proto and JSON) and the in-process pipeline give the same events', async () => {
    const http = await replay(HTTP_DIRS);
    const kafkaProto = await replay([join(FIXTURES, 'kafka/otlp_proto')]);
    const kafkaJson = await replay([join(FIXTURES, 'kafka/otlp_json')]);
    const direct = await inProcess();
    for (const e of http) CreditEventSchema.parse(e);
    // 3 instrumentations × 3 runs, each with an EpisodeCredit.
    expect(http.filter((e) => e.event_type === 'episode_credit').length).toBe(9);
    expect(comparable(kafkaProto)).toEqual(comparable(http));
    expect(comparable(kafkaJson)).toEqual(comparable(http));
    expect(comparable(direct)).toEqual(comparable(http));
  });

  it('closes episodes by the data, not at the end of the input: each run closes when its evaluation arrives', async () => {
    const events = await replay(HTTP_DIRS);
    const reasons = new Set(events.flatMap((e) => (e.event_type === 'episode_credit' ? [e.close_reason] : [])));
    expect(reasons).toEqual(new Set(['evaluation-arrived']));
  });

  it('is deterministic: two replays give byte-identical events apart from emitted_at_ms', async () => {
    const a = await replay([join(FIXTURES, 'kafka/otlp_proto')]);
    const b = await replay([join(FIXTURES, 'kafka/otlp_proto')]);
    const strip = (es: CreditEvent[]) => es.map((e) => JSON.stringify({ ...e, emitted_at_ms: 0 }));
    expect(strip(a)).toEqual(strip(b));
  });

  it('waits for credit inside a request that evicts more episodes than runtime.creditQueueMax (it ended with the receiver\'s "credit queue full … retry later")', async () => {
    // one request of 3,000 one-span traces (two slices of the request) (real SDK spans, OTLP/protobuf): past maxOpenEpisodes each new trace evicts an episode
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('flood');
    for (let i = 0; i < 3_000; i++) tracer.startSpan('invoke_agent a', { root: true, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' } }).end();
    const dir = mkdtempSync(join(tmpdir(), 'replay-evict-'));
    try {
      writeFileSync(join(dir, 'traces.pb'), ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
      const small = loadConfig({ env: {}, overrides: { episodes: { maxOpenEpisodes: 10 }, runtime: { creditQueueMax: 4 } } }).config;
      const stats = await replayFiles(small, listOtlpFiles([dir]), { sinks: [new CollectingSink()] });
      expect(stats).toMatchObject({ spansIn: 3_000, episodesClosed: 3_000, pending: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists kafka dumps in partition/offset order and reads their signal from the topic folder', () => {
    const files = listOtlpFiles([join(FIXTURES, 'kafka/otlp_proto')]);
    expect(files.some((f) => f.path.endsWith('.key'))).toBe(false);
    const spans = files.filter((f) => f.path.includes('otlp_spans'));
    expect(spans.every((f) => f.signal === 'traces')).toBe(true);
    expect(files.filter((f) => f.path.includes('otlp_logs')).every((f) => f.signal === 'logs')).toBe(true);
    const order = spans.map((f) => f.path.split('/').pop()!.replace('.bin', '').split('-').map(Number));
    const sorted = [...order].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
    expect(order).toEqual(sorted);
  });

  it('an empty file is named in a warning (it decodes as an empty request and passed unseen)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-empty-'));
    try {
      writeFileSync(join(dir, '0001-traces.pb'), new Uint8Array(0));
      const warned: { obj: unknown; msg: string }[] = [];
      const logger = { warn: (obj: unknown, msg: string) => void warned.push({ obj, msg }), info: () => undefined, error: () => undefined, debug: () => undefined };
      await replayFiles(config, listOtlpFiles([dir, join(FIXTURES, 'genai', 'otlp-http')]), { sinks: [new CollectingSink()], logger: logger as never });
      expect(warned.filter((w) => /no spans or log records in this file/.test(w.msg)).map((w) => w.obj)).toEqual([{ file: join(dir, '0001-traces.pb') }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file named .json that is not JSON says so (it read only as an undecodable protobuf)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-notjson-'));
    try {
      const f = join(dir, 'traces.json');
      writeFileSync(f, 'resourceSpans: oops, this is no JSON at all\n');
      expect(() => readOtlpFile({ path: f, signal: 'traces' })).toThrow(/cannot decode as OTLP traces \(otlp_proto\).*\(named \.json but does not start with "\{": not JSON, so read as protobuf\)$/);
      // a .jsonl line is never protobuf: it says which line is not JSON (README audit: it said "cannot decode as OTLP traces (otlp_proto), nor as logs")
      const lines = join(dir, 'requests.jsonl');
      writeFileSync(lines, `${readFileSync(join(FIXTURES, 'kafka/otlp_json/otlp_spans', readdirSync(join(FIXTURES, 'kafka/otlp_json/otlp_spans')).find((n) => n.endsWith('.bin'))!), 'utf8').replace(/\n/g, ' ')}\nnot json\n`);
      expect(() => readOtlpFile({ path: lines, signal: 'traces' })).toThrow(/requests\.jsonl:2: not JSON \(starts "not json"\): each line of a \.jsonl file must be one OTLP\/JSON request/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replay says which .jsonl line is not JSON, as readOtlpFile does (its first pass read the line as protobuf: "unexpected wire type 6")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-notjson-lines-'));
    try {
      const spansDir = join(FIXTURES, 'kafka/otlp_json/otlp_spans');
      const good = readFileSync(join(spansDir, readdirSync(spansDir).find((n) => n.endsWith('.bin'))!), 'utf8').replace(/\n/g, ' ');
      writeFileSync(join(dir, 'requests.jsonl'), `${good}\nnot json\n`);
      const { errors, logger } = errorLog();
      const stats = await replayFiles(config, listOtlpFiles([dir]), { sinks: [new CollectingSink()], logger: logger as never });
      expect(stats.undecodable.map((u) => u.name)).toEqual([`${join(dir, 'requests.jsonl')}:2`]);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.file).toBe(`${join(dir, 'requests.jsonl')}:2`);
      expect(errors[0]!.reason).toMatch(/requests\.jsonl:2: not JSON \(starts "not json"\): each line of a \.jsonl file must be one OTLP\/JSON request/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a UTF-16 file (Windows PowerShell 5 redirects write UTF-16LE) is named as such, once per file, not as a protobuf that "does not start with {"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-utf16-'));
    try {
      const spansDir = join(FIXTURES, 'kafka/otlp_json/otlp_spans');
      const records = readdirSync(spansDir).filter((n) => n.endsWith('.bin')).sort().slice(0, 2).map((n) => readFileSync(join(spansDir, n), 'utf8').replace(/\n/g, ' '));
      const utf16le = (text: string, bom: boolean) => Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(text, 'utf16le')]);
      writeFileSync(join(dir, 'traces.json'), utf16le(records[0]!, true));
      writeFileSync(join(dir, 'requests.jsonl'), utf16le(`${records.join('\r\n')}\r\n`, false));
      const { errors, logger } = errorLog();
      const stats = await replayFiles(config, listOtlpFiles([dir]), { sinks: [new CollectingSink()], logger: logger as never });
      expect(stats.undecodable.map((u) => u.name).sort()).toEqual([join(dir, 'requests.jsonl'), join(dir, 'traces.json')]);
      for (const e of errors) {
        expect(e.reason).toMatch(/\(the file is UTF-16LE text: OTLP\/JSON is UTF-8 — convert it first, e\.g\. iconv -f UTF-16LE -t UTF-8/);
        expect(e.reason).not.toMatch(/does not start with/);
      }
      // converted, both replay
      writeFileSync(join(dir, 'traces.json'), records[0]!);
      writeFileSync(join(dir, 'requests.jsonl'), `${records.join('\n')}\n`);
      expect((await replayFiles(config, listOtlpFiles([dir]), { sinks: [new CollectingSink()] })).undecodable).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads what each body is: JSON by its top-level key (also per .jsonl line), protobuf by its name, then as the other signal — never by directories further up (/var/log/…)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'replay-signal-'));
    try {
      const kafkaJson = join(FIXTURES, 'kafka/otlp_json');
      const bins = (topic: string) => readdirSync(join(kafkaJson, topic)).filter((f) => f.endsWith('.bin')).sort().map((f) => join(kafkaJson, topic, f));
      const spans = bins('otlp_spans');
      const logs = bins('otlp_logs');
      // JSON under a "log" directory, with names that say nothing (or the wrong thing)
      const json = join(base, 'log', 'json');
      mkdirSync(json, { recursive: true });
      // (in the dump's reading order: its otlp_logs folder sorts before otlp_spans)
      logs.forEach((f, i) => copyFileSync(f, join(json, `a-${String(i).padStart(3, '0')}-traces.json`)));
      spans.forEach((f, i) => copyFileSync(f, join(json, `b-${String(i).padStart(3, '0')}.json`)));
      // the same records as one .jsonl file mixing both signals
      const mixed = join(base, 'var', 'log', 'mixed.jsonl');
      mkdirSync(join(base, 'var', 'log'), { recursive: true });
      writeFileSync(mixed, [...logs, ...spans].map((f) => readFileSync(f, 'utf8').replace(/\n/g, ' ')).join('\n') + '\n');
      // protobuf under a "log" directory: names hint (0004-logs.pb), the rest decode as traces
      const proto = join(base, 'log', 'genai');
      mkdirSync(proto, { recursive: true });
      const genai = join(FIXTURES, 'genai', 'otlp-http');
      for (const f of readdirSync(genai)) copyFileSync(join(genai, f), join(proto, f));
      // and a protobuf logs body whose name says traces: tried as logs after it fails as traces
      const renamed = join(base, 'renamed');
      mkdirSync(renamed);
      for (const f of readdirSync(genai)) copyFileSync(join(genai, f), join(renamed, f.replace('logs', 'traces')));

      const expected = comparable((await replay([join(FIXTURES, 'kafka/otlp_json')])));
      expect(expected.filter((e) => e.event_type === 'episode_credit')).toHaveLength(9);
      expect(comparable(await replay([json]))).toEqual(expected);
      expect(comparable(await replay([mixed]))).toEqual(expected);
      const genaiEvents = comparable(await replay([genai]));
      expect(genaiEvents.filter((e) => e.event_type === 'episode_credit')).toHaveLength(3);
      expect(comparable(await replay([proto]))).toEqual(genaiEvents);
      expect(comparable(await replay([renamed]))).toEqual(genaiEvents);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('replay of one large .jsonl file (the collector file exporter writes one)', () => {
  it('scans it a chunk at a time: a file past 2 GiB is read line by line, not skipped whole as unreadable', async () => {
    const { generateScenario } = await import('../../src/scenarios/index.js');
    const { scanOtlpFile, readOtlpRequest } = await import('../../src/sources/file/otlp-files.js');
    const dir = tempDir('agent-credit-jsonl-');
    const path = join(dir, 'otel.jsonl');
    const runs = await Promise.all([1, 2].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
    writeFileSync(path, runs.flatMap((r) => [r.tracesJson, r.logsJson]).join('\n') + '\n');
    const small = scanOtlpFile({ path, signal: 'traces' });
    expect(small.requests.map((r) => r.signal)).toEqual(['traces', 'logs', 'traces', 'logs']);
    // lines read across chunk boundaries are the same requests
    expect(scanOtlpFile({ path, signal: 'traces' }, { chunkBytes: 7 })).toEqual(small);
    // days of telemetry: the same lines, then (sparse, no disk used) 2 GiB more of one line
    truncateSync(path, 2 ** 31 + 2 ** 20);
    const big = scanOtlpFile({ path, signal: 'traces' }, { maxLineBytes: 2 ** 20 });
    expect(big.requests).toEqual(small.requests); // none without the fix: "cannot read: ERR_FS_FILE_TOO_LARGE"
    expect(big.undecodable).toEqual([{ name: `${path}:5`, reason: expect.stringMatching(/:5: a line of more than 1048576 bytes, not read/) }]);
    expect(big.requests.map((r) => readOtlpRequest(r).signal)).toEqual(['traces', 'logs', 'traces', 'logs']);
  });
});
