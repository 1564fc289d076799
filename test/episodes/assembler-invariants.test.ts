/**
 * Invariants of the assembler under random input: batches of spans (some with their conversation
 * id stripped, re-sent, out of order), verdicts by trace or by conversation, clock jumps, under
 * tight caps (maxOpenEpisodes 1–6, maxSpansPerEpisode 2–3, small retention) and both late-span
 * policies, in both keying modes. After every step and at the end:
 * - the offset watermark is never past the first offset of an episode handed out later;
 * - revisions of a credited episode go +1 and never lose spans;
 * - no span is credited under two episode ids;
 * - no span or evaluation disappears without a counter; everything is released by flush().
 * In conversation mode it failed within 10–40 runs before e3b7bdc..2998b2d (a re-sent split turn
 * reopened at revision 0; a stale closed record took a split turn's late root).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import type { Span } from '../../src/model/telemetry.js';
import { evaluationOf, recordRuns, rootOf } from '../episodes/sdk.js';
import { compareOffsets } from '../../src/episodes/offsets.js';

const RUNS = recordRuns([{ children: 2, conversationId: 'c-1' }, { children: 3, conversationId: 'c-1' }, { children: 1, conversationId: 'c-1' }, { children: 2, conversationId: 'c-2' }, { children: 2, conversationId: 'c-2' }, { children: 2 }]);
const ALL = RUNS.flat();
function strip(s: Span): Span {
  return { ...s, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k !== 'gen_ai.conversation.id')) };
}
const key = (s: Span) => `${s.traceId}/${s.spanId}`;
function credited(ep: Episode): boolean {
  const ids = new Set(ep.spans.map((s) => s.spanId));
  return ep.evaluations.some((e) => e.spanId === undefined || ep.spans.some((s) => s.spanId === e.spanId && (s.parentSpanId === undefined || !ids.has(s.parentSpanId))));
}

type Op = { kind: 'spans'; idx: number[]; strip: boolean[] } | { kind: 'eval'; run: number; score: number; byConv: boolean } | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('spans' as const), idx: fc.array(fc.nat({ max: ALL.length - 1 }), { minLength: 1, maxLength: 4 }), strip: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('eval' as const), run: fc.nat({ max: RUNS.length - 1 }), score: fc.constantFrom(0, 1), byConv: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(0, 50, 150, 3000, 12000, 31000) }),
);

describe.each(['conversation', 'trace'] as const)('EpisodeAssembler keyed by %s, random input', (keyBy) => {
  it('keeps its invariants', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, 5000), fc.constantFrom('correct', 'count') as fc.Arbitrary<'correct' | 'count'>, fc.constantFrom(100, 2000), fc.constantFrom(10000, 3, 2), fc.constantFrom(32 * 1024 * 1024, 3000), fc.array(fc.boolean(), { minLength: ALL.length, maxLength: ALL.length }), (ops, maxOpen, awaitMs, policy, grace, maxSpans, retain, stripped) => {
        const VIEW = ALL.map((s, i) => (stripped[i] ? strip(s) : s));
        const clock = new ManualClock(0);
        const asm = new EpisodeAssembler({ keyBy, graceMs: grace, awaitEvaluationMs: awaitMs, idleMs: 30000, maxOpenEpisodes: maxOpen, lateSpanPolicy: policy, maxSpansPerEpisode: maxSpans, retainClosedBytes: retain }, clock);
        const out: { ep: Episode; step: number }[] = [];
        const wm: (string | undefined)[] = [];
        const readAt = new Map<string, number>();
        let offset = 0;
        let fedEvals = 0;
        const fed = new Set<string>();
        ops.forEach((op, step) => {
          if (op.kind === 'spans') {
            const spans = op.idx.map((i) => VIEW[i]!);
            for (const x of spans) fed.add(key(x));
            const o = String(offset++);
            readAt.set(o, step);
            asm.addSpans(spans, { topic: 's', partition: 0, offset: o });
          } else if (op.kind === 'eval') {
            const run = RUNS[op.run]!;
            const conv = run[0]!.attributes['gen_ai.conversation.id'] as string | undefined;
            const e = { ...evaluationOf(run, op.score), timeUnixNano: BigInt(step + 1) };
            fedEvals++;
            asm.addEvaluations([op.byConv && conv ? { ...e, traceId: op.score === 1 ? e.traceId : undefined, spanId: undefined, conversationId: conv } : e], { topic: 'l', partition: 0, offset: String(offset++) });
          } else clock.advance(op.ms);
          for (const ep of asm.tick()) out.push({ ep, step });
          wm.push(asm.lowWatermark('s', 0));
        });
        for (const ep of asm.flush()) out.push({ ep, step: ops.length });
        expect(asm.lowWatermark('s', 0)).toBeUndefined();
        expect(asm.stats()).toMatchObject({ open: 0, bufferedSpans: 0, bufferedBytes: 0, awaitingEvaluation: 0 });
        const st = asm.stats();
        const emitted = new Set(out.flatMap(({ ep }) => ep.spans.map(key)));
        const missing = [...fed].filter((k) => !emitted.has(k));
        if (missing.length > st.lateSpans) throw new Error(`${missing.length} spans missing, lateSpans ${st.lateSpans}`);
        const accounted = st.evaluations + st.duplicateEvaluations + st.expiredEvaluations + st.pendingEvaluations + st.unjoinableEvaluations + st.lateEvaluationsUnused;
        if (fedEvals < accounted || fedEvals - accounted > st.lateUncorrected) throw new Error(`evaluations fed ${fedEvals}, accounted ${accounted}, lateUncorrected ${st.lateUncorrected} ${JSON.stringify(st)}`);
        // early release: an episode emitted at step j with a spans source first offset f read at step i: wm at every step k in [i, j) is ≤ f
        for (const { ep, step } of out) {
          for (const r of ep.sources) {
            if (r.topic !== 's') continue;
            const i = readAt.get(r.firstOffset)!;
            for (let k = i; k < step; k++) {
              const w = wm[k];
              if (w === undefined || compareOffsets(w, r.firstOffset) > 0) throw new Error(`watermark ${w} at step ${k} past ${ep.episodeId} r${ep.revision} first ${r.firstOffset} (read ${i}, emitted ${step})`);
            }
          }
        }
        // revisions per id increase, and hold the previous revision's spans
        const last = new Map<string, Episode>();
        for (const { ep } of out) {
          const prev = last.get(ep.episodeId);
          if (prev !== undefined && (!credited(prev) || prev.closeReason === 'evicted')) {
            /* uncredited before: nothing was emitted for it */
          } else if (prev !== undefined) {
            expect(ep.revision, ep.episodeId).toBe(prev.revision + 1);
            const have = new Set(ep.spans.map(key));
            for (const s of prev.spans) if (!have.has(key(s))) throw new Error(`${ep.episodeId} r${ep.revision} lacks ${key(s)} of r${prev.revision}`);
          } else if (ep.revision !== 0 && !ep.episodeId.startsWith('conv:')) {
            // trace-keyed first emission at revision > 0 only after a split (rev 0 emitted before)
            throw new Error(`${ep.episodeId} first emitted at revision ${ep.revision}`);
          }
          last.set(ep.episodeId, ep);
        }
        // a span credited (episode with evaluations) under one id only
        const owner = new Map<string, string>();
        for (const { ep } of out) {
          if (!credited(ep)) continue;
          for (const s of ep.spans) {
            const o = owner.get(key(s));
            if (o !== undefined && o !== ep.episodeId) throw new Error(`${key(s)} credited under ${o} and ${ep.episodeId} (r${ep.revision} ${ep.closeReason})`);
            owner.set(key(s), ep.episodeId);
          }
        }
      }),
      { numRuns: keyBy === 'conversation' ? 2000 : 1000, seed: 20261206 },
    );
  }, 120_000);
});
