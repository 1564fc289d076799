/**
 * Provenance games from the scenario generator: a generated run → decoded spans → agent steps →
 * the credit engine's provenance game, which is a sum of unanimity games; its terms become a
 * `unanimity` JSON spec (family `provenance`), so shapiq plays the very same game.
 * Needs src/scenarios, src/conventions and src/credit; says why when one is missing.
 */
import type { GameSpec } from '../games/spec.js';

export interface ProvenanceGames {
  specs: GameSpec[];
  /** Why there are none (or fewer than asked), when so. */
  note?: string;
}

export async function provenanceGames(_sizes: readonly number[], _seed: number): Promise<ProvenanceGames> {
  return { specs: [], note: 'Provenance games not included yet: waiting for the credit engine to expose the provenance game’s unanimity terms (src/credit).' };
}
