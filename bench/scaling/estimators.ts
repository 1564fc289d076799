/**
 * Scaling of the credit paths with the number of players, on the benchmark games: exact
 * enumeration, sampled (permutation, kernel) at a fixed budget, and the closed-form path of
 * `estimateShapley` (a game that offers `closedForm()`, as the provenance game does).
 */
import { estimateShapley, ExactEstimator, KernelEstimator, PermutationEstimator } from '../../src/credit/index.js';
import type { Game } from '../../src/credit/types.js';
import { valueOf } from '../games/evaluate.js';
import { unanimityShapley } from '../games/exact.js';
import type { GameSpec } from '../games/spec.js';
import { median } from '../lib/stats.js';

export interface PathTiming {
  n: number;
  path: 'exact' | 'permutation' | 'kernel' | 'closed-form' | 'estimateShapley (default)';
  /** Median wall time of one estimate, ms. */
  ms: number;
  evaluations: number;
  /** What `estimateShapley` chose (only for the default path). */
  chosen?: string;
}

function gameOf(spec: GameSpec, id: string): Game {
  const v = valueOf(spec);
  const players = Array.from({ length: spec.n }, (_, i) => `p${i}`);
  const game: Game & { closedForm?: () => number[] } = { id, players, value: (c) => v(c) };
  if (spec.kind === 'unanimity') game.closedForm = () => unanimityShapley(spec);
  return game;
}

async function time(reps: number, run: (rep: number) => Promise<{ evaluations: number; estimator: string }>): Promise<{ ms: number; evaluations: number; estimator: string }> {
  const ms: number[] = [];
  let last = { evaluations: 0, estimator: '' };
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    last = await run(r);
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), ...last };
}

/** Times every path on `voting` (a non-additive game) and the closed form on `unanimity` (same n). */
export async function timePaths(voting: GameSpec, unanimity: GameSpec, budget: number, maxExact: number, reps: number): Promise<PathTiming[]> {
  const n = voting.n;
  const out: PathTiming[] = [];
  if (n <= maxExact) {
    const r = await time(reps, (k) => new ExactEstimator({ maxPlayers: maxExact }).estimate(gameOf(voting, `exact-${n}-${k}`)));
    out.push({ n, path: 'exact', ms: r.ms, evaluations: r.evaluations });
  }
  const perm = await time(reps, (k) => new PermutationEstimator().estimate(gameOf(voting, `perm-${n}-${k}`), { budget, seed: k + 1 }));
  out.push({ n, path: 'permutation', ms: perm.ms, evaluations: perm.evaluations });
  const kern = await time(reps, (k) => new KernelEstimator().estimate(gameOf(voting, `kern-${n}-${k}`), { budget, seed: k + 1 }));
  out.push({ n, path: 'kernel', ms: kern.ms, evaluations: kern.evaluations });
  const cf = await time(reps, (k) => estimateShapley(gameOf(unanimity, `cf-${n}-${k}`), { budget }));
  out.push({ n, path: 'closed-form', ms: cf.ms, evaluations: cf.evaluations, chosen: cf.estimator });
  const def = await time(reps, (k) => estimateShapley(gameOf(voting, `def-${n}-${k}`), { budget: Math.max(budget, 2 ** Math.min(n, 14)), seed: k + 1 }));
  out.push({ n, path: 'estimateShapley (default)', ms: def.ms, evaluations: def.evaluations, chosen: def.estimator });
  return out;
}
