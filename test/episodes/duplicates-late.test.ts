import { describe, expect, it } from 'vitest';
import { assemblerHooksFor, EpisodeAssembler, ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import { holdsEvaluation } from '../../src/episodes/open-episode.js';
import type { Evaluation } from '../../src/model/agents.js';
import { evaluationOf, recordRuns, rootOf, spanKeys } from './sdk.js';

/** Grace rules alone: waiting for the evaluation (awaitEvaluationMs) is tested in close-rules.test.ts. */
function setup(options: EpisodeAssemblerOptionsInput = {}) {
  const clock = new ManualClock(0);
  return { clock, asm: new EpisodeAssembler({ awaitEvaluationMs: 0, ...options }, clock) };
}

describe('duplicates', () => {
  it('drops a re-delivered span (same trace id + span id) and counts it per episode and globally', () => {
    const [a, b] = recordRuns([{}, {}]);
    const { asm } = setup();
    asm.addSpans(a!);
    asm.addSpans(a!.slice(0, 2)); // exporter retry
    asm.addSpans(b!);
    asm.addSpans(b!.slice(0, 1));
    const closed = asm.flush();
    const byId = new Map(closed.map((e) => [e.episodeId, e]));
    expect(byId.get(a![0]!.traceId)!.duplicateSpans).toBe(2);
    expect(byId.get(b![0]!.traceId)!.duplicateSpans).toBe(1);
    expect(spanKeys(byId.get(a![0]!.traceId)!.spans)).toEqual(spanKeys(a!));
    expect(asm.stats().duplicateSpans).toBe(3);
    expect(asm.stats().spans).toBe(a!.length + b!.length);
  });

  it('a re-delivery after the episode closed is a duplicate, not a late span', () => {
    const [run] = recordRuns([{}]);
    const { clock, asm } = setup({ graceMs: 10 });
    asm.addSpans(run!);
    clock.advance(10);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(run!);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ duplicateSpans: run!.length, lateSpans: 0, corrections: 0, open: 0 });
  });
});

describe('late spans', () => {
  it('policy count: late spans are counted, nothing re-emitted', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const root = rootOf(run!);
    const late = run!.filter((s) => s !== root).slice(0, 2);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'count' });
    asm.addSpans(run!.filter((s) => !late.includes(s)));
    clock.advance(10);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(late);
    clock.advance(1_000_000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ lateSpans: 2, lateUncorrected: 2, corrections: 0, open: 0 });
  });

  it('policy correct: late spans reopen the episode; one correction (revision 1) holds old + new spans', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const root = rootOf(run!);
    const late = run!.filter((s) => s !== root).slice(0, 2);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'correct' });
    asm.addSpans(run!.filter((s) => !late.includes(s)));
    asm.addEvaluations([evaluationOf(run!)]);
    const [first] = asm.tick();
    expect(first).toMatchObject({ closeReason: 'evaluation-arrived', revision: 0, lateSpans: 0 });
    expect(first!.spans).toHaveLength(run!.length - 2);

    asm.addSpans(late.slice(0, 1));
    asm.addSpans(late.slice(1));
    expect(asm.tick()).toEqual([]); // a correction waits for grace, so a burst makes one revision
    clock.advance(10);
    const [fix] = asm.tick();
    expect(fix).toMatchObject({ episodeId: first!.episodeId, revision: 1, correction: true, lateSpans: 2, closeReason: 'root-ended' });
    expect(spanKeys(fix!.spans)).toEqual(spanKeys(run!));
    expect(fix!.evaluations).toHaveLength(1);
    expect(first!.spans).toHaveLength(run!.length - 2); // the emitted revision is not mutated
    expect(asm.stats()).toMatchObject({ lateSpans: 2, corrections: 1, lateUncorrected: 0 });

    // and a second late wave makes revision 2
    const [other] = recordRuns([{}]);
    asm.addSpans([{ ...other![0]!, traceId: run![0]!.traceId }]);
    clock.advance(10);
    expect(asm.tick().map((e) => [e.revision, e.spans.length])).toEqual([[2, run!.length + 1]]);
  });

  it('policy correct does not reopen an episode closed by a cap for its late spans, but for its root (counted, re-closed at once)', () => {
    const [run] = recordRuns([{ children: 6 }]);
    const { asm } = setup({ maxSpansPerEpisode: 4, lateSpanPolicy: 'correct' });
    asm.addSpans(run!);
    const closed = asm.tick();
    expect(closed.map((e) => [e.closeReason, e.revision])).toEqual([['max-spans', 0], ['max-spans', 1]]);
    expect(closed[1]!.spans.map((s) => s.spanId)).toContain(rootOf(run!).spanId);
    expect(asm.stats()).toMatchObject({ lateSpans: run!.length - 4, lateUncorrected: run!.length - 4 - 1, corrections: 1, open: 0 });
  });

  it.each(['root first', 'verdict first'] as const)('a capped run is credited by its late root and verdict (%s); other spans past the cap are only counted', (order) => {
    // spans are exported as they end: the root — which the verdict names — comes after the cap,
    // and the verdict after the run. Both reopen the capped revision (nothing else does).
    const [run] = recordRuns([{ children: 6 }]);
    const root = rootOf(run!);
    const children = run!.filter((s) => s !== root);
    const { asm } = setup({ maxSpansPerEpisode: 4, lateSpanPolicy: 'correct' });
    asm.addSpans(children);
    const [capped] = asm.tick();
    expect(capped).toMatchObject({ closeReason: 'max-spans', revision: 0, evaluations: [] });
    expect(capped!.spans).toHaveLength(4);
    const steps: Array<() => void> = [() => asm.addSpans([root]), () => asm.addEvaluations([evaluationOf(run!)])];
    if (order === 'verdict first') steps.reverse();
    const closed = steps.flatMap((step) => { step(); return asm.tick(); });
    const credited = closed.at(-1)!;
    expect(credited).toMatchObject({ episodeId: capped!.episodeId, correction: true, closeReason: order === 'root first' ? 'evaluation-arrived' : 'max-spans' });
    expect(credited.evaluations).toHaveLength(1);
    expect(spanKeys(credited.spans)).toEqual(spanKeys([...capped!.spans, root]));
    // still capped: another span past the cap is counted, reopens nothing
    const [other] = recordRuns([{}]);
    asm.addSpans([{ ...other![0]!, traceId: run![0]!.traceId, parentSpanId: root.spanId }]);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ lateEvaluations: 1, lateUncorrected: children.length - 4 + 1, open: 0 });
  });

  it('policy correct counts a late span as uncorrected when the revision is no longer retained', () => {
    const runs = recordRuns([{}, {}]);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'correct', retainClosedBytes: 1 });
    asm.addSpans(runs[0]!.slice(1));
    clock.advance(10);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(runs[0]!.slice(0, 1));
    expect(asm.stats()).toMatchObject({ lateSpans: 1, lateUncorrected: 1, corrections: 0 });
  });

  it('remembers closed ids in a bounded LRU: a span for a long-forgotten episode opens a new one', () => {
    const runs = recordRuns([{}, {}, {}]);
    const { clock, asm } = setup({ graceMs: 10, closedEpisodeMemory: 1, lateSpanPolicy: 'count' });
    for (const r of runs) asm.addSpans(r.slice(1));
    clock.advance(10);
    expect(asm.tick()).toHaveLength(3);
    asm.addSpans(runs[2]!.slice(0, 1)); // still remembered → late
    asm.addSpans(runs[0]!.slice(0, 1)); // forgotten → a new episode
    expect(asm.stats()).toMatchObject({ lateSpans: 1, open: 1 });
  });
});

describe('correction window (episodes.correctionWindowMs)', () => {
  // An online trainer needs to know when an episode's events are final: no late record received
  // more than correctionWindowMs after the first credited close makes a revision.
  it('a late span or evaluation within the window reopens the episode; past it, counted only — the window runs from the first credited close, not the last revision', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const root = rootOf(run!);
    const [late1, late2] = run!.filter((s) => s !== root).slice(0, 2);
    const { clock, asm } = setup({ graceMs: 10, correctionWindowMs: 60_000 });
    asm.addSpans(run!.filter((s) => s !== late1 && s !== late2));
    asm.addEvaluations([evaluationOf(run!, 1)]);
    expect(asm.tick().map((e) => [e.revision, e.closeReason])).toEqual([[0, 'evaluation-arrived']]);
    clock.advance(30_000);
    asm.addEvaluations([{ ...evaluationOf(run!, 0.4), timeUnixNano: 2n }]); // 30 s: a re-judgment, within
    clock.advance(10);
    expect(asm.tick().map((e) => [e.revision, e.evaluations.length])).toEqual([[1, 2]]);
    clock.advance(20_000);
    asm.addSpans([late1!]); // 50 s after the first close: within
    clock.advance(10);
    expect(asm.tick().map((e) => e.revision)).toEqual([2]);
    clock.advance(20_000);
    asm.addSpans([late2!]); // 70 s after the first close, 20 s after revision 2
    asm.addEvaluations([{ ...evaluationOf(run!, 0.9), timeUnixNano: 3n }]);
    clock.advance(1_000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ corrections: 2, lateUncorrected: 2, open: 0 });
  });

  it('does not apply to an episode that closed without its verdict: a verdict hours later is its first credit (revision 1)', () => {
    const [run] = recordRuns([{ children: 2 }]);
    const { clock, asm } = setup({ graceMs: 10, correctionWindowMs: 60_000 });
    asm.addSpans(run!);
    clock.advance(10);
    expect(asm.tick().map((e) => [e.revision, e.evaluations.length])).toEqual([[0, 0]]);
    clock.advance(2 * 3_600_000); // a batch judge, two hours later
    asm.addEvaluations([evaluationOf(run!, 1)]);
    const closed = asm.tick();
    expect(closed.map((e) => [e.revision, e.closeReason, e.evaluations.length])).toEqual([[1, 'evaluation-arrived', 1]]);
    // from that credited close on, the window runs
    expectNoCorrection(asm, clock, 61_000, { ...evaluationOf(run!, 0), timeUnixNano: 2n }, { corrections: 1, lateUncorrected: 1 });
  });

  it('a verdict credit cannot score (no finite score: a failed evaluator; a label no table scores) starts no window: the real verdict hours later is the first credit', () => {
    const [run] = recordRuns([{ children: 2 }]);
    const { clock, asm } = setup({ graceMs: 10, correctionWindowMs: 60_000 });
    asm.addSpans(run!);
    const { score: _none, ...failed } = { ...evaluationOf(run!, 1), label: 'error' };
    asm.addEvaluations([failed]);
    expect(asm.tick().map((e) => [e.revision, e.closeReason])).toEqual([[0, 'evaluation-arrived']]);
    clock.advance(2 * 3_600_000); // the evaluator re-run two hours later
    asm.addEvaluations([{ ...evaluationOf(run!, 1), timeUnixNano: 2n }]);
    expect(asm.tick().map((e) => [e.revision, e.evaluations.length])).toEqual([[1, 2]]);
    expect(asm.stats()).toMatchObject({ corrections: 1, lateUncorrected: 0 });
    // from that credited close on, the window runs
    expectNoCorrection(asm, clock, 61_000, { ...evaluationOf(run!, 0), timeUnixNano: 3n }, { corrections: 1, lateUncorrected: 1 });
  });

  it('with a configured label table (assemblerHooksFor, credit.labelScores), a label the table lacks starts no window; one it scores does', () => {
    const [a, b] = recordRuns([{ children: 2 }, { children: 2 }]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ awaitEvaluationMs: 0, graceMs: 10, correctionWindowMs: 60_000 }, clock, assemblerHooksFor(undefined, { labelScores: { Approved: 1, rejected: 0 } }));
    const labelOnly = (spans: typeof a, label: string): Evaluation => {
      const { score: _s, ...e } = evaluationOf(spans!, 1);
      return { ...e, label };
    };
    asm.addSpans([...a!, ...b!]);
    asm.addEvaluations([labelOnly(a, 'pass'), labelOnly(b, 'APPROVED')]); // "pass" is built in, not in this table
    expect(asm.tick().map((e) => e.revision)).toEqual([0, 0]);
    clock.advance(2 * 3_600_000);
    asm.addEvaluations([{ ...labelOnly(a, 'approved'), timeUnixNano: 2n }, { ...labelOnly(b, 'rejected'), timeUnixNano: 2n }]);
    expect(asm.tick().map((e) => [e.traceIds[0] === a![0]!.traceId ? 'a' : 'b', e.revision])).toEqual([['a', 1]]);
    expect(asm.stats()).toMatchObject({ corrections: 1, lateUncorrected: 1 });
  });

  it("conversation mode: the conversation's next turn (a new trace) past the window still joins it, and each turn's window runs from its own first credited close", () => {
    const [turn1, turn2] = recordRuns([{ children: 2, conversationId: 'c-42' }, { children: 2, conversationId: 'c-42' }]);
    const root1 = rootOf(turn1!);
    const late = turn1!.find((s) => s !== root1)!;
    const { clock, asm } = setup({ graceMs: 10, correctionWindowMs: 60_000, keyBy: 'conversation' });
    asm.addSpans(turn1!.filter((s) => s !== late));
    asm.addEvaluations([evaluationOf(turn1!, 1)]);
    expect(asm.tick().map((e) => e.revision)).toEqual([0]);
    clock.advance(86_400_000); // the user comes back the next day
    asm.addSpans(turn2!);
    clock.advance(10);
    const next = asm.tick();
    expect(next.map((e) => [e.revision, e.traceIds.length])).toEqual([[1, 2]]);
    // turn 2's own verdict, seconds after turn 2 closed: its window runs from its own turn's close
    clock.advance(5_000);
    asm.addEvaluations([{ ...evaluationOf(turn2!, 0), timeUnixNano: 2n }]);
    expect(asm.tick().map((e) => [e.revision, e.evaluations.length])).toEqual([[2, 2]]);
    asm.addSpans([late]); // a straggler of turn 1, a day after it was credited
    clock.advance(10);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ corrections: 2, lateUncorrected: 1 });
    // and one of turn 2, past its own window
    expectNoCorrection(asm, clock, 61_000, { ...evaluationOf(turn2!, 1), timeUnixNano: 3n }, { corrections: 2, lateUncorrected: 2 });
  });

  it("conversation mode: a next turn whose first spans name no conversation joins a correction of the closed conversation, not a second revision 0 under its id (second review)", () => {
    const [turn1, turn2] = recordRuns([{ children: 2, conversationId: 'c-7' }, { children: 2, conversationId: 'c-7' }]);
    const root2 = rootOf(turn2!);
    // tool and LLM spans often carry no conversation id, and children are exported first
    const children = turn2!.filter((s) => s !== root2).map((s) => {
      const { ['gen_ai.conversation.id']: _dropped, ...attributes } = s.attributes;
      return { ...s, attributes };
    });
    const { clock, asm } = setup({ graceMs: 10, keyBy: 'conversation' });
    asm.addSpans(turn1!);
    asm.addEvaluations([evaluationOf(turn1!, 1)]);
    expect(asm.tick().map((e) => [e.episodeId, e.revision])).toEqual([['conv:c-7', 0]]);
    clock.advance(60_000);
    asm.addSpans(children);
    asm.addSpans([root2]);
    clock.advance(10);
    const next = asm.tick();
    expect(next.map((e) => [e.episodeId, e.revision, e.traceIds.length, e.spans.length])).toEqual([['conv:c-7', 1, 2, turn1!.length + turn2!.length]]);
    expect(asm.stats()).toMatchObject({ corrections: 1, open: 0 });
  });

  it('conversation mode: a next turn that cannot join a correction (revision not retained; here lateSpanPolicy count) is an episode of its own, keyed by its trace — it was dropped', () => {
    const [turn1, turn2] = recordRuns([{ children: 2, conversationId: 'c-9' }, { children: 2, conversationId: 'c-9' }]);
    const { clock, asm } = setup({ graceMs: 10, keyBy: 'conversation', lateSpanPolicy: 'count' });
    asm.addSpans(turn1!);
    asm.addEvaluations([evaluationOf(turn1!, 1)]);
    expect(asm.tick().map((e) => [e.episodeId, e.revision])).toEqual([['conv:c-9', 0]]);
    clock.advance(60_000);
    asm.addSpans(turn2!);
    asm.addEvaluations([evaluationOf(turn2!, 0)]);
    const next = asm.tick();
    expect(next.map((e) => [e.episodeId, e.revision, e.spans.length, e.evaluations.length])).toEqual([[turn2![0]!.traceId, 0, turn2!.length, 1]]);
    expect(asm.stats()).toMatchObject({ corrections: 0, lateUncorrected: 0, lateSpans: 0 });
  });

  it('0 turns the bound off', () => {
    const [run] = recordRuns([{ children: 2 }]);
    const root = rootOf(run!);
    const late = run!.find((s) => s !== root)!;
    const { clock, asm } = setup({ graceMs: 10, correctionWindowMs: 0 });
    asm.addSpans(run!.filter((s) => s !== late));
    asm.addEvaluations([evaluationOf(run!, 1)]);
    expect(asm.tick().map((e) => e.revision)).toEqual([0]);
    clock.advance(30 * 86_400_000);
    asm.addSpans([late]);
    clock.advance(10);
    expect(asm.tick().map((e) => e.revision)).toEqual([1]);
  });
});

describe('holdsEvaluation: re-delivery or re-judgment', () => {
  const t = 'ab'.repeat(16);
  const ev = (score: number, time: bigint, fromReceipt = false): Evaluation => ({ name: 'task_success', score, traceId: t, source: 'evaluations-stream', timeUnixNano: time, ...(fromReceipt ? { timeFromReceipt: true } : {}) });
  it('a timed record is a duplicate only of an identical one; an untimed one only of the latest verdict of its name and target', () => {
    expect(holdsEvaluation([ev(1, 100n)], ev(1, 100n))).toBe(true);
    expect(holdsEvaluation([ev(1, 100n)], ev(1, 200n))).toBe(false);
    expect(holdsEvaluation([ev(1, 100n, true)], ev(1, 150n, true))).toBe(true); // a retried POST
    expect(holdsEvaluation([ev(1, 100n, true), ev(0, 150n, true)], ev(1, 200n, true))).toBe(false); // changed its mind back
    // one judge mixing untimed posts and timed log events (review finding): 1 (untimed), 0 at 200, then 1 at 300
    expect(holdsEvaluation([ev(1, 100n, true), ev(0, 200n)], ev(1, 300n))).toBe(false);
    expect(holdsEvaluation([ev(1, 100n, true), ev(0, 200n)], ev(0, 300n, true))).toBe(true);
  });
  it('0.8 and "80%" are different verdicts (on a {0, 100} range one is 0.8, the other 80), not one re-delivered', () => {
    const pct = (e: Evaluation): Evaluation => ({ ...e, scoreIsFraction: true });
    expect(holdsEvaluation([ev(0.8, 100n)], pct(ev(0.8, 100n)))).toBe(false);
    expect(holdsEvaluation([ev(0.8, 100n, true)], pct(ev(0.8, 150n, true)))).toBe(false);
    expect(holdsEvaluation([pct(ev(0.8, 100n))], pct(ev(0.8, 100n)))).toBe(true);
  });
});

/** A late verdict `afterMs` on, past the correction window: no revision, and the counts say so. */
function expectNoCorrection(asm: EpisodeAssembler, clock: ManualClock, afterMs: number, evaluation: Evaluation, counts: Record<string, number>): void {
  clock.advance(afterMs);
  asm.addEvaluations([evaluation]);
  clock.advance(10);
  expect(asm.tick()).toEqual([]);
  expect(asm.stats()).toMatchObject(counts);
}

describe('a capped conversation', () => {
  it('is not rescanned for every span of its later turns (the cap check of a retained correction is taken once)', () => {
    // conversation mode, a turn past the cap: revision 0 at max-spans, then its verdict's revision
    // (closed evaluation-arrived: a correction of a capped revision, atCap by its span count)
    const [t1, t2] = recordRuns([{ conversationId: 'c-cap', children: 12 }, { conversationId: 'c-cap', children: 40 }]);
    const { asm, clock } = setup({ keyBy: 'conversation', maxSpansPerEpisode: 8, lateSpanPolicy: 'correct' });
    asm.addSpans(t1!.filter((s) => s !== rootOf(t1!)));
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['max-spans', 0]]);
    asm.addEvaluations([evaluationOf(t1!)]); // names the root, not held: the revision waits for grace
    clock.advance(60_000);
    const [verdict] = asm.tick();
    expect(verdict).toMatchObject({ revision: 1, evaluations: [expect.anything()] });
    expect(verdict!.closeReason).not.toMatch(/^max-/);
    // count the passes over the retained revision's spans
    let passes = 0;
    const iterate = Array.prototype[Symbol.iterator];
    Object.defineProperty(verdict!.spans, Symbol.iterator, { value(this: unknown[]) { passes++; return iterate.call(this); } });
    // the next turn: every span names the conversation and finds it closed (capped: it stays a turn of its own)
    asm.addSpans(t2!);
    expect(asm.stats()).toMatchObject({ corrections: 1, open: 1 });
    expect(passes).toBeLessThanOrEqual(1); // was one pass per span of the turn (41)
  });
});

describe('a capped conversation reopened for a late evaluation', () => {
  it('does not take the next turn while it waits for grace: the turn stays an episode of its own, whole', () => {
    // turn 1 past the cap (its root re-closed it at once); a step-level verdict of turn 1 reopens it
    // (capped) and it waits for grace; meanwhile the user's next turn comes
    const [t1, t2] = recordRuns([{ conversationId: 'c-swallow', children: 12 }, { conversationId: 'c-swallow', children: 5 }]);
    const { asm, clock } = setup({ keyBy: 'conversation', maxSpansPerEpisode: 8, lateSpanPolicy: 'correct', graceMs: 2_000 });
    asm.addSpans(t1!);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['max-spans', 0], ['max-spans', 1]]);
    const step = t1!.find((s) => s.parentSpanId !== undefined)!;
    asm.addEvaluations([{ ...evaluationOf(t1!, 0, step.spanId), name: 'faithfulness' }]);
    expect(asm.tick()).toEqual([]);
    asm.addSpans(t2!);
    clock.advance(60_000);
    const closed = asm.tick();
    const turn2 = closed.find((e) => e.traceIds.includes(t2![0]!.traceId))!;
    expect(turn2.episodeId).toBe(t2![0]!.traceId); // its own episode, as when the capped revision is not retained
    expect(spanKeys(turn2.spans)).toEqual(spanKeys(t2!));
    expect(closed.find((e) => e.episodeId === 'conv:c-swallow')!.traceIds).toEqual([t1![0]!.traceId]);
    expect(asm.stats().lateUncorrected).toBe(t1!.length - 8 - 1);
  });
});

describe('corrections a crash must not lose (correctionsOn, correctionBase, expectRevision)', () => {
  const at = (offset: number) => ({ topic: 'spans', partition: 0, offset: String(offset) });

  it('a trace-keyed correction reports, open and closed, the first offset its earlier revision read; the closed one names that revision\'s sources', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const root = rootOf(run!);
    const late = run!.filter((s) => s !== root).slice(0, 1);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'correct' });
    asm.addSpans(run!.filter((s) => !late.includes(s)), at(5));
    clock.advance(10);
    const [r0] = asm.tick();
    expect(r0!.revision).toBe(0);
    expect(asm.correctionsOn('spans', 0)).toEqual([]);
    asm.addSpans(late, at(9));
    // open: its own record is at 9, its revision 0's at 5
    expect(asm.lowWatermark('spans', 0)).toBe('9');
    expect(asm.correctionsOn('spans', 0)).toEqual([{ episodeId: root.traceId, revision: 1, firstOffset: '5', rebuilt: false }]);
    expect(asm.correctionsOn('spans', 1)).toEqual([]);
    clock.advance(10);
    const [r1] = asm.tick();
    expect(r1).toMatchObject({ revision: 1, sources: [{ topic: 'spans', partition: 0, firstOffset: '9', lastOffset: '9' }] });
    expect(asm.correctionBase(r1!)).toEqual([{ topic: 'spans', partition: 0, firstOffset: '5', lastOffset: '5' }]);
    expect(asm.correctionBase(r0!)).toBeUndefined();
    expect(asm.correctionsOn('spans', 0)).toEqual([]); // handed out: the caller holds it
  });

  it('a replay told to expect a revision rebuilds the episode at it from all its spans, none counted late', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const root = rootOf(run!);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'correct' });
    asm.expectRevision(root.traceId, 1);
    asm.addSpans(run!, at(5));
    expect(asm.correctionsOn('spans', 0)).toEqual([{ episodeId: root.traceId, revision: 1, firstOffset: '5', rebuilt: true }]);
    clock.advance(10);
    const [rebuilt] = asm.tick();
    expect(rebuilt).toMatchObject({ episodeId: root.traceId, revision: 1, correction: true, lateSpans: 0 });
    expect(spanKeys(rebuilt!.spans)).toEqual(spanKeys(run!));
    // neither a late span nor a new correction here: the instance that reopened it counted those
    expect(asm.stats()).toMatchObject({ lateSpans: 0, corrections: 0 });
  });

  it('a revision closed longer than correctionWindowMs ago (reopened for its first verdict) is not held: days of a partition would be replayed', () => {
    const [run] = recordRuns([{ children: 4 }]);
    const { clock, asm } = setup({ graceMs: 10, lateSpanPolicy: 'correct', correctionWindowMs: 1_000 });
    asm.addSpans(run!, at(5));
    clock.advance(10);
    const [r0] = asm.tick();
    expect(r0!.evaluations).toEqual([]); // no verdict: its late one reopens it at any time
    clock.advance(5_000);
    asm.addEvaluations([evaluationOf(run!)], at(9));
    expect(asm.stats().corrections).toBe(1);
    expect(asm.correctionsOn('spans', 0)).toEqual([]);
  });

  it('conversation-keyed episodes are not held (a conversation reopens for every turn)', () => {
    const { asm } = setup({ keyBy: 'conversation', lateSpanPolicy: 'correct' });
    asm.expectRevision('conv:x', 1);
    expect(asm.correctionsOn('spans', 0)).toEqual([]);
  });
});
