/**
 * Anchors a pluggable game to the observed run: v(N) := R (the evaluation of the real run) and
 * v(∅) := b (the configured baseline); every other coalition comes from the inner game. Without
 * it an external judge's own v(N) would replace the observed score and credits would not sum to
 * R - b as the events promise. (The judge's view of N is still used wherever N appears as a
 * superset in the inner game's own logic.)
 */
import type { Game } from '../types.js';

/**
 * Values of the inner game outside the scale R is on, noted by `AnchoredGame` (shared by an
 * episode's agent and message games): the first one and how many.
 */
export interface OutOfScale {
  count: number;
  first?: { value: number; members: number; players: number };
}

export class AnchoredGame implements Game {
  readonly id: string;
  readonly players: readonly string[];
  constructor(
    readonly inner: Game,
    readonly grandValue: number,
    readonly emptyValue: number,
    /**
     * The scale R is on ([0, 1] normalized, else the evaluation's range) and where to note inner
     * values outside it: anchored between R and b, such a value (a judge answering 0–100 while R
     * is normalized) makes credits of two scales, which looked exact and sane but for the bound.
     */
    readonly scale?: { readonly min: number; readonly max: number; readonly noted: OutOfScale },
  ) {
    this.id = `${inner.id}#anchored(${grandValue},${emptyValue})`;
    this.players = inner.players;
  }
  value(coalition: Uint8Array): number | Promise<number> {
    let size = 0;
    for (const x of coalition) if (x) size++;
    if (size === coalition.length) return this.grandValue;
    if (size === 0) return this.emptyValue;
    const v = this.inner.value(coalition);
    if (this.scale === undefined) return v;
    if (typeof v === 'number') return this.note(v, size);
    return Promise.resolve(v).then((x) => this.note(x, size));
  }

  private note(v: number, members: number): number {
    const s = this.scale!;
    // a value that is no finite number is CachedGame's to refuse; a rounding error is no other scale
    const slack = 1e-9 * (s.max - s.min);
    if (typeof v === 'number' && Number.isFinite(v) && (v < s.min - slack || v > s.max + slack)) {
      s.noted.count++;
      s.noted.first ??= { value: v, members, players: this.players.length };
    }
    return v;
  }
}
