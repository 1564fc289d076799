/**
 * Attribute records with more than 16 attributes are copied into V8's fast mode once decoded
 * (src/otlp/proto/common.ts `settledAttributes`): the copy must be the record the decoder built —
 * same own keys in the same order, later duplicates winning, a `__proto__` key an own data
 * property, Object.prototype as prototype — in both encodings, for spans and log records, on
 * either side of the threshold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attributes } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { concat, kvString, ld, logsRequest, span, traceRequest } from './proto-wire.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

/** What the attributes mean, built one defineProperty at a time (no fast/slow mode question). */
function reference(pairs: readonly (readonly [string, string])[]): Attributes {
  const out: Attributes = {};
  for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function expectSame(got: Attributes, want: Attributes): void {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) expect(Object.getOwnPropertyDescriptor(got, k)).toEqual(Object.getOwnPropertyDescriptor(want, k));
  expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
}

const key = fc.oneof(fc.constantFrom('__proto__', '7', '0', 'a.b', 'gen_ai.input.messages', 'constructor'), fc.string({ maxLength: 6 }).map((s) => `k.${s}`));
const pairs = fc.array(fc.tuple(key, fc.string({ maxLength: 4 })), { maxLength: 48 });

const jsonKv = (p: readonly (readonly [string, string])[]) => p.map(([k, v]) => ({ key: k, value: { stringValue: v } }));

describe('attribute records on either side of 16 attributes', () => {
  it('decode as the attributes mean, in both encodings, spans and log records', () => {
    fc.assert(
      fc.property(pairs, (p) => {
        const want = reference(p);
        expectSame(decodeTraces(traceRequest(span(...p.map(([k, v]) => ld(9, kvString(k, v))))), 'otlp_proto')[0]!.attributes, want);
        expectSame(decodeLogs(logsRequest(concat(...p.map(([k, v]) => ld(6, kvString(k, v))))), 'otlp_proto')[0]!.attributes, want);
        const spanJson = { traceId: TRACE_ID, spanId: SPAN_ID, name: 's', attributes: jsonKv(p) };
        expectSame(decodeTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [spanJson] }] }] }), 'otlp_json')[0]!.attributes, want);
        expectSame(decodeLogs(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: jsonKv(p) }] }] }] }), 'otlp_json')[0]!.attributes, want);
      }),
      { numRuns: 300 },
    );
  });
});
