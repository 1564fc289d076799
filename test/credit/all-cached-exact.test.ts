/**
 * A sampled run whose cache holds every one of the 2^n coalition values (a small game evaluated
 * whole within the budget, or a CachedGame an exact run filled) has the Shapley value at no cost.
 * Every sampler reported its samples' estimate instead, `approximate` with an interval (5 players,
 * budget 1000, all 32 coalitions evaluated: the unbiased kernel 0.04 off, the paired kernel 0.004),
 * and kept drawing cached coalitions until its look-up cap. Now: `exact`, the enumeration's
 * values, zero-width intervals, a note saying why, and no sampling past that point.
 */
import { describe, expect, it } from 'vitest';
import { CachedGame, exactShapley } from '../../src/credit/index.js';
import type { Game } from '../../src/credit/types.js';
import { SAMPLERS, mixedTable, tableGame } from './helpers.js';

const TABLE = mixedTable(5, 3);

function counting(game: Game): Game & { calls: number } {
  const g = { id: game.id, players: game.players, calls: 0, value: (c: Uint8Array) => (g.calls++, game.value(c)) };
  return g;
}

describe.each(SAMPLERS)('%s on a game whose every coalition value is known', (name, make) => {
  it('evaluated whole within the budget: exact, the enumeration\'s values, zero-width intervals', async () => {
    const exact = (await exactShapley(tableGame(TABLE))).values;
    const r = await make().estimate(tableGame(TABLE, `whole-${name}`), { budget: 1000, seed: 1 });
    expect(r.evaluations).toBe(32);
    expect(r.status).toBe('exact');
    expect(r.note).toMatch(/^every coalition value known \(all 2\^5 = 32 cached\): the exact Shapley value/);
    r.values.forEach((v, i) => expect(v).toBeCloseTo(exact[i]!, 12));
    for (const [i, iv] of r.intervals.entries()) expect(iv).toEqual({ low: r.values[i], high: r.values[i] });
  });

  it('a CachedGame that holds them all: exact with no value-function call', async () => {
    const inner = counting(tableGame(TABLE, `cached-${name}`));
    const cg = new CachedGame(inner);
    const exact = (await exactShapley(cg)).values;
    const calls = inner.calls;
    const r = await make().estimate(cg, { budget: 100, seed: 2 });
    expect(inner.calls).toBe(calls);
    expect(r.evaluations).toBe(0);
    expect(r.status).toBe('exact');
    r.values.forEach((v, i) => expect(v).toBeCloseTo(exact[i]!, 12));
  });

  it('a game not seen whole stays sampled', async () => {
    const r = await make().estimate(tableGame(mixedTable(10, 3), `part-${name}`), { budget: 200, seed: 1 });
    expect(r.status).toBe('approximate');
    expect(r.note ?? '').not.toMatch(/every coalition value known/);
  });
});
