import { describe, expect, it } from 'vitest';
import { readSharedStats, SharedStatsWriter, sharedStatsBuffer } from '../../src/runtime/credit-workers/shared-stats.js';

describe("a credit worker's value-function counters in shared memory", () => {
  it('reads what was written last, leaves out the counters a game does not keep, and sees writes through another view of the same memory', () => {
    const buffer = sharedStatsBuffer();
    expect(readSharedStats(buffer)).toEqual({});
    const writer = new SharedStatsWriter(buffer);
    // a module game: no cache hits, no retries
    writer.write({ valueFunctionCalls: 3, valueFunctionFailures: 0, valueFunctionTimeouts: 0, valueFunctionOutOfScale: 0 });
    writer.write({ valueFunctionCalls: 4, valueFunctionFailures: 1, valueFunctionTimeouts: 0, valueFunctionOutOfScale: 0 });
    expect(readSharedStats(buffer)).toEqual({ valueFunctionCalls: 4, valueFunctionFailures: 1, valueFunctionTimeouts: 0, valueFunctionOutOfScale: 0 });
    // the pool's thread reads the same memory (a structured clone of a SharedArrayBuffer shares it)
    const received = structuredClone(buffer);
    writer.write({ valueFunctionCalls: 2 ** 40 });
    expect(readSharedStats(received).valueFunctionCalls).toBe(2 ** 40);
  });

  it('a fraction is rounded, never thrown on (a metric must not end a worker)', () => {
    const buffer = sharedStatsBuffer();
    new SharedStatsWriter(buffer).write({ valueFunctionRetries: 2.6 });
    expect(readSharedStats(buffer)).toEqual({ valueFunctionRetries: 3 });
  });
});
