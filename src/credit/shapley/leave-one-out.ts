/** Leave-one-out diagnostic: LOO_i = v(N) - v(N \ {i}). n + 1 evaluations. */
import { CachedGame } from '../games/cached-game.js';
import { allBut, fullCoalition } from '../games/coalition.js';
import type { Game } from '../types.js';

export interface LeaveOneOut {
  readonly players: readonly string[];
  readonly values: readonly number[];
  readonly grandValue: number;
  readonly evaluations: number;
}

/** Throws what the game throws (including `BudgetExhaustedError`); callers decide how to degrade. */
export async function leaveOneOut(game: Game): Promise<LeaveOneOut> {
  const cg = CachedGame.wrap(game); // checks the game first
  const n = game.players.length;
  const before = cg.evaluations;
  const coalitions = [fullCoalition(n), ...Array.from({ length: n }, (_, i) => allBut(n, i))];
  const [grand, ...rest] = await cg.valueMany(coalitions);
  return { players: game.players, values: rest.map((v) => grand! - v), grandValue: grand!, evaluations: cg.evaluations - before };
}
