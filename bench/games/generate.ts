/**
 * Seeded generators of benchmark games (pure given the Rng). The parameters are fixed here, not
 * tuned per estimator: the games are what the literature uses (shapiq's sum-of-unanimity models,
 * weighted majority voting, glove and airport games).
 */
import type { Rng } from '../lib/rng.js';
import { shuffled } from '../lib/rng.js';
import { GAME_SPEC_FORMAT, type GameSpec } from './spec.js';

/**
 * Random unanimity game (shapiq's SOUM): `terms` = n unanimity terms, each over a uniform
 * random subset whose size is uniform in [1, n], weight uniform in [0, 1).
 */
export function randomUnanimityGame(n: number, rng: Rng, id: string): GameSpec {
  const players = Array.from({ length: n }, (_, i) => i);
  const terms = Array.from({ length: n }, () => {
    const size = rng.int(1, n);
    const members = shuffled(players, rng).slice(0, size).sort((a, b) => a - b);
    return { members, weight: rng.next() };
  });
  return { format: GAME_SPEC_FORMAT, id, family: 'random unanimity', n, source: `randomUnanimityGame(n=${n})`, kind: 'unanimity', terms };
}

/** Weighted majority: integer weights uniform in [1, 10], quota = ⌊Σw / 2⌋ + 1. */
export function weightedVotingGame(n: number, rng: Rng, id: string): GameSpec {
  const weights = Array.from({ length: n }, () => rng.int(1, 10));
  const quota = Math.floor(weights.reduce((a, b) => a + b, 0) / 2) + 1;
  return { format: GAME_SPEC_FORMAT, id, family: 'weighted voting', n, source: `weightedVotingGame(n=${n})`, kind: 'voting', weights, quota };
}

/** Glove game: a uniform share in [0.3, 0.7] of the players (at least one) hold left gloves. */
export function gloveGame(n: number, rng: Rng, id: string): GameSpec {
  const l = Math.min(n - 1, Math.max(1, Math.round(n * (0.3 + 0.4 * rng.next()))));
  const order = shuffled(Array.from({ length: n }, (_, i) => i), rng);
  const left = order.slice(0, l).sort((a, b) => a - b);
  const right = order.slice(l).sort((a, b) => a - b);
  return { format: GAME_SPEC_FORMAT, id, family: 'glove', n, source: `gloveGame(n=${n})`, kind: 'glove', left, right };
}

/** Airport game: runway costs uniform integers in [1, 100]. */
export function airportGame(n: number, rng: Rng, id: string): GameSpec {
  const costs = Array.from({ length: n }, () => rng.int(1, 100));
  return { format: GAME_SPEC_FORMAT, id, family: 'airport', n, source: `airportGame(n=${n})`, kind: 'airport', costs };
}

export const GAME_GENERATORS = {
  'random unanimity': randomUnanimityGame,
  'weighted voting': weightedVotingGame,
  glove: gloveGame,
  airport: airportGame,
} as const;
