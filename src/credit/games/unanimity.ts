/**
 * A sum of unanimity games: v(S) = base + Σ_T w_T · [T ⊆ S], where each term's carrier T is a set of
 * player indices. Its Shapley value is known in closed form, φ_i = Σ_{T ∋ i} w_T / |T| (each term's
 * weight split equally among its carriers), so exact credit is cheap for any number of players,
 * and `value(S)` lets tests cross-check the closed form against enumeration. Every cooperative
 * game is such a sum (Harsanyi dividends), so this is a representation, not a restriction.
 * Terms with an empty carrier are constants: they belong to v(∅) and are credited to nobody.
 */
import type { Game } from '../types.js';

export interface UnanimityTerm {
  /** Player indices that must all be present for the term to count. */
  readonly carriers: readonly number[];
  readonly weight: number;
}

export class UnanimityGame implements Game {
  /** Terms merged by carrier set, carriers sorted and de-duplicated. */
  readonly terms: readonly UnanimityTerm[];
  readonly base: number;

  constructor(
    readonly id: string,
    readonly players: readonly string[],
    base: number,
    terms: readonly UnanimityTerm[],
  ) {
    const merged = new Map<string, { carriers: number[]; weight: number }>();
    let constant = base;
    for (const t of terms) {
      if (!Number.isFinite(t.weight)) throw new RangeError(`unanimity term weight must be finite, got ${t.weight}`);
      const carriers = sortedUnique(t.carriers);
      for (const c of carriers) {
        if (!Number.isInteger(c) || c < 0 || c >= players.length) throw new RangeError(`carrier ${c} is not a player index (0..${players.length - 1})`);
      }
      if (carriers.length === 0) {
        constant += t.weight;
        continue;
      }
      const key = carrierKey(carriers);
      const m = merged.get(key);
      if (m) m.weight += t.weight;
      else merged.set(key, { carriers, weight: t.weight });
    }
    this.base = constant;
    this.terms = [...merged.values()].filter((t) => t.weight !== 0);
  }

  value(coalition: Uint8Array): number {
    let v = this.base;
    for (const t of this.terms) {
      let all = true;
      for (const c of t.carriers) {
        if (!coalition[c]) {
          all = false;
          break;
        }
      }
      if (all) v += t.weight;
    }
    return v;
  }

  /** φ_i = Σ_{T ∋ i} w_T / |T|. */
  closedForm(): number[] {
    const phi = new Array<number>(this.players.length).fill(0);
    for (const t of this.terms) {
      const share = t.weight / t.carriers.length;
      for (const c of t.carriers) phi[c] = phi[c]! + share;
    }
    return phi;
  }

  /** Leave-one-out v(N) - v(N \ {i}) = Σ_{T ∋ i} w_T, without evaluating coalitions. */
  leaveOneOut(): number[] {
    const loo = new Array<number>(this.players.length).fill(0);
    for (const t of this.terms) for (const c of t.carriers) loo[c] = loo[c]! + t.weight;
    return loo;
  }
}

/**
 * Carrier indices sorted ascending, each once (a fresh array). Carrier lists are short and mostly
 * nearly sorted (causal order), so an insertion sort beats `sort` with a comparator callback;
 * long lists use `sort`.
 */
function sortedUnique(carriers: readonly number[]): number[] {
  const out = carriers.slice();
  if (out.length > 64) out.sort((a, b) => a - b);
  else {
    for (let i = 1; i < out.length; i++) {
      const x = out[i]!;
      let k = i - 1;
      while (k >= 0 && out[k]! > x) {
        out[k + 1] = out[k]!;
        k--;
      }
      out[k + 1] = x;
    }
  }
  let k = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || !(out[i] === out[k - 1])) out[k++] = out[i]!;
  out.length = k;
  return out;
}

/**
 * Map key of a sorted carrier set: one UTF-16 unit per index when the list is short and every
 * index fits in one (no number-to-text conversions), else the indices as decimal text. The
 * leading letter keeps the two forms apart.
 */
function carrierKey(carriers: readonly number[]): string {
  if (carriers.length <= 256 && carriers[carriers.length - 1]! <= 0xffff) return `u${String.fromCharCode(...carriers)}`;
  return `d${carriers.join(',')}`;
}
