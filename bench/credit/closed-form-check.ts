/**
 * Context for section 1: on games that are sums of unanimity games (random unanimity, provenance),
 * the credit engine does not sample at all — `estimateShapley` takes the game's closed form
 * (src/credit/games/unanimity.ts `UnanimityGame.closedForm()`), as it does for the provenance game
 * in production. This measures that path on the same specs: evaluations used and max error.
 */
import type { Game, ShapleyEstimate } from '../../src/credit/types.js';
import type { GameSpec } from '../games/spec.js';
import { loadOptional } from '../lib/optional.js';
import { maxAbsError } from '../lib/stats.js';
import type { BenchGame } from './accuracy.js';

export interface ClosedFormRow {
  game: string;
  family: string;
  n: number;
  estimator: string;
  evaluations: number;
  maxError: number;
}

type UnanimityGameCtor = new (id: string, players: readonly string[], base: number, terms: readonly { carriers: readonly number[]; weight: number }[]) => Game;

export async function closedFormCheck(games: readonly BenchGame[]): Promise<{ rows: ClosedFormRow[]; missing?: string }> {
  const ug = await loadOptional<{ UnanimityGame: UnanimityGameCtor }>('../src/credit/games/unanimity.js');
  const est = await loadOptional<{ estimateShapley: (g: Game, o?: unknown) => Promise<ShapleyEstimate> }>('../src/credit/index.js');
  if ('missing' in ug) return { rows: [], missing: ug.missing };
  if ('missing' in est) return { rows: [], missing: est.missing };
  const rows: ClosedFormRow[] = [];
  for (const g of games) {
    const spec: GameSpec = g.spec;
    if (spec.kind !== 'unanimity') continue;
    const players = Array.from({ length: spec.n }, (_, i) => `p${i}`);
    const inner = new ug.mod.UnanimityGame(`cf-${spec.id}`, players, 0, spec.terms.map((t) => ({ carriers: t.members, weight: t.weight })));
    let calls = 0;
    // count evaluations without hiding closedForm (estimateShapley looks for it on the game)
    const counted = Object.assign(Object.create(inner) as Game, { value: (c: Uint8Array) => (calls++, inner.value(c)) });
    const r = await est.mod.estimateShapley(counted, { budget: 4 * spec.n });
    rows.push({ game: spec.id, family: spec.family, n: spec.n, estimator: r.estimator, evaluations: calls, maxError: maxAbsError(r.values, g.exact) });
  }
  return { rows };
}
