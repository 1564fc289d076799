/**
 * OTLP/JSON mapping details beyond what the JS serializer emits: snake_case field names, enum
 * names, int64 as strings, special doubles, base64 bytes, hex id validation, null as absent,
 * plus JSON error paths and encoding detection.
 */
import { describe, expect, it } from 'vitest';
import { SpanSchema } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../src/otlp/index.js';
import { reasonOf } from './decode-reason.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

function traces(spans: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans }], ...extra }] });
}

describe('OTLP/JSON traces', () => {
  it('accepts original snake_case field names and enum names', () => {
    const doc = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
          scope_spans: [
            {
              scope: { name: 'lib', version: '1' },
              spans: [
                {
                  trace_id: TRACE_ID,
                  span_id: SPAN_ID,
                  parent_span_id: '',
                  trace_state: 'k=v',
                  name: 'op',
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: '1795575745734176123',
                  end_time_unix_nano: 1795575745,
                  attributes: [
                    { key: 'i', value: { int_value: '9223372036854775807' } },
                    { key: 'd', value: { double_value: 'NaN' } },
                    { key: 'b', value: { bool_value: false } },
                    { key: 'x', value: { bytes_value: 'AQID' } },
                    { key: 'a', value: { array_value: { values: [{ int_value: 1 }, {}] } } },
                    { key: 'm', value: { kvlist_value: { values: [{ key: 'k', value: { string_value: 'v' } }] } } },
                  ],
                  events: [{ time_unix_nano: '5', name: 'e', attributes: [] }],
                  links: [{ trace_id: TRACE_ID, span_id: SPAN_ID, trace_state: '' }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    });
    const [s] = decodeTraces(doc, 'otlp_json');
    expect(s).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      parentSpanId: undefined,
      traceState: 'k=v',
      kind: 3,
      startTimeUnixNano: 1795575745734176123n,
      endTimeUnixNano: 1795575745n,
      events: [{ timeUnixNano: 5n, name: 'e', attributes: {} }],
      links: [{ traceId: TRACE_ID, spanId: SPAN_ID, traceState: undefined, attributes: {} }],
      status: { code: 2, message: 'boom' },
    });
    expect(s!.attributes).toEqual({
      i: '9223372036854775807',
      d: 'NaN',
      b: false,
      x: new Uint8Array([1, 2, 3]),
      a: [1, null],
      m: { k: 'v' },
    });
    expect(s!.resource.attributes).toEqual({ 'service.name': 'svc' });
  });

  it('lowercases hex ids and treats all-zero parent ids as absent', () => {
    const [s] = decodeTraces(traces([{ traceId: TRACE_ID.toUpperCase(), spanId: SPAN_ID.toUpperCase(), parentSpanId: '0000000000000000' }]), 'otlp_json');
    expect([s!.traceId, s!.spanId, s!.parentSpanId]).toEqual([TRACE_ID, SPAN_ID, undefined]);
  });

  it('reads int64 given as numbers or strings (safe → number, unsafe → exact string); non-finite doubles stay named strings', () => {
    const attrs = [
      { key: 'n', value: { intValue: 7 } },
      { key: 's', value: { intValue: '-7' } },
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'dbl', value: { doubleValue: '-Infinity' } },
    ];
    const [s] = decodeTraces(traces([{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: attrs }]), 'otlp_json');
    expect(s!.attributes).toEqual({ n: 7, s: -7, big: '9007199254740993', dbl: '-Infinity' });
  });

  it('a doubleValue number past the double range (JSON.parse makes it ±Infinity) is named, not kept as a non-finite number', () => {
    const text = traces([{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: [{ key: 'up', value: { doubleValue: 0 } }, { key: 'down', value: { doubleValue: 0 } }] }])
      .replace('"doubleValue":0', '"doubleValue":1e999')
      .replace('"doubleValue":0', '"doubleValue":-1e999');
    const [s] = decodeTraces(text, 'otlp_json');
    expect(s!.attributes).toEqual({ up: 'Infinity', down: '-Infinity' });
    expect(SpanSchema.safeParse(s).success).toBe(true);
    const logs = decodeLogs('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":1e999}}]}]}]}', 'otlp_json');
    expect(logs[0]!.body).toBe('Infinity');
  });

  it('treats null fields as absent', () => {
    const [s] = decodeTraces(
      traces([{ traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: null, name: null, attributes: null, events: null, status: null }]),
      'otlp_json',
    );
    expect(s).toMatchObject({ parentSpanId: undefined, name: '', attributes: {}, events: [], status: { code: 0 } });
  });

  it('names wrong ids: base64 instead of hex, wrong length, wrong type', () => {
    const base64Id = Buffer.from(TRACE_ID, 'hex').toString('base64');
    expect(reasonOf(() => decodeTraces(traces([{ traceId: base64Id, spanId: SPAN_ID }]), 'otlp_json'))).toMatch(
      /^traceId must be 32 hex characters \(OTLP\/JSON ids are hex, not base64\), got ".*" \(24 chars\) in ExportTraceServiceRequest\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]$/,
    );
    expect(reasonOf(() => decodeTraces(traces([{ traceId: TRACE_ID, spanId: 'abc' }]), 'otlp_json'))).toMatch(/^spanId must be 16 hex characters/);
    expect(reasonOf(() => decodeTraces(traces([{ traceId: 5, spanId: SPAN_ID }]), 'otlp_json'))).toMatch(/^traceId must be a hex string, got number/);
    expect(reasonOf(() => decodeTraces(traces([{ spanId: SPAN_ID }]), 'otlp_json'))).toMatch(/^traceId is required/);
  });

  it('names wrong types with their path', () => {
    expect(reasonOf(() => decodeTraces(traces([{ traceId: TRACE_ID, spanId: SPAN_ID, startTimeUnixNano: '-1' }]), 'otlp_json'))).toMatch(
      /^startTimeUnixNano must be an unsigned 64-bit decimal, got "-1" in .*spans\[0\]$/,
    );
    expect(reasonOf(() => decodeTraces(traces([{ traceId: TRACE_ID, spanId: SPAN_ID, kind: 'SERVER' }]), 'otlp_json'))).toMatch(/^kind must be 0\.\.5 or one of SPAN_KIND_UNSPECIFIED\|/);
    const badAttr = { traceId: TRACE_ID, spanId: SPAN_ID, attributes: [{ key: 'k', value: { intValue: '1.5' } }] };
    expect(reasonOf(() => decodeTraces(traces([badAttr]), 'otlp_json'))).toMatch(/^intValue must be a signed 64-bit integer .* in .*spans\[0\]\.attributes\[0\]$/);
    expect(reasonOf(() => decodeTraces(traces([{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: [{ key: 'k', value: { bytesValue: '***' } }] }]), 'otlp_json'))).toMatch(/^bytesValue must be a base64 string/);
    expect(reasonOf(() => decodeTraces('{"resourceSpans": {}}', 'otlp_json'))).toBe('resourceSpans must be an array, got object in ExportTraceServiceRequest');
    expect(reasonOf(() => decodeTraces('[]', 'otlp_json'))).toBe('the request must be an object, got array in ExportTraceServiceRequest');
  });

  it('reports invalid JSON with its position, and invalid UTF-8', () => {
    expect(reasonOf(() => decodeTraces('{"resourceSpans": [}', 'otlp_json'))).toMatch(/^invalid JSON at position 19 \(line 1, column 20\): .* in ExportTraceServiceRequest$/);
    expect(reasonOf(() => decodeTraces(new Uint8Array([0x7b, 0xff, 0x7d]), 'otlp_json'))).toBe('invalid UTF-8 in the JSON payload of ExportTraceServiceRequest');
  });

  it('rejects AnyValue nesting deeper than 64', () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 100; i++) value = { arrayValue: { values: [value] } };
    const doc = traces([{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: [{ key: 'deep', value }] }]);
    expect(reasonOf(() => decodeTraces(doc, 'otlp_json'))).toMatch(/^AnyValue nested deeper than 64/);
  });
});

describe('OTLP/JSON logs', () => {
  it('decodes severity names/numbers, event name, optional ids and body', () => {
    const doc = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '1',
                  severityNumber: 'SEVERITY_NUMBER_WARN2',
                  body: { stringValue: 'hello' },
                  eventName: 'gen_ai.evaluation.result',
                  traceId: TRACE_ID,
                  spanId: '',
                  flags: 1,
                },
                { severity_number: 9, body: {}, trace_id: '00000000000000000000000000000000', event_name: '' },
              ],
            },
          ],
        },
      ],
    });
    const [a, b] = decodeLogs(doc, 'otlp_json');
    expect(a).toMatchObject({ timeUnixNano: 1n, severityNumber: 14, body: 'hello', eventName: 'gen_ai.evaluation.result', traceId: TRACE_ID, spanId: undefined, flags: 1 });
    expect(b).toMatchObject({ severityNumber: 9, body: undefined, traceId: undefined, eventName: undefined });
    expect(a!.resource).toEqual({ attributes: {} });
    expect(a!.scope).toEqual({ name: '', version: undefined, attributes: {} });
  });

  it('names a bad log trace id with its path', () => {
    const doc = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'xyz' }] }] }] });
    expect(reasonOf(() => decodeLogs(doc, 'otlp_json'))).toMatch(/^traceId must be 32 hex characters .* in ExportLogsServiceRequest\.resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]$/);
  });
});

describe('detectEncoding', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('prefers the content type, ignoring parameters and case', () => {
    expect(detectEncoding(enc('{}'), 'application/x-protobuf')).toBe('otlp_proto');
    expect(detectEncoding(enc('{}'), 'Application/Protobuf')).toBe('otlp_proto');
    expect(detectEncoding(new Uint8Array([0x0a, 0x00]), 'application/json; charset=utf-8')).toBe('otlp_json');
  });
  it('sniffs bytes: a JSON object (leading/trailing whitespace allowed) vs protobuf', () => {
    expect(detectEncoding(enc('{"resourceSpans":[]}'))).toBe('otlp_json');
    expect(detectEncoding(enc(' \n\t{"resourceSpans":[]}\n'))).toBe('otlp_json');
    expect(detectEncoding(enc('{}'), 'text/plain')).toBe('otlp_json');
    expect(detectEncoding(new Uint8Array([0x0a, 0x7b, 0x0a]))).toBe('otlp_proto'); // length byte 123 = '{'
    expect(detectEncoding(new Uint8Array(0))).toBe('otlp_proto');
    expect(detectEncoding(enc('{"resourceSpans":[{"truncated'))).toBe('otlp_json'); // so truncated JSON gets a JSON error
    expect(detectEncoding(enc('\n{"resourceSpans":[]}'))).toBe('otlp_json');
    expect(detectEncoding(enc('   '))).toBe('otlp_proto');
    expect(detectEncoding('{"resourceLogs":[]}')).toBe('otlp_json');
  });
  it('accepts a UTF-8 byte order mark before JSON', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"e"}]}]}]}')]);
    expect(detectEncoding(withBom)).toBe('otlp_json');
    expect(decodeLogs(withBom, 'otlp_json')[0]!.eventName).toBe('e');
    expect(decodeLogs('\ufeff{"resourceLogs":[]}', 'otlp_json')).toEqual([]);
  });
});

describe('invalid JSON positions', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['{', 1],
    ['{"a":1,}', 7],
    ['{"a" 1}', 5],
    ['[1,2', 4],
    ['[1 2]', 3],
    ['{"a":tru}', 5],
    ['{"a":"x\u0001"}', 7],
    ['{"a":"\\q"}', 7],
    ['{"a":[{"b":[1,2,]}]}', 16],
    ['{} x', 3],
    ['\n\n  {"a": -}', 10],
  ];
  for (const [text, pos] of cases) {
    it(`${JSON.stringify(text)} → position ${pos}`, () => {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      expect(reasonOf(() => decodeLogs(text, 'otlp_json'))).toMatch(new RegExp(`^invalid JSON at position ${pos} \\(line \\d+, column \\d+\\): `));
    });
  }
});
