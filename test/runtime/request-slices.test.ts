/**
 * One OTLP request is not bounded in traces: the receiver's credit-queue check before it let a
 * request of 200k one-span traces evict 190k episodes into the queue (security review). The
 * pipeline now takes a large request in slices of whole traces and answers the rest with 503 once
 * the queue is full. Spans from the real OTel SDK, decoded by src/otlp.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { ReceiverBusyError } from '../../src/sources/otlp-http/index.js';

function oneSpanTraces(n: number) {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('flood');
  for (let i = 0; i < n; i++) tracer.startSpan('invoke_agent a', { root: true, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' } }).end();
  return decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto');
}

describe('LocalPipeline.onSpans with a request of many traces', () => {
  it('stops taking a request once the credit queue is full: 503 for the rest, the queue stays near its limit', () => {
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      {
        assembler: new EpisodeAssembler({ maxOpenEpisodes: 100 }),
        processEpisode: () => new Promise(() => undefined), // credit never finishes: the queue only grows
        evaluationsFromLogs,
        sinks: [],
      },
    );
    const spans = oneSpanTraces(20_000);
    expect(() => pipeline.onSpans(spans)).toThrow(ReceiverBusyError);
    // before: no 503, and ~19,900 evicted episodes queued
    expect(pipeline.stats().pending).toBeLessThanOrEqual(16 + 2048 + 1);
    expect(pipeline.stats().spansIn).toBeLessThan(20_000);
  });

  it('a request under the slice size goes in one batch, as before', () => {
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      { assembler: new EpisodeAssembler({}), processEpisode: async () => [], evaluationsFromLogs, sinks: [] },
    );
    pipeline.onSpans(oneSpanTraces(500));
    expect(pipeline.stats().spansIn).toBe(500);
  });
});
