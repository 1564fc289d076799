/**
 * The byte caps count what a span holds through its resource and scope, once per episode: one
 * span per request with a large resource held 590 MB in 40 open episodes under the caps
 * (security review). Spans from the real OTel JS SDK, through the OTLP serializer and our decoder.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeTraces } from '../../src/otlp/index.js';

function trial(spansPerTrace: number) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', 'k8s.big': 'x'.repeat(200_000) }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('t');
  const root = tracer.startSpan('invoke_agent a', { root: true });
  for (let i = 0; i < spansPerTrace - 1; i++) tracer.startSpan('chat', {}, trace.setSpan(context.active(), root)).end();
  root.end();
  return decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto');
}

describe('span bytes: shared resource and scope', () => {
  it('counts a large resource once per episode, not never and not per span', () => {
    const spans = trial(5);
    expect(new Set(spans.map((s) => s.resource)).size).toBe(1); // shared by reference
    const asm = new EpisodeAssembler({});
    asm.addSpans(spans);
    const { bufferedBytes } = asm.stats();
    expect(bufferedBytes).toBeGreaterThan(200_000); // before: ~2.5 KB for the five spans
    expect(bufferedBytes).toBeLessThan(2 * 200_000);
  });

  it('maxBytesPerEpisode closes an episode whose spans each bring a large resource of their own', () => {
    const asm = new EpisodeAssembler({ maxBytesPerEpisode: 1_000_000 });
    const [first] = trial(1);
    // the same trace, sent one span per request: each decode makes its own resource object
    for (let i = 0; i < 6; i++) asm.addSpans(trial(1).map((s) => ({ ...s, traceId: first!.traceId, spanId: `${i}`.padStart(16, 'a'), parentSpanId: i === 0 ? undefined : 'a'.repeat(15) + '0' })));
    expect(asm.stats().closed['max-bytes']).toBe(1);
  });
});
