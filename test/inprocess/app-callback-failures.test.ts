/**
 * The app's callbacks fail in the app's code: a throw, or — from an `async` callback, which
 * type-checks as a `(…) => void` one — a rejected promise. Either must reach the counters and
 * `onError`, never the app's process: Node ends a process on an uncaught exception and, by default
 * since Node 15, on an unhandled rejection.
 */
import { describe, expect, it } from 'vitest';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
import type { Episode } from '../../src/model/episode.js';
import { generateScenario } from '../../src/scenarios/index.js';

/** What reached the process while `body` ran: uncaught exceptions and unhandled rejections (each would end a Node app). */
async function reachedProcess(body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onRejection = (reason: unknown) => void seen.push(`unhandled rejection: ${String(reason)}`);
  const onException = (err: unknown) => void seen.push(`uncaught exception: ${String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    await body();
    // Node reports a rejection as unhandled once the microtask queue has drained, before the next macrotask
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  return seen;
}

describe('an async onError that rejects', () => {
  it('is called, and its rejection never reaches the process (an error reporter that is down ended the app)', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
    const reported: unknown[] = [];
    const processor = await createCreditSpanProcessor({
      tickIntervalMs: 60_000,
      onCredit: () => {
        throw new Error('trainer queue full');
      },
      onError: async (err) => {
        reported.push(err);
        throw new Error('error reporter down');
      },
    });
    const failures = await reachedProcess(async () => {
      for (const span of run.spans) processor.onEnd(span);
      for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(record as never);
      await processor.shutdown();
    });
    expect(failures).toEqual([]);
    expect(reported.map(String)).toEqual(['OnCreditError: onCredit threw: trainer queue full']);
    expect(processor.stats()).toMatchObject({ episodesCredited: 1, onCreditErrors: 1 });
  });
});

describe('a processOptions.onSkipped that fails', () => {
  it.each([
    { workers: 1, how: 'throws', where: 'in a credit worker' },
    { workers: 1, how: 'rejects', where: 'in a credit worker' },
    { workers: 0, how: 'throws', where: "on the app's thread" },
    { workers: 0, how: 'rejects', where: "on the app's thread" },
  ])('credit $where, one that $how reaches onError with its episode; the app lives on, onCredit gets the empty list and shutdown resolves', async ({ workers, how }) => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
    const reported: { err: unknown; episode: Episode | undefined }[] = [];
    const credited: number[] = [];
    const processor = await createCreditSpanProcessor({
      creditWorkers: workers,
      tickIntervalMs: 60_000,
      onCredit: (events) => void credited.push(events.length),
      onError: (err, episode) => void reported.push({ err, episode }),
      processOptions: {
        onSkipped:
          how === 'throws'
            ? () => {
                throw new Error('skip log full');
              }
            : async () => {
                throw new Error('skip log full');
              },
      },
    });
    const failures = await reachedProcess(async () => {
      for (const span of run.spans) processor.onEnd(span); // no verdict: the episode is skipped
      await processor.shutdown(); // with a worker, a throw left this episode's credit unsettled: shutdown never resolved
    });
    expect(failures).toEqual([]);
    expect(reported.map((r) => String(r.err))).toEqual(['Error: processOptions.onSkipped failed: skip log full']);
    expect(reported[0]!.episode?.traceIds).toEqual([run.traceId]);
    expect(credited).toEqual([0]);
    expect(processor.stats()).toMatchObject({ episodesWithoutCredit: 1, creditErrors: 0, creditInFlight: 0 });
  }, 30_000);
});
