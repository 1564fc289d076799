/**
 * What app code hands the in-process processor is checked where it is handed over: options at
 * creation, evaluations at `addEvaluations` — each error naming the key or entry and the fix.
 */
import { describe, expect, it } from 'vitest';
import { EpisodeOptionsError, ManualClock } from '../../src/episodes/index.js';
import { createCreditSpanProcessor, EvaluationInputError, InProcessOptionsError, type CreateCreditSpanProcessorOptions } from '../../src/inprocess/index.js';
import { CreditEventSchema, type CreditEvent } from '../../src/events/schemas.js';
import { generateFleet } from '../../src/scenarios/index.js';
import { parseEvaluationRecords } from '../../src/conventions/index.js';

describe('createCreditSpanProcessor checks the callbacks and processOptions it is given', () => {
  const make = (o: object) => createCreditSpanProcessor(o as CreateCreditSpanProcessorOptions);
  const noop = (): void => undefined;
  const cases: [string, object, RegExp][] = [
    ['no onCredit (every episode failed later, silently without onError)', {}, /onCredit: expected an \(events, episode\) => void/],
    ['onError not a function', { onCredit: noop, onError: 'log' }, /onError: expected an \(error, episode\) => void callback, got "log"/],
    ['processOptions null', { onCredit: noop, processOptions: null }, /processOptions: expected an object .* got null/],
    ['processOptions.onSkipped not a function', { onCredit: noop, processOptions: { onSkipped: 'x' } }, /processOptions\.onSkipped: expected an \(episode, error\) => void callback/],
    ['processOptions.evaluationName not a string', { onCredit: noop, processOptions: { evaluationName: 5 } }, /processOptions\.evaluationName: expected the evaluation name .* got number/],
    // the processor's own check answered these with its six options ("accepted: tickIntervalMs, …,
    // onCreditTimeoutMs"), leaving out the very option meant
    ['a misspelt creditWorkers', { onCredit: noop, creditWorker: 2 }, /^creditWorker: unknown option — did you mean creditWorkers\? — accepted: onCredit, onError, episodes, processOptions, processEpisode, clock, creditWorkers, creditTimeoutMs, creditWorkerMaxHeapMb, tickIntervalMs, /],
    ['a misspelt episodes', { onCredit: noop, episode: { graceMs: 500 } }, /^episode: unknown option — did you mean episodes\? — accepted: .*\bepisodes\b/],
    ['a misspelt processor option', { onCredit: noop, tickIntervall: 5 }, /^tickIntervall: unknown option — did you mean tickIntervalMs\?/],
    // a Node.js timer longer than 2^31 − 1 ms fires after 1 ms: every episode timed out at once
    ['creditTimeoutMs past the longest timer', { onCredit: noop, creditWorkers: 1, creditTimeoutMs: 3_000_000_000 }, /^creditTimeoutMs: expected a whole number of ms from 1 to 2147483647 .* got 3000000000/],
    // a config file's section at the top: it was answered "did you mean onCredit?"
    ['credit options at the top', { onCredit: noop, credit: { estimator: 'exact' } }, /^credit: unknown option — credit options go in processOptions: \{ credit: \{ … \} \} — accepted: /],
  ];
  it.each(cases)('%s', async (_, options, message) => {
    const err = await make(options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InProcessOptionsError);
    expect((err as Error).message).toMatch(message);
  });

  it('a misspelt episodes key names the key meant and the accepted ones, as a misspelt top-level option does', async () => {
    const err = await make({ onCredit: noop, episodes: { grace: 500 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpisodeOptionsError);
    // before: 'episodes.grace: Unrecognized key: "grace"'
    expect((err as Error).message).toMatch(/^invalid episode assembler options \(fix these keys\): episodes\.grace: unknown option — did you mean graceMs\? — accepted: keyBy, graceMs, /);
  });

  it('tickIntervalMs and onCreditTimeoutMs past the longest Node.js timer are refused (a 1 ms tick, an onCredit timed out at once)', async () => {
    await expect(make({ onCredit: noop, tickIntervalMs: 3_000_000_000 })).rejects.toThrow(/"tickIntervalMs": Too big: expected number to be <=2147483647/);
    await expect(make({ onCredit: noop, onCreditTimeoutMs: 3_000_000_000 })).rejects.toThrow(/"onCreditTimeoutMs": Too big: expected number to be <=2147483647/);
  });
});

describe('addEvaluations checks what app code sends', () => {
  async function processorWithRun() {
    const [run] = await generateFleet({ episodes: 1, seed: 12 });
    const credited: CreditEvent[][] = [];
    const clock = new ManualClock(1_000);
    const processor = await createCreditSpanProcessor({ clock, tickIntervalMs: 60_000, onCredit: (events) => void credited.push(events) });
    for (const span of run!.spans) processor.onEnd(span);
    return { run: run!, processor, credited, clock };
  }

  it('a minimal verdict (no source, no time, upper-case trace id) joins, and its events are schema-valid', async () => {
    const { run, processor, credited, clock } = await processorWithRun();
    processor.addEvaluations([{ name: 'task_success', score: 0.5, traceId: run.traceId.toUpperCase() }]);
    clock.advance(10);
    await processor.forceFlush();
    expect(credited).toHaveLength(1);
    for (const e of credited[0]!) expect(CreditEventSchema.safeParse(e).success).toBe(true);
    expect(credited[0]![0]).toMatchObject({ event_type: 'episode_credit', evaluation: { score: 0.5, source: 'evaluations-stream' } });
    expect(processor.stats().evaluationsPending).toBe(0);
    await processor.shutdown();
  });

  it('a label without a score is scored by the built-in table (pass → 1)', async () => {
    const { run, processor, credited, clock } = await processorWithRun();
    processor.addEvaluations([{ name: 'task_success', label: 'PASS', traceId: run.traceId }]);
    clock.advance(10);
    await processor.forceFlush();
    expect(credited[0]![0]).toMatchObject({ event_type: 'episode_credit', outcome: 'success', evaluation: { score: 1, label: 'PASS' } });
    await processor.shutdown();
  });

  it('names, labels and explanations are bounded as on every other path (100 kB of each reached episode_credit whole)', async () => {
    const { run, processor, credited, clock } = await processorWithRun();
    const long = 'x'.repeat(100_000);
    processor.addEvaluations([{ name: `task_success${long}`, label: `pass${long}`, score: 1, explanation: long, traceId: run.traceId }]);
    clock.advance(10);
    await processor.forceFlush();
    const credit = credited[0]![0] as Extract<CreditEvent, { event_type: 'episode_credit' }>;
    expect(CreditEventSchema.safeParse(credit).success).toBe(true);
    expect(Buffer.byteLength(credit.evaluation!.name!)).toBeLessThanOrEqual(256);
    expect(Buffer.byteLength(credit.evaluation!.label!)).toBeLessThanOrEqual(256);
    expect(Buffer.byteLength(credit.evaluation!.explanation!)).toBeLessThanOrEqual(2048); // MAX_EXPLANATION_BYTES
    await processor.shutdown();
  });

  it('bad entries throw naming index, field and fix, and nothing is added', async () => {
    const { run, processor } = await processorWithRun();
    const call = () =>
      processor.addEvaluations([
        { name: 'task_success', score: 1, traceId: run.traceId },
        { name: 'task_success', score: 'high', traceId: run.traceId },
        { name: 'tone', score: 1 },
      ]);
    expect(call).toThrow(EvaluationInputError);
    expect(call).toThrow(/evaluations\[1\]\.score: a number, a numeric string \("0\.8"\), a percent string \("80%"\) or a boolean, got the string "high" — a verdict in words goes in label[\s\S]*evaluations\[2\]\.traceId: needs traceId \(32 hex\), conversationId or responseId/);
    expect(processor.stats().evaluationsReceived).toBe(0);
    await processor.shutdown();
  });

  it("a field spelt otherwise — the records' snake_case (span_id, trace_id) or a typo — is refused naming the field, not read as missing", async () => {
    const { run, processor } = await processorWithRun();
    const step = run.spans.find((s) => s.parentSpanContext !== undefined)!.spanContext().spanId;
    // before: span_id was ignored, and this verdict on one step became the verdict on the whole run
    expect(() => processor.addEvaluations([{ name: 'code_review', score: 0, traceId: run.traceId, span_id: step } as never])).toThrow(
      /evaluations\[0\]\.span_id: not a field of an evaluation — did you mean spanId\? \(the keys are camelCase here; the records of POST \/v1\/evaluations are snake_case\)/,
    );
    // before: "needs traceId (32 hex), …", with trace_id right there
    expect(() => processor.addEvaluations([{ name: 'task_success', score: 1, trace_id: run.traceId } as never])).toThrow(/evaluations\[0\]\.trace_id: .*did you mean traceId\?/);
    expect(() => processor.addEvaluations([{ name: 'task_success', scroe: 0.4, label: 'fail', traceId: run.traceId } as never])).toThrow(/evaluations\[0\]\.scroe: .*did you mean score\?/);
    expect(processor.stats().evaluationsReceived).toBe(0);
    // the app's own extras are still taken and ignored: a judge's name, a flag beside a label, metadata
    processor.addEvaluations([{ name: 'task_success', label: 'pass', traceId: run.traceId, scorer: 'gpt-4o', store: true, labels: { team: 'a' } } as never]);
    expect(processor.stats().evaluationsReceived).toBe(1);
    await processor.shutdown();
  });

  /**
   * The run's episode_credit when the verdict is handed to addEvaluations: one generated run, a
   * processor with `credit`, `verdict(traceId)` the evaluations given.
   */
  async function creditedWith(credit: object, verdict: (traceId: string) => Parameters<Awaited<ReturnType<typeof createCreditSpanProcessor>>['addEvaluations']>[0]) {
    const [run] = await generateFleet({ episodes: 1, seed: 12 });
    const credited: CreditEvent[][] = [];
    const clock = new ManualClock(1_000);
    const processor = await createCreditSpanProcessor({ clock, tickIntervalMs: 60_000, processOptions: { credit }, onCredit: (events) => void credited.push(events) });
    for (const span of run!.spans) processor.onEnd(span);
    processor.addEvaluations(verdict(run!.traceId));
    clock.advance(120_000);
    await processor.forceFlush();
    await processor.shutdown();
    const episode = credited[0]!.find((e) => e.event_type === 'episode_credit');
    if (episode?.event_type !== 'episode_credit') throw new Error('no episode_credit');
    return episode;
  }
  const PERCENT_RANGE = { normalization: { task_success: { min: 0, max: 100 } } };

  // An Evaluation from the package's own decoders (parseEvaluationRecords, evaluationsFromLogs) holds
  // "80%" as 0.8 marked scoreIsFraction; handed on to addEvaluations the mark was dropped, and on a
  // {0, 100} range the verdict read 0.8 of 100 — a failed run — where the decoded path reads 80.
  it('a score marked scoreIsFraction (a decoded "80%") stays a fraction of its normalization range', async () => {
    const credit = await creditedWith(PERCENT_RANGE, (traceId) => {
      const decoded = parseEvaluationRecords(JSON.stringify({ trace_id: traceId, name: 'task_success', score: '80%' }), { receivedAtUnixNano: 1n });
      expect(decoded.evaluations[0]).toMatchObject({ score: 0.8, scoreIsFraction: true });
      return decoded.evaluations;
    });
    expect(credit.outcome).toBe('success');
    expect(credit.system_value).toBeCloseTo(0.8, 12);
  });

  // The same for a score decoding took from a label (scoreFromLabel): dropped, credit.labelScores
  // never re-scored the label, and its score 1 went through credit.normalization — 1 of {0, 100}.
  it('a score decoded from a label (scoreFromLabel) is re-scored by credit.labelScores, not normalized', async () => {
    const credit = await creditedWith({ ...PERCENT_RANGE, labelScores: { pass: 0.9 } }, (traceId) => {
      const decoded = parseEvaluationRecords(JSON.stringify({ trace_id: traceId, name: 'task_success', label: 'pass' }), { receivedAtUnixNano: 1n });
      expect(decoded.evaluations[0]).toMatchObject({ score: 1, label: 'pass', scoreFromLabel: true });
      return decoded.evaluations;
    });
    expect(credit.outcome).toBe('success');
    expect(credit.system_value).toBeCloseTo(0.9, 12);
  });

  it("scoreFromLabel is not taken on the app's word: a score that is not its label's is normalized as any score", async () => {
    const credit = await creditedWith(PERCENT_RANGE, (traceId) => [{ name: 'task_success', score: 40, label: 'pass', scoreFromLabel: true, traceId } as never]);
    expect(credit.system_value).toBeCloseTo(0.4, 12);
  });

  it('a missing name and a score of no score type say what they take', async () => {
    const { run, processor } = await processorWithRun();
    expect(() => processor.addEvaluations([{ score: 1, traceId: run.traceId } as never])).toThrow(/evaluations\[0\]\.name: .* — the evaluation's name, e\.g\. 'task_success'/);
    expect(() => processor.addEvaluations([{ name: 'task_success', score: [0.8] as never, traceId: run.traceId }])).toThrow(/evaluations\[0\]\.score: .* — a number, a numeric string .*give a label/);
    await processor.shutdown();
  });

  // The same strings as the records of POST /v1/evaluations: "0x50" and "0b1" (JavaScript's Number()
  // reads them) were taken here as 80 and 1 while a record holding them is refused; "1e999" was
  // told to go in label, where the records say it is a number too large for a double.
  it.each([
    ['0x50', /got the string "0x50" — a verdict in words goes in label/],
    ['0b1', /got the string "0b1" — a verdict in words goes in label/],
    ['1e999', /got the string "1e999", a number too large for a double \(a finite number is needed\)/],
  ])('a score string %s is refused as the records refuse it', async (score, message) => {
    const { run, processor } = await processorWithRun();
    const call = () => processor.addEvaluations([{ name: 'task_success', score, traceId: run.traceId }]);
    expect(call).toThrow(message);
    const record = parseEvaluationRecords(JSON.stringify({ trace_id: run.traceId, name: 'task_success', score }), { receivedAtUnixNano: 1n });
    expect(record.evaluations).toHaveLength(0);
    expect(() => call()).toThrow(`evaluations[0].${record.errors[0]!.message}`);
    await processor.shutdown();
  });

  // It took numbers only: a judge's "0.8" passed on as it came was refused here, read on POST /v1/evaluations.
  it.each([
    ['a numeric string', '0.8', 0.8],
    ['a percent string (a fraction of the 0–1 default range)', '80%', 0.8],
    ['true', true, 1],
    ['false', false, 0],
  ] as const)('a score given as %s is read as the other paths read it', async (_, score, expected) => {
    const { run, processor, credited, clock } = await processorWithRun();
    processor.addEvaluations([{ name: 'task_success', score, traceId: run.traceId }]);
    clock.advance(120_000);
    await processor.forceFlush();
    expect(credited).toHaveLength(1);
    const credit = credited[0]!.find((e) => e.event_type === 'episode_credit');
    expect(credit).toMatchObject({ evaluation: { score: expected } });
    expect(credit!.event_type === 'episode_credit' && credit!.system_value).toBeCloseTo(expected, 12);
    await processor.shutdown();
  });

  it('stats() shows evaluations waiting for spans and those that gave up; after shutdown they are counted as dropped', async () => {
    const clock = new ManualClock(1_000);
    const processor = await createCreditSpanProcessor({ clock, tickIntervalMs: 60_000, episodes: { pendingEvaluationTtlMs: 1_000 }, onCredit: () => undefined });
    processor.addEvaluations([{ name: 'task_success', score: 1, traceId: 'ab'.repeat(16) }]);
    expect(processor.stats().evaluationsPending).toBe(1);
    clock.advance(2_000);
    await processor.forceFlush();
    expect(processor.stats()).toMatchObject({ evaluationsPending: 0, evaluationsExpired: 1 });
    await processor.shutdown();
    processor.addEvaluations([{ name: 'task_success', score: 1, traceId: 'cd'.repeat(16) }]);
    expect(processor.stats().evaluationsDropped).toBe(1);
  });
});
