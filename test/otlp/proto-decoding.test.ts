/**
 * Protobuf decoding edge cases and error paths with hand-written messages: unknown fields of
 * every wire type are skipped, field order does not matter, ids are validated, int64 follows the
 * model convention, and malformed input yields OtlpDecodeError reasons that say what and where.
 */
import { describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import {
  SPAN_ID,
  TRACE_ID,
  concat,
  double,
  fixed32,
  fixed64,
  group,
  hexBytes,
  kv,
  kvString,
  ld,
  logsRequest,
  raw,
  span,
  str,
  traceRequest,
  varint,
} from './proto-wire.js';
import { reasonOf } from './decode-reason.js';

describe('protobuf traces: structure', () => {
  it('an empty request decodes to no spans', () => {
    expect(decodeTraces(new Uint8Array(0), 'otlp_proto')).toEqual([]);
  });

  it('skips unknown fields of every wire type, at every level', () => {
    const unknown = concat(varint(99, 7), fixed64(98, 1n), str(97, 'x'), fixed32(96, 5), group(95, varint(1, 1), group(2, str(3, 'y'))));
    const data = ld(
      1,
      unknown,
      ld(1, ld(1, kvString('service.name', 'svc')), unknown),
      ld(2, unknown, ld(1, str(1, 'scope'), unknown), ld(2, span(unknown, ld(15, unknown, varint(3, 2))))),
      str(3, 'https://opentelemetry.io/schemas/1.30.0'),
    );
    const [s] = decodeTraces(concat(unknown, data), 'otlp_proto');
    expect(s).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, name: 'op', status: { code: 2 } });
    expect(s!.resource.attributes).toEqual({ 'service.name': 'svc' });
  });

  it('accepts the resource after the spans that share it (proto fields may come in any order)', () => {
    const data = ld(1, ld(2, ld(2, span()), ld(1, str(2, '9.9'), str(1, 'late-scope'))), ld(1, ld(1, kvString('service.name', 'late'))));
    const [s] = decodeTraces(data, 'otlp_proto');
    expect(s!.resource.attributes['service.name']).toBe('late');
    expect(s!.scope).toEqual({ name: 'late-scope', version: '9.9', attributes: {} });
  });

  it('treats an all-zero or empty parent_span_id as no parent; lowercases ids', () => {
    const spans = decodeTraces(
      traceRequest(span(ld(4, new Uint8Array(8))), span(ld(4, new Uint8Array(0))), span(ld(4, hexBytes('ABCDEF0123456789')))),
      'otlp_proto',
    );
    expect(spans.map((s) => s.parentSpanId)).toEqual([undefined, undefined, 'abcdef0123456789']);
  });

  it('reads times as bigint nanoseconds, beyond 2^53', () => {
    const [s] = decodeTraces(traceRequest(span(fixed64(7, 1_795_575_745_734_176_123n), fixed64(8, 2n ** 64n - 1n))), 'otlp_proto');
    expect(s!.startTimeUnixNano).toBe(1_795_575_745_734_176_123n);
    expect(s!.endTimeUnixNano).toBe(2n ** 64n - 1n);
  });

  it('int64 attributes: safe integers as numbers, others as exact decimal strings', () => {
    const attrs = [
      kv('small', varint(3, 42)),
      kv('neg', varint(3, -42)),
      kv('max.safe', varint(3, BigInt(Number.MAX_SAFE_INTEGER))),
      kv('min.safe', varint(3, BigInt(Number.MIN_SAFE_INTEGER))),
      kv('big', varint(3, 2n ** 53n)),
      kv('max', varint(3, 2n ** 63n - 1n)),
      kv('min', varint(3, -(2n ** 63n))),
      kv('dbl', double(4, 1.5)),
      kv('nan', double(4, Number.NaN)),
      kv('inf', double(4, Number.NEGATIVE_INFINITY)),
      kv('bool', varint(2, 1)),
      kv('empty', new Uint8Array(0)),
      kv('bytes', ld(7, raw(1, 2, 3))),
      kv('list', ld(5, ld(1, str(1, 'a')), ld(1, varint(3, 1)), ld(1))),
      kv('map', ld(6, ld(1, kvString('k', 'v')), ld(1, kv('n', ld(6, ld(1, kv('deep', varint(2, 0)))))))),
      kv('__proto__', str(1, 'not a prototype')),
    ].map((a) => ld(9, a));
    const [s] = decodeTraces(traceRequest(span(...attrs)), 'otlp_proto');
    const expected = {
      small: 42,
      neg: -42,
      'max.safe': Number.MAX_SAFE_INTEGER,
      'min.safe': Number.MIN_SAFE_INTEGER,
      big: '9007199254740992',
      max: '9223372036854775807',
      min: '-9223372036854775808',
      dbl: 1.5,
      nan: 'NaN', // non-finite doubles keep their protobuf-JSON names: the model's numbers are finite
      inf: '-Infinity',
      bool: true,
      empty: null,
      bytes: new Uint8Array([1, 2, 3]),
      list: ['a', 1, null],
      map: { k: 'v', n: { deep: false } },
    };
    // An own `__proto__` key, not a prototype swap.
    Object.defineProperty(expected, '__proto__', { value: 'not a prototype', enumerable: true, writable: true, configurable: true });
    expect(s!.attributes).toEqual(expected);
    expect(Object.getPrototypeOf(s!.attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(s!.attributes, '__proto__')?.value).toBe('not a prototype');
  });

  it('later duplicates of an attribute key win', () => {
    const [s] = decodeTraces(traceRequest(span(ld(9, kvString('k', 'first')), ld(9, kvString('k', 'second')))), 'otlp_proto');
    expect(s!.attributes.k).toBe('second');
  });
  it('reused input buffers never leak into later results (interned keys are copied)', () => {
    const data = traceRequest(span(ld(9, kvString('key.one', 'v1'))));
    const first = decodeTraces(data, 'otlp_proto')[0]!;
    const at = Buffer.from(data).indexOf('key.one');
    data.set(new TextEncoder().encode('key.two'), at);
    const second = decodeTraces(data, 'otlp_proto')[0]!;
    expect(Object.keys(first.attributes)).toEqual(['key.one']);
    expect(Object.keys(second.attributes)).toEqual(['key.two']);
    expect(Object.keys(decodeTraces(traceRequest(span(ld(9, kvString('key.one', 'v1')))), 'otlp_proto')[0]!.attributes)).toEqual(['key.one']);
  });
});

describe('protobuf traces: malformed input', () => {
  it('names a wrong trace id length and where it is', () => {
    const reason = reasonOf(() => decodeTraces(traceRequest(span(), concat(ld(1, raw(1, 2, 3, 4, 5, 6, 7)), ld(2, hexBytes(SPAN_ID)))), 'otlp_proto'));
    expect(reason).toBe('trace_id must be 16 bytes, got 7 in ExportTraceServiceRequest.resource_spans[0].scope_spans[0].spans[1]');
  });

  it('requires span_id and trace_id', () => {
    expect(reasonOf(() => decodeTraces(traceRequest(ld(1, hexBytes(TRACE_ID))), 'otlp_proto'))).toMatch(/^span_id must be 8 bytes, got 0/);
    expect(reasonOf(() => decodeTraces(traceRequest(ld(2, hexBytes(SPAN_ID))), 'otlp_proto'))).toMatch(/^trace_id must be 16 bytes, got 0/);
  });

  it('validates link ids and names the link', () => {
    const link = ld(13, ld(1, hexBytes(TRACE_ID)), ld(2, raw(1, 2, 3)));
    expect(reasonOf(() => decodeTraces(traceRequest(span(link)), 'otlp_proto'))).toBe(
      'span_id must be 8 bytes, got 3 in ExportTraceServiceRequest.resource_spans[0].scope_spans[0].spans[0].links[0]',
    );
  });

  it('reports a truncated varint with its byte offset', () => {
    const reason = reasonOf(() => decodeTraces(concat(traceRequest(span()), raw(0x08, 0x80)), 'otlp_proto'));
    expect(reason).toMatch(/^truncated varint at byte \d+ in ExportTraceServiceRequest$/);
  });

  it('reports a length running past its enclosing message', () => {
    const good = traceRequest(span(str(5, 'a longer name')));
    const reason = reasonOf(() => decodeTraces(good.subarray(0, good.length - 3), 'otlp_proto'));
    expect(reason).toMatch(/^length \d+ at byte \d+ runs past the end of its enclosing message \(byte \d+\) in ExportTraceServiceRequest$/);
    // Inside a message whose own length is intact, the path names the innermost message.
    const inner = ld(1, ld(2, ld(2, concat(ld(1, hexBytes(TRACE_ID)), raw((5 << 3) | 2, 50, 0x61)))));
    expect(reasonOf(() => decodeTraces(inner, 'otlp_proto'))).toMatch(/in ExportTraceServiceRequest\.resource_spans\[0\]\.scope_spans\[0\]\.spans\[0\]$/);
  });

  it('rejects invalid wire types, field number 0, out-of-range enums and over-long varints', () => {
    expect(reasonOf(() => decodeTraces(raw((1 << 3) | 7), 'otlp_proto'))).toMatch(/^unexpected wire type 7 at byte 1/);
    expect(reasonOf(() => decodeTraces(raw(0x00, 0x00), 'otlp_proto'))).toMatch(/^invalid field number 0 at byte 0/);
    expect(reasonOf(() => decodeTraces(traceRequest(span(varint(6, 9))), 'otlp_proto'))).toMatch(/^kind must be a SpanKind 0\.\.5, got 9 in .*spans\[0\]$/);
    expect(reasonOf(() => decodeTraces(traceRequest(span(ld(15, varint(3, 3)))), 'otlp_proto'))).toMatch(/^code must be a StatusCode 0\.\.2, got 3 in .*spans\[0\]\.status$/);
    expect(reasonOf(() => decodeTraces(raw(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 'otlp_proto'))).toMatch(/^varint longer than 10 bytes/);
  });

  it('a length of 2^32 or more is rejected, not wrapped to its low 32 bits; a padded (non-minimal) length is fine', () => {
    const inner = traceRequest(span()).subarray(2); // the ResourceSpans payload (its length fits one byte)
    expect(inner.length).toBeLessThan(128);
    const lengthVarint = (low: number, high: number[]) => raw(0x80 | low, 0x80, 0x80, 0x80, ...high);
    // 2^32 + inner.length: read as inner.length, the request decoded as if it were valid
    const wrapped = concat(raw(0x0a), lengthVarint(inner.length, [0x10]), inner);
    expect(reasonOf(() => decodeTraces(wrapped, 'otlp_proto'))).toMatch(/^length of 2\^32 or more at byte 1 runs past the end/);
    const beyond = concat(raw(0x0a), lengthVarint(inner.length, [0x80, 0x01]), inner);
    expect(reasonOf(() => decodeTraces(beyond, 'otlp_proto'))).toMatch(/^length of 2\^32 or more at byte 1/);
    const padded = concat(raw(0x0a), lengthVarint(inner.length, [0x80, 0x00]), inner);
    expect(decodeTraces(padded, 'otlp_proto')).toHaveLength(1);
  });

  it('a bool AnyValue is true for any non-zero varint, also one whose low 32 bits are zero', () => {
    const boolOf = (...v: number[]) => decodeTraces(traceRequest(span(ld(9, kv('b', raw(0x10, ...v))))), 'otlp_proto')[0]!.attributes.b;
    expect(boolOf(0x80, 0x80, 0x80, 0x80, 0x10)).toBe(true); // 2^32
    expect(boolOf(0x01)).toBe(true);
    expect(boolOf(0x00)).toBe(false);
    expect(boolOf(0x80, 0x00)).toBe(false);
  });

  it('rejects unterminated and absurdly nested groups', () => {
    expect(reasonOf(() => decodeTraces(group(5, varint(1, 1)).subarray(0, 3), 'otlp_proto'))).toMatch(/truncated varint/);
    let nested: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 40; i++) nested = group(5, nested);
    expect(reasonOf(() => decodeTraces(nested, 'otlp_proto'))).toMatch(/^groups nested deeper than 32/);
  });

  it('rejects AnyValue nesting deeper than 64 instead of overflowing the stack', () => {
    let value = str(1, 'leaf');
    for (let i = 0; i < 100; i++) value = ld(5, ld(1, value));
    const reason = reasonOf(() => decodeTraces(traceRequest(span(ld(9, kv('deep', value)))), 'otlp_proto'));
    expect(reason).toMatch(/^AnyValue nested deeper than 64 in .*spans\[0\]\.attributes\[0\](\.array_value\.values\[0\])+$/);
  });

  it('rejects a string passed as otlp_proto and an unknown encoding', () => {
    expect(reasonOf(() => decodeTraces('{"resourceSpans":[]}', 'otlp_proto'))).toMatch(/otlp_proto needs bytes/);
    expect(reasonOf(() => decodeTraces(new Uint8Array(0), 'otlp_xml' as never))).toMatch(/unknown encoding "otlp_xml"/);
    expect(reasonOf(() => decodeTraces(null as never, 'otlp_json'))).toMatch(/otlp_json needs a string or UTF-8 bytes, got null/);
    expect(reasonOf(() => decodeLogs(undefined as never, 'otlp_proto'))).toMatch(/otlp_proto needs bytes \(Uint8Array\), got undefined/);
  });
});

describe('protobuf logs', () => {
  it('decodes every LogRecord field including event_name (12)', () => {
    const record = concat(
      fixed64(1, 1_000_000_000_123n),
      fixed64(11, 2_000_000_000_456n),
      varint(2, 17),
      str(3, 'ERROR'),
      ld(5, ld(6, ld(1, kvString('verdict', 'fail')))),
      ld(6, kv('gen_ai.evaluation.score.value', double(4, 0))),
      varint(7, 3),
      fixed32(8, 1),
      ld(9, hexBytes(TRACE_ID)),
      ld(10, hexBytes(SPAN_ID)),
      str(12, 'gen_ai.evaluation.result'),
      str(99, 'unknown'),
    );
    const [log] = decodeLogs(logsRequest(record), 'otlp_proto');
    expect(log).toMatchObject({
      timeUnixNano: 1_000_000_000_123n,
      observedTimeUnixNano: 2_000_000_000_456n,
      severityNumber: 17,
      severityText: 'ERROR',
      body: { verdict: 'fail' },
      attributes: { 'gen_ai.evaluation.score.value': 0 },
      eventName: 'gen_ai.evaluation.result',
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      flags: 1,
    });
  });

  it('treats absent, empty or all-zero ids as undefined, and an empty body as no body', () => {
    const [a, b] = decodeLogs(logsRequest(ld(5), concat(ld(9, new Uint8Array(16)), ld(10, new Uint8Array(0)))), 'otlp_proto');
    expect([a!.traceId, a!.spanId, a!.body, a!.eventName]).toEqual([undefined, undefined, undefined, undefined]);
    expect([b!.traceId, b!.spanId]).toEqual([undefined, undefined]);
  });

  it('names a wrong trace id length on a log record', () => {
    expect(reasonOf(() => decodeLogs(logsRequest(ld(9, raw(1, 2, 3, 4, 5, 6, 7))), 'otlp_proto'))).toBe(
      'trace_id must be 16 bytes or empty, got 7 in ExportLogsServiceRequest.resource_logs[0].scope_logs[0].log_records[0]',
    );
  });
});
