/**
 * `snapshots()` on a run whose budget an earlier `snapshots()` spent: it opened the run's budget
 * again and took that many more value-function calls (every sampler: a 20-player run at budget 300
 * made 600 calls for two loops over the same run). The run's budget is spent once; a second loop
 * yields the finished result, and `continue(extraBudget)` is how a run gets more.
 */
import { describe, expect, it } from 'vitest';
import type { AnytimeRun, EstimateOptions, Game, ShapleyEstimate } from '../../src/credit/types.js';
import { SAMPLERS } from './helpers.js';

const weights = Array.from({ length: 20 }, (_, i) => 1 + (i % 5));

function countingGame(id: string): Game & { calls: number } {
  const g = {
    id,
    players: weights.map((_, i) => `p${i}`),
    calls: 0,
    value(c: Uint8Array): number {
      g.calls++;
      return weights.reduce((s, w, i) => s + (c[i] ? w : 0), 0) >= 30 ? 1 : 0;
    },
  };
  return g;
}

async function drain(run: AnytimeRun): Promise<ShapleyEstimate[]> {
  const out: ShapleyEstimate[] = [];
  for await (const s of run.snapshots()) out.push(s);
  return out;
}

describe.each(SAMPLERS)('%s: snapshots() twice on a finished run', (name, make) => {
  it('the second loop makes no value-function call and yields the finished result; continue() still adds budget', async () => {
    const game = countingGame(`twice-${name}`);
    const run = (make() as unknown as { start(g: Game, o: EstimateOptions): AnytimeRun }).start(game, { budget: 300, seed: 4 });
    const first = await drain(run);
    const spent = game.calls;
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(300);
    const second = await drain(run);
    expect(game.calls).toBe(spent);
    expect(second).toHaveLength(1);
    expect(second[0]!.values).toEqual(first.at(-1)!.values);
    expect(second[0]!.evaluations).toBe(first.at(-1)!.evaluations);
    const more = await run.continue(100);
    expect(game.calls).toBeGreaterThan(spent);
    expect(game.calls).toBeLessThanOrEqual(spent + 100);
    expect(more.evaluations).toBe(game.calls);
  });
});
