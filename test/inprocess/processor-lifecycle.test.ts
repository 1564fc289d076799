import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { IngestError, OnCreditError, CreditSpanProcessor, type InProcessAssembler } from '../../src/inprocess/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { CloseReason, Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';
import { generateScenario } from '../../src/scenarios/index.js';

/**
 * Test double of the episode assembler (the real one lives in src/episodes): groups by trace id,
 * closes a trace on `tick()` once its root span ended and an evaluation arrived, and on `flush()`.
 */
class TraceAssembler implements InProcessAssembler {
  readonly open = new Map<string, { spans: Span[]; evaluations: Evaluation[] }>();
  /** Episode.bytes of a closed episode, per span. */
  bytesPerSpan = 0;
  addSpans(spans: readonly Span[]): void {
    for (const s of spans) this.entry(s.traceId).spans.push(s);
  }
  addEvaluations(evaluations: readonly Evaluation[]): void {
    for (const e of evaluations) this.entry(e.traceId!).evaluations.push(e);
  }
  tick(): Episode[] {
    return this.close((e) => e.evaluations.length > 0 && e.spans.some((s) => s.parentSpanId === undefined), 'evaluation-arrived');
  }
  flush(reason: CloseReason): Episode[] {
    return this.close(() => true, reason);
  }
  private entry(traceId: string) {
    let e = this.open.get(traceId);
    if (!e) this.open.set(traceId, (e = { spans: [], evaluations: [] }));
    return e;
  }
  private close(due: (e: { spans: Span[]; evaluations: Evaluation[] }) => boolean, reason: CloseReason): Episode[] {
    const out: Episode[] = [];
    for (const [id, e] of this.open) {
      if (!due(e)) continue;
      this.open.delete(id);
      out.push({ episodeId: id, keyMode: 'trace', traceIds: [id], spans: e.spans, evaluations: e.evaluations, closeReason: reason, openedAtMs: 0, closedAtMs: 0, correction: false, revision: 0, duplicateSpans: 0, lateSpans: 0, bytes: e.spans.length * this.bytesPerSpan, sources: [] });
    }
    return out;
  }
}

function setup(options: ConstructorParameters<typeof CreditSpanProcessor>[1] = {}, processEpisode?: (e: Episode) => Promise<never[]>) {
  const assembler = new TraceAssembler();
  const credited: Episode[] = [];
  const errors: unknown[] = [];
  const processor = new CreditSpanProcessor(
    {
      assembler,
      processEpisode: processEpisode ?? (async () => []),
      onCredit: (_events, episode) => void credited.push(episode),
      onError: (err) => void errors.push(err),
      evaluationsFromLogs,
    },
    { tickIntervalMs: 60_000, ...options },
  );
  return { assembler, processor, credited, errors };
}

describe('CreditSpanProcessor lifecycle', () => {
  it('registered on a TracerProvider and a LoggerProvider, credits an episode once its evaluation arrives', async () => {
    const { processor, credited } = setup();
    const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [processor] }).getTracer('app');
    const logger = new LoggerProvider({ processors: [processor.evaluationLogProcessor] }).getLogger('evaluator');
    const root = tracer.startSpan('invoke_agent helper', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'helper' } });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    tracer.startSpan('chat m', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat' } }, ctx).end();
    root.end();
    await processor.forceFlush();
    expect(credited).toHaveLength(0); // no evaluation yet: the episode stays open
    logger.emit({
      eventName: 'gen_ai.evaluation.result',
      attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 0.9, 'gen_ai.evaluation.score.label': 'pass' },
      context: trace.setSpanContext(ROOT_CONTEXT, root.spanContext()),
    });
    await processor.forceFlush();
    expect(credited).toHaveLength(1);
    expect(credited[0]!.spans.map((s) => s.name).sort()).toEqual(['chat m', 'invoke_agent helper']);
    expect(credited[0]!.evaluations[0]).toMatchObject({ score: 0.9, traceId: root.spanContext().traceId });
    expect(processor.stats()).toMatchObject({ spansReceived: 2, evaluationsReceived: 1, episodesWithoutCredit: 1, episodesCredited: 0, creditErrors: 0 }); // the fake credit emits no events
    await processor.shutdown();
    // an evaluation logged after shutdown is dropped and counted, as one given to addEvaluations is (it went uncounted)
    logger.emit({
      eventName: 'gen_ai.evaluation.result',
      attributes: { 'gen_ai.evaluation.name': 'task_success', 'gen_ai.evaluation.score.value': 0.2 },
      context: trace.setSpanContext(ROOT_CONTEXT, root.spanContext()),
    });
    expect(processor.stats()).toMatchObject({ evaluationsReceived: 1, evaluationsDropped: 1 });
  });

  it('content events logged between ticks stay within maxBufferedSpans (they grew the buffer without bound until the next tick)', async () => {
    const { processor } = setup({ maxBufferedSpans: 4 });
    const tracer = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [processor] }).getTracer('app');
    const logger = new LoggerProvider({ processors: [processor.evaluationLogProcessor] }).getLogger('openai');
    const llm = tracer.startSpan('chat m', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat' } });
    const ctx = trace.setSpan(ROOT_CONTEXT, llm);
    for (let i = 0; i < 20; i++) logger.emit({ eventName: 'gen_ai.user.message', body: { content: `message ${i}` }, context: ctx });
    expect(processor.stats().bufferedSpans).toBeLessThan(4);
    llm.end();
    await processor.shutdown();
  });

  it('shutdown closes and credits open episodes, waits for callbacks, then drops late spans', async () => {
    const { processor, credited } = setup();
    const run = await generateScenario({ kind: 'success', convention: 'openllmetry', seed: 4 });
    for (const s of run.spans) processor.onEnd(s);
    await processor.shutdown();
    expect(credited).toHaveLength(1);
    expect(credited[0]!.closeReason).toBe('shutdown');
    expect(credited[0]!.spans).toHaveLength(run.spans.length);
    processor.onEnd(run.spans[0]!);
    expect(processor.stats().spansDropped).toBe(1);
    await processor.shutdown(); // idempotent
    await processor.forceFlush(); // after shutdown: resolves
  });

  it('forceFlush can close open episodes when configured', async () => {
    const { processor, credited } = setup({ flushClosesEpisodes: true });
    const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 4 });
    for (const s of run.spans) processor.onEnd(s);
    await processor.forceFlush();
    expect(credited).toHaveLength(1);
    await processor.shutdown();
  });

  it('credit failures are reported to onError and counted, never thrown into the app', async () => {
    const { processor, credited, errors } = setup({}, async () => {
      throw new Error('credit engine exploded');
    });
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
    for (const s of run.spans) processor.onEnd(s);
    await processor.shutdown();
    expect(credited).toHaveLength(0);
    expect(errors.map(String)).toEqual(['Error: credit engine exploded']);
    expect(processor.stats().creditErrors).toBe(1);
  });

  it('an onCredit that throws is reported as OnCreditError (cause: its error), apart from credit failures', async () => {
    const errors: unknown[] = [];
    const processor = new CreditSpanProcessor(
      { assembler: new TraceAssembler(), processEpisode: async () => [{} as never], onCredit: () => { throw new Error('boom from onCredit'); }, onError: (err) => void errors.push(err), evaluationsFromLogs },
      { tickIntervalMs: 60_000 },
    );
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
    for (const s of run.spans) processor.onEnd(s);
    await processor.shutdown();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OnCreditError);
    expect(String(errors[0])).toBe('OnCreditError: onCredit threw: boom from onCredit');
    expect(String((errors[0] as Error).cause)).toBe('Error: boom from onCredit');
    expect(processor.stats()).toMatchObject({ episodesCredited: 1, onCreditErrors: 1, creditErrors: 0 });
  });

  it('onCreditTimeoutMs: an onCredit that never settles frees its slot after the limit, reported as OnCreditError; shutdown does not wait for it', async () => {
    const errors: unknown[] = [];
    const got: string[] = [];
    let calls = 0;
    const processor = new CreditSpanProcessor(
      {
        assembler: new TraceAssembler(),
        processEpisode: async (e) => [{ episode_id: e.episodeId } as never],
        // the first call hangs for ever, the next ones return
        onCredit: (events) => (calls++ === 0 ? new Promise<void>(() => undefined) : void got.push((events[0] as { episode_id: string }).episode_id)),
        onError: (err) => void errors.push(err),
        evaluationsFromLogs,
      },
      { tickIntervalMs: 60_000, onCreditTimeoutMs: 50 },
    );
    const runs = await Promise.all([1, 2].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
    for (const run of runs) for (const s of run.spans) processor.onEnd(s);
    await processor.shutdown(); // before: waited for the hung callback for ever (concurrency 1: the second episode too)
    expect(got).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OnCreditError);
    expect((errors[0] as OnCreditError).timedOutAfterMs).toBe(50);
    expect(String(errors[0])).toMatch(/onCredit did not settle within 50 ms \(option "onCreditTimeoutMs"\)/);
    expect(processor.stats()).toMatchObject({ episodesCredited: 2, onCreditErrors: 1 });
  });

  it('refuses an unknown option instead of ignoring it', () => {
    expect(() => setup({ tickIntervall: 5 } as never)).toThrow(/invalid CreditSpanProcessor option "tickIntervall" — accepted: tickIntervalMs, maxBufferedSpans/);
  });

  it('bounds its queues: a full span buffer drains into the assembler, a full credit queue drops the oldest', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { processor, assembler, errors } = setup({ maxBufferedSpans: 4, maxQueuedEpisodes: 1 }, async () => {
      await gate;
      return [];
    });
    const runs = await Promise.all([1, 2, 3].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
    for (const s of runs[0]!.spans.slice(0, 5)) processor.onEnd(s);
    expect(processor.stats().bufferedSpans).toBeLessThan(4);
    expect([...assembler.open.values()][0]!.spans.length).toBeGreaterThanOrEqual(4);
    for (const run of runs) for (const s of run.spans) processor.onEnd(s);
    const done = processor.shutdown();
    // 3 episodes close at once: one runs, one waits, and the queue (size 1) drops one.
    expect(processor.stats()).toMatchObject({ episodesClosed: 3, episodesDropped: 1 });
    expect(String(errors[0])).toMatch(/"maxQueuedEpisodes"/);
    release();
    await done;
    expect(processor.stats().episodesWithoutCredit).toBe(2); // the fake credit emits no events
  });

  it('bounds its credit queue by bytes too: large runs waiting past maxQueuedBytes drop the oldest, the newest always waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { processor, assembler, errors } = setup({ maxQueuedBytes: 2 * 1024 * 1024 }, async () => {
      await gate;
      return [];
    });
    assembler.bytesPerSpan = 64 * 1024; // runs of ~20 spans: ~1.3 MiB each as the assembler estimates them
    const runs = await Promise.all([1, 2, 3, 4, 5].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
    for (const run of runs) for (const s of run.spans) processor.onEnd(s);
    const done = processor.shutdown();
    // 5 episodes close at once: one runs, one waits within 2 MiB, three are dropped (none without the bound: maxQueuedEpisodes is 1,000)
    expect(processor.stats()).toMatchObject({ episodesClosed: 5, episodesDropped: 3, queuedEpisodes: 1 });
    expect(String(errors[0])).toMatch(/"maxQueuedBytes"/);
    release();
    await done;
    expect(processor.stats().episodesWithoutCredit).toBe(2);
  });

  it('ticks on its own (unref-ed) timer and closes episodes whose evaluation came through addEvaluations', async () => {
    const { processor, credited } = setup({ tickIntervalMs: 5 });
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 6 });
    for (const s of run.spans) processor.onEnd(s);
    processor.addEvaluations([{ name: 'task_success', score: 1, traceId: run.traceId, spanId: run.rootSpanId, source: 'log-event', timeUnixNano: 0n }]);
    await new Promise((r) => setTimeout(r, 50));
    await processor.forceFlush();
    expect(credited).toHaveLength(1);
    await processor.shutdown();
  });

  it('rejects invalid options naming the key', () => {
    expect(() => setup({ concurrency: 0 })).toThrow(/"concurrency"/);
  });

  it('an assembler that throws reaches onError as IngestError, never the app: not span.end(), not the tick timer; the next batches still count', async () => {
    // unguarded, an exception from the assembler went up through span.end() into the app's code,
    // and one from the tick timer was an uncaught exception that ends the app
    class Failing extends TraceAssembler {
      failSpans = 1;
      failTicks = 1;
      override addSpans(spans: readonly Span[]): void {
        if (this.failSpans-- > 0) throw new Error('assembler broke on spans');
        super.addSpans(spans);
      }
      override tick(): Episode[] {
        if (this.failTicks-- > 0) throw new Error('assembler broke on tick');
        return super.tick();
      }
    }
    const assembler = new Failing();
    const errors: unknown[] = [];
    const credited: Episode[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const processor = new CreditSpanProcessor(
        { assembler, processEpisode: async () => [{} as never], onCredit: (_e, episode) => void credited.push(episode), onError: (err) => void errors.push(err), evaluationsFromLogs },
        { tickIntervalMs: 5, maxBufferedSpans: 1 },
      );
      const [lost, kept] = await Promise.all([1, 2].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
      // maxBufferedSpans 1: each span's end drains into the assembler, inside onEnd
      expect(() => { for (const s of lost!.spans) processor.onEnd(s); }).not.toThrow();
      await new Promise((r) => setTimeout(r, 40)); // the timer's first tick throws, the next ones run
      for (const s of kept!.spans) processor.onEnd(s);
      processor.addEvaluations([{ name: 'task_success', score: 1, traceId: kept!.traceId, spanId: kept!.rootSpanId, source: 'log-event', timeUnixNano: 0n }]);
      await processor.shutdown();
      expect(uncaught).toEqual([]);
      expect(errors.map(String)).toEqual([
        'IngestError: agent-credit could not take in 1 spans: assembler broke on spans — their episodes may lack them; please report it with the telemetry that caused it',
        'IngestError: agent-credit could not take in the episodes due to close: assembler broke on tick — their episodes may lack them; please report it with the telemetry that caused it',
      ]);
      expect(errors.every((e) => e instanceof IngestError)).toBe(true);
      expect(processor.stats().ingestErrors).toBe(2);
      expect(credited.map((e) => e.episodeId).sort()).toEqual([lost!.traceId, kept!.traceId].sort());
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
