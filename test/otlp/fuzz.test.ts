/**
 * Fuzzing: every input either decodes (to schema-valid records) or throws OtlpDecodeError with a
 * non-empty reason — never a RangeError/TypeError or a hang. Inputs: random bytes, valid requests
 * (real SDK + serializers, recorded fixtures) mutated by bit flips / truncations / insertions /
 * deletions, random JSON values, and valid JSON requests with a random subtree replaced.
 * ~11,000 cases in total.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogRecordSchema, SpanSchema } from '../../src/model/telemetry.js';
import { OtlpDecodeError, decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { recordLogs, recordSpans, serializeLogs, serializeSpans, withScopeAttributes, type Encoding } from './sdk-telemetry.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

type Signal = 'traces' | 'logs';

function decodeChecked(signal: Signal, data: Uint8Array | string, encoding: Encoding): void {
  let records: readonly object[];
  try {
    records = signal === 'traces' ? decodeTraces(data, encoding) : decodeLogs(data, encoding);
  } catch (e) {
    if (!(e instanceof OtlpDecodeError)) throw new Error(`non-OtlpDecodeError escaped: ${String(e)}`, { cause: e });
    expect(e.reason.length).toBeGreaterThan(0);
    expect(e.retriable).toBe(false);
    return;
  }
  // Whatever decodes must honour the model's invariants (hex ids, bigint times, status/kind ranges).
  const schema = signal === 'traces' ? SpanSchema : LogRecordSchema;
  for (const r of records) {
    const parsed = schema.safeParse(r);
    if (!parsed.success) throw new Error(`decoded record violates the model: ${parsed.error.message}`);
  }
}

const FIXTURES = `${AGENTS_SDK_FIXTURES}/kafka`;
function fixtureRecords(encoding: Encoding, topic: string): Uint8Array[] {
  const dir = join(FIXTURES, encoding, topic);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .slice(0, 3)
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

const sdkSpans = withScopeAttributes(recordSpans());
const sdkLogs = recordLogs();
const SEEDS: Record<Signal, Record<Encoding, Uint8Array[]>> = {
  traces: {
    otlp_proto: [serializeSpans(sdkSpans, 'otlp_proto'), ...fixtureRecords('otlp_proto', 'otlp_spans')],
    otlp_json: [serializeSpans(sdkSpans, 'otlp_json'), ...fixtureRecords('otlp_json', 'otlp_spans')],
  },
  logs: {
    otlp_proto: [serializeLogs(sdkLogs, 'otlp_proto'), ...fixtureRecords('otlp_proto', 'otlp_logs')],
    otlp_json: [serializeLogs(sdkLogs, 'otlp_json'), ...fixtureRecords('otlp_json', 'otlp_logs')],
  },
};

type Mutation =
  | { kind: 'flip'; at: number[]; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 10 }) }),
);

/** Applies a mutation; positions are taken modulo the length so every case hits the message. */
function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  const n = seed.length;
  switch (m.kind) {
    case 'flip': {
      const out = seed.slice();
      for (const a of m.at) out[a % n]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return seed.subarray(0, m.at % n);
    case 'insert': {
      const at = m.at % (n + 1);
      const out = new Uint8Array(n + m.bytes.length);
      out.set(seed.subarray(0, at));
      out.set(m.bytes, at);
      out.set(seed.subarray(at), at + m.bytes.length);
      return out;
    }
    case 'delete': {
      const at = m.at % n;
      const out = new Uint8Array(n - Math.min(m.length, n - at));
      out.set(seed.subarray(0, at));
      out.set(seed.subarray(at + m.length), at);
      return out;
    }
    case 'overwrite': {
      const out = seed.slice();
      out.set(m.bytes.subarray(0, n - (m.at % n)), m.at % n);
      return out;
    }
  }
}

/** Replaces the subtree at a random position (chosen by `pick`) of a parsed JSON document. */
function replaceSubtree(doc: unknown, pick: number, replacement: unknown): unknown {
  const slots: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (slots.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) slots.push({ parent: v as Record<string, unknown>, key: k }), walk(x);
  };
  walk(doc);
  if (slots.length === 0) return replacement;
  const slot = slots[pick % slots.length]!;
  (slot.parent as Record<string | number, unknown>)[slot.key] = replacement;
  return doc;
}

const signals: Signal[] = ['traces', 'logs'];

describe('fuzz: protobuf decoders', () => {
  for (const signal of signals) {
    it(`${signal}: random bytes (1,500 cases)`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeChecked(signal, bytes, 'otlp_proto')),
        { numRuns: 1500 },
      );
    });

    it(`${signal}: mutated valid requests (2,000 cases)`, () => {
      const seeds = SEEDS[signal].otlp_proto;
      fc.assert(
        fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
          let data = seeds[i]!;
          for (const m of ms) if (data.length > 0) data = mutate(data, m);
          decodeChecked(signal, data, 'otlp_proto');
        }),
        { numRuns: 2000 },
      );
    });
  }
});

describe('fuzz: OTLP/JSON decoders', () => {
  for (const signal of signals) {
    it(`${signal}: random JSON values (750 cases)`, () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => decodeChecked(signal, JSON.stringify(value) ?? 'null', 'otlp_json')),
        { numRuns: 750 },
      );
    });

    it(`${signal}: valid requests with a random subtree replaced (1,000 cases)`, () => {
      const docs = SEEDS[signal].otlp_json.map((b) => new TextDecoder().decode(b));
      fc.assert(
        fc.property(fc.nat(docs.length - 1), fc.nat(), fc.jsonValue({ maxDepth: 3 }), (i, pick, replacement) => {
          const doc = replaceSubtree(JSON.parse(docs[i]!), pick, replacement);
          decodeChecked(signal, JSON.stringify(doc), 'otlp_json');
        }),
        { numRuns: 1000 },
      );
    });

    it(`${signal}: byte-mutated JSON text (500 cases)`, () => {
      const seeds = SEEDS[signal].otlp_json;
      fc.assert(
        fc.property(fc.nat(seeds.length - 1), mutation, (i, m) => decodeChecked(signal, mutate(seeds[i]!, m), 'otlp_json')),
        { numRuns: 500 },
      );
    });
  }
});
