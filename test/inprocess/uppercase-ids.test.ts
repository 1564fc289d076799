import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CreditEventSchema, type CreditEvent } from '../../src/events/schemas.js';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
import { SpanConverter } from '../../src/inprocess/convert.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { generateScenario } from '../../src/scenarios/index.js';

// The OTel API takes ids in either case (isValidTraceId: /^[0-9a-f]{32}$/i), and the B3 and Jaeger
// propagators pass a remote parent's ids on as the header had them: a span continuing a request whose
// X-B3-TraceId / uber-trace-id was upper case has an upper-case trace id (its children too). The OTLP
// exporters write bytes, so the collector path sees them lower case.
const upper = <T extends { traceId: string; spanId: string }>(c: T): T => ({ ...c, traceId: c.traceId.toUpperCase(), spanId: c.spanId.toUpperCase() });

function upperSpan(s: ReadableSpan): ReadableSpan {
  const ctx = upper(s.spanContext());
  return Object.create(s, {
    spanContext: { value: () => ctx },
    parentSpanContext: { value: s.parentSpanContext ? upper(s.parentSpanContext) : undefined },
    links: { value: s.links.map((l) => ({ ...l, context: upper(l.context) })) },
  }) as ReadableSpan;
}

function upperLog(r: ReadableLogRecord): ReadableLogRecord {
  return Object.create(r, { spanContext: { value: r.spanContext ? upper(r.spanContext) : undefined } }) as ReadableLogRecord;
}

describe('in-process spans with upper-case ids (B3 / Jaeger propagated parent)', () => {
  it('are converted to the lower-case ids the OTLP decoders read', async () => {
    const run = await generateScenario({ kind: 'error-retry', convention: 'genai', seed: 2 });
    const converter = new SpanConverter();
    const direct = run.spans.map((s) => converter.span(upperSpan(s)));
    expect(direct).toEqual(decodeTraces(run.tracesProto, 'otlp_proto'));
    const log = converter.logRecord(upperLog(run.logRecords[0]!));
    expect(log.traceId).toBe(run.traceId);
  });

  it('are credited, with events that validate against the published schema', async () => {
    const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 3 });
    const received: CreditEvent[][] = [];
    const errors: unknown[] = [];
    const processor = await createCreditSpanProcessor({ tickIntervalMs: 60_000, onCredit: (events) => void received.push(events), onError: (e) => void errors.push(e) });
    for (const span of run.spans) processor.onEnd(upperSpan(span));
    for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(upperLog(record) as never);
    await processor.forceFlush();
    await processor.shutdown();
    expect(errors).toEqual([]);
    expect(received).toHaveLength(1);
    for (const e of received[0]!) CreditEventSchema.parse(e);
    expect(received[0]!.find((e) => e.event_type === 'episode_credit')!.trace_ids).toEqual([run.traceId]);
  });

  it('meet a verdict given to addEvaluations with the trace id the app has', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3 });
    const received: CreditEvent[][] = [];
    const processor = await createCreditSpanProcessor({ tickIntervalMs: 60_000, onCredit: (events) => void received.push(events) });
    for (const span of run.spans) processor.onEnd(upperSpan(span));
    processor.addEvaluations([{ traceId: run.traceId.toUpperCase(), name: 'task_success', score: 1 }]);
    await processor.forceFlush();
    await processor.shutdown();
    const credit = received.flat().find((e) => e.event_type === 'episode_credit');
    expect(credit?.trace_ids).toEqual([run.traceId]);
  });
});
