import { describe, expect, it, vi } from 'vitest';
import { CachedGame } from '../../src/credit/games/cached-game.js';
import { coalitionFromMask } from '../../src/credit/games/coalition.js';
import { EstimationAbortedError } from '../../src/credit/errors.js';
import type { Game } from '../../src/credit/types.js';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, step } from './episode-builder.js';

/** Lets the credit run go on (promise callbacks, setImmediate) until `cond` holds; fails if it never does. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

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

describe('CachedGame.valueMany after one evaluation failed', () => {
  it('starts none of the call\'s evaluations still waiting for a slot (a failing value function is not asked 2^n times)', async () => {
    let calls = 0;
    const failing: Game = {
      id: 'ep',
      players: ['a', 'b', 'c', 'd', 'e', 'f'],
      value: () => {
        calls++;
        return new Promise((_, reject) => setTimeout(() => reject(new Error('judge answered HTTP 503')), 5));
      },
    };
    const cg = new CachedGame(failing, { concurrency: 2 });
    const all = Array.from({ length: 64 }, (_, m) => coalitionFromMask(m, 6));
    await expect(cg.valueMany(all)).rejects.toThrow(/HTTP 503/);
    // 64 without the fix (the call throws the first failure anyway)
    expect(calls).toBeLessThanOrEqual(4);
    // a later call asks the game again
    await expect(cg.valueMany([coalitionFromMask(1, 6)])).rejects.toThrow(/HTTP 503/);
    expect(calls).toBeLessThanOrEqual(5);
  });
});

describe('CachedGame when the value function rejects the call that found the time over', () => {
  it('leaves no unhandled rejection (a job crediting on its main thread would end on one)', async () => {
    // what credit.timeoutMs's clock check does (DeadlineGame in credit-episode.ts): abort, then reject the call
    const ac = new AbortController();
    const game: Game = {
      id: 'ep',
      players: ['a', 'b', 'c'],
      value: () => {
        ac.abort(new Error('credit.timeoutMs ran out'));
        return Promise.reject(new EstimationAbortedError(ac.signal.reason));
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cg = new CachedGame(game, { signal: ac.signal });
      await expect(cg.valueMany([coalitionFromMask(1, 3), coalitionFromMask(2, 3)])).rejects.toBeInstanceOf(EstimationAbortedError);
      // unhandled rejections are reported after the microtask queue drains
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    // one without the fix: the rejected evaluation CachedGame stopped waiting for
    expect(unhandled).toEqual([]);
  });
});

describe('estimator.evaluations after the episode gave up (credit.timeoutMs)', () => {
  // 64 before: every coalition the exact run queued was counted, though 4 were sent and 2 answered
  it('counts the evaluations that gave a value, not the queued ones that never ran nor those cut in flight', async () => {
    const agents = ['a', 'b', 'c', 'd', 'e', 'f'];
    const steps = agents.map((a, i) => step({ id: i + 1, agent: a, inputs: i > 0 ? [i] : [] }));
    // Each call settles when the test says so, and credit.timeoutMs runs out when the test moves the
    // clock the deadline reads (DeadlineGame looks at it before each evaluation): no race between
    // the calls' timers, the deadline's and the read of `answered` after the run returns.
    const inFlight: ((v: number) => void)[] = [];
    let started = 0;
    let answered = 0;
    const answerOne = () => {
      answered++;
      inFlight.shift()!(0.5);
    };
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      const run = creditEpisode(episode(steps, 0.8), {
        timeoutMs: 60_000, // its timer never fires here: the clock passes it first
        concurrency: 2,
        estimator: 'exact',
        gameFactory: (_input, ctx) => ({
          kind: 'module',
          agentGame: {
            id: 'slow',
            players: ctx.agentIds,
            value: () => {
              started++;
              return new Promise<number>((resolve) => inFlight.push(resolve));
            },
          } satisfies Game,
        }),
      });
      // two calls at a time (concurrency 2): both answered, then the next two start
      await until(() => started === 2);
      answerOne();
      answerOne();
      await until(() => started === 4);
      expect(inFlight).toHaveLength(2);
      // the time runs out while those two are in flight; one answers after it ran out, and the
      // evaluation its slot would start next finds the deadline passed: the run stops, that answer
      // too late and the other call cut in flight
      const answeredInTime = answered;
      clock = 60_000;
      answerOne();
      const out = await run;
      expect(inFlight).toHaveLength(1);
      inFlight.shift()!(0.5); // answers after the run returned
      expect(out.estimator.status).toBe('partial');
      expect(started).toBe(4); // the deadline refused the 5th before it reached the value function
      // v(N) = R and v(∅) = b are answered by the anchored game itself, the rest by the value function
      expect(answeredInTime).toBe(2);
      expect(out.estimator.evaluations).toBe(2 + answeredInTime);
    } finally {
      now.mockRestore();
    }
    // a run that fails: the failed evaluation is no value either
    const failing = await creditEpisode(episode(steps, 0.8), {
      concurrency: 2,
      estimator: 'exact',
      gameFactory: (_input, ctx) => ({ kind: 'module', agentGame: { id: 'failing', players: ctx.agentIds, value: () => Promise.reject(new Error('judge answered HTTP 503')) } satisfies Game }),
    });
    expect(failing.estimator.status).toBe('partial');
    expect(failing.estimator.evaluations).toBe(2);
  });

  it('keeps counting a miss in flight against the budget until it settles', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const game: Game = { id: 'ep', players: ['a', 'b'], value: async (c) => (await gate, c[0]!) };
    const cg = new CachedGame(game, { budget: 2 });
    const run = cg.valueMany([coalitionFromMask(1, 2), coalitionFromMask(2, 2)]);
    expect(cg.evaluations).toBe(2);
    expect(() => cg.value(coalitionFromMask(3, 2))).toThrow(/budget/);
    release();
    await expect(run).resolves.toEqual([1, 0]);
    expect(cg.evaluations).toBe(2);
  });
});
