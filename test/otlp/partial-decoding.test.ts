/**
 * Partial decoding (decodeTracesPartial / decodeLogsPartial, used by the OTLP/HTTP receiver for
 * partial success): a span or log record that fails on its own is skipped and counted with its
 * reason, the items around it are kept; a request whose framing, resource or scope is broken still
 * throws. Properties on real SDK-serialized requests with one item mutated inside its own bytes.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema } from '../../src/model/telemetry.js';
import { OtlpDecodeError, decodeLogs, decodeLogsPartial, decodeTraces, decodeTracesPartial } from '../../src/otlp/index.js';
import { SPAN_ID, TRACE_ID, concat, hexBytes, ld, logsRequest, raw, span, str, traceRequest, varint } from './proto-wire.js';
import { recordLogs, recordSpans, serializeLogs, serializeSpans, withScopeAttributes } from './sdk-telemetry.js';

const OTHER_SPAN = 'aaaaaaaaaaaaaaaa';
const goodSpan = (spanId: string, name: string) => concat(ld(1, hexBytes(TRACE_ID)), ld(2, hexBytes(spanId)), str(5, name));

describe('decodeTracesPartial / decodeLogsPartial', () => {
  it('protobuf: a span with a wrong-length trace id is skipped and named; the spans around it are kept', () => {
    const badId = concat(ld(1, raw(1, 2, 3, 4, 5, 6, 7)), ld(2, hexBytes(SPAN_ID)));
    const data = traceRequest(goodSpan(SPAN_ID, 'a'), badId, goodSpan(OTHER_SPAN, 'b'));
    const result = decodeTracesPartial(data, 'otlp_proto');
    expect(result.items.map((s) => s.name)).toEqual(['a', 'b']);
    expect(result.rejected).toBe(1);
    expect(result.reasons).toEqual(['trace_id must be 16 bytes, got 7 in ExportTraceServiceRequest.resource_spans[0].scope_spans[0].spans[1]']);
    // the strict decoder is unchanged: the whole request fails
    expect(() => decodeTraces(data, 'otlp_proto')).toThrow(OtlpDecodeError);
  });

  it('protobuf: damage inside a span whose own length is intact (truncated varint, bad enum, deep AnyValue) stays in that span', () => {
    let deep = str(1, 'leaf');
    for (let i = 0; i < 100; i++) deep = ld(5, ld(1, deep));
    const spans = [
      goodSpan(SPAN_ID, 'a'),
      concat(span(), raw(0x30, 0x80)), // kind: truncated varint, inside the span
      span(varint(6, 9)), // kind out of range
      span(ld(9, concat(str(1, 'deep'), ld(2, deep)))),
      goodSpan(OTHER_SPAN, 'b'),
    ];
    const result = decodeTracesPartial(traceRequest(...spans), 'otlp_proto');
    expect(result.items.map((s) => s.name)).toEqual(['a', 'b']);
    expect(result.rejected).toBe(3);
    expect(result.reasons[0]).toMatch(/^truncated varint at byte \d+ in ExportTraceServiceRequest\.resource_spans\[0\]\.scope_spans\[0\]\.spans\[1\]$/);
    expect(result.reasons[1]).toMatch(/^kind must be a SpanKind 0\.\.5, got 9 in .*spans\[2\]$/);
    expect(result.reasons[2]).toMatch(/^AnyValue nested deeper than 64 in .*spans\[3\]\.attributes\[0\]/);
  });

  it('protobuf: a broken envelope (a length past the end, a bad resource) still fails the request', () => {
    const good = traceRequest(goodSpan(SPAN_ID, 'a'), goodSpan(OTHER_SPAN, 'b'));
    expect(() => decodeTracesPartial(good.subarray(0, good.length - 3), 'otlp_proto')).toThrow(/runs past the end/);
    const badResource = ld(1, ld(1, ld(1, str(1, 'k'), ld(2, raw(0x30, 0x80)))), ld(2, ld(2, goodSpan(SPAN_ID, 'a'))));
    expect(() => decodeTracesPartial(badResource, 'otlp_proto')).toThrow(/in ExportTraceServiceRequest\.resource_spans\[0\]\.resource\.attributes\[0\]$/);
  });

  it('protobuf logs: a record with a wrong-length span id is skipped', () => {
    const record = (body: string, ...extra: Uint8Array[]) => concat(ld(5, str(1, body)), ...extra);
    const result = decodeLogsPartial(logsRequest(record('a'), record('bad', ld(10, raw(1, 2, 3))), record('b')), 'otlp_proto');
    expect(result.items.map((l) => l.body)).toEqual(['a', 'b']);
    expect(result.reasons).toEqual(['span_id must be 8 bytes or empty, got 3 in ExportLogsServiceRequest.resource_logs[0].scope_logs[0].log_records[1]']);
  });

  it('OTLP/JSON: a span or log record that fails is skipped with its JSON path; invalid JSON still fails', () => {
    const spans = [{ traceId: TRACE_ID, spanId: SPAN_ID, name: 'a' }, { traceId: 'W47/95gDgQPSabYzgT/GDA==', spanId: SPAN_ID, name: 'x' }, 'not a span', { traceId: TRACE_ID, spanId: OTHER_SPAN, name: 'b' }];
    const doc = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
    const result = decodeTracesPartial(doc, 'otlp_json');
    expect(result.items.map((s) => s.name)).toEqual(['a', 'b']);
    expect(result.rejected).toBe(2);
    expect(result.reasons[0]).toMatch(/^traceId must be 32 hex characters .* in ExportTraceServiceRequest\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]$/);
    expect(result.reasons[1]).toBe('Span must be an object, got string in ExportTraceServiceRequest.resourceSpans[0].scopeSpans[0].spans[2]');
    const logs = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { timeUnixNano: -1 }, { body: { stringValue: 'b' } }] }] }] });
    const l = decodeLogsPartial(logs, 'otlp_json');
    expect(l.items.map((r) => r.body)).toEqual(['a', 'b']);
    expect(l.reasons[0]).toMatch(/^timeUnixNano must be an unsigned 64-bit integer .* in ExportLogsServiceRequest\.resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\]$/);
    expect(() => decodeTracesPartial(doc.slice(0, -2), 'otlp_json')).toThrow(/invalid JSON/);
    expect(() => decodeLogs(logs, 'otlp_json')).toThrow(OtlpDecodeError);
  });

  it('keeps the first 5 reasons; the count is complete', () => {
    const bad = concat(ld(1, raw(1)), ld(2, hexBytes(SPAN_ID)));
    const result = decodeTracesPartial(traceRequest(...Array.from({ length: 12 }, () => bad), goodSpan(SPAN_ID, 'a')), 'otlp_proto');
    expect([result.items.length, result.rejected, result.reasons.length]).toEqual([1, 12, 5]);
  });
});

// ---- properties on real SDK requests ----

/** Byte ranges [start, end) of each span/log record payload in an Export*ServiceRequest (field 1 → 2 → 2). */
function itemRanges(data: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const walk = (start: number, end: number, depth: number) => {
    const r = protobuf.Reader.create(data.subarray(start, end));
    while (r.pos < r.len) {
      const t = r.uint32();
      if ((t & 7) === 2 && t >>> 3 === (depth === 0 ? 1 : 2)) {
        const len = r.uint32();
        const at = start + r.pos;
        if (depth === 2) out.push([at, at + len]);
        else walk(at, at + len, depth + 1);
        r.skip(len);
      } else r.skipType(t & 7);
    }
  };
  walk(0, data.length, 0);
  return out;
}

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'truncate'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'overwrite'; at: number; bytes: Uint8Array };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // wrong wire types, huge lengths, over-long varints, invalid UTF-8 among them
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.constantFrom(raw(0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f), raw(0x2a, 0x03, 0xff, 0xfe, 0xc0), raw(0x0f), raw(0x0b, 0x0c), raw(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);
function mutate(item: Uint8Array, m: Mutation): Uint8Array {
  const n = item.length;
  if (m.kind === 'flip') {
    const out = item.slice();
    out[m.at % n]! ^= 1 << m.bit;
    return out;
  }
  if (m.kind === 'truncate') return item.subarray(0, m.at % n);
  if (m.kind === 'insert') return concat(item.subarray(0, m.at % (n + 1)), m.bytes, item.subarray(m.at % (n + 1)));
  const out = item.slice();
  out.set(m.bytes.subarray(0, n - (m.at % n)), m.at % n);
  return out;
}

/** The request with item `i` replaced by `payload` (every enclosing length prefix rewritten). */
function replaceItem(data: Uint8Array, i: number, payload: Uint8Array): Uint8Array {
  const rebuild = (start: number, end: number, depth: number, counter: { n: number }): Uint8Array => {
    const parts: Uint8Array[] = [];
    const r = protobuf.Reader.create(data.subarray(start, end));
    while (r.pos < r.len) {
      const fieldStart = r.pos;
      const t = r.uint32();
      if ((t & 7) === 2 && t >>> 3 === (depth === 0 ? 1 : 2)) {
        const len = r.uint32();
        const at = start + r.pos;
        r.skip(len);
        const inner = depth === 2 ? (counter.n++ === i ? payload : data.subarray(at, at + len)) : rebuild(at, at + len, depth + 1, counter);
        parts.push(ld(t >>> 3, inner));
      } else {
        r.skipType(t & 7);
        parts.push(data.subarray(start + fieldStart, start + r.pos));
      }
    }
    return concat(...parts);
  };
  return rebuild(0, data.length, 0, { n: 0 });
}

const spanKey = (s: { spanId: string; name: string }) => `${s.spanId}/${s.name}`;

describe('partial decoding properties (real SDK requests, one item mutated in its own bytes)', () => {
  const traces = serializeSpans(withScopeAttributes(recordSpans()), 'otlp_proto');
  const all = decodeTraces(traces, 'otlp_proto');
  const ranges = itemRanges(traces);

  it('the decoder finds every span of the SDK request', () => {
    expect(ranges.length).toBe(all.length);
  });

  it('protobuf traces: the other spans are all kept; the mutated one is decoded or counted, never another error (2,000 cases)', () => {
    fc.assert(
      fc.property(fc.nat(ranges.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        let item: Uint8Array = traces.subarray(...ranges[i]!);
        for (const m of ms) if (item.length > 0) item = mutate(item, m);
        const data = replaceItem(traces, i, item);
        let result;
        try {
          result = decodeTracesPartial(data, 'otlp_proto');
        } catch (e) {
          throw new Error(`the request failed as a whole (${String(e)}) though only one span's bytes were changed`, { cause: e });
        }
        expect(result.items.length + result.rejected).toBe(all.length);
        const got = new Set(result.items.map(spanKey));
        all.forEach((s, k) => k === i || expect(got.has(spanKey(s))).toBe(true));
        for (const s of result.items) expect(SpanSchema.safeParse(s).success).toBe(true);
        for (const reason of result.reasons) expect(reason).toMatch(/ in ExportTraceServiceRequest\.resource_spans\[\d+\]\.scope_spans\[\d+\]\.spans\[\d+\]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('protobuf logs: the same (1,000 cases)', () => {
    const logs = serializeLogs(recordLogs(), 'otlp_proto');
    const allLogs = decodeLogs(logs, 'otlp_proto');
    const logRanges = itemRanges(logs);
    expect(logRanges.length).toBe(allLogs.length);
    fc.assert(
      fc.property(fc.nat(logRanges.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        let item: Uint8Array = logs.subarray(...logRanges[i]!);
        for (const m of ms) if (item.length > 0) item = mutate(item, m);
        const result = decodeLogsPartial(replaceItem(logs, i, item), 'otlp_proto');
        expect(result.items.length + result.rejected).toBe(allLogs.length);
        for (const r of result.items) expect(LogRecordSchema.safeParse(r).success).toBe(true);
        if (result.rejected === 1) expect(result.items).toEqual(allLogs.filter((_, k) => k !== i));
      }),
      { numRuns: 1000 },
    );
  });

  it('OTLP/JSON traces: a span with a field replaced by any JSON value (wrong-length ids, negative/huge times, NaN doubles, …) costs at most that span (1,500 cases)', () => {
    const text = new TextDecoder().decode(serializeSpans(withScopeAttributes(recordSpans()), 'otlp_json'));
    const doc = JSON.parse(text) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
    const locate: Array<[number, number, number]> = [];
    doc.resourceSpans.forEach((rs, a) => rs.scopeSpans.forEach((ss, b) => ss.spans.forEach((_, c) => locate.push([a, b, c]))));
    const FIELDS = ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'events', 'links', 'status', 'trace_id', 'flags'];
    const odd = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom('0af7651916cd43dd8448eb211c8031', '0AF7651916CD43DD8448EB211C80319C00', 'W47/95gDgQPSabYzgT/GDA==', '-1', '18446744073709551616', 'NaN', -1, 1e30, 1.5, 6, 'SPAN_KIND_SERVER'),
      fc.constantFrom([{ key: 'd', value: { doubleValue: 'NaN' } }], [{ key: 'i', value: { intValue: '9223372036854775808' } }], [{ key: 'b', value: { bytesValue: 'not base64!' } }], { code: 7 }),
    );
    fc.assert(
      fc.property(fc.nat(locate.length - 1), fc.constantFrom(...FIELDS), odd, (i, field, value) => {
        const copy = JSON.parse(text) as typeof doc;
        const [a, b, c] = locate[i]!;
        copy.resourceSpans[a]!.scopeSpans[b]!.spans[c]![field] = value;
        const result = decodeTracesPartial(JSON.stringify(copy), 'otlp_json');
        expect(result.items.length + result.rejected).toBe(locate.length);
        for (const s of result.items) expect(SpanSchema.safeParse(s).success).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
