import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/index.js';
import { evaluationOf, recordRuns, rootOf, spanKeys } from './sdk.js';

/**
 * The turns' trace ids in the order an episode lists them: by first start, then by trace id. The JS
 * SDK stamps starts in whole ms, so two turns recorded one after the other can start together —
 * expecting recording order failed on such a tie (as conversation-trace-order.test.ts says).
 */
function traceOrder(...turns: (readonly Span[])[]): string[] {
  const start = (spans: readonly Span[]) => spans.reduce((m, x) => (x.startTimeUnixNano < m ? x.startTimeUnixNano : m), spans[0]!.startTimeUnixNano);
  return [...turns].sort((a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : a[0]!.traceId < b[0]!.traceId ? -1 : 1)).map((t) => t[0]!.traceId);
}

/**
 * A conversation of `n` recorded turns, and an assembler (conversation mode, `lateSpanPolicy`
 * correct, `options`) that has closed turn 1 with its verdict (score 1, revision 0).
 */
function afterFirstTurn(conversationId: string, n: number, options: EpisodeAssemblerOptionsInput) {
  const turns = recordRuns(Array.from({ length: n }, () => ({ conversationId })));
  const clock = new ManualClock(0);
  const asm = new EpisodeAssembler({ keyBy: 'conversation', lateSpanPolicy: 'correct', ...options }, clock);
  asm.addSpans(turns[0]!);
  asm.addEvaluations([{ ...evaluationOf(turns[0]!, 1), timeUnixNano: 1n }]);
  expect(asm.tick().map((e) => e.revision)).toEqual([0]);
  return { turns, clock, asm };
}

/** Turn 1's verdict does not close the conversation once turn 2 began; turn 2's verdict does (revision 0). */
function expectSecondTurnsVerdictCloses(asm: EpisodeAssembler, t1: Span[], t2: Span[]): void {
  asm.addEvaluations([{ ...evaluationOf(t1, 1), timeUnixNano: 1n }]);
  expect(asm.tick()).toEqual([]);
  asm.addEvaluations([{ ...evaluationOf(t2, 0), timeUnixNano: 2n }]);
  expect(asm.tick()).toMatchObject([{ revision: 0, closeReason: 'evaluation-arrived' }]);
}

/** Turn 1 of a two-turn conversation, past grace and waiting for its verdict (awaitEvaluationMs 10 s). */
function firstTurnWaiting(conversationId: string) {
  const [t1, t2] = recordRuns([{ conversationId }, { conversationId }]);
  const clock = new ManualClock(0);
  const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 10_000, idleMs: 30_000 }, clock);
  asm.addSpans(t1!);
  clock.advance(3_000);
  return { t1, t2, clock, asm };
}

/** The span without its `gen_ai.conversation.id` (instrumentations that put it on the root only). */
function withoutConversation(s: Span): Span {
  return { ...s, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k !== 'gen_ai.conversation.id')) };
}

describe('conversation keying', () => {
  it('puts two traces of one conversation into one episode conv:<id>; other traces stay by trace id', () => {
    const [t1, t2, other] = recordRuns([{ conversationId: 'c-42' }, { conversationId: 'c-42' }, {}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 1000, awaitEvaluationMs: 0 }, clock);
    asm.addSpans(t1!);
    clock.advance(500);
    asm.addSpans(t2!);
    asm.addSpans(other!);
    clock.advance(1000);
    const closed = asm.tick();
    const conv = closed.find((e) => e.episodeId === 'conv:c-42')!;
    expect(conv.keyMode).toBe('conversation');
    expect([...conv.traceIds].sort()).toEqual([t1![0]!.traceId, t2![0]!.traceId].sort());
    expect(spanKeys(conv.spans)).toEqual(spanKeys([...t1!, ...t2!]));
    expect(closed.find((e) => e.episodeId === other![0]!.traceId)!.spans).toHaveLength(other!.length);
  });

  it('a trace whose first spans lack the conversation id joins the conversation when one of its spans names it', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-7' }, { conversationId: 'c-7' }]);
    // Only the root span of t2 names the conversation (as some instrumentations do).
    const root2 = rootOf(t2!);
    const t2Children = t2!.filter((s) => s !== root2).map(withoutConversation);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', awaitEvaluationMs: 0 }, clock);
    asm.addSpans(t1!);
    asm.addSpans(t2Children);
    asm.addEvaluations([{ ...evaluationOf(t2!), spanId: undefined, traceId: t2![0]!.traceId }]);
    expect(asm.stats().open).toBe(2);
    asm.addSpans([root2]); // merges the trace-keyed episode into conv:c-7, which can close now
    expect(asm.stats().open).toBe(0);
    const closed = asm.tick();
    expect(closed).toHaveLength(1);
    expect(closed[0]!.episodeId).toBe('conv:c-7');
    expect(closed[0]!.spans).toHaveLength(t1!.length + t2!.length);
    expect(closed[0]!.evaluations).toHaveLength(1);
    // both traces have an ended root and the system evaluation is joined
    expect(closed[0]!.closeReason).toBe('evaluation-arrived');
  });

  it('waits for every trace of the conversation to have its root before root-ended', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-1' }, { conversationId: 'c-1' }]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, idleMs: 10_000, awaitEvaluationMs: 0 }, clock);
    asm.addSpans(t1!);
    asm.addSpans(t2!.filter((s) => s !== rootOf(t2!)));
    clock.advance(5_000);
    expect(asm.tick()).toEqual([]);
    asm.addSpans([rootOf(t2!)]);
    clock.advance(100);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
  });

  it('uses an injected conversationIdOf and joins evaluations by conversation id', () => {
    const [t1, t2] = recordRuns([{}, {}]);
    const session = new Map([t1![0]!.traceId, t2![0]!.traceId].map((t) => [t, 'sess-1']));
    const asm = new EpisodeAssembler({ keyBy: 'conversation', closeOnEvaluation: false }, new ManualClock(0), {
      conversationIdOf: (s) => session.get(s.traceId),
    });
    asm.addEvaluations([{ name: 'task_success', score: 1, conversationId: 'sess-1', source: 'evaluations-stream', timeUnixNano: 5n }]);
    asm.addSpans(t1!);
    asm.addSpans(t2!);
    const [ep] = asm.flush();
    expect(ep!.episodeId).toBe('conv:sess-1');
    expect(ep!.traceIds).toHaveLength(2);
    expect(ep!.evaluations.map((e) => e.conversationId)).toEqual(['sess-1']);
  });

  it('a late trace of a closed conversation is recognised by conversation and by trace id', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-9' }, { conversationId: 'c-9' }]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 10, lateSpanPolicy: 'correct', awaitEvaluationMs: 0 }, clock);
    asm.addSpans(t1!.slice(1));
    clock.advance(10);
    expect(asm.tick()).toHaveLength(1);
    asm.addSpans(t2!);
    asm.addEvaluations([{ ...evaluationOf(t1!), spanId: undefined }]); // by trace id only
    clock.advance(10);
    const [fix] = asm.tick();
    expect(fix).toMatchObject({ episodeId: 'conv:c-9', revision: 1, correction: true });
    expect(fix!.spans).toHaveLength(t1!.length - 1 + t2!.length);
    expect(fix!.evaluations).toHaveLength(1);
  });

  it.each([
    ['names the trace and its root span', true],
    ['names the trace only', false],
  ])('a next turn of one span whose verdict arrived first gets it (verdict %s)', (_, withSpan) => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-3' }, { conversationId: 'c-3' }]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 10, lateSpanPolicy: 'correct', awaitEvaluationMs: 0 }, clock);
    asm.addSpans(t1!);
    asm.addEvaluations([evaluationOf(t1!, 1)]);
    const [first] = asm.tick();
    expect(first).toMatchObject({ episodeId: 'conv:c-3', revision: 0 });
    // turn 2 is one span (a single chat call); its judge answered before the span was exported
    const turn2 = rootOf(t2!);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0, withSpan ? turn2.spanId : undefined), timeUnixNano: 2n }]);
    asm.addSpans([turn2]);
    clock.advance(10);
    const [next] = asm.tick();
    expect(next).toMatchObject({ episodeId: 'conv:c-3', revision: 1 });
    // before: the span reopening the conversation skipped the pending join; the verdict expired
    // later and the turn was credited with turn 1's score
    expect(next!.evaluations.map((e) => e.score).sort()).toEqual([0, 1]);
    expect(next!.traceIds).toContain(turn2.traceId);
    expect(asm.stats().pendingEvaluations).toBe(0);
  });

  it('after a restart the next turn is revision 0 again: trace_ids[0] tells the two apart, and so do the event ids', async () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-r' }, { conversationId: 'c-r' }]);
    const turn = async (spans: Span[], score: number) => {
      const asm = new EpisodeAssembler({ keyBy: 'conversation', awaitEvaluationMs: 0 }, new ManualClock(0)); // a fresh process
      asm.addSpans(spans);
      asm.addEvaluations([evaluationOf(spans, score)]);
      const [ep] = asm.tick();
      return processEpisode(ep!);
    };
    const before = await turn(t1!, 1);
    const after = await turn(t2!, 0);
    for (const events of [before, after]) expect(new Set(events.map((e) => [e.episode_id, e.episode_revision].join()))).toEqual(new Set(['conv:c-r,0']));
    expect(before[0]!.trace_ids[0]).toBe(t1![0]!.traceId);
    expect(after[0]!.trace_ids[0]).toBe(t2![0]!.traceId);
    const ids = new Set(before.map((e) => e.event_id));
    for (const e of after) expect(ids.has(e.event_id), `${e.event_type} ${e.event_id} collides with turn 1's`).toBe(false);
    // still deterministic: the same turn processed again gives the same ids
    expect((await turn(t2!, 0)).map((e) => e.event_id)).toEqual(after.map((e) => e.event_id));
  });

  it('a next turn waits for its own verdict (awaitEvaluationMs) instead of going out with the previous turn\'s', () => {
    const { turns: [t1, t2, t3], clock, asm } = afterFirstTurn('c-w', 3, { graceMs: 100, awaitEvaluationMs: 5_000, idleMs: 30_000 });
    // turn 2: its judge takes 2 s
    clock.advance(1_000);
    asm.addSpans(t2!);
    clock.advance(500);
    expect(asm.tick()).toEqual([]); // past grace: waiting for turn 2's verdict
    clock.advance(1_500);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0), timeUnixNano: 2n }]);
    clock.advance(100);
    const [second] = asm.tick();
    expect(second).toMatchObject({ revision: 1, closeReason: 'evaluation-arrived' });
    expect(second!.evaluations.map((e) => e.score).sort()).toEqual([0, 1]);
    expect(second!.lateSpans).toBe(0); // a next turn's spans are not late
    expect(asm.stats().lateSpans).toBe(0);
    // turn 3: no verdict ever comes — it closes at awaitEvaluationMs, counted as an expired wait
    asm.addSpans(t3!);
    clock.advance(1_000);
    expect(asm.tick()).toEqual([]);
    clock.advance(4_100);
    const [third] = asm.tick();
    expect(third).toMatchObject({ revision: 2, closeReason: 'root-ended' });
    expect(asm.stats().evaluationWaitsExpired).toBe(1);
    // a correction of a known turn (a late span of turn 1) does not wait
    const late = { ...t1![0]!, spanId: 'feedfacefeedface', parentSpanId: rootOf(t1!).spanId };
    asm.addSpans([late]);
    clock.advance(100);
    expect(asm.tick()).toMatchObject([{ revision: 3, lateSpans: 1 }]);
    expect(asm.stats().lateSpans).toBe(1);
  });

  it('a verdict naming the conversation and a trace it never held waits for that turn\'s spans (it credited the earlier turns)', () => {
    const { turns: [t1, t2], clock, asm } = afterFirstTurn('c-v', 2, { graceMs: 100 });
    // turn 2's judge answers first, by conversation and trace id, no span id (a JSON record)
    asm.addEvaluations([{ ...evaluationOf(t2!, 0, undefined), conversationId: 'c-v', timeUnixNano: 2n }]);
    clock.advance(200);
    expect(asm.tick()).toEqual([]); // no revision of turn 1 alone under turn 2's verdict
    expect(asm.stats().pendingEvaluations).toBe(1);
    asm.addSpans(t2!);
    clock.advance(200);
    const [next] = asm.tick();
    expect(next).toMatchObject({ episodeId: 'conv:c-v', revision: 1 });
    expect(next!.traceIds).toEqual([t1![0]!.traceId, t2![0]!.traceId]);
    expect(next!.evaluations.map((e) => e.score).sort()).toEqual([0, 1]);
  });

  it('a next turn closes on its verdict when its root arrives, the verdict sent before its spans or after them: the same events', async () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-b' }, { conversationId: 'c-b' }]);
    const nextTurn = async (verdictFirst: boolean) => {
      const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100 }, new ManualClock(0));
      asm.addSpans(t1!);
      asm.addEvaluations([{ ...evaluationOf(t1!, 1), timeUnixNano: 1n }]);
      expect(asm.tick()).toMatchObject([{ revision: 0, closeReason: 'evaluation-arrived' }]);
      const verdict = { ...evaluationOf(t2!, 0), timeUnixNano: 2n };
      if (verdictFirst) asm.addEvaluations([verdict]); // waits for the turn's spans
      asm.addSpans(t2!);
      if (!verdictFirst) asm.addEvaluations([verdict]);
      const closed = asm.tick(); // no time passes: grace is not what closes it
      return { closed, events: await Promise.all(closed.map((e) => processEpisode(e, { now: () => 0 }))) };
    };
    const after = await nextTurn(false);
    expect(after.closed).toMatchObject([{ revision: 1, closeReason: 'evaluation-arrived' }]);
    // without the fix: nothing closed here — the turn went out at graceMs, close_reason root-ended
    const before = await nextTurn(true);
    expect(before.closed).toMatchObject([{ revision: 1, closeReason: 'evaluation-arrived' }]);
    expect(before.events).toEqual(after.events);
  });

  it('a turn arriving while the previous turn\'s revision is open takes over the wait: not late, closed by its own verdict', () => {
    const { turns: [t1, t2, t3], clock, asm } = afterFirstTurn('c-o', 3, { graceMs: 100, awaitEvaluationMs: 5_000, idleMs: 30_000 });
    asm.addSpans(t2!); // revision 1 opens for turn 2
    clock.advance(500);
    expect(asm.tick()).toEqual([]);
    asm.addSpans(t3!); // the user's next turn, before turn 2's verdict
    clock.advance(500);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0), timeUnixNano: 2n }]); // turn 2's verdict: revision 1 now waits for turn 3's
    clock.advance(500);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([{ ...evaluationOf(t3!, 1), timeUnixNano: 3n }]);
    const [next] = asm.tick();
    expect(next).toMatchObject({ revision: 1, closeReason: 'evaluation-arrived', lateSpans: 0 });
    expect(next!.traceIds).toHaveLength(3);
    expect(next!.evaluations).toHaveLength(3);
    expect(asm.stats().lateSpans).toBe(0);
  });

  it('a next turn\'s verdict sent before its spans while the conversation is still open waits for them (it closed the open turn with it)', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-p' }, { conversationId: 'c-p' }]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 5_000, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans(t1!); // turn 1, its judge is slow
    asm.addEvaluations([{ ...evaluationOf(t2!, 0, undefined), conversationId: 'c-p', timeUnixNano: 2n }]);
    expect(asm.tick()).toEqual([]); // not closed with turn 2's verdict
    expect(asm.stats().pendingEvaluations).toBe(1);
    asm.addSpans(t2!); // the turn it judges: now it closes the conversation, turn 2 included
    const [ep] = asm.tick();
    expect(ep).toMatchObject({ revision: 0, closeReason: 'evaluation-arrived' });
    expect(ep!.traceIds).toEqual(traceOrder(t1!, t2!));
    expect(ep!.evaluations.map((e) => e.score)).toEqual([0]);
  });

  it('a late verdict with the conversation id reaches a turn that became an episode of its own', () => {
    // retainClosedBytes 0: the conversation's revision is not kept, so turn 2 becomes its own episode
    const { turns: [t1, t2], clock, asm } = afterFirstTurn('c-q', 2, { graceMs: 100, awaitEvaluationMs: 0, retainClosedBytes: 0 });
    asm.addSpans(t2!);
    clock.advance(200);
    const [own] = asm.tick();
    expect(own!.episodeId).toBe(t2![0]!.traceId);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0, undefined), conversationId: 'c-q', timeUnixNano: 2n }]);
    clock.advance(200);
    expect(asm.stats().pendingEvaluations).toBe(0);
    expect(asm.stats().lateEvaluations).toBe(1);
  });

  it.each([
    ['its conversation\'s next turn', true],
    ['the conversation\'s first turn', false],
  ])('a turn whose children named no conversation and closed idle before the root came joins the conversation with them (%s)', (_, afterTurn1) => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-s' }, { conversationId: 'c-s' }]);
    const root2 = rootOf(t2!);
    const children = t2!.filter((s) => s !== root2).map(withoutConversation);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, idleMs: 30_000, lateSpanPolicy: 'correct' }, clock);
    if (afterTurn1) {
      asm.addSpans(t1!);
      asm.addEvaluations([{ ...evaluationOf(t1!, 1), timeUnixNano: 1n }]);
      expect(asm.tick()).toHaveLength(1);
    }
    asm.addSpans(children);
    clock.advance(31_000); // the final LLM call outlasts idleMs: the children close on their own
    expect(asm.tick()).toMatchObject([{ episodeId: root2.traceId, closeReason: 'idle' }]);
    asm.addSpans([root2]);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0), timeUnixNano: 2n }]);
    clock.advance(200);
    const [turn] = asm.tick();
    expect(turn!.episodeId).toBe('conv:c-s');
    expect(spanKeys(turn!.spans)).toEqual(spanKeys(afterTurn1 ? [...t1!, ...t2!] : t2!));
    expect(turn!.evaluations.some((e) => e.traceId === root2.traceId && e.score === 0)).toBe(true);
  });

  it('a second turn arriving while the first still waits for its verdict takes over the wait (revision 0)', () => {
    const { t1, t2, asm } = firstTurnWaiting('c-a');
    expect(asm.tick()).toEqual([]); // turn 1 waits for its verdict
    asm.addSpans(t2!);
    asm.addEvaluations([{ ...evaluationOf(t1!, 1), timeUnixNano: 1n }]);
    expect(asm.tick()).toEqual([]); // turn 1's verdict no longer closes it: turn 2 is the conversation's latest
    asm.addEvaluations([{ ...evaluationOf(t2!, 0), timeUnixNano: 2n }]);
    const [ep] = asm.tick();
    expect(ep).toMatchObject({ revision: 0, closeReason: 'evaluation-arrived' });
    expect(ep!.evaluations.map((e) => e.score)).toEqual([1, 0]);
    expect(asm.stats().lateEvaluations).toBe(0);
  });

  it('a verdict naming the open conversation and a trace held by its own episode (spans without the conversation id) joins that episode', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-k' }, {}]);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, idleMs: 30_000 }, clock);
    asm.addSpans(t1!); // conversation c-k open
    asm.addSpans(t2!); // a trace whose spans name no conversation: keyed by its trace
    asm.addEvaluations([{ ...evaluationOf(t2!, 0.3, undefined), conversationId: 'c-k' }]);
    expect(asm.stats().pendingEvaluations).toBe(0);
    const closed = asm.tick();
    expect(closed.find((e) => e.episodeId === t2![0]!.traceId)!.evaluations.map((e) => e.score)).toEqual([0.3]);
  });

  it('a receipt-timed conversation-level verdict equal to the previous turn\'s is the next turn\'s verdict, not a re-send', () => {
    const { turns: [, t2], clock, asm } = afterFirstTurnReceiptTimed();
    asm.addSpans(t2!);
    clock.advance(500);
    expect(asm.tick()).toEqual([]); // waiting for turn 2's verdict
    asm.addEvaluations([{ name: 'task_success', score: 1, conversationId: 'c-r2', source: 'evaluations-stream', timeUnixNano: 9n, timeFromReceipt: true }]);
    expect(asm.tick()).toMatchObject([{ revision: 1, closeReason: 'evaluation-arrived' }]);
    expect(asm.stats().duplicateEvaluations).toBe(0);
  });
  it('two traces of one turn (a sub-agent\'s trace starts while the orchestrator runs): a verdict naming the orchestrator\'s closes it on arrival', () => {
    const [orchestrator, subAgent] = recordRuns([{ conversationId: 'c-m' }, { conversationId: 'c-m' }]);
    // the orchestrator's root ends after the sub-agent's trace (it waited for it)
    const root = rootOf(orchestrator!);
    const longRun = orchestrator!.map((s) => (s === root ? { ...s, endTimeUnixNano: s.endTimeUnixNano + 10_000_000_000n } : s));
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 10_000 }, clock);
    const longRoot = longRun.find((s) => s.spanId === root.spanId)!;
    // export order: the orchestrator's first steps, the sub-agent's trace, the orchestrator's root
    asm.addSpans([...longRun.filter((s) => s !== longRoot), ...subAgent!, longRoot]);
    clock.advance(200);
    expect(asm.tick()).toEqual([]); // waits for its verdict
    asm.addEvaluations([{ ...evaluationOf(orchestrator!, 1), timeUnixNano: 1n }]);
    expect(asm.tick()).toMatchObject([{ revision: 0, closeReason: 'evaluation-arrived' }]);
    expect(asm.stats().evaluationWaitsExpired).toBe(0);
  });

  it('revision 0: the previous turn\'s verdict does not close the conversation when the new turn\'s root arrives after it', () => {
    const { t1, t2, asm } = firstTurnWaiting('c-b');
    asm.addSpans(t2!.filter((s) => s !== rootOf(t2!))); // turn 2 begins
    asm.addEvaluations([{ ...evaluationOf(t1!, 1), timeUnixNano: 1n }]);
    asm.addSpans([rootOf(t2!)]);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0), timeUnixNano: 2n }]);
    expect(asm.tick()).toMatchObject([{ revision: 0, closeReason: 'evaluation-arrived' }]);
  });

  it('a split first turn rejoined under its conversation waits for its verdict, which credits it', () => {
    const [t1] = recordRuns([{ conversationId: 'c-f' }]);
    const root = rootOf(t1!);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 2_000, awaitEvaluationMs: 10_000, idleMs: 30_000, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans(t1!.filter((s) => s !== root).map(withoutConversation));
    clock.advance(31_000);
    expect(asm.tick()).toMatchObject([{ closeReason: 'idle' }]);
    asm.addSpans([root]);
    clock.advance(5_000); // past grace: waiting for the verdict
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([{ ...evaluationOf(t1!, 0.4), timeUnixNano: 1n }]);
    const [ep] = asm.tick();
    expect(ep).toMatchObject({ episodeId: 'conv:c-f', closeReason: 'evaluation-arrived', lateSpans: 0 });
    expect(ep!.spans).toHaveLength(t1!.length);
    expect(ep!.evaluations.map((e) => e.score)).toEqual([0.4]);
  });

  it('lateSpanPolicy count: a split next turn is an episode of its own, not dropped', () => {
    const { turns: [, t2], clock, asm } = afterFirstTurn('c-n', 2, { graceMs: 100, awaitEvaluationMs: 0, idleMs: 30_000, lateSpanPolicy: 'count' });
    const root = rootOf(t2!);
    asm.addSpans(t2!.filter((s) => s !== root).map(withoutConversation));
    clock.advance(31_000);
    expect(asm.tick()).toMatchObject([{ closeReason: 'idle' }]);
    asm.addSpans([root]);
    asm.addEvaluations([{ ...evaluationOf(t2!, 0.6), timeUnixNano: 2n }]);
    clock.advance(200);
    const [own] = asm.tick();
    expect(own).toMatchObject({ episodeId: root.traceId });
    expect(own!.evaluations.map((e) => e.score)).toEqual([0.6]);
  });
  it('a re-sent turn that went out as an episode of its own (no verdict yet) is a duplicate, not that episode again', () => {
    const { turns: [, t2], clock, asm } = afterFirstTurn('c-d', 2, { graceMs: 100, awaitEvaluationMs: 0, lateSpanPolicy: 'count' });
    asm.addSpans(t2!); // the conversation's revision is not kept (policy count): an episode of its own
    clock.advance(200);
    expect(asm.tick()).toMatchObject([{ episodeId: t2![0]!.traceId, revision: 0, evaluations: [] }]);
    asm.addSpans(t2!); // the collector's exporter re-sends the batch
    clock.advance(200);
    // before: the same episode id at revision 0 again, holding the re-sent spans
    expect([...asm.tick(), ...asm.flush()]).toEqual([]);
    expect(asm.stats()).toMatchObject({ duplicateSpans: t2!.length, lateSpans: 0 });
  });

  it('the root of a split turn that joined its conversation, exported after the conversation closed and naming no conversation, is the conversation\'s correction', () => {
    const [run] = recordRuns([{ conversationId: 'c-u', children: 2 }]);
    const root = rootOf(run!);
    const [c0, c1] = run!.filter((s) => s !== root);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, idleMs: 30_000, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans([withoutConversation(c0!)]);
    clock.advance(31_000); // a long LLM call: the first step closes on its own
    expect(asm.tick()).toMatchObject([{ episodeId: root.traceId, closeReason: 'idle' }]);
    asm.addSpans([c1!]); // names the conversation: the trace joins it
    clock.advance(31_000);
    expect(asm.tick()).toMatchObject([{ episodeId: 'conv:c-u', closeReason: 'idle' }]);
    asm.addSpans([withoutConversation(root)]); // the root names none (only some spans carry the id)
    asm.addEvaluations([evaluationOf(run!, 0.3)]);
    clock.advance(200);
    // before: the trace's stale record of its own took the root — the trace's episode again at revision 0, the root alone credited
    const [fix] = asm.tick();
    expect(fix).toMatchObject({ episodeId: 'conv:c-u', revision: 2, closeReason: 'evaluation-arrived' });
    expect(spanKeys(fix!.spans)).toEqual(spanKeys(run!));
    expect(fix!.evaluations.map((e) => e.score)).toEqual([0.3]);
  });

  it('a next turn whose first spans name no conversation takes over the wait when it joins (merge path)', () => {
    const { t1, t2, asm } = firstTurnWaiting('c-g');
    const root2 = rootOf(t2!);
    asm.addSpans(t2!.filter((s) => s !== root2).map(withoutConversation)); // keyed by trace until its root names the conversation
    asm.addSpans([root2]);
    expectSecondTurnsVerdictCloses(asm, t1!, t2!);
  });

  it('a next turn stamped a few ms before the previous turn ended (clock skew between hosts) is still a next turn', () => {
    const [t1, t2] = recordRuns([{ conversationId: 'c-h' }, { conversationId: 'c-h' }]);
    const end1 = rootOf(t1!).endTimeUnixNano;
    const shift = end1 - 5_000_000n - rootOf(t2!).startTimeUnixNano; // turn 2 starts 5 ms "before" turn 1 ended
    const skewed = t2!.map((s) => ({ ...s, startTimeUnixNano: s.startTimeUnixNano + shift, endTimeUnixNano: s.endTimeUnixNano + shift }));
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 10_000, idleMs: 30_000 }, clock);
    asm.addSpans(t1!);
    asm.addSpans(skewed);
    expectSecondTurnsVerdictCloses(asm, t1!, t2!);
  });

  it.each([
    ['no conversation open', false],
    ['the conversation open', true],
  ])('late spans naming the conversation of a trace credited on its own (its first spans named none) are its correction, not the conversation\'s (%s)', (_, convOpen) => {
    const [run, other] = recordRuns([{ conversationId: 'c-k', children: 4 }, { conversationId: 'c-k' }]);
    const root = rootOf(run!);
    const children = run!.filter((s) => s !== root);
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans([children[0]!, root].map(withoutConversation));
    asm.addEvaluations([evaluationOf(run!, 1)]);
    expect(asm.tick()).toMatchObject([{ episodeId: root.traceId, revision: 0, closeReason: 'evaluation-arrived' }]); // credited
    if (convOpen) asm.addSpans(other!.filter((s) => s !== rootOf(other!)));
    asm.addSpans([children[1]!, children[2]!]); // exported late (another host), naming the conversation
    clock.advance(200);
    const out = [...asm.tick(), ...asm.flush()];
    // before: a revision 1 of conv:c-k holding the whole credited run (its credit again, under another id),
    // or the conversation holding the late spans without their root
    const fix = out.find((e) => e.episodeId === root.traceId);
    expect(fix).toMatchObject({ revision: 1, correction: true, lateSpans: 2 });
    expect(spanKeys(fix!.spans)).toEqual(spanKeys([children[0]!, root, children[1]!, children[2]!]));
    for (const e of out.filter((x) => x !== fix)) expect(e.traceIds).not.toContain(root.traceId);
  });

  it.each([
    ['the other conversation open', true],
    ['the other conversation closed', false],
  ])('a late span of a closed conversation\'s trace naming another conversation is the first one\'s correction (%s)', (_, otherOpen) => {
    const [a, b] = recordRuns([{ conversationId: 'c-a1', children: 3 }, { conversationId: 'c-b1' }]);
    const rootA = rootOf(a!);
    const late = { ...a!.find((s) => s !== rootA)!, attributes: { ...a![0]!.attributes, 'gen_ai.conversation.id': 'c-b1' } };
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans(a!.filter((s) => s !== late && s.spanId !== late.spanId));
    asm.addEvaluations([evaluationOf(a!, 1)]);
    if (!otherOpen) {
      asm.addSpans(b!);
      asm.addEvaluations([evaluationOf(b!, 1)]);
    } else asm.addSpans(b!.filter((s) => s !== rootOf(b!)));
    expect(asm.tick().map((e) => e.episodeId).sort()).toEqual(otherOpen ? ['conv:c-a1'] : ['conv:c-a1', 'conv:c-b1']);
    asm.addSpans([late]); // the trace's step exported late, stamped with another service's session id
    clock.advance(200);
    const out = [...asm.tick(), ...asm.flush()];
    // before: conv:c-b1 took it (a trace of its own, without its root) and conv:c-a1 made no correction
    expect(out.find((e) => e.episodeId === 'conv:c-a1')).toMatchObject({ revision: 1, lateSpans: 1, spans: expect.arrayContaining([late]) });
    for (const e of out.filter((x) => x.episodeId !== 'conv:c-a1')) expect(e.traceIds).not.toContain(rootA.traceId);
  });

  it('a sub-agent\'s trace exported after its conversation closed is a correction of the last turn: it does not wait for a verdict', () => {
    const [orchestrator, subAgent] = recordRuns([{ conversationId: 'c-l' }, { conversationId: 'c-l' }]);
    const root = rootOf(orchestrator!);
    const longRun = orchestrator!.map((s) => (s === root ? { ...s, endTimeUnixNano: s.endTimeUnixNano + 10_000_000_000n } : s));
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 10_000, lateSpanPolicy: 'correct' }, clock);
    asm.addSpans(longRun);
    asm.addEvaluations([{ ...evaluationOf(orchestrator!, 1), timeUnixNano: 1n }]);
    expect(asm.tick()).toMatchObject([{ revision: 0 }]);
    asm.addSpans(subAgent!); // it ran inside the orchestrator's run, exported late from another host
    clock.advance(200);
    expect(asm.tick()).toMatchObject([{ revision: 1, closeReason: 'root-ended' }]);
    expect(asm.stats().evaluationWaitsExpired).toBe(0);
  });
});

/** Turn 1 of conversation c-r2 closed by a receipt-timed conversation-level verdict (a judge posting `{conversation_id, name, score}`). */
function afterFirstTurnReceiptTimed() {
  const turns = recordRuns([{ conversationId: 'c-r2' }, { conversationId: 'c-r2' }]);
  const clock = new ManualClock(0);
  const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 5_000, lateSpanPolicy: 'correct' }, clock);
  asm.addSpans(turns[0]!);
  asm.addEvaluations([{ name: 'task_success', score: 1, conversationId: 'c-r2', source: 'evaluations-stream', timeUnixNano: 5n, timeFromReceipt: true }]);
  expect(asm.tick()).toMatchObject([{ revision: 0, closeReason: 'evaluation-arrived' }]);
  return { turns, clock, asm };
}

