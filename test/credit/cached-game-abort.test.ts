import { describe, expect, it } from 'vitest';
import { CachedGame } from '../../src/credit/games/cached-game.js';
import { coalitionFromMask } from '../../src/credit/games/coalition.js';
import { EstimationAbortedError } from '../../src/credit/errors.js';
import type { Game } from '../../src/credit/types.js';

describe('CachedGame after its signal aborts', () => {
  it('starts none of the evaluations still waiting for a concurrency slot (a timed-out episode stops calling a slow judge)', async () => {
    let calls = 0;
    const slow: Game = {
      id: 'ep',
      players: ['a', 'b', 'c', 'd', 'e', 'f'],
      value: (c) => {
        calls++;
        return new Promise((resolve) => setTimeout(() => resolve(c.reduce((s, x) => s + x, 0)), 20));
      },
    };
    const ac = new AbortController();
    const cg = new CachedGame(slow, { concurrency: 2, signal: ac.signal });
    const all = Array.from({ length: 64 }, (_, m) => coalitionFromMask(m, 6));
    const run = cg.valueMany(all);
    setTimeout(() => ac.abort(new Error('credit.timeoutMs')), 30);
    await expect(run).rejects.toBeInstanceOf(EstimationAbortedError);
    const atAbort = calls;
    expect(atAbort).toBeLessThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 400));
    // 64 without the fix: every queued coalition went on to the value function, for nobody
    expect(calls).toBe(atAbort);
  });
});
