/**
 * The credit queue is full at runtime.creditQueueMaxBytes of closed episodes (their spans, as the
 * assembler estimates them), not only at runtime.creditQueueMax of them: by count alone, 256 large
 * runs — thousands of spans with their messages, up to episodes.maxBytesPerEpisode (32 MiB) each —
 * were held in the heap while credit fell behind (a backlog, a slow judge). Spans from the real
 * OTel SDK, decoded by src/otlp.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { ReceiverBusyError } from '../../src/sources/otlp-http/index.js';

/** `n` one-trace requests, each a tool call whose result is `bytes` long. */
function largeRuns(n: number, bytes: number): Span[][] {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('fleet');
  const out: Span[][] = [];
  for (let i = 0; i < n; i++) {
    tracer.startSpan('execute_tool read_file', { root: true, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'read_file', 'gen_ai.tool.call.result': `${i}`.padEnd(bytes, '.') } }).end();
    out.push(decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto'));
    exporter.reset();
  }
  return out;
}

const MiB = 1024 * 1024;

describe('LocalPipeline: the credit queue by bytes', () => {
  it('answers 503 naming creditQueueMaxBytes once the queued episodes hold that many bytes, far below creditQueueMax', () => {
    const pipeline = new LocalPipeline(
      { creditQueueMax: 256, creditQueueMaxBytes: 2 * MiB, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      {
        // one open episode: each new run evicts the previous one into the queue
        assembler: new EpisodeAssembler({ maxOpenEpisodes: 1 }),
        processEpisode: () => new Promise(() => undefined), // credit never finishes: the queue only grows
        evaluationsFromLogs,
        sinks: [],
      },
    );
    const runs = largeRuns(8, MiB);
    let refused: unknown;
    let taken = 0;
    for (const run of runs) {
      try {
        pipeline.onSpans(run);
        taken++;
      } catch (err) {
        refused = err;
        break;
      }
    }
    // two 1-MiB runs queued (the third was open, the fourth request refused); before: all 8 taken
    expect(refused).toBeInstanceOf(ReceiverBusyError);
    expect((refused as Error).message).toMatch(/credit queue full \(2 episodes waiting.*MiB of spans, runtime\.creditQueueMaxBytes = 2\.0 MiB\)/);
    expect(taken).toBe(3);
    expect(pipeline.stats().pending).toBe(2);
  });

  it('refuses log records and evaluations too while the queue is full: a verdict taken while its spans were refused waited for them past pendingEvaluationTtlMs', () => {
    const pipeline = new LocalPipeline(
      { creditQueueMax: 1, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      { assembler: new EpisodeAssembler({ maxOpenEpisodes: 1 }), processEpisode: () => new Promise(() => undefined), evaluationsFromLogs, sinks: [] },
    );
    const [a, b, c] = largeRuns(3, 10);
    pipeline.onSpans(a!);
    pipeline.onSpans(b!); // a evicted into the queue: full
    expect(() => pipeline.onSpans(c!)).toThrow(ReceiverBusyError);
    const verdict = { name: 'task_success', score: 1, traceId: c![0]!.traceId, source: 'log-event' as const, timeUnixNano: 0n };
    // before: taken (200), held for spans the exporter was still retrying
    expect(() => pipeline.onEvaluations([verdict])).toThrow(/credit queue full \(1 episodes waiting, runtime\.creditQueueMax = 1/);
    expect(() => pipeline.onLogs([])).toThrow(ReceiverBusyError);
    expect(pipeline.stats().evaluationsIn).toBe(0);
  });

  it('replay waits for the queue to drain below creditQueueMaxBytes before taking the next run', async () => {
    let crediting = 0;
    let most = 0;
    const pipeline = new LocalPipeline(
      { creditQueueMax: 256, creditQueueMaxBytes: 2 * MiB, creditConcurrency: 4, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
      {
        assembler: new EpisodeAssembler({ maxOpenEpisodes: 1 }),
        processEpisode: async () => {
          most = Math.max(most, ++crediting);
          await new Promise((r) => setTimeout(r, 5));
          crediting--;
          return [];
        },
        evaluationsFromLogs,
        sinks: [],
      },
    );
    for (const run of largeRuns(8, MiB)) {
      await pipeline.feedSpans(run);
      expect(pipeline.stats().pending).toBeLessThanOrEqual(2); // before: all 8 queued (creditQueueMax 256)
    }
    await pipeline.stop();
    expect(pipeline.stats().episodesClosed).toBe(8);
    expect(most).toBeLessThanOrEqual(2); // never more than two runs' bytes in credit at once
  });
});
