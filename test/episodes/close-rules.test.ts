import { describe, expect, it } from 'vitest';
import { assemblerHooksFor, EpisodeAssembler, ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import { evaluationOf, recordRuns, rootOf, spanKeys } from './sdk.js';

/** Grace rules alone: waiting for the evaluation (on by default after a start) is tested below with it on. */
function setup(options: EpisodeAssemblerOptionsInput = {}) {
  const clock = new ManualClock(1_000);
  return { clock, asm: new EpisodeAssembler({ awaitEvaluationMs: 0, ...options }, clock) };
}

describe('EpisodeAssembler close rules', () => {
  it('closes root-ended only after grace passes with no new span, and grace restarts on each span', () => {
    const [run] = recordRuns([{ children: 3 }]);
    const { clock, asm } = setup({ graceMs: 2000 });
    asm.addSpans(run!);
    clock.advance(1999);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    const [ep] = asm.tick();
    expect(ep?.closeReason).toBe('root-ended');
    expect(ep?.episodeId).toBe(run![0]!.traceId);
    expect(ep?.traceIds).toEqual([run![0]!.traceId]);
    expect(spanKeys(ep!.spans)).toEqual(spanKeys(run!));
    expect(ep?.openedAtMs).toBe(1_000);
    expect(ep?.closedAtMs).toBe(3_000);
    expect(ep?.revision).toBe(0);
    expect(ep?.correction).toBe(false);
    expect(asm.stats().closed['root-ended']).toBe(1);
  });

  it('does not start grace before the root arrives; a span after the root restarts it', () => {
    const [run] = recordRuns([{ children: 3 }]);
    const root = rootOf(run!);
    const children = run!.filter((s) => s !== root);
    const { clock, asm } = setup({ graceMs: 2000, idleMs: 30_000 });
    asm.addSpans(children.slice(0, 2));
    clock.advance(10_000);
    expect(asm.tick()).toEqual([]);
    asm.addSpans([root]);
    clock.advance(1500);
    asm.addSpans(children.slice(2));
    clock.advance(1500);
    expect(asm.tick()).toEqual([]);
    clock.advance(500);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
  });

  it('treats a SERVER span whose parent never arrives as the root (remote caller)', () => {
    const [run] = recordRuns([{ remoteParent: true }]);
    expect(rootOf(run!).parentSpanId).toBeDefined();
    const { clock, asm } = setup({ graceMs: 100 });
    asm.addSpans(run!);
    clock.advance(100);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
  });

  it('a SERVER span stops counting as root once its (client) parent arrives within grace', () => {
    const [run] = recordRuns([{ rpcHop: true, children: 2 }]);
    const names = run!.map((s) => s.name);
    expect(names.slice(-3)).toEqual(['handle /agent', 'POST /agent', 'invoke_agent planner']);
    const { clock, asm } = setup({ graceMs: 1000, idleMs: 60_000 });
    asm.addSpans(run!.slice(0, -2)); // children + SERVER span; its CLIENT parent not yet in
    clock.advance(999);
    asm.addSpans(run!.slice(-2, -1)); // the CLIENT span: the SERVER span is no longer a root
    clock.advance(1000);
    expect(asm.tick()).toEqual([]);
    asm.addSpans(run!.slice(-1)); // the real root
    clock.advance(1000);
    expect(asm.tick().map((e) => [e.closeReason, e.spans.length])).toEqual([['root-ended', run!.length]]);
  });

  it('does not treat an internal span with a missing (still running) parent as a root', () => {
    const [run] = recordRuns([{ children: 2 }]);
    const root = rootOf(run!);
    const { clock, asm } = setup({ graceMs: 100, idleMs: 5_000 });
    asm.addSpans(run!.filter((s) => s !== root));
    clock.advance(4_999);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['idle']);
  });

  it('closes on idle when no root ever arrives', () => {
    const [run] = recordRuns([{}]);
    const { clock, asm } = setup({ idleMs: 500 });
    asm.addSpans(run!.filter((s) => s !== rootOf(run!)));
    clock.advance(500);
    const closed = asm.tick();
    expect(closed.map((e) => e.closeReason)).toEqual(['idle']);
    expect(closed[0]!.spans).toHaveLength(run!.length - 1);
  });

  it('closes on max-duration even while spans keep coming', () => {
    const [run] = recordRuns([{ children: 6 }]);
    const children = run!.filter((s) => s !== rootOf(run!));
    const { clock, asm } = setup({ idleMs: 1_000, maxDurationMs: 2_500 });
    for (const s of children) {
      asm.addSpans([s]);
      expect(asm.tick()).toEqual([]);
      clock.advance(400);
    }
    // 6 spans × 400 ms = 2400 ms; 100 ms more reaches max-duration before idle
    clock.advance(100);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['max-duration']);
  });

  it('closes with max-spans when the span count reaches the cap', () => {
    const [run] = recordRuns([{ children: 5 }]);
    const { asm } = setup({ maxSpansPerEpisode: 3 });
    asm.addSpans(run!);
    const closed = asm.tick();
    // the rest of the trace arrived after the close; its root (exported last) reopens the capped
    // revision once — the run's verdict names it —, the other spans are only counted
    expect(closed.map((e) => [e.closeReason, e.spans.length, e.revision])).toEqual([['max-spans', 3, 0], ['max-spans', 4, 1]]);
    expect(asm.stats()).toMatchObject({ lateSpans: 3, lateUncorrected: 2 });
  });

  it('closes with max-bytes when the estimated bytes reach the cap', () => {
    const [run] = recordRuns([{ children: 4, payloadChars: 2_000 }]);
    const { asm } = setup({ maxBytesPerEpisode: 5_000 });
    asm.addSpans(run!);
    const [ep] = asm.tick();
    expect(ep?.closeReason).toBe('max-bytes');
    expect(ep!.bytes).toBeGreaterThanOrEqual(5_000);
    expect(ep!.spans.length).toBeLessThan(run!.length);
  });

  it('flush closes every open episode with the given reason (default shutdown)', () => {
    const runs = recordRuns([{}, {}, {}]);
    const { asm } = setup();
    for (const r of runs) asm.addSpans(r);
    const closed = asm.flush();
    expect(closed.map((e) => e.closeReason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(asm.stats().open).toBe(0);
    expect(asm.stats().bufferedSpans).toBe(0);
    expect(asm.stats().bufferedBytes).toBe(0);
  });
});

describe('EpisodeAssembler evaluations', () => {
  it('evaluation before the spans: held, joined, closes as soon as the root arrives', () => {
    const [run] = recordRuns([{}]);
    const { clock, asm } = setup();
    asm.addEvaluations([evaluationOf(run!, 0.25)]);
    expect(asm.stats().pendingEvaluations).toBe(1);
    clock.advance(10);
    asm.addSpans(run!);
    const [ep] = asm.tick();
    expect(ep?.closeReason).toBe('evaluation-arrived');
    expect(ep?.evaluations.map((e) => e.score)).toEqual([0.25]);
    expect(asm.stats().pendingEvaluations).toBe(0);
  });

  it('evaluation before the spans, then one batch with the whole trace root first: closes with every span, not on the root alone', () => {
    const [run] = recordRuns([{ children: 3 }]);
    const root = rootOf(run!);
    const { asm } = setup();
    asm.addEvaluations([evaluationOf(run!, 0.9)]);
    // one request sorted by start time (the root starts first): revision 0 held only the root
    // and the other spans became late ones of a correction
    asm.addSpans([root, ...run!.filter((s) => s !== root)]);
    const closed = asm.tick();
    expect(closed.map((e) => [e.closeReason, e.revision, e.spans.length])).toEqual([['evaluation-arrived', 0, run!.length]]);
    expect(asm.stats().lateSpans).toBe(0);
  });

  it('with closesOnEvaluation (evaluation.name), another evaluator\'s verdict on the run does not close it; the named one does', () => {
    const [run] = recordRuns([{}]);
    const asm = new EpisodeAssembler({}, new ManualClock(1_000), assemblerHooksFor('task_success'));
    asm.addSpans(run!);
    asm.addEvaluations([{ ...evaluationOf(run!, 0), name: 'toxicity' }]);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([{ ...evaluationOf(run!, 0.9), name: 'task_success' }]);
    expect(asm.tick().map((e) => [e.closeReason, e.evaluations.map((x) => x.name)])).toEqual([['evaluation-arrived', ['toxicity', 'task_success']]]);
    // the same when the verdicts come first and the spans after
    const [other] = recordRuns([{}]);
    asm.addEvaluations([{ ...evaluationOf(other!, 0), name: 'toxicity' }]);
    asm.addSpans(other!);
    expect(asm.tick()).toEqual([]);
    // no name configured: any system-level verdict closes it
    const any = new EpisodeAssembler({}, new ManualClock(1_000), assemblerHooksFor(undefined));
    any.addSpans(other!);
    any.addEvaluations([{ ...evaluationOf(other!, 0), name: 'toxicity' }]);
    expect(any.tick().map((e) => e.closeReason)).toEqual(['evaluation-arrived']);
  });

  it('evaluation with the spans (same tick, root already in): closes immediately', () => {
    const [run] = recordRuns([{}]);
    const { asm } = setup();
    asm.addSpans(run!);
    asm.addEvaluations([evaluationOf(run!)]);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['evaluation-arrived']);
  });

  it('evaluation before the root ended: joined, closes when the root arrives', () => {
    const [run] = recordRuns([{}]);
    const root = rootOf(run!);
    const { asm } = setup();
    asm.addSpans(run!.filter((s) => s !== root));
    asm.addEvaluations([evaluationOf(run!)]);
    expect(asm.tick()).toEqual([]);
    asm.addSpans([root]);
    expect(asm.tick().map((e) => [e.closeReason, e.evaluations.length])).toEqual([['evaluation-arrived', 1]]);
  });

  it('span-level evaluations join but do not close; closeOnEvaluation=false waits for grace', () => {
    const [a, b] = recordRuns([{}, {}]);
    const { clock, asm } = setup({ graceMs: 1000, awaitEvaluationMs: 10_000 });
    asm.addSpans(a!);
    const child = a!.find((s) => s.parentSpanId !== undefined)!;
    asm.addEvaluations([evaluationOf(a!, 0, child.spanId)]);
    expect(asm.tick()).toEqual([]);

    const off = setup({ graceMs: 1000, closeOnEvaluation: false });
    off.asm.addSpans(b!);
    off.asm.addEvaluations([evaluationOf(b!)]);
    expect(off.asm.tick()).toEqual([]);
    clock.advance(1000);
    off.clock.advance(1000);
    expect(off.asm.tick().map((e) => [e.closeReason, e.evaluations.length])).toEqual([['root-ended', 1]]);
    // a step-level verdict is not the run's: the episode waits for that (awaitEvaluationMs, 10 s)
    expect(asm.tick()).toEqual([]);
    clock.advance(8999);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    expect(asm.tick().map((e) => [e.closeReason, e.evaluations.length])).toEqual([['root-ended', 1]]);
    expect(asm.stats().evaluationWaitsExpired).toBe(1);
  });

  it('evaluation after close: counted late; with policy correct it re-emits the episode as a correction', () => {
    const [run] = recordRuns([{}]);
    const { clock, asm } = setup({ graceMs: 100, lateSpanPolicy: 'correct' });
    asm.addSpans(run!);
    clock.advance(100);
    const [first] = asm.tick();
    expect(first?.evaluations).toEqual([]);
    asm.addEvaluations([evaluationOf(run!, 0)]);
    const [fix] = asm.tick();
    expect(fix).toMatchObject({ episodeId: first!.episodeId, closeReason: 'evaluation-arrived', revision: 1, correction: true });
    expect(spanKeys(fix!.spans)).toEqual(spanKeys(run!));
    expect(fix!.evaluations.map((e) => e.score)).toEqual([0]);
    expect(asm.stats().lateEvaluations).toBe(1);
    expect(asm.stats().corrections).toBe(1);
  });

  it('the same evaluation delivered again after the close (exporter retry, Kafka redelivery) is a duplicate: no reopened episode, no correction', () => {
    for (const closeOnEvaluation of [true, false]) {
      const [run] = recordRuns([{}]);
      const { clock, asm } = setup({ graceMs: 100, idleMs: 1_000, lateSpanPolicy: 'correct', closeOnEvaluation });
      const evaluation = evaluationOf(run!, 1);
      asm.addSpans(run!);
      asm.addEvaluations([evaluation]);
      clock.advance(100);
      const first = asm.tick();
      expect(first.map((e) => [e.revision, e.evaluations.length])).toEqual([[0, 1]]);
      asm.addEvaluations([{ ...evaluation }]); // decoded again: equal, not the same object
      expect(asm.stats()).toMatchObject({ open: 0, duplicateEvaluations: 1, lateEvaluations: 0, corrections: 0 });
      clock.advance(5_000);
      expect(asm.tick()).toEqual([]);
      expect(asm.flush()).toEqual([]);
      // a new verdict is still a correction, and closes on its own deadline (no other traffic)
      asm.addEvaluations([{ ...evaluation, score: 0, timeUnixNano: evaluation.timeUnixNano + 1n }]);
      clock.advance(1_000);
      expect(asm.tick().map((e) => [e.revision, e.evaluations.length])).toEqual([[1, 2]]);
    }
  });

  it('pending evaluations expire after the TTL and are bounded in count', () => {
    const runs = recordRuns([{}, {}, {}]);
    const { clock, asm } = setup({ pendingEvaluationTtlMs: 1000, maxPendingEvaluations: 2 });
    for (const r of runs) asm.addEvaluations([evaluationOf(r)]);
    expect(asm.stats()).toMatchObject({ pendingEvaluations: 2, expiredEvaluations: 1 });
    clock.advance(1000);
    asm.tick();
    expect(asm.stats()).toMatchObject({ pendingEvaluations: 0, expiredEvaluations: 3 });
    asm.addSpans(runs[2]!);
    expect(asm.flush()[0]!.evaluations).toEqual([]);
  });

  it('drops a repeated evaluation and counts evaluations without any join key', () => {
    const [run] = recordRuns([{}]);
    const { asm } = setup({ closeOnEvaluation: false });
    asm.addSpans(run!);
    const e = evaluationOf(run!);
    asm.addEvaluations([e, { ...e }]);
    asm.addEvaluations([{ ...e, traceId: undefined }]);
    expect(asm.stats()).toMatchObject({ evaluations: 1, duplicateEvaluations: 1, unjoinableEvaluations: 1 });
    expect(asm.flush()[0]!.evaluations).toHaveLength(1);
  });
});

describe('EpisodeAssembler caps evict the oldest (closed, not dropped)', () => {
  it('maxOpenEpisodes: the oldest episode is emitted with reason evicted', () => {
    const runs = recordRuns([{}, {}, {}]);
    const { asm } = setup({ maxOpenEpisodes: 2 });
    for (const r of runs) asm.addSpans(r.slice(0, 1));
    const closed = asm.tick();
    expect(closed.map((e) => [e.closeReason, e.episodeId])).toEqual([['evicted', runs[0]![0]!.traceId]]);
    expect(asm.stats()).toMatchObject({ open: 2, evicted: 1 });
  });

  it('maxBufferedBytes: oldest episodes are evicted until the total fits', () => {
    const runs = recordRuns([{ payloadChars: 3000 }, { payloadChars: 3000 }, { payloadChars: 3000 }]);
    const { asm } = setup({ maxBufferedBytes: 20_000, maxBytesPerEpisode: 15_000 });
    for (const r of runs) asm.addSpans(r.slice(0, 3));
    const closed = asm.tick();
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.every((e) => e.closeReason === 'evicted')).toBe(true);
    expect(closed[0]!.episodeId).toBe(runs[0]![0]!.traceId);
    expect(asm.stats().bufferedBytes).toBeLessThanOrEqual(20_000);
    const all = [...closed, ...asm.flush()];
    expect(all.reduce((n, e) => n + e.spans.length, 0)).toBe(9); // nothing lost
  });
});

describe('EpisodeAssembler awaiting the evaluation (awaitEvaluationMs)', () => {
  /** An assembler that has seen evaluations arriving: the first run was judged and closed. */
  function judged(options: EpisodeAssemblerOptionsInput = {}, hooks = {}) {
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ graceMs: 1000, ...options }, clock, hooks);
    const [first, ...rest] = recordRuns([{}, {}, {}]);
    asm.addSpans(first!);
    asm.addEvaluations([evaluationOf(first!, 1)]);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['evaluation-arrived']);
    return { clock, asm, runs: rest };
  }

  it('a slow judge: the run stays open past grace and closes once, with its verdict, when the verdict arrives', () => {
    const { clock, asm, runs } = judged();
    const run = runs[0]!;
    asm.addSpans(run);
    clock.advance(1000);
    expect(asm.tick()).toEqual([]); // grace passed: before, revision 0 closed here without credit
    expect(asm.stats().awaitingEvaluation).toBe(1);
    clock.advance(6000);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([evaluationOf(run, 0.7)]);
    expect(asm.stats().awaitingEvaluation).toBe(0);
    const [ep] = asm.tick();
    expect(ep).toMatchObject({ closeReason: 'evaluation-arrived', revision: 0, correction: false });
    expect(ep!.evaluations.map((e) => e.score)).toEqual([0.7]);
    expect(asm.stats()).toMatchObject({ corrections: 0, lateEvaluations: 0, evaluationWaitsExpired: 0 });
  });

  it('no verdict within awaitEvaluationMs: closes root-ended then (counted); a later verdict is a correction as before', () => {
    const { clock, asm, runs } = judged({ awaitEvaluationMs: 5000 });
    const run = runs[0]!;
    asm.addSpans(run);
    clock.advance(4999);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['root-ended', 0]]);
    expect(asm.stats().evaluationWaitsExpired).toBe(1);
    asm.addEvaluations([evaluationOf(run, 1)]);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['evaluation-arrived', 1]]);
  });

  it('a fleet that sends no evaluations closes at grace once evaluationsArrivingMs passed since the start; so does one whose last evaluation is older', () => {
    const [a, b, c] = recordRuns([{}, {}, {}]);
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ graceMs: 1000, evaluationsArrivingMs: 20_000 }, clock);
    // a (re)start counts as evaluations arriving: replayed runs wait for verdicts on their way
    asm.addSpans(a!);
    clock.advance(1000);
    expect(asm.tick()).toEqual([]);
    clock.advance(9000);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
    clock.advance(10_001);
    asm.addSpans(c!);
    clock.advance(1000);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
    expect(asm.stats().evaluationWaitsExpired).toBe(1);

    const old = judged({ evaluationsArrivingMs: 20_000 });
    old.clock.advance(20_001);
    old.asm.addSpans(b!);
    old.clock.advance(1000);
    expect(old.asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
    expect(old.asm.stats().evaluationWaitsExpired).toBe(0);
  });

  it('does not wait when the spans carry the score (root score attribute, with the hooks the job passes), nor for corrections, nor when ≤ graceMs', () => {
    const { clock, asm, runs } = judged({}, assemblerHooksFor(undefined, { rootScoreAttribute: 'agent_credit.score' }));
    const root = rootOf(runs[0]!);
    asm.addSpans(runs[0]!.map((s) => (s === root ? { ...s, attributes: { ...s.attributes, 'agent_credit.score': 0.9 } } : s)));
    clock.advance(1000);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);

    // a late span reopens a run that closed unjudged: the correction closes at grace, it does not wait again
    const late = runs[1]!.find((s) => s !== rootOf(runs[1]!))!;
    asm.addSpans(runs[1]!.filter((s) => s !== late));
    clock.advance(10_000);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['root-ended', 0]]);
    asm.addSpans([late]);
    clock.advance(1000);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['root-ended', 1]]);
    expect(asm.stats().evaluationWaitsExpired).toBe(1);

    const off = judged({ awaitEvaluationMs: 1000 }); // ≤ graceMs: off
    off.asm.addSpans(off.runs[0]!);
    off.clock.advance(1000);
    expect(off.asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
    expect(off.asm.stats().evaluationWaitsExpired).toBe(0);
  });

  it('only the configured evaluation name counts: another evaluator does not switch waiting on, nor end it', () => {
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ graceMs: 1000 }, clock, assemblerHooksFor('task_success'));
    const [a, b] = recordRuns([{}, {}]);
    clock.advance(900_001); // past the start window (evaluationsArrivingMs), which counts as evaluations arriving
    asm.addSpans(a!);
    asm.addEvaluations([{ ...evaluationOf(a!, 1), name: 'toxicity' }]);
    clock.advance(1000);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']); // no task_success seen yet: no wait
    asm.addEvaluations([evaluationOf(a!, 1)]); // task_success arrives (a correction of a)
    asm.tick();
    asm.addSpans(b!);
    asm.addEvaluations([{ ...evaluationOf(b!, 1), name: 'toxicity' }]);
    clock.advance(1000);
    expect(asm.tick()).toEqual([]); // waits for task_success, toxicity does not close it
    asm.addEvaluations([evaluationOf(b!, 0.4)]);
    expect(asm.tick().map((e) => [e.closeReason, e.revision, e.evaluations.length])).toEqual([['evaluation-arrived', 0, 2]]);
  });

  it('a wait cut short by idleMs closes idle, and one that outlives the evaluations window closes at once: both counted as waits without a verdict', () => {
    const { clock, asm, runs } = judged({ awaitEvaluationMs: 20_000, idleMs: 15_000 });
    asm.addSpans(runs[0]!);
    clock.advance(14_999);
    expect(asm.tick()).toEqual([]);
    clock.advance(1);
    expect(asm.tick().map((e) => e.closeReason)).toEqual(['idle']);
    expect(asm.stats().evaluationWaitsExpired).toBe(1);

    const w = judged({ evaluationsArrivingMs: 5_000 });
    w.asm.addSpans(w.runs[0]!);
    w.clock.advance(1000);
    expect(w.asm.tick()).toEqual([]); // waiting: the judged run's verdict came 1 s ago
    w.clock.advance(4001); // no evaluation for longer than evaluationsArrivingMs: stop waiting
    expect(w.asm.tick().map((e) => e.closeReason)).toEqual(['root-ended']);
    expect(w.asm.stats().evaluationWaitsExpired).toBe(1);
  });

  it('a run after a quiet spell of minutes still waits (evaluationsArrivingMs 15 min; with the 60 s it replaced it closed without credit)', () => {
    const { clock, asm, runs } = judged();
    clock.advance(5 * 60_000);
    asm.addSpans(runs[0]!);
    clock.advance(2000);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([evaluationOf(runs[0]!, 1)]);
    expect(asm.tick().map((e) => [e.closeReason, e.revision])).toEqual([['evaluation-arrived', 0]]);
  });

  it('closeOnEvaluation false: a verdict joining during the wait ends it at the next tick (grace passed), not counted as a wait without a verdict', () => {
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ graceMs: 1000, closeOnEvaluation: false }, clock); // the start counts as an arrival
    const runs = recordRuns([{}]);
    asm.addSpans(runs[0]!);
    clock.advance(1000);
    expect(asm.tick()).toEqual([]);
    asm.addEvaluations([evaluationOf(runs[0]!, 0.8)]);
    expect(asm.tick().map((e) => [e.closeReason, e.evaluations.length])).toEqual([['root-ended', 1]]);
    expect(asm.stats().evaluationWaitsExpired).toBe(0);
  });
});
