/**
 * The recorded agents-sdk fixtures (real SDK request bodies and real collector kafka records)
 * all decode, and the proto and JSON records of the same traces decode to equal spans/logs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema, type LogRecord, type Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../src/otlp/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const FIXTURES = AGENTS_SDK_FIXTURES;
const INSTRUMENTATIONS = ['openinference', 'genai', 'openllmetry'] as const;

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

function kafkaRecords(encoding: 'otlp_proto' | 'otlp_json', topic: 'otlp_spans' | 'otlp_logs'): Buffer[] {
  return files(join(FIXTURES, 'kafka', encoding, topic), '.bin').map((f) => readFileSync(f));
}

function spansById(spans: readonly Span[]): Map<string, Span> {
  const m = new Map<string, Span>();
  for (const s of spans) m.set(`${s.traceId}/${s.spanId}`, s);
  return m;
}

describe('recorded OTLP/HTTP request bodies', () => {
  for (const inst of INSTRUMENTATIONS) {
    it(`${inst}: every traces body decodes to schema-valid spans forming one trace per run`, () => {
      const bodies = files(join(FIXTURES, inst, 'otlp-http'), '-traces.pb');
      expect(bodies.length).toBe(3);
      const traceIds = new Set<string>();
      for (const body of bodies) {
        const data = readFileSync(body);
        expect(detectEncoding(data)).toBe('otlp_proto');
        const spans = decodeTraces(data, 'otlp_proto');
        expect(spans.length).toBeGreaterThan(0);
        for (const s of spans) expect(SpanSchema.safeParse(s).success).toBe(true);
        const ids = new Set(spans.map((s) => s.traceId));
        expect(ids.size).toBe(1);
        traceIds.add([...ids][0]!);
        // Every parent referenced is in the batch, and exactly one root.
        const spanIds = new Set(spans.map((s) => s.spanId));
        expect(spans.filter((s) => s.parentSpanId === undefined).length).toBe(1);
        for (const s of spans) if (s.parentSpanId) expect(spanIds.has(s.parentSpanId)).toBe(true);
        expect(spans[0]!.resource.attributes['service.name']).toBe(`travel-desk-${inst}`);
      }
      expect(traceIds.size).toBe(3);
    });

    it(`${inst}: the logs body holds three gen_ai.evaluation.result records joined to the runs' root spans`, () => {
      const traces = files(join(FIXTURES, inst, 'otlp-http'), '-traces.pb').flatMap((f) =>
        decodeTraces(readFileSync(f), 'otlp_proto'),
      );
      const roots = new Map(traces.filter((s) => !s.parentSpanId).map((s) => [s.traceId, s.spanId]));
      const [logsBody] = files(join(FIXTURES, inst, 'otlp-http'), '-logs.pb');
      const logs = decodeLogs(readFileSync(logsBody!), 'otlp_proto');
      expect(logs.length).toBe(3);
      for (const log of logs) {
        expect(LogRecordSchema.safeParse(log).success).toBe(true);
        expect(log.eventName).toBe('gen_ai.evaluation.result');
        expect(log.attributes['gen_ai.evaluation.name']).toBe('task_success');
        expect(log.resource.attributes['service.name']).toBe('task-evaluator');
        expect(roots.get(log.traceId!)).toBe(log.spanId);
      }
      expect(logs.map((l) => l.attributes['gen_ai.evaluation.score.label'])).toEqual(['pass', 'pass', 'fail']);
    });
  }
});

describe('recorded collector kafka records', () => {
  it('otlp_proto and otlp_json span records decode to the same spans', () => {
    const proto = kafkaRecords('otlp_proto', 'otlp_spans').flatMap((b) => decodeTraces(b, 'otlp_proto'));
    const json = kafkaRecords('otlp_json', 'otlp_spans').flatMap((b) => decodeTraces(b, 'otlp_json'));
    expect(proto.length).toBeGreaterThan(0);
    const p = spansById(proto);
    const j = spansById(json);
    expect(p.size).toBe(proto.length);
    expect([...j.keys()].sort()).toEqual([...p.keys()].sort());
    for (const [key, span] of p) expect(j.get(key)).toEqual(span);
  });

  it('kafka span records hold the same spans as the SDK request bodies', () => {
    const sdk = INSTRUMENTATIONS.flatMap((inst) =>
      files(join(FIXTURES, inst, 'otlp-http'), '-traces.pb').flatMap((f) => decodeTraces(readFileSync(f), 'otlp_proto')),
    );
    const kafka = spansById(kafkaRecords('otlp_proto', 'otlp_spans').flatMap((b) => decodeTraces(b, 'otlp_proto')));
    expect(kafka.size).toBe(sdk.length);
    for (const s of sdk) expect(kafka.get(`${s.traceId}/${s.spanId}`)).toEqual(s);
  });

  it('each span record carries exactly one trace (partition_traces_by_id)', () => {
    for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
      const records = kafkaRecords(encoding, 'otlp_spans');
      expect(records.length).toBe(9);
      for (const b of records) {
        expect(detectEncoding(b)).toBe(encoding);
        expect(new Set(decodeTraces(b, encoding).map((s) => s.traceId)).size).toBe(1);
      }
    }
  });

  it('otlp_proto and otlp_json log records decode to the same evaluation events with trace ids', () => {
    const key = (l: LogRecord) => `${l.traceId}/${l.spanId}`;
    const proto = kafkaRecords('otlp_proto', 'otlp_logs').flatMap((b) => decodeLogs(b, 'otlp_proto'));
    const json = kafkaRecords('otlp_json', 'otlp_logs').flatMap((b) => decodeLogs(b, 'otlp_json'));
    expect(proto.length).toBe(9);
    expect(json.length).toBe(9);
    const j = new Map(json.map((l) => [key(l), l]));
    for (const l of proto) {
      expect(l.eventName).toBe('gen_ai.evaluation.result');
      expect(l.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(j.get(key(l))).toEqual(l);
    }
  });
});
