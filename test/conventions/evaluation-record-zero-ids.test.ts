/**
 * An evaluation record whose trace_id (or span_id) is all zeros names no trace: a judge that took it
 * from an invalid span context (it evaluated outside any span: OpenTelemetry's INVALID_SPAN_CONTEXT)
 * sends 0…0. OTLP reads a log record's all-zero ids as none; records were taken at their word —
 * accepted, and never joined: with a response id, counted unjoinable (no span records that
 * response in trace 0…0); with nothing else, held until pendingEvaluationTtlMs and expired.
 */
import { describe, expect, it } from 'vitest';
import { parseEvaluationRecords } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { evaluationsFromInput } from '../../src/inprocess/evaluation-input.js';
import type { Span } from '../../src/model/telemetry.js';

const TRACE = 'ef'.repeat(16);
const ZERO_TRACE = '0'.repeat(32);
const received = { receivedAtUnixNano: 1_795_575_754_000_000_000n };
const span = (n: number, attributes: Span['attributes']): Span => ({
  traceId: TRACE,
  spanId: (n + 1).toString(16).padStart(16, '0'),
  ...(n > 0 ? { parentSpanId: '0000000000000001' } : {}),
  name: String(attributes['gen_ai.operation.name']),
  kind: 1,
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  attributes,
  events: [],
  links: [],
  status: { code: 0 },
  resource: { attributes: {} },
  scope: { name: 'test' },
});

describe('evaluation records with an all-zero trace_id', () => {
  it('a record naming a response id and trace_id 0…0 joins the span that recorded the response', () => {
    const asm = new EpisodeAssembler({});
    asm.addSpans([span(0, { 'gen_ai.operation.name': 'invoke_agent' }), span(1, { 'gen_ai.operation.name': 'chat', 'gen_ai.response.id': 'chatcmpl-123' })]);
    const { evaluations, errors } = parseEvaluationRecords(JSON.stringify({ trace_id: ZERO_TRACE, span_id: '0'.repeat(16), response_id: 'chatcmpl-123', name: 'relevance', score: 0.2 }), received);
    expect(errors).toEqual([]);
    asm.addEvaluations(evaluations);
    expect(asm.stats()).toMatchObject({ evaluations: 1, evaluationsJoinedByResponseId: 1, unjoinableEvaluations: 0 }); // unjoinable 1, joined 0 without the fix
    expect(asm.flush('shutdown')[0]!.evaluations.map((e) => [e.traceId, e.spanId])).toEqual([[TRACE, '0000000000000002']]);
  });

  it('a record naming nothing but trace_id 0…0 is refused with the reason (it was accepted, then expired unjoined)', () => {
    const { evaluations, errors } = parseEvaluationRecords(JSON.stringify({ trace_id: ZERO_TRACE, name: 'task_success', score: 1 }), received);
    expect(evaluations).toEqual([]);
    expect(errors).toEqual([{ index: 0, message: 'trace_id: needs trace_id, conversation_id or response_id to join it to an episode (a trace_id of all zeros is none: an invalid span context)' }]);
  });

  it('in-process addEvaluations reads them the same way', () => {
    expect(evaluationsFromInput([{ name: 'relevance', score: 0.2, traceId: ZERO_TRACE, responseId: 'chatcmpl-123' }], 0).map((e) => [e.traceId, e.responseId])).toEqual([[undefined, 'chatcmpl-123']]);
    expect(() => evaluationsFromInput([{ name: 'task_success', score: 1, traceId: ZERO_TRACE }], 0)).toThrow(/needs traceId \(32 hex\), conversationId or responseId to join it to an episode \(a traceId of all zeros is none/);
  });
});
