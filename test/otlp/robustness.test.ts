/**
 * Decoder robustness against hostile shapes the random fuzz (fuzz.test.ts) rarely builds: AnyValue
 * nested 10,000 deep (kvlist in array in kvlist) in every place an AnyValue can be, a JSON document
 * nested 200,000 deep, and real SDK requests with "poison" pieces spliced in — wrong wire types,
 * lengths of 2^32 and more, over-long varints, invalid UTF-8, extreme timestamps, JSON numbers past
 * the double range, NaN/Infinity names, wrong-length ids. Every input either decodes to records the
 * model accepts or throws OtlpDecodeError — no RangeError from recursion, no other exception, fast.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema } from '../../src/model/telemetry.js';
import { OtlpDecodeError, decodeLogs, decodeLogsPartial, decodeTraces, decodeTracesPartial } from '../../src/otlp/index.js';
import { SPAN_ID, TRACE_ID, concat, fixed64, group, kv, ld, logsRequest, raw, span, str, traceRequest } from './proto-wire.js';
import { recordLogs, recordSpans, serializeLogs, serializeSpans, withScopeAttributes, type Encoding } from './sdk-telemetry.js';
import { reasonOf } from './decode-reason.js';

type Signal = 'traces' | 'logs';

/** Decodes with the strict and the partial decoder; fails on anything but records or OtlpDecodeError. */
function decodeChecked(signal: Signal, data: Uint8Array | string, encoding: Encoding): void {
  for (const partial of [false, true]) {
    let records: readonly object[];
    try {
      records = signal === 'traces' ? (partial ? decodeTracesPartial(data, encoding).items : decodeTraces(data, encoding)) : partial ? decodeLogsPartial(data, encoding).items : decodeLogs(data, encoding);
    } catch (e) {
      if (!(e instanceof OtlpDecodeError)) throw new Error(`non-OtlpDecodeError escaped (${partial ? 'partial' : 'strict'}): ${String(e)}`, { cause: e });
      continue;
    }
    const schema = signal === 'traces' ? SpanSchema : LogRecordSchema;
    for (const r of records) {
      const parsed = schema.safeParse(r);
      if (!parsed.success) throw new Error(`decoded record violates the model: ${parsed.error.message}`);
      // JSON-safe: no non-finite number anywhere in the attributes/body
      JSON.stringify(r, (_k, v: unknown) => {
        if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`non-finite number ${v} in a decoded record`);
        return typeof v === 'bigint' ? v.toString() : v;
      });
    }
  }
}

const DEPTH = 10_000;

/** kvlist in array in kvlist …, DEPTH levels, as a protobuf AnyValue payload. */
function deepProto(): Uint8Array {
  let v = str(1, 'leaf');
  for (let i = 0; i < DEPTH; i++) v = i % 2 ? ld(6, ld(1, kv('k', v))) : ld(5, ld(1, v));
  return v;
}
/** The same as OTLP/JSON text (JSON.stringify itself overflows the stack on it). */
function deepJson(): string {
  let open = '';
  let close = '';
  for (let i = DEPTH - 1; i >= 0; i--) {
    open += i % 2 ? '{"kvlistValue":{"values":[{"key":"k","value":' : '{"arrayValue":{"values":[';
    close = (i % 2 ? '}]}}' : ']}}') + close;
  }
  return `${open}{"stringValue":"leaf"}${close}`;
}

describe('AnyValue nested 10,000 deep', () => {
  const p = deepProto();
  const protoCases: Array<[string, Signal, Uint8Array]> = [
    ['span attribute', 'traces', traceRequest(span(ld(9, kv('d', p))))],
    ['event attribute', 'traces', traceRequest(span(ld(11, ld(3, kv('d', p)))))],
    ['link attribute', 'traces', traceRequest(span(ld(13, ld(1, raw(...Buffer.from(TRACE_ID, 'hex'))), ld(2, raw(...Buffer.from(SPAN_ID, 'hex'))), ld(4, kv('d', p)))))],
    ['resource attribute', 'traces', ld(1, ld(1, ld(1, kv('d', p))), ld(2, ld(2, span())))],
    ['scope attribute', 'traces', ld(1, ld(2, ld(1, ld(3, kv('d', p))), ld(2, span())))],
    ['log body', 'logs', logsRequest(ld(5, p))],
    ['log attribute', 'logs', logsRequest(ld(6, kv('d', p)))],
  ];
  for (const [where, signal, data] of protoCases) {
    it(`protobuf ${where}: OtlpDecodeError naming the depth limit, no stack overflow`, () => {
      const started = Date.now();
      const reason = reasonOf(() => (signal === 'traces' ? decodeTraces(data, 'otlp_proto') : decodeLogs(data, 'otlp_proto')));
      expect(reason).toMatch(/^AnyValue nested deeper than 64 in Export(Trace|Logs)ServiceRequest\.resource_/);
      expect(Date.now() - started).toBeLessThan(1_000);
      decodeChecked(signal, data, 'otlp_proto');
    });
  }

  const j = deepJson();
  const T = TRACE_ID;
  const S = SPAN_ID;
  const spanJson = (extra: string) => `{"traceId":"${T}","spanId":"${S}"${extra}}`;
  const traces = (resource: string, scope: string, spanText: string) => `{"resourceSpans":[{"resource":{"attributes":[${resource}]},"scopeSpans":[{"scope":{"name":"s","attributes":[${scope}]},"spans":[${spanText}]}]}]}`;
  const attr = `{"key":"d","value":${j}}`;
  const jsonCases: Array<[string, Signal, string]> = [
    ['span attribute', 'traces', traces('', '', spanJson(`,"attributes":[${attr}]`))],
    ['event attribute', 'traces', traces('', '', spanJson(`,"events":[{"name":"e","attributes":[${attr}]}]`))],
    ['link attribute', 'traces', traces('', '', spanJson(`,"links":[{"traceId":"${T}","spanId":"${S}","attributes":[${attr}]}]`))],
    ['resource attribute', 'traces', traces(attr, '', spanJson(''))],
    ['scope attribute', 'traces', traces('', attr, spanJson(''))],
    ['log body', 'logs', `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${j}}]}]}]}`],
    ['log attribute', 'logs', `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[${attr}]}]}]}]}`],
  ];
  for (const [where, signal, text] of jsonCases) {
    it(`OTLP/JSON ${where}: OtlpDecodeError naming the depth limit, no stack overflow`, () => {
      const reason = reasonOf(() => (signal === 'traces' ? decodeTraces(text, 'otlp_json') : decodeLogs(text, 'otlp_json')));
      expect(reason).toMatch(/^AnyValue nested deeper than 64 in Export(Trace|Logs)ServiceRequest\.resource/);
      decodeChecked(signal, text, 'otlp_json');
    });
  }

  it('OTLP/JSON nested 200,000 deep in an unknown field is ignored; cut short, it is invalid JSON with a position', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(decodeTraces(`{"future":${deep},"resourceSpans":[]}`, 'otlp_json')).toEqual([]);
    expect(reasonOf(() => decodeTraces(`{"future":${deep.slice(0, 300_000)}`, 'otlp_json'))).toMatch(/^invalid JSON at position 300010 /);
  });

  it('protobuf unknown fields nested 10,000 deep are skipped without recursion', () => {
    let unknown = raw();
    for (let i = 0; i < DEPTH; i++) unknown = ld(99, unknown);
    expect(decodeTraces(traceRequest(span(unknown)), 'otlp_proto')).toHaveLength(1);
  });
});

// ---- poison pieces spliced into real SDK requests ----

const POISON_PROTO: Uint8Array[] = [
  raw(0x0b), // group start, never closed
  raw(0x0c), // stray group end
  raw(0x0e), // wire type 6
  raw(0x0f), // wire type 7
  raw(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), // length 2^32 - 1
  raw(0x0a, 0x80, 0x80, 0x80, 0x80, 0x10), // length 2^32 (wraps to 0 in 32 bits)
  raw(0x12, 0x85, 0x80, 0x80, 0x80, 0x10), // length 2^32 + 5
  raw(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), // 11-byte varint
  raw(0x2a, 0x03, 0xff, 0xfe, 0xc0), // name: invalid UTF-8
  ld(1, raw(1, 2, 3, 4, 5, 6, 7)), // 7-byte trace id
  ld(2, raw(1, 2, 3)), // 3-byte span id
  ld(4, raw(0, 0, 0, 0, 0, 0, 0, 0, 0)), // 9-byte parent span id
  fixed64(7, 0xffffffffffffffffn), // start time 2^64 - 1
  fixed64(1, 0xffffffffffffffffn),
  raw(0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // kind -1 (10-byte varint)
  ld(9, kv('nan', raw(0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f))), // double NaN
  ld(9, kv('inf', raw(0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0xff))), // double -Infinity
  group(19, group(19, raw(0x08, 0x01))),
  ld(9, kv('deep', deepProto())),
];

const sdk = {
  traces: serializeSpans(withScopeAttributes(recordSpans()), 'otlp_proto'),
  logs: serializeLogs(recordLogs(), 'otlp_proto'),
  tracesJson: new TextDecoder().decode(serializeSpans(withScopeAttributes(recordSpans()), 'otlp_json')),
  logsJson: new TextDecoder().decode(serializeLogs(recordLogs(), 'otlp_json')),
};

const POISON_JSON: string[] = [
  '1e999', '-1e999', '1e-400', '18446744073709551616', '-9223372036854775809', '-1', '1.5', '"NaN"', '"Infinity"', '"-0"',
  '"0af7651916cd43dd8448eb211c8031"', '"0AF7651916CD43DD8448EB211C80319C"', '"W47/95gDgQPSabYzgT/GDA=="', '"\\ud800"', '"\\u0000"',
  '{"doubleValue":1e999}', '{"doubleValue":"NaN"}', '{"intValue":1e300}', '{"intValue":"9223372036854775808"}', '{"bytesValue":"A"}',
  '{"kvlistValue":{"values":[{"key":"__proto__","value":{"stringValue":"x"}}]}}', '{"arrayValue":{"values":[null,{},1]}}',
  '[{"key":"constructor","value":{"intValue":"1"}}]', '{"code":3}', '"SPAN_KIND_SERVER"', '6', 'null', '{}', '[]', '""',
];

/** The JSON text with the value of one `"key":` (chosen by `pick`) replaced by raw text. */
function spliceJson(text: string, pick: number, replacement: string): string {
  const keys = [...text.matchAll(/"[A-Za-z_]+":/g)];
  const m = keys[pick % keys.length]!;
  const at = m.index! + m[0].length;
  // the old value: up to the next , } or ] at this nesting level
  let depth = 0;
  let i = at;
  let inString = false;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) break;
  }
  return text.slice(0, at) + replacement + text.slice(i);
}

describe('poison pieces spliced into real SDK requests', () => {
  for (const signal of ['traces', 'logs'] as const) {
    it(`protobuf ${signal}: a poison piece at any byte, or appended to any span/record (1,500 cases)`, () => {
      const seed = sdk[signal];
      fc.assert(
        fc.property(fc.nat(seed.length), fc.constantFrom(...POISON_PROTO), (at, poison) => {
          decodeChecked(signal, concat(seed.subarray(0, at), poison, seed.subarray(at)), 'otlp_proto');
        }),
        { numRuns: 1500 },
      );
    });

    it(`OTLP/JSON ${signal}: any field's value replaced by poison text (1,500 cases)`, () => {
      const seed = signal === 'traces' ? sdk.tracesJson : sdk.logsJson;
      fc.assert(
        fc.property(fc.nat(), fc.constantFrom(...POISON_JSON), (pick, poison) => {
          decodeChecked(signal, spliceJson(seed, pick, poison), 'otlp_json');
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('a poison piece appended inside a span (its length rewritten) costs only that span in the partial decoder', () => {
    const good = span(str(5, 'good'));
    for (const poison of POISON_PROTO) {
      const result = decodeTracesPartial(traceRequest(good, concat(span(), poison), good), 'otlp_proto');
      expect(result.items.filter((s) => s.name === 'good')).toHaveLength(2);
      expect(result.items.length + result.rejected).toBe(3);
    }
  });
});
