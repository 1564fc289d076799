import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SpanConverter } from '../../src/inprocess/convert.js';
import { SpanSchema, LogRecordSchema } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, SCENARIO_CONVENTIONS } from '../../src/scenarios/index.js';

describe('ReadableSpan → Span conversion', () => {
  for (const convention of SCENARIO_CONVENTIONS) {
    it(`${convention}: equals what the OTLP decoder reads from the SDK's own serialization`, async () => {
      const run = await generateScenario({ kind: 'error-retry', convention, seed: 2 });
      const converter = new SpanConverter();
      const direct = run.spans.map((s) => converter.span(s));
      for (const s of direct) SpanSchema.parse(s);
      const decoded = decodeTraces(run.tracesProto, 'otlp_proto');
      expect(direct).toEqual(decoded);
      // Resource and scope are shared by reference, like the decoders do.
      expect(new Set(direct.map((s) => s.resource)).size).toBe(1);
      expect(new Set(direct.map((s) => s.scope)).size).toBe(1);
      // Exception events, links and error status survive.
      expect(direct.some((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
      expect(direct.some((s) => s.links.length > 0)).toBe(true);
      expect(direct.filter((s) => s.status.code === 2)).toHaveLength(1);
    });
  }

  it('spans of the OpenTelemetry JS SDK 1.x line (parentSpanId, instrumentationLibrary) convert as the 2.x ones', async () => {
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 3 });
    // sdk-trace-base 1.x's ReadableSpan: 2.x renamed parentSpanId → parentSpanContext and
    // instrumentationLibrary → instrumentationScope; every other member is the same
    const v1 = run.spans.map((s) => ({
      name: s.name,
      kind: s.kind,
      spanContext: () => s.spanContext(),
      ...(s.parentSpanContext ? { parentSpanId: s.parentSpanContext.spanId } : {}),
      startTime: s.startTime,
      endTime: s.endTime,
      status: s.status,
      attributes: s.attributes,
      links: s.links,
      events: s.events,
      duration: s.duration,
      ended: s.ended,
      resource: s.resource,
      instrumentationLibrary: s.instrumentationScope,
      droppedAttributesCount: s.droppedAttributesCount,
      droppedEventsCount: s.droppedEventsCount,
      droppedLinksCount: s.droppedLinksCount,
    }));
    expect(v1.filter((s) => s.parentSpanId !== undefined).length).toBeGreaterThan(0);
    const converted = v1.map((s) => new SpanConverter().span(s as unknown as ReadableSpan));
    expect(converted).toEqual(run.spans.map((s) => new SpanConverter().span(s)));
    expect(converted).toEqual(decodeTraces(run.tracesProto, 'otlp_proto'));
  });

  it('converts SDK log records like the logs decoder', async () => {
    const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 2 });
    const converter = new SpanConverter();
    const direct = run.logRecords.map((r) => converter.logRecord(r));
    for (const r of direct) LogRecordSchema.parse(r);
    expect(direct).toEqual(decodeLogs(run.logsProto, 'otlp_proto'));
  });
});
