import { describe, expect, it } from 'vitest';
import { CreditWorkerPool } from '../../src/runtime/credit-workers/pool.js';

/** The pool's heap-limit wording for `maxHeapMb` (no worker started: only the messages are read). */
function messages(maxHeapMb: number | undefined): { limit: string; advice: string } {
  const pool = Object.assign(Object.create(CreditWorkerPool.prototype) as object, { options: { maxHeapMb } }) as unknown as { heapLimit(): string; heapAdvice(): string };
  return { limit: pool.heapLimit(), advice: pool.heapAdvice() };
}

describe('credit worker out of memory: the limit its message names', () => {
  it('runtime.creditWorkerMaxHeapMb 0 (V8\'s default): names V8\'s limit, not "(0 MB)", and does not advise raising 0', () => {
    // a worker reaching V8's own heap limit said "its JS heap reached runtime.creditWorkerMaxHeapMb (0 MB)"
    const m = messages(0);
    expect(m.limit).not.toMatch(/\(0 MB\)/);
    expect(m.limit).toBe("its JS heap reached V8's default limit (runtime.creditWorkerMaxHeapMb is 0: none set)");
    expect(m.advice).toBe("set runtime.creditWorkerMaxHeapMb above V8's default heap limit");
  });

  it('no maxHeapMb (the library pool): no "(undefined MB)"', () => {
    expect(messages(undefined).limit).not.toMatch(/undefined/);
  });

  it('a limit set: names it, and advises raising it', () => {
    expect(messages(96)).toEqual({ limit: 'its JS heap reached runtime.creditWorkerMaxHeapMb (96 MB)', advice: 'raise runtime.creditWorkerMaxHeapMb' });
  });
});
