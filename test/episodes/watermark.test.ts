import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { firstOffsetOn, lowerOffset, type SourceRange } from '../../src/episodes/offsets.js';
import type { PendingByKey } from '../../src/episodes/pending-by-key.js';
import type { Span } from '../../src/model/telemetry.js';
import { evaluationOf, recordRuns, rootOf } from './sdk.js';

const pos = (partition: number, offset: number | string, topic = 'otlp_spans') => ({ topic, partition, offset: String(offset) });

describe('source positions and the offset watermark', () => {
  it('records first/last offsets per partition and reports the smallest first offset of open episodes', () => {
    const [a, b, c] = recordRuns([{}, {}, {}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ graceMs: 10, closeOnEvaluation: true }, clock);
    asm.addSpans(a!.slice(0, 2), pos(0, 9));
    asm.addSpans(b!, pos(0, 10));
    asm.addSpans(a!.slice(2), pos(0, 100)); // a: 9..100; numeric, not string, order
    asm.addSpans(c!, pos(1, 5));
    asm.addEvaluations([evaluationOf(a!)], pos(3, 42, 'otlp_logs'));
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9');
    expect(asm.lowWatermark('otlp_spans', 1)).toBe('5');
    expect(asm.lowWatermark('otlp_spans', 2)).toBeUndefined();
    // a closed with its evaluation but is not yet handed out by tick(): still held
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9');
    const [closedA] = asm.tick();
    expect(closedA!.sources).toEqual([
      { topic: 'otlp_spans', partition: 0, firstOffset: '9', lastOffset: '100' },
      { topic: 'otlp_logs', partition: 3, firstOffset: '42', lastOffset: '42' },
    ]);
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('10');
    expect(asm.lowWatermark('otlp_logs', 3)).toBeUndefined();
  });

  it('compares offsets numerically beyond 2^53', () => {
    const [a, b] = recordRuns([{}, {}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(a!, pos(0, '9007199254740993'));
    asm.addSpans(b!, pos(0, '10000000000000000000'));
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('9007199254740993');
  });

  it('holds the offset of an evaluation waiting for its spans', () => {
    const [a] = recordRuns([{}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addEvaluations([evaluationOf(a!)], pos(2, 7, 'otlp_logs'));
    expect(asm.lowWatermark('otlp_logs', 2)).toBe('7');
    asm.addSpans(a!, pos(0, 3));
    const [ep] = asm.tick();
    expect(ep!.sources.map((s) => [s.topic, s.firstOffset])).toEqual([
      ['otlp_spans', '3'],
      ['otlp_logs', '7'],
    ]);
    expect(asm.lowWatermark('otlp_logs', 2)).toBeUndefined();
  });

  it('dropPartition removes (does not emit) the episodes fed from that partition and returns how many', () => {
    const [a, b, c] = recordRuns([{}, {}, {}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(a!.slice(0, 1), pos(0, 1));
    asm.addSpans(b!.slice(0, 1), pos(0, 2));
    asm.addSpans(c!.slice(0, 1), pos(1, 1));
    asm.addEvaluations([evaluationOf(c!)], pos(0, 3, 'otlp_logs'));
    expect(asm.dropPartition('otlp_spans', 0)).toBe(2);
    expect(asm.lowWatermark('otlp_spans', 0)).toBeUndefined();
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, bufferedSpans: 1 });
    expect(asm.stats().closed.revoked).toBe(2);
    // replayed records after getting the partition back are not "late": the episodes were never closed
    asm.addSpans(a!, pos(0, 1));
    expect(asm.stats().lateSpans).toBe(0);
    expect(asm.dropPartition('otlp_spans', 7)).toBe(0);
    // closed (evaluation) but not yet handed out by tick(): withdrawn as well, and not remembered
    asm.addSpans(b!, pos(0, 2));
    asm.addEvaluations([evaluationOf(b!)]);
    expect(asm.dropPartition('otlp_spans', 0)).toBe(2);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats().closed['evaluation-arrived']).toBe(0);
    asm.addSpans(a!, pos(0, 1));
    asm.addSpans(b!, pos(0, 2));
    expect(asm.stats()).toMatchObject({ lateSpans: 0, duplicateSpans: 0 });
    const closed = asm.flush();
    expect(closed.map((e) => e.traceIds[0]).sort()).toEqual([a![0]!.traceId, b![0]!.traceId, c![0]!.traceId].sort());
  });

  it('evaluations waiting for their spans hold their partition at the smallest offset still waiting: through joins, drops over the count, expiry and dropPartition', () => {
    const runs = recordRuns([{}, {}, {}, {}, {}, {}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ closeOnEvaluation: true, maxPendingEvaluations: 4, pendingEvaluationTtlMs: 1_000 }, clock);
    const waitOn = (run: number, partition: number, offset: number | string, name?: string) =>
      asm.addEvaluations([{ ...evaluationOf(runs[run]!), ...(name === undefined ? {} : { name }) }], pos(partition, offset, 'otlp_logs'));
    // read out of offset order (a replay, or several records per fetch); two at one offset
    waitOn(0, 2, 40);
    waitOn(1, 2, 9); // numerically below 40, above it as a string
    waitOn(2, 2, 9);
    waitOn(3, 5, 100);
    expect([asm.lowWatermark('otlp_logs', 2), asm.lowWatermark('otlp_logs', 5), asm.lowWatermark('otlp_logs', 3)]).toEqual(['9', '100', undefined]);
    // runs 1 and 2's spans come: their evaluations join and close them — held until handed out by tick()
    asm.addSpans(runs[1]!, pos(0, 1));
    asm.addSpans(runs[2]!, pos(0, 2));
    expect(asm.stats().pendingEvaluations).toBe(2);
    expect(asm.lowWatermark('otlp_logs', 2)).toBe('9');
    expect(asm.tick().length).toBe(2);
    expect(asm.lowWatermark('otlp_logs', 2)).toBe('40');
    // over the count (4): the oldest key (run 0's, at 40) goes whole
    clock.advance(500);
    waitOn(4, 2, 41);
    waitOn(5, 2, 45);
    waitOn(4, 2, 3, 'second');
    expect(asm.stats().pendingEvaluations).toBe(4);
    expect(asm.lowWatermark('otlp_logs', 2)).toBe('3');
    expect(asm.lowWatermark('otlp_logs', 5)).toBe('100');
    waitOn(4, 2, 50, 'third'); // over again: run 3's key (partition 5) goes
    expect(asm.stats().expiredEvaluations).toBe(2); // drops over the count are counted as expired
    expect([asm.stats().pendingEvaluations, asm.lowWatermark('otlp_logs', 2), asm.lowWatermark('otlp_logs', 5)]).toEqual([4, '3', undefined]);
    // expiry: those that waited past the TTL go
    clock.advance(1_000);
    asm.tick();
    expect([asm.stats().pendingEvaluations, asm.lowWatermark('otlp_logs', 2)]).toEqual([0, undefined]);
    // a revoked partition holds nothing any more; the others keep theirs
    waitOn(3, 6, 8);
    waitOn(5, 7, 2);
    asm.dropPartition('otlp_logs', 6);
    expect([asm.lowWatermark('otlp_logs', 6), asm.lowWatermark('otlp_logs', 7)]).toEqual([undefined, '2']);
    waitOn(3, 6, 12); // read again by the next owner (here: us, reassigned)
    expect(asm.lowWatermark('otlp_logs', 6)).toBe('12');
    clock.advance(1_000);
    asm.tick();
    expect([asm.lowWatermark('otlp_logs', 6), asm.lowWatermark('otlp_logs', 7), asm.stats().pendingEvaluations]).toEqual([undefined, undefined, 0]);
  });

  it('a trace-keyed episode merged into its conversation keeps holding its first offset there, until the merged episode is handed out', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-7' }, { conversationId: 'c-7' }]);
    const root2 = rootOf(t2!);
    const t2Children = t2!.filter((s) => s !== root2).map(withoutConversation);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', awaitEvaluationMs: 0 }, new ManualClock(0));
    asm.addSpans(t1!, pos(0, 8));
    asm.addSpans(t2Children.slice(1), pos(0, 5)); // keyed by its trace: no span names the conversation yet
    asm.addSpans(t2Children.slice(0, 1), pos(1, 3));
    expect(asm.stats().open).toBe(2);
    expect([asm.lowWatermark('otlp_spans', 0), asm.lowWatermark('otlp_spans', 1)]).toEqual(['5', '3']);
    asm.addSpans([root2], pos(0, 9)); // merges the trace-keyed episode into conv:c-7
    expect(asm.stats().open).toBe(1);
    expect([asm.lowWatermark('otlp_spans', 0), asm.lowWatermark('otlp_spans', 1)]).toEqual(['5', '3']);
    const [conv] = asm.flush();
    expect(conv!.sources).toEqual([
      { topic: 'otlp_spans', partition: 0, firstOffset: '5', lastOffset: '9' },
      { topic: 'otlp_spans', partition: 1, firstOffset: '3', lastOffset: '3' },
    ]);
    expect([asm.lowWatermark('otlp_spans', 0), asm.lowWatermark('otlp_spans', 1)]).toEqual([undefined, undefined]);
  });

  it('a trace-keyed episode absorbed by the conversation it names, reopened at maxOpenEpisodes: not evicted (its spans are credited once), its first offset held by the conversation', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-9' }, { conversationId: 'c-9' }]);
    const root2 = rootOf(t2!);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 10, awaitEvaluationMs: 0, lateSpanPolicy: 'correct', maxOpenEpisodes: 1 }, clock);
    asm.addSpans(t1!, pos(0, 1));
    clock.advance(20);
    expect(asm.tick().map((e) => e.episodeId)).toEqual(['conv:c-9']); // turn 1, retained
    const early = t2!.filter((s) => s !== root2).map(withoutConversation);
    asm.addSpans(early, pos(0, 5)); // keyed by its trace
    // names the conversation: its revision 1 reopens and absorbs the trace's spans and ranges. Over
    // maxOpenEpisodes for a moment, it used to evict the trace-keyed episode first: its spans were
    // then emitted as an 'evicted' episode and in the conversation's revision too (and the
    // watermark's hold of offset 5 was released twice: undefined, then a TypeError in tick())
    asm.addSpans([root2], pos(0, 9));
    expect(asm.stats()).toMatchObject({ open: 1, corrections: 1 });
    expect(asm.lowWatermark('otlp_spans', 0)).toBe(scannedWatermark(asm, 'otlp_spans', 0));
    expect(asm.tick()).toEqual([]);
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('5');
    clock.advance(20);
    const [conversation, ...others] = asm.tick();
    expect(others).toEqual([]);
    expect([conversation!.episodeId, conversation!.revision, conversation!.sources[0]!.firstOffset]).toEqual(['conv:c-9', 1, '5']);
    const ids = conversation!.spans.map((s) => s.spanId);
    for (const s of [...early, root2]) expect(ids).toContain(s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(asm.stats().closed.evicted).toBe(0);
    expect(asm.lowWatermark('otlp_spans', 0)).toBeUndefined();
  });

  it('an episode fed by two partitions and dropped for one no longer holds the other', () => {
    const [a, b] = recordRuns([{}, {}]);
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(a!.slice(0, 1), pos(0, 4));
    asm.addSpans(a!.slice(1), pos(1, 2));
    asm.addSpans(b!, pos(1, 6));
    expect([asm.lowWatermark('otlp_spans', 0), asm.lowWatermark('otlp_spans', 1)]).toEqual(['4', '2']);
    expect(asm.dropPartition('otlp_spans', 0)).toBe(1);
    expect([asm.lowWatermark('otlp_spans', 0), asm.lowWatermark('otlp_spans', 1)]).toEqual([undefined, '6']);
  });

  it('a span read from a lower offset than the episode\'s first lowers its hold; a correction holds its late record only', () => {
    const [a] = recordRuns([{}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ graceMs: 10, awaitEvaluationMs: 0, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans(a!.slice(0, 1), pos(0, 20));
    asm.addSpans(a!.slice(1, 2), pos(0, 12)); // read out of offset order: the range widens down
    asm.addSpans(a!.slice(2, -1), pos(0, 30));
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('12');
    asm.addSpans(a!.slice(-1), pos(0, 31)); // root: closes at grace
    clock.advance(20);
    expect(asm.tick()).toHaveLength(1);
    expect(asm.lowWatermark('otlp_spans', 0)).toBeUndefined();
    asm.addEvaluations([evaluationOf(a!)], pos(0, 40)); // late verdict: a correction (closed by it, not yet handed out)
    expect(asm.stats().corrections).toBe(1);
    expect(asm.lowWatermark('otlp_spans', 0)).toBe('40');
    expect(asm.tick()[0]!.sources).toEqual([{ topic: 'otlp_spans', partition: 0, firstOffset: '40', lastOffset: '40' }]);
    expect(asm.lowWatermark('otlp_spans', 0)).toBeUndefined();
  });

  for (const keyBy of ['trace', 'conversation'] as const) {
    it(`property (${keyBy} keying): lowWatermark equals a scan of every open and unreturned episode and waiting item, through merges, closes, corrections and dropPartition`, () => {
      const runs = recordRuns([{ children: 2 }, { children: 3, conversationId: 'c-1' }, { children: 2, conversationId: 'c-1' }, { children: 1 }]);
      // children first without the conversation id: trace-keyed episodes that merge when the root comes
      const spans: Span[] = runs.flatMap((run) => run.map((s) => (s === rootOf(run) ? s : withoutConversation(s))));
      const op = fc.oneof(
        fc.record({ kind: fc.constant('spans' as const), at: fc.nat(spans.length - 1), n: fc.integer({ min: 1, max: 4 }), partition: fc.nat(2), offset: fc.nat(60) }),
        fc.record({ kind: fc.constant('evaluation' as const), run: fc.nat(runs.length - 1), partition: fc.nat(2), offset: fc.nat(60) }),
        fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(40) }),
        fc.record({ kind: fc.constant('drop' as const), partition: fc.nat(2) }),
      );
      const seen = { corrections: 0, evicted: 0, revoked: 0 };
      fc.assert(
        fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
          const clock = new ManualClock(0);
          const asm = new EpisodeAssembler({ keyBy, graceMs: 10, idleMs: 30, awaitEvaluationMs: 0, lateSpanPolicy: 'correct', maxOpenEpisodes: 3 }, clock);
          for (const o of ops) {
            if (o.kind === 'spans') asm.addSpans(spans.slice(o.at, o.at + o.n), pos(o.partition, o.offset));
            else if (o.kind === 'evaluation') asm.addEvaluations([evaluationOf(runs[o.run]!)], pos(o.partition, o.offset));
            else if (o.kind === 'tick') {
              clock.advance(o.ms);
              if (o.ms % 2 === 0) asm.tick(); // else closed episodes stay unreturned a while
            } else asm.dropPartition('otlp_spans', o.partition);
            for (let p = 0; p < 3; p++) expect(asm.lowWatermark('otlp_spans', p)).toBe(scannedWatermark(asm, 'otlp_spans', p));
          }
          const stats = asm.stats();
          seen.corrections += stats.corrections;
          seen.evicted += stats.closed.evicted;
          seen.revoked += stats.closed.revoked;
          asm.flush(); // evaluations still waiting for their spans keep their hold
          for (let p = 0; p < 3; p++) expect(asm.lowWatermark('otlp_spans', p)).toBe(scannedWatermark(asm, 'otlp_spans', p));
        }),
        // seeded: drawn afresh at each run, 300 runs missed eviction about once in 30 (a flaky
        // coverage check below); this seed takes every path in both keyings
        { numRuns: 300, seed: 20261206 },
      );
      // the paths in the title were taken
      expect(Object.values(seen).every((n) => n > 0)).toBe(true);
    });
  }
});

function withoutConversation(s: Span): Span {
  return { ...s, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k !== 'gen_ai.conversation.id')) };
}

/** The watermark as a scan of the assembler's episodes and waiting items (its definition; the assembler keeps it indexed). */
function scannedWatermark(asm: EpisodeAssembler, topic: string, partition: number): string | undefined {
  const held = asm as unknown as { open: Map<string, { sources: SourceRange[] }>; ready: { sources: SourceRange[] }[]; pending: PendingByKey<unknown>; pendingContent: PendingByKey<unknown> };
  let low = lowerOffset(held.pending.lowWatermark(topic, partition), held.pendingContent.lowWatermark(topic, partition));
  for (const ep of [...held.open.values(), ...held.ready]) low = lowerOffset(low, firstOffsetOn(ep.sources, topic, partition));
  return low;
}
