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
    const { clock, asm } = setup({ maxOpenEpisodes: 1, pendingEvaluationTtlMs: 5_000, idleMs: 60_000 });
    asm.addSpans(a.spans.filter((s) => s.parentSpanId !== undefined)); // a's run, root still running
    asm.addSpans(b.contents, { topic: 'logs', partition: 0, offset: '7' }); // b's spans were sampled out
    expect(asm.tick()).toEqual([]); // before: b's content opened an episode, evicting a's
    expect(asm.stats()).toMatchObject({ open: 1, pendingContentEvents: b.contents.length, contentEvents: 0, evicted: 0 });
    expect(asm.lowWatermark('logs', 0)).toBe('7'); // held like a waiting evaluation
    clock.advance(5_000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, pendingContentEvents: 0, expiredContentEvents: b.contents.length });
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

  it('a revoked partition drops the content waiting from it', () => {
    const { asm } = setup();
    asm.addSpans(b.contents, { topic: 'logs', partition: 3, offset: '11' });
    asm.dropPartition('logs', 3);
    expect(asm.stats().pendingContentEvents).toBe(0);
    expect(asm.lowWatermark('logs', 3)).toBeUndefined();
  });
});
