/**
 * Anchors a pluggable game to the observed run: v(N) := R (the evaluation of the real run) and
 * v(∅) := b (the configured baseline); every other coalition comes from the inner game. Without
 * it an external judge's own v(N) would replace the observed score and credits would not sum to
 * R - b as the events promise. (The judge's view of N is still used wherever N appears as a
 * superset in the inner game's own logic.)
 */
import type { Game } from '../types.js';

export class AnchoredGame implements Game {
  readonly id: string;
  readonly players: readonly string[];
  constructor(
    readonly inner: Game,
    readonly grandValue: number,
    readonly emptyValue: number,
  ) {
    this.id = `${inner.id}#anchored(${grandValue},${emptyValue})`;
    this.players = inner.players;
  }
  value(coalition: Uint8Array): number | Promise<number> {
    let size = 0;
    for (const x of coalition) if (x) size++;
    if (size === coalition.length) return this.grandValue;
    if (size === 0) return this.emptyValue;
    return this.inner.value(coalition);
  }
}
