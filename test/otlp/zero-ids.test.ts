/**
 * A span whose trace id or span id is all zeros is invalid in OTLP, as one of the wrong length is
 * (trace.proto: "An ID with all zeroes OR of length other than 16 bytes is considered invalid"):
 * it fails to decode with a reason — the partial decoder (OTLP receivers) rejects that span alone,
 * the strict one (Kafka records) the record, for the dead-letter topic. Taken as ids, every run sent
 * with trace id 0…0 was one episode, credited as one, and the spans of a trace after its first with
 * span id 0…0 were dropped as duplicates of it.
 */
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeTraces, decodeTracesPartial } from '../../src/otlp/index.js';
import { reasonOf } from './decode-reason.js';
import { concat, hexBytes, ld, str, traceRequest } from './proto-wire.js';

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const TRACE = '5b8efff798038103d269b633813fc60c';

const protoSpan = (traceId: string, spanId: string, name: string) => concat(ld(1, hexBytes(traceId)), ld(2, hexBytes(spanId)), str(5, name));
const jsonRequest = (...spans: Array<[string, string, string]>) =>
  JSON.stringify({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 's' }, spans: spans.map(([traceId, spanId, name]) => ({ traceId, spanId, name, kind: 1 })) }] }] });

describe('all-zero span ids', () => {
  it('protobuf: a span with trace id or span id 0…0 fails with a reason; alone in the partial decoder', () => {
    expect(reasonOf(() => decodeTraces(traceRequest(protoSpan(ZERO_TRACE, 'eee19b7ec3c1b174', 'a')), 'otlp_proto'))).toBe(
      'trace_id is all zeros, an invalid trace id in OTLP: a span needs the non-zero id of its trace in ExportTraceServiceRequest.resource_spans[0].scope_spans[0].spans[0]',
    );
    expect(reasonOf(() => decodeTraces(traceRequest(protoSpan(TRACE, ZERO_SPAN, 'a')), 'otlp_proto'))).toMatch(/^span_id is all zeros, an invalid span id in OTLP/);
    const partial = decodeTracesPartial(traceRequest(protoSpan(TRACE, ZERO_SPAN, 'a'), protoSpan(TRACE, 'eee19b7ec3c1b174', 'b'), protoSpan(ZERO_TRACE, 'eee19b7ec3c1b175', 'c')), 'otlp_proto');
    expect(partial.items.map((s) => s.name)).toEqual(['b']);
    expect(partial.rejected).toBe(2);
  });

  it('OTLP/JSON: the same', () => {
    expect(reasonOf(() => decodeTraces(jsonRequest([ZERO_TRACE, 'eee19b7ec3c1b174', 'a']), 'otlp_json'))).toBe(
      'traceId is all zeros, an invalid trace id in OTLP: a span needs the non-zero id of its trace in ExportTraceServiceRequest.resourceSpans[0].scopeSpans[0].spans[0]',
    );
    const partial = decodeTracesPartial(jsonRequest([TRACE, ZERO_SPAN, 'a'], [TRACE, 'eee19b7ec3c1b174', 'b']), 'otlp_json');
    expect(partial.items.map((s) => s.name)).toEqual(['b']);
    expect(partial.reasons[0]).toMatch(/^spanId is all zeros, an invalid span id in OTLP/);
  });

  it('two runs sent with trace id 0…0 are not assembled into one episode', () => {
    const asm = new EpisodeAssembler({});
    for (const run of ['eee19b7ec3c1b174', 'fff19b7ec3c1b174']) asm.addSpans(decodeTracesPartial(traceRequest(protoSpan(ZERO_TRACE, run, `run ${run}`)), 'otlp_proto').items);
    expect(asm.flush('shutdown')).toEqual([]); // one episode of both runs' spans without the fix
  });
});
