/**
 * A sampled result that is `partial` because no interval was estimated (fewer than 2 samples, or
 * samples that showed no variation: a zero total whose sampled coalitions all had v(N) = v(∅))
 * kept the half-widths its samples gave — the rounding floor (±1e-12) or 0 — so the events'
 * ci_low/ci_high equalled the credit: a trainer weighting signals by interval width read the
 * least-known credits as the best known, and `agent-credit compare` counted them as misses.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode, exactShapley } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { SAMPLERS, tableGame } from './helpers.js';
import { episode, step } from './episode-builder.js';

const samplers = SAMPLERS;

const n = 8;
// v = 1 on the one coalition {p0, p1, p2}, 0 elsewhere: φ = 1/168 for p0..p2, −1/280 for the others
const zeroTotal = Array.from({ length: 1 << n }, (_, s) => (s === 0b111 ? 1 : 0));
// additive but for {p0..p3}: every sample before that coalition fits one additive game
const w = [0.5, -0.2, 1.3, 0.05, 0.7, -0.9, 0.4, 0.25];
const additivePlus = Array.from({ length: 1 << n }, (_, s) => w.reduce((a, x, i) => a + (s & (1 << i) ? x : 0), 0) + (s === 0b1111 ? 1 : 0));

describe('a partial result with no interval estimated reports the interval of no information', () => {
  it('every sampler: each interval holds the exact value and is at least ±(|v(N) − v(∅)| + 1) wide', async () => {
    let seen = 0;
    for (const values of [zeroTotal, additivePlus]) {
      const game = tableGame(values);
      const exact = (await exactShapley(game)).values;
      const total = values[values.length - 1]! - values[0]!;
      for (const [name, make] of samplers) {
        for (const budget of [3, 4, 6, 4 * n]) {
          for (let seed = 1; seed <= 3; seed++) {
            const est = await make().estimate(game, { budget, seed });
            if (!est.note?.includes('interval not estimated')) continue;
            seen++;
            expect(est.status).toBe('partial');
            est.intervals.forEach(({ low, high }, i) => {
              const at = `${name} budget ${budget} seed ${seed} p${i}: [${low}, ${high}] against ${exact[i]}`;
              expect(high - low, at).toBeGreaterThanOrEqual(2 * (Math.abs(total) + 1));
              expect(low <= exact[i]! && exact[i]! <= high, at).toBe(true);
            });
          }
        }
      }
    }
    expect(seen).toBeGreaterThan(50);
  });

  it('creditEpisode and its events: a module game whose samples showed no variation gets wide ci_low/ci_high, credits unchanged and conserved', async () => {
    const steps = Array.from({ length: n }, (_, i) => step({ id: i + 1, agent: `ag${i}`, inputs: i ? [i] : [] }));
    // a failed run scored at its baseline (R = b = 0); the value function is 1 on the first three agents together
    const gameFactory = (_inp: unknown, ctx: { agentIds: string[] }) => ({
      kind: 'module' as const,
      agentGame: { id: 'rare', players: ctx.agentIds, value: (s: Uint8Array) => (s.every((x, i) => (i < 3 ? x === 1 : x === 0)) ? 1 : 0) },
    });
    // permutation at 4n was `partial` for the target (0.02) the budget ended before, over ±1e-12 intervals
    for (const estimator of ['permutation', 'regression-adjusted', 'kernel', 'tree-msr']) {
      const out = await creditEpisode(episode(steps, 0), { game: 'module', gameFactory, budget: 4 * n, seed: 1, estimator } as never);
      expect(out.estimator.status, estimator).toBe('partial');
      expect(out.estimator.note, estimator).toContain('interval not estimated');
      const events = outcomeToEvents(out, { emittedAtMs: 0 });
      const agents = events.episode.agents;
      expect(agents).toHaveLength(n);
      for (const a of agents) {
        expect(a.ci_high - a.ci_low, `${estimator} ${a.agent_name}`).toBeGreaterThanOrEqual(2);
        expect(a.ci_low <= a.credit && a.credit <= a.ci_high).toBe(true);
      }
      expect(agents.reduce((s, a) => s + a.credit, 0)).toBeCloseTo(0, 12);
    }
  });
});

// The interval of no information was at least ±(|v(N) − v(∅)| + 1) whatever the scale of the
// values: with `normalize: false` and a 0–100 score a zero-total run got ±1, though a coalition not
// drawn may lie anywhere on the scale — one 2-agent coalition worth 100 among 8 agents gives those
// two φ = 100/56 = 1.79, outside ±1 with every sampler at budget 4n.
describe('the interval of no information spans the value scale, not 1', () => {
  const pair = (s: Uint8Array) => s.every((x, i) => (i < 2 ? x === 1 : x === 0));
  const steps = Array.from({ length: n }, (_, i) => step({ id: i + 1, agent: `ag${i}`, inputs: i ? [i] : [] }));
  const gameFactory = (_inp: unknown, ctx: { agentIds: string[] }) => ({
    kind: 'module' as const,
    agentGame: { id: 'rare-pair', players: ctx.agentIds, value: (s: Uint8Array) => (pair(s) ? 100 : 0) },
  });

  it('creditEpisode with normalize: false on a 0–100 score: every sampler\'s ci_low/ci_high span ± the range (100) and hold the exact credit', async () => {
    const exact = (await exactShapley({ id: 'x', players: steps.map((s) => s.agentId), value: (s) => (pair(s) ? 100 : 0) })).values;
    expect(exact[0]).toBeCloseTo(100 / 56, 12);
    for (const [estimator] of samplers) {
      const out = await creditEpisode(episode(steps, 0), {
        game: 'module',
        gameFactory,
        budget: 4 * n,
        seed: 1,
        estimator,
        normalize: false,
        normalization: { task_success: { min: 0, max: 100 } },
        successThreshold: { task_success: 50 },
      } as never);
      expect(out.estimator.note, estimator).toContain('interval not estimated');
      out.agents.forEach((a, i) => {
        const at = `${estimator} ${a.agentId}: [${a.ciLow}, ${a.ciHigh}] against ${exact[i]}`;
        expect(a.ciHigh - a.ciLow, at).toBeGreaterThanOrEqual(2 * 100);
        expect(a.ciLow <= exact[i]! && exact[i]! <= a.ciHigh, at).toBe(true);
      });
    }
  });

  it('the library option valueScale sets it (default 1), and refuses what is not a width', async () => {
    const game = tableGame(zeroTotal.map((v) => 100 * v));
    const scaled = await SAMPLERS[0]![1]().estimate(game, { budget: 4 * n, seed: 1, valueScale: 100 });
    expect(scaled.note).toContain('interval not estimated');
    for (const { low, high } of scaled.intervals) expect(high - low).toBeGreaterThanOrEqual(200);
    const unscaled = await SAMPLERS[0]![1]().estimate(game, { budget: 4 * n, seed: 1 });
    for (const { low, high } of unscaled.intervals) expect(high - low).toBeLessThan(3);
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, '100']) {
      await expect(async () => SAMPLERS[0]![1]().estimate(game, { budget: 10, valueScale: bad as never })).rejects.toThrow(/valueScale must be a finite number > 0/);
    }
  });
});
