/**
 * Which evaluation is the run's verdict, on the recorded fixtures (credit-audit pass):
 * - with `evaluation.name` unset, a later evaluation of another name on the root (a tone score
 *   after the task verdict) overturned the verdict: revision 1 turned the failed run 3 into a
 *   "success" (tone 0.95) and rewarded its refusal. The first name's latest is the verdict now,
 *   and such a late evaluation reopens nothing (it would only repeat the credit under new ids);
 * - OpenInference nests "Agent workflow" AGENT → CHAIN: a verdict on the inner one gave no credit.
 */
import { describe, expect, it } from 'vitest';
import { evaluatesRun, evaluationsFromLogs, systemEvaluation } from '../../src/conventions/evaluations.js';
import { SpanTree } from '../../src/conventions/span-tree.js';
import { assemblerHooksFor, EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import { otherNameVerdictsReporter } from '../../src/runtime/expired-evaluations.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { fixtureLogs, runSpans } from './fixtures.js';

/** Run 3 (flights refuses: fails) of an instrumentation, with its recorded task_success verdict. */
function run3(inst: 'genai' | 'openinference' | 'openllmetry') {
  const spans = runSpans(inst)[2]!;
  const verdict = evaluationsFromLogs(fixtureLogs(inst)).find((e) => e.traceId === spans[0]!.traceId)!;
  return { spans, verdict };
}

const later = (e: Evaluation, name: string, score: number, ns = 1_000_000_000n): Evaluation => ({ ...e, name, score, timeUnixNano: e.timeUnixNano + ns });

describe('the system verdict with evaluation.name unset', () => {
  it('is the first name’s latest: a later evaluation of another name on the root does not replace it; a re-judgment of the same name does', () => {
    const { spans, verdict } = run3('genai');
    const tree = new SpanTree(spans);
    expect(verdict).toMatchObject({ name: 'task_success', score: 0 });
    const tone = { ...later(verdict, 'tone_politeness', 0.95), label: 'polite' };
    expect(systemEvaluation(tree, [verdict, tone])).toBe(verdict);
    expect(systemEvaluation(tree, [tone, verdict])).toBe(verdict); // by time, not by arrival
    const rejudged = later(verdict, 'task_success', 1, 2_000_000_000n);
    expect(systemEvaluation(tree, [verdict, tone, rejudged])).toBe(rejudged);
    // a configured name still decides alone
    expect(systemEvaluation(tree, [verdict, tone], 'tone_politeness')).toBe(tone);
  });

  it('a late evaluation of another name does not reopen the closed run (counted); a late re-judgment does, and credit keeps the task verdict', async () => {
    const { spans, verdict } = run3('genai');
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(spans);
    asm.addEvaluations([verdict]);
    const [first] = asm.tick();
    expect(first).toMatchObject({ closeReason: 'evaluation-arrived', revision: 0 });
    const before = await processEpisode(first!);
    expect(before[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'failure', evaluation: { name: 'task_success' } });

    clock.advance(1000);
    asm.addEvaluations([later(verdict, 'tone_politeness', 0.95)]);
    clock.advance(5000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ lateEvaluations: 1, lateEvaluationsUnused: 1, lateEvaluationsOtherName: 1, corrections: 0, open: 0 });

    asm.addEvaluations([later(verdict, 'task_success', 1, 9_000_000_000n)]);
    const [corrected] = asm.tick();
    expect(corrected).toMatchObject({ revision: 1, correction: true });
    const after = await processEpisode(corrected!);
    expect(after[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
    expect(asm.stats()).toMatchObject({ lateEvaluations: 2, lateEvaluationsUnused: 1, corrections: 1 });
  });
});

describe('several judges with evaluation.name unset: the fastest decides, and the runtime says so', () => {
  it('a tone score first closes the failed run as its verdict; the slower task verdict is unused, counted and logged with the fix — with evaluation.name set it decides', () => {
    const { spans, verdict } = run3('genai');
    const tone = { ...later(verdict, 'tone_politeness', 0.95, -1_000_000_000n), label: 'polite' }; // judged a second sooner
    const lines: { obj: object; msg: string }[] = [];
    const report = otherNameVerdictsReporter({ warn: (obj, msg) => lines.push({ obj, msg }) });
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(spans);
    asm.addEvaluations([tone]);
    expect(asm.tick()).toMatchObject([{ closeReason: 'evaluation-arrived', evaluations: [{ name: 'tone_politeness' }] }]);
    clock.advance(7000);
    asm.addEvaluations([verdict]);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ lateEvaluationsUnused: 1, lateEvaluationsOtherName: 1, corrections: 0 });
    report(asm.stats().lateEvaluationsOtherName);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.obj).toEqual({ count: 1, total: 1 });
    expect(lines[0]!.msg).toMatch(/the fastest one decides — set evaluation\.name \(AGENT_CREDIT_EVALUATION_NAME\)/);

    const named = new EpisodeAssembler({}, new ManualClock(0), assemblerHooksFor('task_success'));
    named.addSpans(spans);
    named.addEvaluations([tone]);
    named.addEvaluations([verdict]);
    expect(named.tick()).toMatchObject([{ closeReason: 'evaluation-arrived', revision: 0 }]);
    expect(named.stats()).toMatchObject({ lateEvaluationsOtherName: 0 });
  });
});

/**
 * Run 3 with its verdict carried by the root span (evaluation.rootScoreAttribute task_success = 0),
 * not by a log record; `at(name, score, s)` is a log-record evaluation s seconds after the root ended.
 */
function rootScoredRun3() {
  const { spans: recorded, verdict } = run3('genai');
  const tree = new SpanTree(recorded);
  const root = recorded.find((s) => tree.isRoot(s.spanId))!;
  const spans = recorded.map((s) => (s === root ? { ...s, attributes: { ...s.attributes, task_success: 0 } } : s));
  const at = (name: string, score: number, s: number): Evaluation => ({ ...verdict, name, score, source: 'log-event', timeUnixNano: root.endTimeUnixNano + BigInt(s) * 1_000_000_000n });
  const clock = new ManualClock(0);
  const asm = new EpisodeAssembler({ graceMs: 10 }, clock, assemblerHooksFor(undefined, { rootScoreAttribute: 'task_success' }));
  return { spans, at, clock, asm };
}

describe('a late evaluation beside a verdict the spans carry (review finding)', () => {
  it('the spans’ verdict counts: another name is unused, and a re-judgment of the spans’ name reopens the run (it was dropped as "unchanged")', async () => {
    const { spans, at, clock, asm } = rootScoredRun3();
    asm.addSpans(spans);
    clock.advance(10);
    const [first] = asm.tick();
    expect(first).toMatchObject({ closeReason: 'root-ended', revision: 0 });
    const options = { rootScoreAttribute: 'task_success' };
    expect((await processEpisode(first!, options))[0]).toMatchObject({ outcome: 'failure', evaluation: { name: 'task_success', source: 'root-attribute' } });

    clock.advance(1000);
    asm.addEvaluations([at('tone_politeness', 0.95, 1)]);
    clock.advance(10);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ lateEvaluations: 1, lateEvaluationsUnused: 1, corrections: 0 });

    asm.addEvaluations([at('task_success', 1, 9)]);
    const [corrected] = asm.tick();
    expect(corrected).toMatchObject({ revision: 1, correction: true });
    expect((await processEpisode(corrected!, options))[0]).toMatchObject({ outcome: 'success', evaluation: { name: 'task_success', score: 1, source: 'log-event' } });
  });
});

describe('a late re-judgment of a span-borne verdict after another name joined (second review)', () => {
  it('reopens the run: the joined tone score is not the first name — the root attribute, earlier, is', async () => {
    const { spans, at, clock, asm } = rootScoredRun3();
    asm.addSpans(spans);
    asm.addEvaluations([at('tone_politeness', 0.95, 1)]); // joins, and closes the run on arrival
    const [first] = asm.tick();
    expect(first).toMatchObject({ revision: 0, evaluations: [{ name: 'tone_politeness' }] });
    const options = { rootScoreAttribute: 'task_success' };
    expect((await processEpisode(first!, options))[0]).toMatchObject({ outcome: 'failure', evaluation: { name: 'task_success', source: 'root-attribute' } });
    clock.advance(5000);
    asm.addEvaluations([at('task_success', 1, 9)]);
    const [corrected] = asm.tick();
    expect(corrected).toMatchObject({ revision: 1, correction: true });
    expect((await processEpisode(corrected!, options))[0]).toMatchObject({ outcome: 'success', evaluation: { name: 'task_success', score: 1 } });
  });
});

describe('a verdict on OpenInference’s inner "Agent workflow" span scores the run', () => {
  it('the CHAIN wrapper is run-level (its only-child, same-name parent is the root); the turn spans below are not', () => {
    const { spans, verdict } = run3('openinference');
    const tree = new SpanTree(spans);
    const root = spans.find((s) => s.parentSpanId === undefined)!;
    const wrapper = spans.find((s) => s.parentSpanId === root.spanId)!;
    expect([root.name, wrapper.name]).toEqual(['Agent workflow', 'Agent workflow']);
    expect(evaluatesRun(tree, { ...verdict, spanId: wrapper.spanId })).toBe(true);
    for (const inner of spans.filter((s) => s.parentSpanId === wrapper.spanId)) expect(evaluatesRun(tree, { ...verdict, spanId: inner.spanId })).toBe(false);
  });

  it('closes the episode at once and gives it credit (before: skipped, "all of inner spans")', async () => {
    const { spans, verdict } = run3('openinference');
    const root = spans.find((s) => s.parentSpanId === undefined)!;
    const wrapper = spans.find((s) => s.parentSpanId === root.spanId)!;
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans(spans);
    asm.addEvaluations([{ ...verdict, spanId: wrapper.spanId }]);
    const [episode] = asm.tick();
    expect(episode).toMatchObject({ closeReason: 'evaluation-arrived' });
    let skipped: string | undefined;
    const events = await processEpisode(episode!, { onSkipped: (_e, err) => (skipped = err.message) });
    expect(skipped).toBeUndefined();
    expect(events[0]).toMatchObject({ event_type: 'episode_credit', outcome: 'failure', system_value: 0 });
  });
});
