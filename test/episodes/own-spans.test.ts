import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { SELF_TRACER_NAME } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { assemblerObservations } from '../../src/telemetry/self-metrics.js';
import { recordRuns } from './sdk.js';

/** agent-credit's self-tracing span as its tracer records it, through the OTLP serializer and our decoder (a collector forwarding it into the input). */
function ownSpan() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.getTracer(SELF_TRACER_NAME).startSpan('agent_credit.credit_episode', { attributes: { 'agent_credit.episode.id': 'x' } }).end();
  return decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto');
}

describe("agent-credit's own spans as input", () => {
  it('are ignored and counted: they never open an episode', () => {
    const asm = new EpisodeAssembler({});
    const [run] = recordRuns([{}]);
    const own = ownSpan();
    expect(own).toHaveLength(1);
    asm.addSpans([...own, ...run!]);
    const closed = asm.flush('shutdown');
    expect(closed.map((e) => e.traceIds)).toEqual([[run![0]!.traceId]]);
    expect(closed[0]!.spans).toHaveLength(run!.length);
    expect(asm.stats()).toMatchObject({ ownSpans: 1, spans: run!.length });
    expect(assemblerObservations(asm.stats()).ownSpans).toBe(1);
  });
});
