/**
 * Exact Shapley values by enumeration: every one of the 2^n coalitions is evaluated once (plain
 * bitmask order, batched through `CachedGame.valueMany`), then
 * φ_i = Σ_{S ⊆ N\{i}} |S|!(n-|S|-1)!/n! · (v(S ∪ {i}) - v(S)).
 * Cost: 2^n evaluations and O(n·2^n) arithmetic; the oracle of the property tests.
 */
import { TooManyPlayersError } from '../errors.js';
import { CachedGame } from '../games/cached-game.js';
import { checkDistinctPlayers, coalitionFromMask, emptyCoalition, fullCoalition } from '../games/coalition.js';
import type { EstimateOptions, Game, ShapleyEstimate, ShapleyEstimator } from '../types.js';
import { buildEstimate, equalSplitFallback, errorNote } from './result.js';
import { checkEstimateOptions, checkOptionKeys } from './check-options.js';

export interface ExactOptions {
  /** Refuse games with more players than this (2^n evaluations). Default 14. */
  maxPlayers?: number;
  signal?: AbortSignal;
  /** Budget for the wrapper this call creates (ignored when `game` is already a CachedGame). */
  budget?: number;
}

/** Shapley weight |S|!(n-|S|-1)!/n! = 1 / (n · C(n-1, |S|)) for every size |S| = 0..n-1. */
export function shapleyWeights(n: number): Float64Array {
  const w = new Float64Array(Math.max(n, 1));
  let binom = 1; // C(n-1, s)
  for (let s = 0; s < n; s++) {
    w[s] = 1 / (n * binom);
    binom = (binom * (n - 1 - s)) / (s + 1);
  }
  return w;
}

const CHUNK = 4096;

/** φ from the value of every coalition, `v[mask]` (player i = bit i): the enumeration's sum. */
export function shapleyFromTable(v: ArrayLike<number>, n: number): number[] {
  const total = 2 ** n;
  const w = shapleyWeights(n);
  const phi = new Array<number>(n).fill(0);
  const size = new Uint8Array(total);
  for (let m = 1; m < total; m++) size[m] = size[m >>> 1]! + (m & 1);
  for (let m = 0; m < total; m++) {
    const ws = w[size[m]!]!;
    const vm = v[m]!;
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      if ((m & bit) === 0) phi[i] = phi[i]! + ws * (v[m | bit]! - vm);
    }
  }
  return phi;
}

/**
 * Exact Shapley values. Throws `TooManyPlayersError` above `maxPlayers`, and propagates game
 * failures and `BudgetExhaustedError` (use `ExactEstimator` or `estimateShapley` for a
 * never-throwing variant).
 */
export async function exactShapley(game: Game, options: ExactOptions = {}): Promise<ShapleyEstimate> {
  checkOptionKeys(options, ['maxPlayers', 'signal', 'budget'], 'exactShapley');
  checkEstimateOptions({ ...(options.budget !== undefined ? { budget: options.budget } : {}) }, 'exactShapley');
  checkDistinctPlayers(game); // a TypeError naming what is missing before game.players is read
  const n = game.players.length;
  const maxPlayers = options.maxPlayers ?? 14;
  if (n > maxPlayers) throw new TooManyPlayersError(n, maxPlayers);
  if (n > 30) throw new TooManyPlayersError(n, 30);
  const cg = CachedGame.wrap(game, { ...(options.budget !== undefined ? { budget: options.budget } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const before = cg.evaluations;
  const total = 2 ** n;
  const v = new Float64Array(total);
  for (let start = 0; start < total; start += CHUNK) {
    const end = Math.min(total, start + CHUNK);
    const batch: Uint8Array[] = [];
    for (let m = start; m < end; m++) batch.push(coalitionFromMask(m, n));
    const vals = await cg.valueMany(batch);
    for (let k = 0; k < vals.length; k++) v[start + k] = vals[k]!;
  }
  const phi = shapleyFromTable(v, n);
  return buildEstimate({
    players: game.players,
    values: phi,
    halfWidths: phi.map(() => 0),
    confidence: 1 - 1e-9,
    evaluations: cg.evaluations - before,
    status: 'exact',
    estimator: 'exact',
    grandValue: v[total - 1]!,
    emptyValue: v[0]!,
  });
}

/** `exactShapley` behind the estimator interface: failures give a `partial` equal-split result. */
export class ExactEstimator implements ShapleyEstimator {
  readonly name = 'exact';
  constructor(private readonly opts: { maxPlayers?: number } = {}) {}
  async estimate(game: Game, options: EstimateOptions = {}): Promise<ShapleyEstimate> {
    checkEstimateOptions(options, 'ExactEstimator.estimate');
    const cg = CachedGame.wrap(game, { ...(options.signal ? { signal: options.signal } : {}) });
    const before = cg.evaluations;
    const saved = cg.budget;
    if (options.budget !== undefined) cg.setBudget(Math.min(saved, cg.evaluations + options.budget));
    const n = game.players.length;
    try {
      // v(N) and v(∅) first (the enumeration needs them anyway): when the budget or the player
      // limit stops the enumeration, the equal-split fallback still sums to v(N) − v(∅). In
      // bitmask order v(N) comes last, so a cut run used to fall back on v(N) = 0.
      await cg.valueMany([fullCoalition(n), emptyCoalition(n)]);
      // A budget that cannot pay for the coalitions not yet cached would be spent on an
      // enumeration that is then thrown away: fall back at once, saying what it would take.
      const uncached = n <= 30 ? 2 ** n - cg.cachedCount : Number.POSITIVE_INFINITY;
      if (n <= (this.opts.maxPlayers ?? 14) && uncached > cg.remaining) {
        throw new Error(`exact enumeration needs ${uncached} more coalition values (2^${n} in all), the budget leaves ${cg.remaining}: not started — raise the budget or use a sampling estimator`);
      }
      const r = await exactShapley(cg, { ...this.opts, ...(options.signal ? { signal: options.signal } : {}) });
      return { ...r, evaluations: cg.evaluations - before };
    } catch (err) {
      const grand = cg.peek(new Uint8Array(n).fill(1)) ?? 0;
      const empty = cg.peek(new Uint8Array(n)) ?? 0;
      return equalSplitFallback(game.players, grand, empty, options.valueScale ?? 1, 'exact', cg.evaluations - before, errorNote(err), options.confidence ?? 0.95);
    } finally {
      cg.setBudget(saved);
    }
  }
}
