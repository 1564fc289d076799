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

interface MergedTerm {
  carriers: number[];
  weight: number;
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
    // Buckets by carrierKey: exact for short sets, a hash for long ones (compared element-wise).
    const buckets = new Map<string, MergedTerm[]>();
    const merged: MergedTerm[] = []; // first-appearance order
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
      const bucket = buckets.get(key);
      const same = key.startsWith('h') ? bucket?.find((m) => sameCarriers(m.carriers, carriers)) : bucket?.[0];
      if (same) same.weight += t.weight;
      else {
        const m = { carriers, weight: t.weight };
        merged.push(m);
        if (bucket) bucket.push(m);
        else buckets.set(key, [m]);
      }
    }
    this.base = constant;
    this.terms = merged.filter((t) => t.weight !== 0);
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
 * Carrier indices sorted ascending, each once (a fresh array). Carrier lists mostly come in causal
 * order, already ascending: checked first (linear), then copied. Long lists of small non-negative
 * integers (a message's descendants in a long episode, in breadth-first order) are sorted by
 * marking them in a bitmap and reading it back — linear, where a comparison sort of every such
 * term made long chains cost O(m² log m). Short lists, nearly sorted, take an insertion sort
 * (beats `sort` with a comparator callback); anything else uses `sort`.
 */
function sortedUnique(carriers: readonly number[]): number[] {
  const n = carriers.length;
  let ascending = true;
  let smallInts = true;
  let max = -1;
  for (let i = 0; i < n; i++) {
    const c = carriers[i]!;
    if (i > 0 && !(carriers[i - 1]! < c)) ascending = false;
    if (!(Number.isInteger(c) && c >= 0)) smallInts = false;
    else if (c > max) max = c;
  }
  if (ascending) return carriers.slice();
  if (n > 64 && smallInts && max < 16 * n) {
    const marks = new Uint8Array(max + 1);
    for (let i = 0; i < n; i++) marks[carriers[i]!] = 1;
    const out: number[] = [];
    for (let c = 0; c <= max; c++) if (marks[c] === 1) out.push(c);
    return out;
  }
  const out = carriers.slice();
  if (n > 64) out.sort((a, b) => a - b);
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
 * Map key of a sorted carrier set. Short sets whose indices fit one UTF-16 unit each: the units
 * themselves (exact, no number-to-text conversions; prefix `u`). Longer sets: length and a 32-bit
 * FNV-1a hash of the indices (prefix `h`), so long causal chains — whose carrier sets are
 * quadratic in total — are not turned into quadratic text; equal keys are then compared
 * element-wise (`sameCarriers`).
 */
function carrierKey(carriers: readonly number[]): string {
  if (carriers.length <= 256 && carriers[carriers.length - 1]! <= 0xffff) return `u${String.fromCharCode(...carriers)}`;
  let h = 0x811c9dc5;
  for (const c of carriers) h = Math.imul(h ^ c, 0x01000193);
  return `h${carriers.length}:${h >>> 0}`;
}

function sameCarriers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
