import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { DegenerateEpisodeError } from '../../src/credit/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { skippedEpisodeReporter } from '../../src/runtime/episode-log.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

/** A generated run closed (shutdown) with its evaluations rewritten by `edit`; the reason it was skipped for. */
async function skippedFor(edit: (e: Evaluation) => Evaluation | undefined, evaluationName?: string): Promise<string> {
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
  const asm = new EpisodeAssembler({});
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).flatMap((e) => edit(e) ?? []));
  const [episode] = asm.flush('idle');
  let reason: DegenerateEpisodeError | undefined;
  const events = await processEpisode(episode!, { ...(evaluationName !== undefined ? { evaluationName } : {}), onSkipped: (_e, err) => (reason = err) });
  expect(events).toEqual([]);
  expect(reason?.reason).toBe('no-evaluation');
  return reason!.message;
}

describe('an episode skipped for want of a system evaluation says which case it is, and the fix', () => {
  it('none joined; closed by a timer: a later one makes a correction', async () => {
    const msg = await skippedFor(() => undefined);
    expect(msg).toMatch(/no evaluation joined it: send a system-level evaluation/);
    expect(msg).toMatch(/closed by idle; an evaluation that arrives later re-opens it/);
  });

  it('closed by shutdown or by eviction: a later evaluation cannot correct it (such revisions are not kept); at a cap: its root and verdict re-open it', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const asm = new EpisodeAssembler({});
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    const [episode] = asm.flush('shutdown');
    const reasonFor = async (closeReason: NonNullable<typeof episode>['closeReason']) => {
      let reason: DegenerateEpisodeError | undefined;
      await processEpisode({ ...episode!, closeReason }, { onSkipped: (_e, err) => (reason = err) });
      return reason!.message;
    };
    const shutdown = await reasonFor('shutdown');
    expect(shutdown).toMatch(/closed by shutdown \(the job or processor stopping, the end of replay's or compare's input — give the files of the run's evaluations with its spans —, or an in-process forceFlush with flushClosesEpisodes\): an evaluation that arrives later cannot correct it/);
    expect(shutdown).not.toMatch(/re-opens/);
    expect(await reasonFor('evicted')).toMatch(/closed by evicted, and revisions closed so are not kept for corrections: .* only counted \(lateUncorrected\) — raise episodes\.maxOpenEpisodes/);
    // a capped revision is kept for its late root and verdict (src/episodes RETAINED_REASONS)
    const capped = await reasonFor('max-spans');
    expect(capped).toMatch(/closed by max-spans \(a size cap\): its later spans are only counted .* its root span and an evaluation that arrive later re-open it as a correction/);
    expect(capped).not.toMatch(/not kept/);
    expect(await reasonFor('max-bytes')).toMatch(/closed by max-bytes .* re-open it .* if episodes\.retainClosedBytes is above episodes\.maxBytesPerEpisode/);
    // root-ended: the correction, and the two settings that decide how long a run waits for its verdict
    expect(await reasonFor('root-ended')).toMatch(/closed by root-ended; an evaluation that arrives later re-opens it as a correction.*episodes\.awaitEvaluationMs.*episodes\.evaluationsArrivingMs/);
  });

  it('only another name than evaluation.name', async () => {
    const msg = await skippedFor((e) => ({ ...e, name: 'toxicity' }), 'task_success');
    expect(msg).toMatch(/1 evaluation\(s\) joined \(toxicity\), none named "task_success" \(evaluation\.name\)/);
  });

  it('only step-level verdicts (inner spans)', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const inner = decodeTraces(run.tracesProto, 'otlp_proto').find((s) => s.parentSpanId !== undefined)!;
    const msg = await skippedFor((e) => ({ ...e, spanId: inner.spanId }));
    expect(msg).toMatch(/all of inner spans \(step-level verdicts flag steps/);
  });

  it('a verdict on the root span that has not arrived says so (it said "all of inner spans … evaluate the root span", which it did)', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const root = spans.find((s) => s.parentSpanId === undefined)!;
    const [verdict] = evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto'));
    expect(verdict!.spanId).toBe(root.spanId);
    const asm = new EpisodeAssembler({});
    // the root still open (Ctrl-C during the run): its children and the verdict came, it did not
    asm.addSpans(spans.filter((s) => s !== root));
    asm.addEvaluations([verdict!]);
    const [episode] = asm.flush('shutdown');
    let reason: DegenerateEpisodeError | undefined;
    expect(await processEpisode(episode!, { onSkipped: (_e, err) => (reason = err) })).toEqual([]);
    expect(reason?.reason).toBe('no-evaluation');
    expect(reason!.message).toContain(`1 evaluation(s) joined, none of the run: they evaluate span ${root.spanId}, the parent of the episode's top span(s) — its root span, which has not arrived`);
    expect(reason!.message).toContain('send the verdict naming no span (an evaluation record with the trace_id alone)');
    expect(reason!.message).not.toContain('all of inner spans');
    // a span of the trace that is no parent of the episode's spans is named as absent only
    const elsewhere = await skippedFor((e) => ({ ...e, spanId: 'aaaaaaaaaaaaaaaa' }));
    expect(elsewhere).toContain('they evaluate span(s) aaaaaaaaaaaaaaaa, which the episode does not hold');
  });

  it('a label without a score', async () => {
    const msg = await skippedFor(({ score: _score, ...e }) => ({ ...e, label: 'meh' }) as Evaluation);
    expect(msg).toMatch(/carry label "meh" and no score; the built-in label table scores pass, passed, .*add the label to credit\.labelScores/);
  });
});

describe('a run whose verdict came before its spans and was dropped waiting for them says so, not "send a system-level evaluation"', () => {
  /** Generated runs (seeds 31, 32, …): spans and verdicts as decoded. */
  async function twoRuns(n = 2) {
    return Promise.all(
      Array.from({ length: n }, (_, i) => 31 + i).map(async (seed) => {
        const run = await generateScenario({ kind: 'success', convention: 'genai', seed });
        return { spans: decodeTraces(run.tracesProto, 'otlp_proto'), verdicts: evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')) };
      }),
    );
  }
  async function skipped(episode: Parameters<typeof processEpisode>[0]): Promise<DegenerateEpisodeError> {
    let reason: DegenerateEpisodeError | undefined;
    expect(await processEpisode(episode, { onSkipped: (_e, err) => (reason = err) })).toEqual([]);
    expect(reason?.reason).toBe('no-evaluation'); // the metric's label stays: no system evaluation joined
    return reason!;
  }

  it('dropped over episodes.maxPendingEvaluations: names the key to raise; the other run, whose verdict waited, is credited', async () => {
    const [a, b] = await twoRuns();
    const asm = new EpisodeAssembler({ maxPendingEvaluations: a!.verdicts.length });
    asm.addEvaluations(a!.verdicts); // run a's verdicts wait for its spans, filling the limit …
    asm.addEvaluations(b!.verdicts); // … and go, the oldest, when run b's come
    expect(asm.stats().expiredEvaluations).toBe(a!.verdicts.length);
    asm.addSpans(a!.spans);
    asm.addSpans(b!.spans);
    const episodes = asm.flush('idle');
    const ofA = episodes.find((e) => e.episodeId === a!.spans[0]!.traceId)!;
    expect(ofA.evaluationDropped).toBe('over-limit');
    const err = await skipped(ofA);
    expect(err.message).toMatch(/one came for it before its spans and was dropped unjoined, episodes\.maxPendingEvaluations evaluations already waiting for their spans .*: raise episodes\.maxPendingEvaluations/);
    expect(err.message).not.toMatch(/send a system-level evaluation/); // what it said before
    expect(err.message).toMatch(/It closed by idle; an evaluation that arrives later re-opens it/);
    const ofB = episodes.find((e) => e.episodeId === b!.spans[0]!.traceId)!;
    expect(ofB.evaluationDropped).toBeUndefined();
    expect((await processEpisode(ofB))[0]).toMatchObject({ event_type: 'episode_credit' });
  });

  it('more runs\' verdicts dropped than may wait (a backlog read far ahead): the first run dropped is told too, its spans coming first', async () => {
    const runs = await twoRuns(4);
    const asm = new EpisodeAssembler({ maxPendingEvaluations: 1 });
    for (const r of runs) asm.addEvaluations(r.verdicts.slice(0, 1));
    expect(asm.stats().expiredEvaluations).toBe(3);
    asm.addSpans(runs[0]!.spans);
    const [episode] = asm.flush('idle');
    expect(episode!.evaluationDropped).toBe('over-limit');
  });

  it('expired after episodes.pendingEvaluationTtlMs: names the TTL key', async () => {
    const [a] = await twoRuns();
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ pendingEvaluationTtlMs: 5_000 }, clock);
    asm.addEvaluations(a!.verdicts);
    clock.advance(5_000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats().expiredEvaluations).toBe(a!.verdicts.length);
    asm.addSpans(a!.spans);
    const [episode] = asm.flush('shutdown');
    expect(episode!.evaluationDropped).toBe('expired');
    const err = await skipped(episode!);
    expect(err.message).toMatch(/one came for it before its spans and was dropped unjoined after waiting episodes\.pendingEvaluationTtlMs for them: raise episodes\.pendingEvaluationTtlMs/);
    expect(err.message).not.toMatch(/maxPendingEvaluations|send a system-level evaluation/);
  });

  it('none seen for it (another run\'s verdict dropped): still "send a system-level evaluation"; a run whose verdict joined is not marked', async () => {
    const [a, b] = await twoRuns();
    const clock = new ManualClock(1_000);
    const asm = new EpisodeAssembler({ pendingEvaluationTtlMs: 5_000 }, clock);
    asm.addEvaluations(b!.verdicts);
    clock.advance(5_000);
    asm.tick(); // b's verdicts expire: a's run must not be told so
    asm.addSpans(a!.spans);
    const [episode] = asm.flush('idle');
    expect(episode!.evaluationDropped).toBeUndefined();
    expect((await skipped(episode!)).message).toMatch(/^episode \S+: no-evaluation: no evaluation joined it: send a system-level evaluation/);
  });

  it('the warn line carries evaluationDropped, and such runs are limited apart from those none came for (first 5 of each)', () => {
    const lines: Record<string, unknown>[] = [];
    const report = skippedEpisodeReporter({ warn: (o: object) => void lines.push(o as Record<string, unknown>) });
    const base: Omit<Episode, 'episodeId'> = { keyMode: 'trace', traceIds: [], spans: [], evaluations: [], closeReason: 'root-ended', openedAtMs: 0, closedAtMs: 0, correction: false, revision: 0, duplicateSpans: 0, lateSpans: 0, bytes: 0, sources: [] };
    for (let i = 0; i < 20; i++) report({ ...base, episodeId: `n${i}` }, `episode n${i}: no-evaluation: no evaluation joined it`, 'no-evaluation');
    for (let i = 0; i < 3; i++) report({ ...base, episodeId: `d${i}`, evaluationDropped: 'over-limit' }, `episode d${i}: no-evaluation: no evaluation joined it: one came`, 'no-evaluation');
    expect(lines.map((l) => l.episodeId)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'd0', 'd1', 'd2']);
    expect(lines[5]).toMatchObject({ kind: 'no-evaluation', evaluationDropped: 'over-limit', skippedOfKind: 21 });
    expect(lines[0]).not.toHaveProperty('evaluationDropped');
  });
});

describe('credit.labelScores scores the run\'s label-only verdict (it was never applied: decoding used the built-in table)', () => {
  /** The generated run's verdict turned into a label-only one, credited with `labelScores`. */
  async function creditedWith(label: string, labelScores: Record<string, number> | undefined, keepScore = false, normalization?: Record<string, { min: number; max: number }>) {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const asm = new EpisodeAssembler({});
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    // as decoding makes it: a log record with only gen_ai.evaluation.score.label
    const evaluations = evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).map((e) => {
      const { score, ...rest } = e;
      return keepScore ? { ...e, label } : { ...rest, label, ...(label === 'pass' ? { score: 1, scoreFromLabel: true } : {}) };
    });
    asm.addEvaluations(evaluations);
    const [episode] = asm.flush('idle');
    let skipped: string | undefined;
    const credit = { ...(labelScores ? { labelScores } : {}), ...(normalization ? { normalization } : {}) };
    const events = await processEpisode(episode!, { credit, onSkipped: (_e, err) => (skipped = err.message) });
    const head = events[0];
    return { score: head?.event_type === 'episode_credit' ? head.evaluation.score : undefined, skipped };
  }

  it('a label of the configured table is the verdict (case-insensitive)', async () => {
    expect((await creditedWith('Good', { good: 0.9, bad: 0 })).score).toBe(0.9);
    expect((await creditedWith('bad', { Good: 0.9, BAD: 0.1 })).score).toBe(0.1);
  });

  it('a configured table replaces the built-in one: "pass" scored by decoding is scored again, and missing here', async () => {
    expect((await creditedWith('pass', undefined)).score).toBe(1);
    expect((await creditedWith('pass', { pass: 0.7 })).score).toBe(0.7);
    const { score, skipped } = await creditedWith('pass', { good: 1, bad: 0 });
    expect(score).toBeUndefined();
    expect(skipped).toMatch(/carry label "pass" and no score; credit\.labelScores has "good", "bad": add the label/);
  });

  it('the jobs\' default config (labelScores the built-in table) scores every built-in label, "passed" included', async () => {
    const { config } = loadConfig({ env: {} });
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const asm = new EpisodeAssembler({});
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).map(({ score: _s, ...e }) => ({ ...e, label: 'passed', score: 1, scoreFromLabel: true })));
    const [episode] = asm.flush('idle');
    const [head] = await processEpisode(episode!, { credit: config.credit });
    expect(head).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { score: 1 } });
  });

  it('a label\'s score is already normalized: normalization.<name> does not map it', async () => {
    const run = await creditedWith('pass', { pass: 1, fail: 0 }, false, { task_success: { min: 1, max: 10 } });
    expect(run.score).toBe(1);
  });

  it('a label score outside [0, 1] is clamped, with a warning', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
    const asm = new EpisodeAssembler({});
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')).map(({ score: _s, ...e }) => ({ ...e, label: 'great' })));
    const [episode] = asm.flush('idle');
    const [head] = await processEpisode(episode!, { credit: { labelScores: { great: 5, bad: 0 } } });
    expect(head).toMatchObject({ event_type: 'episode_credit', system_value: 1 });
    expect(head!.event_type === 'episode_credit' && head!.diagnostics.warnings.some((w) => /label "great" scores 5 in labelScores, outside \[0, 1\]; clamped/.test(w))).toBe(true);
  });

  it('a numeric score stays the score, whatever its label', async () => {
    const run = await creditedWith('bad', { bad: 0 }, true);
    expect(run.score).toBeGreaterThan(0.5);
  });
});

describe('a verdict whose score is NaN or Infinity (a failed evaluator: ragas scores a failed metric NaN)', () => {
  /** An OTLP/JSON gen_ai.evaluation.result log record of the run's root with this score value. */
  const verdictLog = (traceId: string, spanId: string, value: object) =>
    JSON.stringify({
      resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: 'ragas' }, logRecords: [{ timeUnixNano: '1700000000000000000', eventName: 'gen_ai.evaluation.result', traceId, spanId, attributes: [{ key: 'gen_ai.evaluation.name', value: { stringValue: 'task_success' } }, { key: 'gen_ai.evaluation.score.value', value }] }] }] }],
    });

  for (const value of [{ doubleValue: 'NaN' }, { doubleValue: 'Infinity' }, { stringValue: 'n/a' }]) {
    it(`${JSON.stringify(value)}: the run is skipped saying its verdict has no finite score — not that none came — and the verdict closes nothing`, async () => {
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 31 });
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      const root = spans.find((s) => s.parentSpanId === undefined)!;
      const asm = new EpisodeAssembler({});
      asm.addSpans(spans);
      asm.addEvaluations(evaluationsFromLogs(decodeLogs(verdictLog(root.traceId, root.spanId, value), 'otlp_json')));
      expect(asm.tick()).toEqual([]); // not closed by it (evaluation-arrived): it waits as for no verdict
      const [episode] = asm.flush('idle');
      let reason: DegenerateEpisodeError | undefined;
      expect(await processEpisode(episode!, { onSkipped: (_e, err) => (reason = err) })).toEqual([]);
      expect(reason?.message).toMatch(/the system-level evaluation\(s\) joined carry no finite score \(NaN, Infinity or a value that is no number/);
      expect(reason?.message).not.toMatch(/no evaluation joined it/); // what it said without the fix: the verdict was dropped unread
    });
  }
});
