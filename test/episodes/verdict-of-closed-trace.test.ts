/**
 * Conversation mode: a verdict naming a conversation whose open episode does not hold the trace it
 * judges, while a closed episode does — a turn whose spans named no conversation (keyed by its trace,
 * closed at grace without its verdict) judged by an evaluator that knows the conversation. The verdict
 * is that closed episode's (its first credit); it joined the open conversation instead (by
 * `gen_ai.response.id`: the span context it resolved to was never compared with what the conversation
 * holds), where it judged nothing, or (by span context) waited for a next turn of that trace that
 * never came and expired — either way the turn was never credited.
 */
import { describe, expect, it } from 'vitest';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { recordRuns, rootOf } from './sdk.js';

function setup() {
  const [t1raw, t0] = recordRuns([{}, { conversationId: 'c1' }]);
  // the turn is one model call's trace: its root records the response id
  const root1 = rootOf(t1raw!);
  const t1: Span[] = t1raw!.map((s) => (s === root1 ? { ...s, attributes: { ...s.attributes, 'gen_ai.response.id': 'resp_t1' } } : s));
  const clock = new ManualClock(0);
  const asm = new EpisodeAssembler({ keyBy: 'conversation', graceMs: 100, awaitEvaluationMs: 0, idleMs: 60_000, pendingEvaluationTtlMs: 1_000 }, clock);
  asm.addSpans(t1);
  clock.advance(200);
  const first = asm.tick();
  expect(first.map((e) => [e.episodeId, e.revision, e.evaluations.length])).toEqual([[root1.traceId, 0, 0]]);
  asm.addSpans(t0!.filter((s) => s !== rootOf(t0!))); // the conversation's turn, still running
  expect(asm.stats().open).toBe(1);
  return { asm, clock, t1, root1, t0: t0! };
}

describe('a verdict of a closed trace, naming an open conversation that does not hold it', () => {
  const verdicts: [string, (root1: Span) => Evaluation][] = [
    ['by response id', () => ({ name: 'task_success', score: 1, label: 'pass', conversationId: 'c1', responseId: 'resp_t1', source: 'log-event', timeUnixNano: 1n })],
    ['by span context', (root1) => ({ name: 'task_success', score: 1, label: 'pass', conversationId: 'c1', traceId: root1.traceId, spanId: root1.spanId, source: 'log-event', timeUnixNano: 1n })],
  ];
  for (const [how, verdict] of verdicts) {
    it(`${how}: credits the closed turn (a revision with the verdict), not the conversation`, () => {
      const { asm, clock, root1 } = setup();
      asm.addEvaluations([verdict(root1)]);
      clock.advance(2_000);
      const closed = [...asm.tick(), ...asm.flush('shutdown')];
      const turn = closed.find((e) => e.episodeId === root1.traceId);
      expect(turn, `${how}: the turn's revision with its verdict`).toMatchObject({ revision: 1 });
      expect(turn!.evaluations.map((e) => e.spanId)).toEqual([root1.spanId]);
      const conversation = closed.find((e) => e.episodeId === 'conv:c1')!;
      expect(conversation.evaluations).toEqual([]);
      expect(asm.stats()).toMatchObject({ lateEvaluations: 1, expiredEvaluations: 0 });
    });
  }
});
