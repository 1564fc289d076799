/**
 * `run` (the OTLP/HTTP job) stops within runtime.creditTimeoutMs however stuck the value function:
 * before, the stop waited runtime.creditTimeoutMs per episode in hand (creditConcurrency at a time
 * in this thread; one after the other behind a replaced credit worker — two episodes held a
 * SIGTERM 59 s with a module that loops), past any supervisor's grace period. The episodes
 * credited behind a stuck one are still published.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { startLocalJob } from '../../src/runtime/local-job.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { CollectingSink } from '../support/collecting-sink.js';

describe('stopping the OTLP/HTTP job with a value function that never answers', () => {
  it('gives up on the credit in hand after runtime.creditTimeoutMs, saying how many episodes go uncredited', async () => {
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { http: { port: 0 }, grpc: { enabled: false } },
        sinks: { stdout: { enabled: false }, live: { enabled: false } },
        runtime: { creditTimeoutMs: 400, creditConcurrency: 1 },
        // nothing closes before the stop (their verdicts do not close them, nor the grace): the stop
        // closes all six, and each waits for a credit that never comes
        episodes: { closeOnEvaluation: false, graceMs: 600_000 },
      },
    });
    const errors: { obj: Record<string, unknown>; msg: string }[] = [];
    const quiet = () => undefined;
    const logger = { info: quiet, warn: quiet, debug: quiet, trace: quiet, fatal: quiet, error: (obj: Record<string, unknown>, msg: string) => void errors.push({ obj, msg }) } as unknown as Logger;
    let calls = 0;
    let creditStarted!: () => void;
    const started = new Promise<void>((r) => (creditStarted = r));
    const job = await startLocalJob(config, {
      logger,
      processEpisode: () => {
        calls++;
        creditStarted();
        return new Promise(() => undefined);
      },
    });
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => generateScenario({ kind: 'success', convention: 'genai', seed })));
    await sendScenario(job.receiverUrl, runs);
    expect(calls).toBe(0); // all six still open: their credit, and its timeouts, begin in the stop
    // The bound is a timer: the stop's wait and each credit's runtime.creditTimeoutMs run on a fake
    // clock the test moves, so "one credit timeout, not six in a row (2.4 s)" holds however loaded
    // the machine (on the wall clock the stop took up to 1.34 s under load against a 1.5 s limit).
    // I/O (the receiver closing, the sinks) stays real.
    const gaveUp = () => errors.some((e) => e.msg.startsWith('stopping:'));
    let stopped = false;
    let stopping: Promise<void>;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      stopping = job.stop().then(() => void (stopped = true));
      // the first episode's credit has begun: its timeout and the stop's wait are armed, at 0 ms
      await started;
      await vi.advanceTimersByTimeAsync(399);
      // it waits for the credit in hand up to runtime.creditTimeoutMs
      expect(gaveUp()).toBe(false);
      expect(stopped).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      // and gives up at one creditTimeoutMs (before the fix it waited for six in a row: at 400 ms the
      // second episode's credit had just begun)
      expect(gaveUp()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    await stopping; // what is left is I/O: publishing what was credited, flushing the sinks, closing the job
    const line = errors.find((e) => e.msg.startsWith('stopping:'));
    expect(line?.obj).toMatchObject({ waitedMs: 400 });
    expect(line?.msg).toMatch(/^stopping: \d closed episode\(s\) still without credit after 400 ms \(runtime\.creditTimeoutMs\): left uncredited — no events for them — so the stop ends/);
    expect(job.pipeline.stats().episodesClosed).toBe(6);
  });

  it('publishes the episodes credited behind a stuck one (out of close order) instead of dropping them with it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('runs');
    for (let i = 0; i < 6; i++) tracer.startSpan('invoke_agent a', { root: true, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' } }).end();
    let calls = 0;
    const sink = new CollectingSink();
    const errors: string[] = [];
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 6, tickIntervalMs: 60_000, creditTimeoutMs: 60_000 },
      {
        assembler: new EpisodeAssembler({}),
        // the first episode closed never settles (a worker stuck on it), the five behind it are credited at once
        processEpisode: (episode) => (++calls === 1 ? new Promise(() => undefined) : Promise.resolve([{ event_type: 'episode_credit', episode_id: episode.episodeId } as unknown as CreditEvent])),
        evaluationsFromLogs,
        sinks: [sink],
        logger: { error: (_obj: object, msg: string) => void errors.push(msg), warn: () => undefined, info: () => undefined } as unknown as Logger,
      },
    );
    pipeline.onSpans(decodeTraces(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!, 'otlp_proto'));
    await pipeline.stop('shutdown', { waitMs: 300, setting: 'runtime.creditTimeoutMs' });
    expect(sink.events).toHaveLength(5);
    expect(errors).toEqual([expect.stringMatching(/^stopping: 1 closed episode\(s\) still without credit after 300 ms \(runtime\.creditTimeoutMs\)/)]);
    expect(pipeline.stats()).toMatchObject({ episodesClosed: 6, eventsOut: 5, pending: 0 });
  });
});
