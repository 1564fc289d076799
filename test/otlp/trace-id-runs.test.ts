/**
 * Proto decoding reuses the previous span's trace id string when the bytes repeat
 * (src/otlp/proto/ids.ts): spans of interleaved traces (A, A, B, A, C, B) must still each get
 * their own trace id, from Buffers (native hex) and plain Uint8Arrays (lookup-table hex) alike.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../src/otlp/index.js';

describe('trace ids of interleaved traces', () => {
  it('each span keeps its own trace id when traces alternate within one request', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('t');
    const roots = ['A', 'B', 'C'].map((n) => tracer.startSpan(`root ${n}`));
    const child = (i: number, name: string) => tracer.startSpan(name, {}, trace.setSpan(context.active(), roots[i]!)).end();
    for (const [i, name] of [[0, 'a1'], [0, 'a2'], [1, 'b1'], [0, 'a3'], [2, 'c1'], [1, 'b2']] as const) child(i, name);
    for (const r of roots) r.end();
    const spans = exporter.getFinishedSpans();
    const expected = new Map(spans.map((s) => [s.spanContext().spanId, s.spanContext().traceId]));
    expect(new Set(expected.values()).size).toBe(3);
    const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
    for (const input of [Buffer.from(bytes), new Uint8Array(bytes)]) {
      const decoded = decodeTraces(input, 'otlp_proto');
      expect(decoded).toHaveLength(spans.length);
      for (const s of decoded) expect(s.traceId).toBe(expected.get(s.spanId));
    }
  });
});
