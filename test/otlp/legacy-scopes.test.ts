/**
 * Senders older than OTLP 0.15 (2022: old SDKs, collectors before ~v0.50) put a resource's
 * scopes in `instrumentation_library_spans` / `_logs` (field 1000; JSON
 * `instrumentationLibrarySpans` with `instrumentationLibrary`). They were decoded as empty
 * requests: every span and evaluation silently dropped. The requests here are the real SDK
 * serializers' output with the scope field renamed as those senders wrote it.
 */
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces, decodeTracesPartial } from '../../src/otlp/index.js';
import { concat, ld } from './proto-wire.js';
import { recordLogs, recordSpans, serializeLogs, serializeSpans } from './sdk-telemetry.js';

/** Top-level fields of a message as [field number, wire type, raw field bytes (tag included)]. */
function fields(bytes: Uint8Array): { no: number; payload?: Uint8Array; raw: Uint8Array }[] {
  const r = protobuf.Reader.create(bytes);
  const out: { no: number; payload?: Uint8Array; raw: Uint8Array }[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const t = r.uint32();
    if ((t & 7) === 2) {
      const payload = r.bytes();
      out.push({ no: t >>> 3, payload, raw: bytes.subarray(start, r.pos) });
    } else {
      r.skipType(t & 7);
      out.push({ no: t >>> 3, raw: bytes.subarray(start, r.pos) });
    }
  }
  return out;
}

/** Rewrites every Resource<X> (field 1 of the request): scope blocks (field 2) as field 1000; `keep` also keeps the field-2 copies. */
function legacyProto(request: Uint8Array, keep = false): Uint8Array {
  return concat(
    ...fields(request).map((f) =>
      f.no !== 1
        ? f.raw
        : ld(1, ...fields(f.payload!).flatMap((g) => (g.no === 2 ? [...(keep ? [g.raw] : []), ld(1000, g.payload!)] : [g.raw]))),
    ),
  );
}

function legacyJson(request: Uint8Array, signal: 'Spans' | 'Logs'): string {
  const req = JSON.parse(new TextDecoder().decode(request)) as Record<string, Record<string, unknown>[]>;
  for (const block of req[`resource${signal}`]!) {
    const scopes = block[`scope${signal}`] as Record<string, unknown>[];
    delete block[`scope${signal}`];
    block[`instrumentationLibrary${signal}`] = scopes.map(({ scope, ...rest }) => ({ instrumentationLibrary: scope, ...rest }));
  }
  return JSON.stringify(req);
}

describe('pre-0.15 OTLP: instrumentation library scopes', () => {
  const spans = recordSpans();
  const logs = recordLogs();

  it('proto traces and logs in field 1000 decode as their scope_spans / scope_logs form does', () => {
    const current = serializeSpans(spans, 'otlp_proto');
    const expected = decodeTraces(current, 'otlp_proto');
    expect(expected.length).toBeGreaterThan(3);
    expect(new Set(expected.map((s) => s.scope.name)).size).toBe(2);
    expect(decodeTraces(legacyProto(current), 'otlp_proto')).toEqual(expected);

    const currentLogs = serializeLogs(logs, 'otlp_proto');
    const expectedLogs = decodeLogs(currentLogs, 'otlp_proto');
    expect(expectedLogs.length).toBe(3);
    expect(decodeLogs(legacyProto(currentLogs), 'otlp_proto')).toEqual(expectedLogs);
  });

  it('JSON instrumentationLibrarySpans / instrumentationLibraryLogs decode as the current names do', () => {
    const current = serializeSpans(spans, 'otlp_json');
    const expected = decodeTraces(current, 'otlp_json');
    expect(decodeTraces(legacyJson(current, 'Spans'), 'otlp_json')).toEqual(expected);
    const currentLogs = serializeLogs(logs, 'otlp_json');
    expect(decodeLogs(legacyJson(currentLogs, 'Logs'), 'otlp_json')).toEqual(decodeLogs(currentLogs, 'otlp_json'));
  });

  it('a block carrying both forms (a sender writing both for compatibility) is read once, from scope_spans', () => {
    const current = serializeSpans(spans, 'otlp_proto');
    expect(decodeTraces(legacyProto(current, true), 'otlp_proto')).toEqual(decodeTraces(current, 'otlp_proto'));
  });

  it("a malformed span in a legacy block is reported under the legacy field's name", () => {
    const current = serializeSpans(spans.slice(0, 1), 'otlp_json');
    const req = JSON.parse(legacyJson(current, 'Spans')) as { resourceSpans: { instrumentationLibrarySpans: { spans: Record<string, unknown>[] }[] }[] };
    req.resourceSpans[0]!.instrumentationLibrarySpans[0]!.spans.push({ traceId: 'zz', spanId: 'also-bad' });
    const partial = decodeTracesPartial(JSON.stringify(req), 'otlp_json');
    expect(partial.items).toHaveLength(1);
    expect(partial.rejected).toBe(1);
    expect(partial.reasons.join(' ')).toContain('instrumentationLibrarySpans[0]');
  });
});
