/**
 * GenAI content events in the EpisodeAssembler (content spans from the logs of runs recorded by
 * the real @opentelemetry/instrumentation-openai, test/support/openai-instrumented-run.ts): they
 * join the episode of their trace, never open one, wait (bounded, TTL, holding the Kafka
 * watermark) when their logs come first, are counted apart from spans, and never reopen a credited
 * episode. Review findings of the first version: content of sampled-out traces opened episodes of
 * their own that evicted real runs; content counted against maxSpansPerEpisode (quadratic in the
 * calls); a late content event made a revision that changed nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { contentSpansFromLogs } from '../../src/conventions/content-events.js';
import { evaluationsFromLogs } from '../../src/conventions/evaluations.js';
import { EpisodeAssembler, ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { recordOpenAIRun, researchWriteRun, runLogBytes, runTraceBytes, type InstrumentedRun } from '../support/openai-instrumented-run.js';

interface Decoded {
  run: InstrumentedRun;
  spans: Span[];
  contents: Span[];
  logs: LogRecord[];
}

async function recorded(): Promise<Decoded> {
  const run = await recordOpenAIRun(researchWriteRun());
  const logs = decodeLogs(runLogBytes(run), 'otlp_proto');
  return { run, spans: decodeTraces(runTraceBytes(run), 'otlp_proto'), contents: contentSpansFromLogs(logs), logs };
}

function setup(options: EpisodeAssemblerOptionsInput = {}) {
  const clock = new ManualClock(1_000);
  return { clock, asm: new EpisodeAssembler({ awaitEvaluationMs: 0, graceMs: 1_000, ...options }, clock) };
}

let a: Decoded;
let b: Decoded;
beforeAll(async () => {
  a = await recorded();
  b = await recorded();
  expect(a.contents.length).toBeGreaterThan(5);
});

describe('EpisodeAssembler with GenAI content events', () => {
  it('content of traces whose spans never come opens no episode: it waits, then expires — a running episode is not evicted for it', () => {
    const { clock, asm } = setup({ maxOpenEpisodes: 1, maxDurationMs: 5_000, idleMs: 60_000 });
    asm.addSpans(a.spans.filter((s) => s.parentSpanId !== undefined)); // a's run, root still running
    asm.addSpans(b.contents, { topic: 'logs', partition: 0, offset: '7' }); // b's spans were sampled out
    expect(asm.tick()).toEqual([]); // before: b's content opened an episode, evicting a's
    expect(asm.stats()).toMatchObject({ open: 1, pendingContentEvents: b.contents.length, contentEvents: 0, evicted: 0 });
    expect(asm.lowWatermark('logs', 0)).toBe('7'); // held like a waiting evaluation
    clock.advance(5_000); // waiting content expires (maxDurationMs from its latest event); a's run closes max-duration
    expect(asm.tick().map((e) => [e.episodeId, e.closeReason])).toEqual([[a.run.traceId, 'max-duration']]);
    expect(asm.stats()).toMatchObject({ open: 0, pendingContentEvents: 0, expiredContentEvents: b.contents.length });
    expect(asm.lowWatermark('logs', 0)).toBeUndefined();
  });

  it('content that comes before its trace\'s spans joins the episode when they arrive; counted apart from spans; duplicates too', () => {
    const { clock, asm } = setup();
    asm.addSpans(a.contents);
    asm.addSpans(a.spans);
    asm.addSpans(a.contents); // the same records read again
    clock.advance(1_000);
    const [ep] = asm.tick();
    expect(ep!.spans).toHaveLength(a.spans.length + a.contents.length);
    expect(ep!.duplicateSpans).toBe(0);
    expect(asm.stats()).toMatchObject({ spans: a.spans.length, contentEvents: a.contents.length, duplicateContentEvents: a.contents.length, duplicateSpans: 0, pendingContentEvents: 0 });
  });

  it('content spans do not count against maxSpansPerEpisode (bytes only)', () => {
    const { asm } = setup({ maxSpansPerEpisode: a.spans.length });
    asm.addSpans(a.spans.filter((s) => s.parentSpanId !== undefined));
    asm.addSpans(a.contents);
    expect(asm.tick()).toEqual([]); // before: closed max-spans with the run still going
    expect(asm.stats().open).toBe(1);
  });

  it('a content event after its episode was credited is counted, not a correction', () => {
    const { clock, asm } = setup();
    asm.addSpans(a.spans);
    asm.addEvaluations(evaluationsFromLogs(a.logs));
    clock.advance(1_000);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(a.contents.slice(0, 2));
    clock.advance(10_000);
    expect(asm.tick()).toEqual([]); // before: revision 1, same credit, new event ids
    expect(asm.stats()).toMatchObject({ lateContentEvents: 2, lateSpans: 0, corrections: 0 });
  });

  it('content waits from its trace\'s latest event (a long first LLM call logs its prompt at the start, its span comes at the end), up to maxDurationMs', () => {
    const { clock, asm } = setup({ maxDurationMs: 10_000, pendingEvaluationTtlMs: 10_000 });
    const [first, ...rest] = a.contents;
    asm.addSpans([first!]);
    clock.advance(8_000);
    asm.addSpans(rest);
    clock.advance(4_000); // 12 s after the first event, 4 s after the latest
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ pendingContentEvents: a.contents.length, expiredContentEvents: 0 }); // before: all dropped at 60 s from the first (test: 10 s)
    asm.addSpans(a.spans);
    expect(asm.stats()).toMatchObject({ pendingContentEvents: 0, contentEvents: a.contents.length });
    clock.advance(10_000);
    asm.tick();
    expect(asm.stats().expiredContentEvents).toBe(0); // nothing was left waiting
  });

  it('content after a close without verdict is not late: the late verdict\'s revision (the first credit) takes it', () => {
    const { clock, asm } = setup();
    asm.addSpans(a.spans);
    clock.advance(1_000);
    const [closed] = asm.tick();
    expect(closed!.evaluations).toEqual([]); // closed root-ended, nothing credited
    asm.addSpans(a.contents);
    expect(asm.stats()).toMatchObject({ lateContentEvents: 0, pendingContentEvents: a.contents.length }); // before: counted late, dropped
    asm.addEvaluations(evaluationsFromLogs(a.logs));
    const [revision] = asm.tick();
    expect(revision!.revision).toBe(1);
    expect(revision!.spans).toHaveLength(a.spans.length + a.contents.length);
    expect(asm.stats().pendingContentEvents).toBe(0);
  });

  it('content read again after its episode closed is a duplicate, not late', () => {
    const { clock, asm } = setup();
    asm.addSpans([...a.spans, ...a.contents]);
    asm.addEvaluations(evaluationsFromLogs(a.logs));
    clock.advance(1_000);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(a.contents);
    expect(asm.stats()).toMatchObject({ duplicateContentEvents: a.contents.length, lateContentEvents: 0 });
  });

  it('waiting content is bounded in bytes (maxPendingContentBytes): the oldest trace\'s goes first', () => {
    const { asm } = setup({ maxPendingContentBytes: 20_000 });
    asm.addSpans(a.contents);
    const oneTrace = asm.stats().pendingContentBytes;
    expect(oneTrace).toBeGreaterThan(10_000);
    expect(oneTrace).toBeLessThanOrEqual(20_000);
    asm.addSpans(b.contents); // a's go to stay under the cap
    expect(asm.stats().pendingContentBytes).toBeLessThanOrEqual(20_000);
    expect(asm.stats().expiredContentEvents).toBe(a.contents.length);
    asm.addSpans(b.spans);
    expect(asm.stats()).toMatchObject({ contentEvents: b.contents.length, pendingContentBytes: 0 });
  });

  it('a revoked partition drops the content waiting from it', () => {
    const { asm } = setup();
    asm.addSpans(b.contents, { topic: 'logs', partition: 3, offset: '11' });
    asm.dropPartition('logs', 3);
    expect(asm.stats().pendingContentEvents).toBe(0);
    expect(asm.lowWatermark('logs', 3)).toBeUndefined();
  });
});
