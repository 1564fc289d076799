import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../src/kafka/client.js';
import { decodeRecord, recordEncoding } from '../../src/sources/kafka/index.js';
import { DLQ_HEADERS, KafkaSinkConfigSchema, deadLetterRecord, eventRecord, failedEpisodeRecord, routeEvent } from '../../src/sinks/kafka/index.js';
import { CreditEventSchema, SCHEMA_VERSION, type CreditEvent } from '../../src/events/schemas.js';
import { LogRecordSchema, SpanSchema } from '../../src/model/telemetry.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const FIXTURES = `${AGENTS_SDK_FIXTURES}/kafka`;

function fixture(encoding: string, topic: string, name: string): ConsumedRecord {
  const dir = join(FIXTURES, encoding, topic);
  return {
    topic,
    partition: Number(name.split('-')[0]),
    offset: name.split('-')[1]!,
    key: readFileSync(join(dir, `${name}.key`)),
    value: readFileSync(join(dir, `${name}.bin`)),
    headers: {},
    timestampMs: 0,
  };
}

const names = (encoding: string, topic: string) =>
  readdirSync(join(FIXTURES, encoding, topic))
    .filter((f) => f.endsWith('.bin'))
    .map((f) => f.slice(0, -4));

describe('decodeRecord on the recorded collector records', () => {
  for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
    it(`decodes every ${encoding} spans record with the fixed setting and with auto, to the same spans`, () => {
      for (const n of names(encoding, 'otlp_spans')) {
        const r = fixture(encoding, 'otlp_spans', n);
        const fixed = decodeRecord(r, 'traces', encoding);
        const auto = decodeRecord(r, 'traces', 'auto');
        expect(fixed.ok && auto.ok).toBe(true);
        if (!fixed.ok || !auto.ok || fixed.signal !== 'traces' || auto.signal !== 'traces') continue;
        expect(auto.encoding).toBe(encoding);
        expect(fixed.spans.length).toBeGreaterThan(0);
        expect(auto.spans).toEqual(fixed.spans);
        // partition_traces_by_id: the key is the one trace id of the record
        expect(new Set(fixed.spans.map((s) => s.traceId))).toEqual(new Set([new TextDecoder().decode(r.key!)]));
      }
    });

    it(`decodes every ${encoding} logs record (one evaluation log each)`, () => {
      for (const n of names(encoding, 'otlp_logs')) {
        const d = decodeRecord(fixture(encoding, 'otlp_logs', n), 'logs', 'auto');
        expect(d.ok && d.signal === 'logs' && d.logs.length).toBe(1);
      }
    });
  }

  it('a proto record decoded as JSON fails with a reason naming the encoding (wrong setting → DLQ, not a crash)', () => {
    const r = fixture('otlp_proto', 'otlp_spans', names('otlp_proto', 'otlp_spans')[0]!);
    const d = decodeRecord(r, 'traces', 'otlp_json');
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(/^otlp_json: .* — it decodes as otlp_proto: set source\.kafka\.spansEncoding to otlp_proto \(or auto\)/);
    // the same for a JSON logs record read as protobuf; a record that is neither gets no hint
    const l = decodeRecord(fixture('otlp_json', 'otlp_logs', names('otlp_json', 'otlp_logs')[0]!), 'logs', 'otlp_proto');
    expect(!l.ok && l.reason).toMatch(/^otlp_proto: .* — it decodes as otlp_json: set source\.kafka\.logsEncoding to otlp_json/);
    // and how to get those already read credited: the group has committed past them, so a run with
    // the fixed setting alone credits none of them (seen on the broker: recordsIn 0, eventsOut 0)
    expect(!l.ok && l.reason).toMatch(/already read are in the dead-letter topic .*: to credit them, stop the job after the fix and reset source\.kafka\.groupId's offsets on the topic \(kafka-consumer-groups --reset-offsets\)/);
    const junk = decodeRecord({ ...r, value: new Uint8Array([0xff, 0xfe, 0x07, 0x01]) }, 'traces', 'otlp_proto');
    expect(!junk.ok && junk.reason).not.toMatch(/decodes as/);
  });

  it("records in the kafka exporter's other encodings (jaeger, zipkin, raw) or of another signal are dead-lettered naming the cause, never read as empty requests", () => {
    const dir = join(import.meta.dirname, 'fixtures', 'exporter-encodings');
    const record = (value: Uint8Array): ConsumedRecord => ({ topic: 't', partition: 0, offset: '0', key: null, value, headers: {}, timestampMs: 0 });
    const cases = [
      ['jaeger_json', 'traces', /Jaeger span in JSON \(the kafka exporter's `encoding: jaeger_json`\)/],
      ['jaeger_proto', 'traces', /Jaeger span in protobuf \(the kafka exporter's `encoding: jaeger_proto`\)/],
      ['zipkin_json', 'traces', /Zipkin v2 spans in JSON \(the kafka exporter's `encoding: zipkin_json`\)/],
      ['zipkin_proto', 'traces', /Zipkin v2 spans in protobuf \(the kafka exporter's `encoding: zipkin_proto`\)/],
      ['raw', 'logs', /a log record's body alone, as the kafka exporter's `encoding: raw` writes it/],
    ] as const;
    for (const [file, signal, cause] of cases) {
      const r = record(readFileSync(join(dir, `${file}.bin`)));
      for (const setting of ['auto', 'otlp_proto', 'otlp_json'] as const) {
        const d = decodeRecord(r, signal, setting);
        // jaeger_json and raw are JSON objects: OTLP/JSON ignores their fields, and they decoded as
        // requests with no span / log record — consumed and committed past without a word
        expect(d.ok, `${file} as ${setting}`).toBe(false);
        if (d.ok) continue;
        expect(d.reason).toMatch(cause);
        expect(d.reason).toMatch(new RegExp(`set the collector kafka exporter's ${signal} encoding .* to otlp_proto or otlp_json`));
        // never the advice to switch to the other OTLP encoding: that read them as empty requests
        expect(d.reason).not.toMatch(/decodes as/);
      }
    }
    // logs on the spans topic and spans on the logs topic (one `topic` for every signal), in both encodings
    for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
      const logs = decodeRecord(fixture(encoding, 'otlp_logs', names(encoding, 'otlp_logs')[0]!), 'traces', 'auto');
      expect(!logs.ok && logs.reason).toMatch(/it is an OTLP ExportLogsServiceRequest \(otlp_(proto|json)\): this topic carries logs, not traces — give the collector kafka exporter's traces and logs a topic each/);
      const spans = decodeRecord(fixture(encoding, 'otlp_spans', names(encoding, 'otlp_spans')[0]!), 'logs', encoding);
      expect(!spans.ok && spans.reason).toMatch(/it is an OTLP ExportTraceServiceRequest \(otlp_(proto|json)\): this topic carries traces, not logs/);
    }
    const metrics = decodeRecord(record(new TextEncoder().encode('{"resourceMetrics":[{"resource":{},"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"1"}]}}]}]}]}')), 'traces', 'auto');
    expect(!metrics.ok && metrics.reason).toMatch(/ExportMetricsServiceRequest/);
    const other = decodeRecord(record(new TextEncoder().encode('{"hello":"world"}')), 'traces', 'otlp_json');
    expect(!other.ok && other.reason).toBe("otlp_json: not an OTLP ExportTraceServiceRequest: a JSON object without resourceSpans (its fields: hello) — set the collector kafka exporter's traces encoding (`traces.encoding`; `encoding` in versions before per-signal settings) to otlp_proto or otlp_json");
    // empty requests stay empty requests (OTLP/JSON's {} and empty blocks), in both signals
    for (const empty of ['{}', '{"resourceSpans":[]}', '{"resource_spans":null}', '{"resourceLogs":[{"resource":{},"scopeLogs":[]}]}']) {
      const signal = empty.includes('Logs') ? 'logs' : 'traces';
      const d = decodeRecord(record(new TextEncoder().encode(empty)), signal, 'auto');
      expect(d.ok, empty).toBe(true);
    }
  });

  it('the content-type header decides under auto', () => {
    const r: ConsumedRecord = { topic: 't', partition: 0, offset: '0', key: null, value: new Uint8Array([0x7b, 0x7d]), headers: { 'Content-Type': new TextEncoder().encode('application/x-protobuf') }, timestampMs: 0 };
    expect(recordEncoding(r, 'auto')).toBe('otlp_proto');
    expect(recordEncoding({ ...r, headers: {} }, 'auto')).toBe('otlp_json');
  });

  it("under auto, a content-type header that is not the record's own (the exporter's include_metadata_keys: [content-type] copies the received request's) does not send the record to the DLQ: the bytes decide when its encoding fails", () => {
    const header = (type: string) => ({ 'content-type': new TextEncoder().encode(type) });
    for (const [encoding, type] of [['otlp_json', 'application/x-protobuf'], ['otlp_proto', 'application/json']] as const) {
      const spans = fixture(encoding, 'otlp_spans', names(encoding, 'otlp_spans')[0]!);
      const expected = decodeRecord(spans, 'traces', encoding);
      const d = decodeRecord({ ...spans, headers: header(type) }, 'traces', 'auto');
      expect(d.ok, `${encoding} under ${type}`).toBe(true);
      expect(d).toEqual(expected);
      const logs = fixture(encoding, 'otlp_logs', names(encoding, 'otlp_logs')[0]!);
      expect(decodeRecord({ ...logs, headers: header(type) }, 'logs', 'auto')).toEqual(decodeRecord(logs, 'logs', encoding));
    }
    // a record that fails both ways keeps the header's encoding in its reason
    const junk = decodeRecord({ ...fixture('otlp_json', 'otlp_spans', names('otlp_json', 'otlp_spans')[0]!), value: new TextEncoder().encode('{"resourceSpans": 5}'), headers: header('application/x-protobuf') }, 'traces', 'auto');
    expect(!junk.ok && junk.reason).toMatch(/^otlp_proto: /);
  });

  it('any damaged record, under any encoding setting and content-type header, decodes or becomes a dead letter with a reason naming the encoding — never a throw (1,000 cases)', () => {
    const seeds = (['otlp_proto', 'otlp_json'] as const).flatMap((e) =>
      (['otlp_spans', 'otlp_logs'] as const).map((topic) => ({ topic, record: fixture(e, topic, names(e, topic)[0]!) })),
    );
    const contentTypes = [undefined, 'application/x-protobuf', 'application/json; charset=utf-8', 'text/plain', ''];
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.constantFrom('auto', 'otlp_proto', 'otlp_json') as fc.Arbitrary<'auto' | 'otlp_proto' | 'otlp_json'>,
        fc.constantFrom(...contentTypes),
        fc.nat(),
        fc.oneof(fc.constant('truncate' as const), fc.constant('flip' as const), fc.constant('none' as const)),
        fc.nat(7),
        (i, setting, contentType, at, how, bit) => {
          const { topic, record } = seeds[i]!;
          const value = new Uint8Array(record.value!);
          const damaged = how === 'truncate' ? value.subarray(0, at % value.length) : how === 'flip' ? ((value[at % value.length]! ^= 1 << bit), value) : value;
          const headers: Record<string, Uint8Array> = contentType === undefined ? {} : { 'content-type': new TextEncoder().encode(contentType) };
          const signal = topic === 'otlp_spans' ? 'traces' : 'logs';
          const d = decodeRecord({ ...record, value: damaged, headers }, signal, setting);
          if (!d.ok) {
            expect(d.reason).toMatch(damaged.length === 0 ? /^empty record value/ : /^otlp_(proto|json): \S/);
            return;
          }
          const records: readonly unknown[] = d.signal === 'traces' ? d.spans : d.signal === 'logs' ? d.logs : [];
          for (const r of records) expect((signal === 'traces' ? SpanSchema : LogRecordSchema).safeParse(r).success).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('empty values are rejected with a reason', () => {
    const d = decodeRecord({ topic: 't', partition: 0, offset: '0', key: null, value: null, headers: {}, timestampMs: 0 }, 'traces', 'auto');
    expect(d).toMatchObject({ ok: false, reason: expect.stringContaining('empty') });
  });
});

describe('sink records', () => {
  const topics = KafkaSinkConfigSchema.parse({}).topics;
  const header = {
    schema_version: SCHEMA_VERSION,
    event_id: '0'.repeat(32),
    episode_id: 'ep',
    episode_revision: 0,
    trace_ids: ['1'.repeat(32)],
    emitted_at_ms: 1,
  } as const;
  const estimator = { name: 'exact', status: 'exact' as const, evaluations: 1 };
  const reward = CreditEventSchema.parse({
    ...header,
    event_type: 'message_reward',
    step_id: '2'.repeat(16),
    trace_id: '1'.repeat(32),
    agent_id: 'planner',
    agent_name: 'planner',
    kind: 'llm',
    name: 'chat',
    start_time_unix_nano: '1',
    reward: 0.5,
    marginal_effect: 0.5,
    components: { credit_share: 0.5, marginal: 0, redundancy: 0, sabotage: 0, blame: 0, repair: 0, shrink: 0 },
    agent_credit: 0.5,
    outcome: 'success',
    estimator,
  });

  it('routes by event type with the documented keys and defaults', () => {
    expect(topics).toEqual({ rewards: 'agent_credit.rewards', episodes: 'agent_credit.episodes', preferences: 'agent_credit.preferences', dlq: 'agent_credit.dlq' });
    expect(routeEvent(reward, topics)).toEqual({ topic: 'agent_credit.rewards', key: 'planner' });
    const ep = { ...header, event_type: 'episode_credit' } as unknown as CreditEvent;
    expect(routeEvent(ep, topics)).toEqual({ topic: 'agent_credit.episodes', key: 'ep' });
  });

  it('a publishable event record carries its recordBytes (measured for sinks.kafka.maxRecordBytes, not measured again by the producer); an oversize one is described without it', async () => {
    const { recordBytes } = await import('../../src/kafka/produce-chunks.js');
    const { publishableEventRecord } = await import('../../src/sinks/kafka/event-records.js');
    const named = { ...reward, agent_name: 'plänner ✓' };
    const { record, tooLargeBytes } = publishableEventRecord(named, topics, 1_000_000);
    expect(tooLargeBytes).toBeUndefined();
    const { bytes, ...rest } = record;
    expect(rest).toEqual(eventRecord(named, topics));
    expect(bytes).toBe(recordBytes(rest));
    const over = publishableEventRecord(named, topics, 100);
    expect(over.tooLargeBytes).toBe(bytes);
    expect(over.record.topic).toBe(topics.dlq);
    expect(over.record.bytes).toBeUndefined();
  });

  it('event records are JSON that parses back to the same schema-valid event, with id headers', () => {
    const rec = eventRecord(reward, topics);
    expect(CreditEventSchema.parse(JSON.parse(rec.value as string))).toEqual(reward);
    expect(rec.headers).toMatchObject({ 'x-agent-credit-event-id': reward.event_id, 'x-agent-credit-event-type': 'message_reward' });
  });

  it('dead letters keep bytes, key and headers and add reason and source position', () => {
    const value = new Uint8Array([1, 2, 3]);
    const key = new TextEncoder().encode('k');
    const orig = { 'x-a': new TextEncoder().encode('b') };
    const d = deadLetterRecord({ topic: 'otlp_spans', partition: 3, offset: '17', key, value, headers: orig, timestampMs: 0 }, 'bad', 'dlq');
    expect(d).toMatchObject({ topic: 'dlq', key, value });
    expect(d.headers).toMatchObject({ 'x-a': orig['x-a'], [DLQ_HEADERS.error]: 'bad', [DLQ_HEADERS.sourceTopic]: 'otlp_spans', [DLQ_HEADERS.sourcePartition]: '3', [DLQ_HEADERS.sourceOffset]: '17' });
    expect((d.headers![DLQ_HEADERS.error] as string).length).toBeLessThanOrEqual(2000);
    expect(deadLetterRecord({ topic: 't', partition: 0, offset: '0', key: null, value: null, headers: {}, timestampMs: 0 }, 'x'.repeat(5000), 'dlq').headers![DLQ_HEADERS.error]).toHaveLength(2000);
  });

  it('a record too large for the dead-letter topic is described there (position, size, SHA-256, reason), not copied', async () => {
    const { recordBytes } = await import('../../src/kafka/produce-chunks.js');
    const { createHash } = await import('node:crypto');
    const value = new Uint8Array(300_000).fill(7);
    const rec = { topic: 'otlp_spans', partition: 2, offset: '41', key: new Uint8Array([1, 2]), value, headers: { 'x-big': new TextEncoder().encode('y'.repeat(10)) }, timestampMs: 0 };
    // within the limit: the copy
    expect(deadLetterRecord(rec, 'bad', 'dlq', 400_000).value).toBe(value);
    const d = deadLetterRecord(rec, 'not OTLP', 'dlq', 100_000);
    expect(recordBytes(d)).toBeLessThanOrEqual(100_000);
    expect(d.headers).toMatchObject({ [DLQ_HEADERS.sourceTopic]: 'otlp_spans', [DLQ_HEADERS.sourcePartition]: '2', [DLQ_HEADERS.sourceOffset]: '41' });
    expect(d.headers![DLQ_HEADERS.error]).toMatch(/^not OTLP — .*over sinks\.kafka\.maxRecordBytes 100000.*otlp_spans\[2\]@41/);
    const body = JSON.parse(d.value as string);
    expect(body).toMatchObject({ kind: 'record_too_large', source_topic: 'otlp_spans', source_partition: 2, source_offset: '41', value_bytes: 300_000, max_bytes: 100_000 });
    expect(body.bytes).toBe(recordBytes(deadLetterRecord(rec, 'not OTLP', 'dlq')));
    expect(body.value_sha256).toBe(createHash('sha256').update(value).digest('hex'));
    expect(d.key).toEqual(rec.key);
  });

  it('an input record with tens of thousands of headers over sinks.kafka.maxRecordBytes as a dead letter is described, not copied (the broker refused the copy at every retry: the stream stalled)', async () => {
    const { createRequire } = await import('node:module');
    const Record = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer };
    const encodedBytes = (r: { key: Uint8Array | string | null; value: Uint8Array | string; headers?: Record<string, string | Uint8Array> }) =>
      Record({ key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(r.value), headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, Buffer.from(v)])) }).buffer.length;
    const headers: Record<string, Uint8Array> = {};
    for (let i = 0; i < 40_000; i++) headers[`h${i.toString(36)}`] = new Uint8Array(0);
    const max = 1_000_000;
    const rec = (valueBytes: number) => ({ topic: 'otlp_spans', partition: 0, offset: '9', key: null, value: new Uint8Array(valueBytes), headers, timestampMs: 0 });
    // the copy as the broker sees it: 1.06 MB, past maxRecordBytes and the 1 MiB + 12 B a dead-letter
    // topic gets by default (the input passed its topic's limit compressed: empty headers compress well)
    const valueBytes = 1_060_000 - encodedBytes(deadLetterRecord(rec(0), 'not OTLP', 'dlq'));
    const d = deadLetterRecord(rec(valueBytes), 'not OTLP', 'dlq', max);
    expect(encodedBytes(d)).toBeLessThanOrEqual(max);
    expect(JSON.parse(d.value as string)).toMatchObject({ kind: 'record_too_large', source_offset: '9' });
  });

  it('failed episodes are dead-lettered as JSON keyed by episode id', () => {
    const r = failedEpisodeRecord({ episodeId: 'e1', traceIds: ['t'], sources: [{ topic: 's', partition: 1, firstOffset: '4', lastOffset: '9' }] }, 'boom', 'dlq');
    expect(r.key).toBe('e1');
    expect(JSON.parse(r.value as string)).toMatchObject({ kind: 'episode_failed', episode_id: 'e1', reason: 'boom' });
    expect(r.headers).toMatchObject({ [DLQ_HEADERS.sourceOffset]: '4', [DLQ_HEADERS.error]: 'credit failed: boom' });
    // bounded: a long conversation and a long error text stay well under a megabyte
    const many = failedEpisodeRecord({ episodeId: 'e2', traceIds: Array.from({ length: 50_000 }, (_, i) => i.toString(16).padStart(32, '0')), sources: [] }, 'e'.repeat(1e6), 'dlq');
    const body = JSON.parse(many.value as string);
    expect(body.trace_ids).toHaveLength(1_000);
    expect(body.trace_count).toBe(50_000);
    expect(body.reason).toHaveLength(2_000);
    expect((many.value as string).length).toBeLessThan(100_000);
  });
});

describe('dead-letter reasons cut between characters', () => {
  // `\ud800`–`\udfff` escapes: JSON.stringify writes a paired surrogate as the character itself, so each is a lone one
  const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/i;
  const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  it('a reason cut at 2,000 units through an emoji (a judge\'s or value function\'s error text) leaves no half of it in the JSON dead letter or its header', () => {
    const reason = `judge answered HTTP 500: ${'x'.repeat(2_000 - 26)}🚀 overloaded`; // the emoji's halves are units 2,000 and 2,001
    const failed = failedEpisodeRecord({ episodeId: 'e1', traceIds: ['t'], sources: [] }, reason, 'dlq');
    expect(failed.value as string).not.toMatch(LONE_SURROGATE_ESCAPE);
    expect(JSON.parse(failed.value as string).reason).toBe(reason.slice(0, 1_999));
    expect(failed.headers![DLQ_HEADERS.error]).not.toMatch(LONE_SURROGATE);
    const rec: ConsumedRecord = { topic: 't', partition: 0, offset: '5', key: null, value: new Uint8Array(2_000), headers: {}, timestampMs: 0 };
    const copied = deadLetterRecord(rec, reason, 'dlq');
    expect(copied.headers![DLQ_HEADERS.error]).toBe(reason.slice(0, 1_999));
    const described = deadLetterRecord(rec, reason, 'dlq', 1_000);
    expect(described.value as string).not.toMatch(LONE_SURROGATE_ESCAPE);
    expect(described.headers![DLQ_HEADERS.error]).not.toMatch(LONE_SURROGATE);
  });
});

describe('kafkajs client chunking', () => {
  it('event records are cut per partition: a chunk carries up to the bound in every partition, never more in one', async () => {
    const { chunkRecords, recordBytes } = await import('../../src/kafka/produce-chunks.js');
    const { KeyPartitioner, placeRecord } = await import('../../src/kafka/kafkajs-placement.js');
    const topics = KafkaSinkConfigSchema.parse({}).topics;
    const agents = ['planner', 'coder', 'critic', 'tester'];
    const records = Array.from({ length: 400 }, (_, i) => ({ topic: topics.rewards, key: agents[i % agents.length]!, value: JSON.stringify({ i, pad: 'x'.repeat(800) }) }));
    const kp = new KeyPartitioner();
    const placed = records.map((r) => placeRecord(r, 12, kp));
    const limits = { partitionBytes: 64 * 1024, requestBytes: 1024 * 1024 };
    const chunks = chunkRecords(placed, limits);
    expect(chunks.flat().length).toBe(records.length);
    const perPartitionTotal = new Map<number, number>();
    for (const p of placed) perPartitionTotal.set(p.partition!, (perPartitionTotal.get(p.partition!) ?? 0) + p.bytes);
    // as few chunks as the fullest partition needs (all records are the same size here)
    const one = recordBytes(records[0]!);
    const perBatch = Math.floor(limits.partitionBytes / one);
    const fullest = Math.max(...[...perPartitionTotal.values()].map((b) => Math.round(b / one)));
    expect(chunks.length).toBe(Math.ceil(fullest / perBatch));
    for (const c of chunks) {
      const loads = new Map<number, number>();
      for (const p of c) loads.set(p.partition!, (loads.get(p.partition!) ?? 0) + p.bytes);
      expect(Math.max(...loads.values())).toBeLessThanOrEqual(limits.partitionBytes);
    }
  });
});
