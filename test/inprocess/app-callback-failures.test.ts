/**
 * The app's callbacks fail in the app's code: a throw, or — from an `async` callback, which
 * type-checks as a `(…) => void` one — a rejected promise. Either must reach the counters and
 * `onError`, never the app's process: Node ends a process on an uncaught exception and, by default
 * since Node 15, on an unhandled rejection.
 */
import { describe, expect, it } from 'vitest';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
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
