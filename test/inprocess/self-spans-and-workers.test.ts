import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DegenerateEpisodeError } from '../../src/credit/index.js';
import { ManualClock } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { createCreditSpanProcessor, InProcessOptionsError, type CreditSpanProcessor } from '../../src/inprocess/index.js';
import type { Episode } from '../../src/model/episode.js';
import { CreditWorkerPool } from '../../src/runtime/credit-workers/pool.js';
import { generateScenario, SCENARIO_KINDS, ScenarioRun } from '../../src/scenarios/index.js';

const withoutClock = (events: CreditEvent[]) => JSON.stringify(events, (k, v: unknown) => (k === 'emitted_at_ms' ? 0 : v));

async function runs(): Promise<ScenarioRun[]> {
  return Promise.all(SCENARIO_KINDS.map((kind, i) => generateScenario({ kind, convention: (['genai', 'openinference', 'openllmetry'] as const)[i % 3]!, seed: 300 + i })));
}

function feed(processor: CreditSpanProcessor, all: readonly ScenarioRun[]): void {
  for (const run of all) {
    for (const span of run.spans) processor.onEnd(span);
    for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(record as never);
  }
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

afterEach(() => {
  trace.disable();
  context.disable();
});

describe('CreditSpanProcessor on an app provider registered globally', () => {
  it("ignores agent-credit's own credit_episode spans: they never become episodes of their own", async () => {
    const skipped: string[] = [];
    const credited: Episode[] = [];
    const processor = await createCreditSpanProcessor({
      tickIntervalMs: 10,
      episodes: { graceMs: 5, awaitEvaluationMs: 50 },
      onCredit: (_events, episode) => void credited.push(episode),
      processOptions: { onSkipped: (episode) => void skipped.push(episode.spans.map((s) => s.name).join(',')) },
    });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    // As an app does (provider.register() / NodeSDK): processEpisode's self-tracing span now ends in this provider.
    trace.setGlobalTracerProvider(provider);
    const [run] = await runs();
    feed(processor, [run!]);
    await until(() => credited.length === 1);
    // Before the fix each credit_episode span became an episode waiting awaitEvaluationMs, then
    // skipped — whose credit made another span: one junk episode per 50 ms, for ever.
    await new Promise((r) => setTimeout(r, 400));
    const stats = processor.stats();
    expect(skipped).toEqual([]);
    expect(stats).toMatchObject({ episodesClosed: 1, episodesCredited: 1, episodesWithoutCredit: 0, openEpisodes: 0 });
    expect(stats.ownSpansIgnored).toBeGreaterThanOrEqual(1);
    expect(stats.spansReceived).toBe(run!.spans.length);
    await provider.shutdown();
  });

  it("counts the credit_episode span of an episode credited by shutdown as its own, not as an app span dropped after shutdown", async () => {
    const processor = await createCreditSpanProcessor({ onCredit: () => {} });
    const [run] = await runs();
    feed(processor, [run!]);
    // What a global provider hands the processor for each credited episode. Shutdown credits the
    // runs still in their grace period, so their credit spans end after it: made here by hand, as
    // processEpisode's module-level tracer keeps the first global provider it met (another test's).
    const ownSpan = () => {
      const span = new BasicTracerProvider().getTracer('agent-credit').startSpan('agent_credit.credit_episode');
      span.end();
      return span as unknown as ReadableSpan;
    };
    processor.onEnd(ownSpan());
    await processor.shutdown();
    processor.onEnd(ownSpan());
    // before: { spansReceived: n + 1, spansDropped: 1 } from a run that lost nothing
    expect(processor.stats()).toMatchObject({ spansReceived: run!.spans.length, spansDropped: 0, ownSpansIgnored: 2, episodesCredited: 1 });
  });

  it("does not trace the app's onCredit and onSkipped: their instrumented I/O (an HTTP client pushing the events) made an episode each, skipped, whose callbacks made the next — for ever", async () => {
    // NodeSDK registers a context manager: without one nothing is in a context, suppressed or not
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const clock = new ManualClock(Date.now());
    const calls: number[] = [];
    const skipped: string[] = [];
    /** What an instrumented HTTP client records for a request made in the app's callback. */
    const push = () => trace.getTracer('@opentelemetry/instrumentation-undici').startSpan('POST', { kind: SpanKind.CLIENT, attributes: { 'url.full': 'http://trainer/push' } }).end();
    const processor = await createCreditSpanProcessor({
      clock,
      tickIntervalMs: 60_000,
      onCredit: (events) => {
        calls.push(events.length);
        push();
      },
      processOptions: {
        onSkipped: (episode) => {
          skipped.push(episode.spans.map((s) => s.name).join(','));
          push();
        },
      },
    });
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
    const [run] = await runs();
    feed(processor, [run!]);
    // ten rounds of the default close rules (grace 2 s, awaitEvaluationMs 10 s) on the assembler's clock
    for (let round = 0; round < 10; round++) {
      clock.advance(15_000);
      await processor.forceFlush();
    }
    expect(skipped).toEqual([]); // before: 'POST' ten times, one junk episode per round
    expect(calls).toEqual([calls[0]]);
    expect(calls[0]).toBeGreaterThan(0);
    expect(processor.stats()).toMatchObject({ spansReceived: run!.spans.length, episodesClosed: 1, episodesWithoutCredit: 0, openEpisodes: 0 });
    await processor.shutdown();
  });
});

describe('createCreditSpanProcessor({ creditWorkers })', () => {
  it('credits in worker threads with the same events as on the app thread, and closes them on shutdown', async () => {
    const all = await runs();
    const collect = async (creditWorkers: number) => {
      const got = new Map<string, CreditEvent[]>();
      const errors: unknown[] = [];
      const processor = await createCreditSpanProcessor({ creditWorkers, tickIntervalMs: 60_000, onCredit: (events, episode) => void got.set(episode.episodeId, events), onError: (e) => void errors.push(e) });
      expect(processor.stats().creditWorkers).toBe(creditWorkers);
      feed(processor, all);
      await processor.shutdown();
      expect(errors).toEqual([]);
      expect(processor.stats()).toMatchObject({ episodesCredited: all.length, creditInFlight: 0 });
      return [...got.entries()].sort(([a], [b]) => a.localeCompare(b));
    };
    const onThread = await collect(0);
    const inWorkers = await collect(2);
    expect(inWorkers.length).toBe(all.length);
    expect(inWorkers.every(([, events]) => events.length > 0)).toBe(true);
    expect(withoutClock(inWorkers.flatMap(([, e]) => e))).toBe(withoutClock(onThread.flatMap(([, e]) => e)));
  }, 60_000);

  // the jobs label episodes_without_credit_total by reason; stats() counted a health check's trace
  // (no-agents: nothing to credit, no problem) and a run whose verdict never came (no-evaluation:
  // credit lost) in one number
  for (const creditWorkers of [0, 1]) {
    it(`stats() splits the episodes without credit by reason, as the jobs' metric is (creditWorkers ${creditWorkers})`, async () => {
      const skipped: string[] = [];
      const processor = await createCreditSpanProcessor({ creditWorkers, tickIntervalMs: 60_000, onCredit: () => undefined, processOptions: { onSkipped: (_episode, err) => void skipped.push(err.reason) } });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      // a web app's own traces beside its agents: a health check, a start-up job (no agent or LLM span)
      for (const name of ['GET /healthz', 'warm cache']) provider.getTracer('app').startSpan(name, { kind: SpanKind.SERVER }).end();
      const [judged, unjudged] = await runs();
      feed(processor, [judged!]);
      for (const span of unjudged!.spans) processor.onEnd(span); // its verdict never comes
      await provider.shutdown(); // closes and credits every open episode
      expect(skipped.sort()).toEqual(['no-agents', 'no-agents', 'no-evaluation']);
      const stats = processor.stats();
      expect(stats).toMatchObject({ episodesClosed: 4, episodesCredited: 1, episodesWithoutCredit: 3 });
      expect(stats.episodesWithoutCreditByReason).toEqual({ 'no-evaluation': 1, 'no-agents': 2, 'non-finite-score': 0, 'unknown-label': 0, other: 0 });
    }, 30_000);
  }

  it("gives onSkipped a DegenerateEpisodeError on the app's thread, with the worker's reason", async () => {
    const skipped: { episode: Episode; err: DegenerateEpisodeError }[] = [];
    const [run] = await runs();
    const processor = await createCreditSpanProcessor({ creditWorkers: 1, tickIntervalMs: 60_000, onCredit: () => undefined, processOptions: { onSkipped: (episode, err) => void skipped.push({ episode, err }) } });
    for (const span of run!.spans) processor.onEnd(span); // no verdict: nothing to credit
    await processor.shutdown();
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.err).toBeInstanceOf(DegenerateEpisodeError);
    expect(skipped[0]!.err.reason).toBe('no-evaluation');
    expect(skipped[0]!.err.message).toMatch(/no-evaluation/);
    expect(skipped[0]!.episode.traceIds).toEqual([run!.traceId]);
    expect(processor.stats().episodesWithoutCredit).toBe(1);
  }, 30_000);

  // the jobs' workers have runtime.creditWorkerMaxHeapMb (1024 by default); the app's had no limit,
  // so an episode or value function that kept memory grew the app's whole process
  it('starts the worker threads with the jobs\' heap limit: 1024 MB by default, or creditWorkerMaxHeapMb', async () => {
    const heapLimits = async (options: { creditWorkerMaxHeapMb?: number }) => {
      const start = vi.spyOn(CreditWorkerPool, 'start');
      try {
        const processor = await createCreditSpanProcessor({ onCredit: () => undefined, creditWorkers: 2, ...options });
        const pool = (await start.mock.results[0]!.value) as unknown as { slots: { worker: Worker }[] };
        // what each running thread was given (node:worker_threads resourceLimits)
        const limits = pool.slots.map((slot) => slot.worker.resourceLimits?.maxOldGenerationSizeMb);
        await processor.shutdown();
        return limits;
      } finally {
        start.mockRestore();
      }
    };
    expect(await heapLimits({})).toEqual([1024, 1024]);
    expect(await heapLimits({ creditWorkerMaxHeapMb: 96 })).toEqual([96, 96]);
  }, 60_000);

  it('refuses what cannot cross to a thread, and bad values, naming the option', async () => {
    const onCredit = () => undefined;
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1, processOptions: { credit: { gameFactory: () => ({ agentGame: { n: 1, value: () => 0 } }) as never } } })).rejects.toThrow(/creditWorkers: 1 cannot be used here — processOptions\.credit\.gameFactory: a function does not cross to a worker thread/);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1, processOptions: { now: () => 0 } })).rejects.toThrow(/processOptions\.now/);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1, processEpisode: async () => [] })).rejects.toThrow(/processEpisode: a custom function/);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: -1 })).rejects.toThrow(InProcessOptionsError);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1.5 })).rejects.toThrow(/creditWorkers: expected a whole number from 0/);
    await expect(createCreditSpanProcessor({ onCredit, creditTimeoutMs: 100 })).rejects.toThrow(/creditTimeoutMs: only applies with creditWorkers/);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1, creditWorkerMaxHeapMb: 8 })).rejects.toThrow(/^creditWorkerMaxHeapMb: expected 0 \(V8's default heap limit\) or a whole number of MB from 64 to 1048576, got 8 — /);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkers: 1, creditWorkerMaxHeapMb: '512' as never })).rejects.toThrow(/^creditWorkerMaxHeapMb: expected a number of MB, got string$/);
    await expect(createCreditSpanProcessor({ onCredit, creditWorkerMaxHeapMb: 512 })).rejects.toThrow(/creditWorkerMaxHeapMb: only applies with creditWorkers/);
  });

  it("worker threads start no self-tracing SDK from the app's OTEL_* settings (they exported agent-credit's spans as the app)", async () => {
    const paths: string[] = [];
    const collector = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'the-app' });
    try {
      const got: Episode[] = [];
      const processor = await createCreditSpanProcessor({ creditWorkers: 1, tickIntervalMs: 60_000, onCredit: (_e, episode) => void got.push(episode) });
      feed(processor, (await runs()).slice(0, 2));
      await processor.shutdown(); // a worker's SDK would flush its spans here
      expect(got).toHaveLength(2);
      expect(paths).toEqual([]);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await new Promise<void>((r) => collector.close(() => r()));
    }
  }, 30_000);
});

