import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import { ManualClock, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
import type { Episode } from '../../src/model/episode.js';
import { generateFleet } from '../../src/scenarios/index.js';

describe('createCreditSpanProcessor with the real EpisodeAssembler', () => {
  it('turns SDK spans and evaluation log records into closed episodes, one per run, with their evaluation', async () => {
    const clock = new ManualClock(1_000);
    const seen: Episode[] = [];
    const processor = await createCreditSpanProcessor({
      clock,
      tickIntervalMs: 60_000,
      processOptions: { evaluationName: 'task_success' },
      processEpisode: async (episode, creditOptions) => {
        expect(creditOptions).toEqual({ evaluationName: 'task_success' });
        seen.push(episode);
        return [];
      },
      onCredit: () => undefined,
    });
    const runs = await generateFleet({ episodes: 6, seed: 8 });
    for (const run of runs) for (const span of run.spans) processor.onEnd(span);
    await processor.forceFlush();
    expect(seen).toHaveLength(0); // no evaluation, grace not passed
    for (const run of runs) for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(record as never);
    clock.advance(10);
    await processor.forceFlush();
    expect(seen.map((e) => e.traceIds[0]).sort()).toEqual(runs.map((r) => r.traceId).sort());
    for (const episode of seen) {
      const run = runs.find((r) => r.traceId === episode.traceIds[0])!;
      expect(episode.closeReason).toBe('evaluation-arrived');
      expect(episode.spans).toHaveLength(run.spans.length);
      expect(episode.evaluations.at(-1)!.score).toBe(run.expected.score);
      expect(episode.evaluations).toHaveLength(run.logRecords.length);
      // The converted spans are good input for the conventions stage.
      expect(stepsFromSpans(episode.spans).agents.map((a) => a.agentName)).toEqual(run.expected.agents);
    }
    await processor.shutdown();
    expect(processor.stats()).toMatchObject({ spansReceived: runs.reduce((n, r) => n + r.spans.length, 0), episodesWithoutCredit: 6, evaluationsReceived: runs.reduce((n, r) => n + r.logRecords.length, 0) });
  });

  it('closes by the root-ended grace rule without any evaluation', async () => {
    // grace alone; waiting for the evaluation: test/episodes/close-rules and below
    const { clock, seen, processor } = await oneRunProcessor({ graceMs: 500, awaitEvaluationMs: 0 });
    await processor.forceFlush();
    expect(seen).toHaveLength(0);
    clock.advance(600);
    await processor.forceFlush();
    expect(seen.map((e) => e.closeReason)).toEqual(['root-ended']);
    await processor.shutdown();
  });
});

/** A processor on a manual clock that records the episodes it closes, fed one generated run's spans (not yet its evaluation). */
async function oneRunProcessor(episodes: EpisodeAssemblerOptionsInput) {
  const clock = new ManualClock(0);
  const seen: Episode[] = [];
  const processor = await createCreditSpanProcessor({
    clock,
    tickIntervalMs: 60_000,
    episodes,
    processEpisode: async (episode) => {
      seen.push(episode);
      return [];
    },
    onCredit: () => undefined,
  });
  const [run] = await generateFleet({ episodes: 1, seed: 9 });
  for (const span of run!.spans) processor.onEnd(span);
  return { clock, seen, processor, run: run! };
}

describe('stats() shows the evaluation wait (episodes.awaitEvaluationMs)', () => {
  it('a run whose verdict has not come yet is counted as awaiting; its verdict ends the wait, with credit', async () => {
    const { clock, seen, processor, run } = await oneRunProcessor({ graceMs: 500 });
    await processor.forceFlush(); // spans into the assembler at t = 0
    clock.advance(600); // grace (500) passed: the run waits for its verdict (a start counts as one arriving)
    await processor.forceFlush();
    expect(seen).toHaveLength(0);
    expect(processor.stats()).toMatchObject({ awaitingEvaluation: 1, evaluationWaitsExpired: 0 });
    for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(record as never);
    await processor.forceFlush();
    expect(seen.map((e) => e.closeReason)).toEqual(['evaluation-arrived']);
    expect(processor.stats()).toMatchObject({ awaitingEvaluation: 0, evaluationWaitsExpired: 0, lateEvaluationsOtherName: 0 });
    // a second judge's later score of the run under another name: unused, and stats() says so
    const verdict = run.logRecords.find((r) => r.attributes['gen_ai.evaluation.name'] === 'task_success')!;
    const tone = Object.assign(Object.create(Object.getPrototypeOf(verdict) as object) as object, verdict, {
      attributes: { ...verdict.attributes, 'gen_ai.evaluation.name': 'tone_politeness', 'gen_ai.evaluation.score.value': 0.9 },
      _hrTime: [verdict.hrTime[0] + 5, verdict.hrTime[1]],
    });
    processor.evaluationLogProcessor.onEmit(tone as never);
    await processor.forceFlush();
    expect(seen).toHaveLength(1);
    expect(processor.stats()).toMatchObject({ lateEvaluationsUnused: 1, lateEvaluationsOtherName: 1, lateUncorrected: 0 });
    await processor.shutdown();
  });
});

describe('createCreditSpanProcessor checks processOptions when it is made', () => {
  it('names the key and what is accepted (a bad estimator failed every episode later as a raw ZodError; a misspelt key was ignored)', async () => {
    const make = (processOptions: object) => createCreditSpanProcessor({ onCredit: () => undefined, processOptions: processOptions as never });
    await expect(make({ credit: { estimator: 'nope' } })).rejects.toThrow(/^processOptions\.credit\.estimator: expected one of "auto" \| "exact" .*, got "nope"/);
    await expect(make({ credit: { estimatr: 'svarm' } })).rejects.toThrow(/processOptions\.credit\.estimatr: unknown key — did you mean estimator\? — accepted keys here: game, .*estimator/);
    await expect(make({ conventions: { maxTextBytes: -1 } })).rejects.toThrow(/processOptions\.conventions\.maxTextBytes: expected a number ≥/);
    await expect(make({ evaluationname: 'x' })).rejects.toThrow(/processOptions\.evaluationname: unknown key — did you mean evaluationName\? — accepted keys here: credit, conventions, evaluationName/);
    const ok = await make({ credit: { estimator: 'svarm' }, evaluationName: 'task_success' });
    await ok.shutdown();
  });
});
