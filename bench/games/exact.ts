/**
 * Exact Shapley values of the benchmark games: the ground truth every estimator is scored against.
 * Pure functions; each says which oracle it is (closed form, enumeration, dynamic programme).
 */
import type { AirportGameSpec, GameSpec, GloveGameSpec, UnanimityGameSpec, VotingGameSpec } from './spec.js';
import type { ValueFunction } from './evaluate.js';
import { valueOf } from './evaluate.js';

export interface ExactValues {
  values: number[];
  /** Which oracle produced them. */
  method: 'closed-form' | 'enumeration' | 'dynamic-programme';
}

/** Enumeration is used up to this many players (2^n values in memory: 8 MiB at n = 20). */
const MAX_ENUMERATION_PLAYERS = 20;

export function exactShapley(spec: GameSpec): ExactValues {
  switch (spec.kind) {
    case 'unanimity':
      return { values: unanimityShapley(spec), method: 'closed-form' };
    case 'voting':
      return spec.n <= MAX_ENUMERATION_PLAYERS
        ? { values: enumerationShapley(spec.n, valueOf(spec)), method: 'enumeration' }
        : { values: votingShapleyDP(spec), method: 'dynamic-programme' };
    case 'glove':
      return { values: gloveShapley(spec), method: 'closed-form' };
    case 'airport':
      return { values: airportShapley(spec), method: 'closed-form' };
  }
}

/** Each term's weight split equally among its members: φ_i = Σ_{T ∋ i} w_T / |T|. */
export function unanimityShapley(spec: UnanimityGameSpec): number[] {
  const phi = new Array<number>(spec.n).fill(0);
  for (const t of spec.terms) {
    const members = [...new Set(t.members)];
    for (const p of members) phi[p] = (phi[p] as number) + t.weight / members.length;
  }
  return phi;
}

/** C(n, k) as a double (exact below 2^53; relative error ~1e-16 above). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let r = 1;
  for (let i = 1; i <= kk; i++) r = (r * (n - kk + i)) / i;
  return r < 2 ** 53 ? Math.round(r) : r;
}

/** Shapley weight of a coalition of s other players in an n-player game: s!(n-1-s)!/n!. */
function shapleyWeight(n: number, s: number): number {
  return 1 / (n * binomial(n - 1, s));
}

/**
 * Exact Shapley values by enumerating all 2^n coalitions (n ≤ MAX_ENUMERATION_PLAYERS).
 * O(2^n · n) time, 2^n doubles of memory.
 */
export function enumerationShapley(n: number, v: ValueFunction): number[] {
  if (n > MAX_ENUMERATION_PLAYERS) throw new Error(`enumerationShapley: n = ${n} > ${MAX_ENUMERATION_PLAYERS}; use a closed form or the DP`);
  const size = 1 << n;
  const values = new Float64Array(size);
  const mask = new Uint8Array(n);
  for (let m = 0; m < size; m++) {
    for (let i = 0; i < n; i++) mask[i] = (m >>> i) & 1;
    values[m] = v(mask);
  }
  const weights = Array.from({ length: n }, (_, s) => shapleyWeight(n, s));
  const phi = new Array<number>(n).fill(0);
  for (let m = 0; m < size; m++) {
    const s = popcount(m);
    if (s === n) continue;
    const w = weights[s] as number;
    const vm = values[m] as number;
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      if ((m & bit) === 0) phi[i] = (phi[i] as number) + w * ((values[m | bit] as number) - vm);
    }
  }
  return phi;
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c++;
  }
  return c;
}

/**
 * Weighted voting game by the pseudo-polynomial dynamic programme (integer weights):
 * for each player i, count coalitions of the others by (size k, weight w); i is pivotal for those
 * with q - w_i ≤ w < q, so φ_i = Σ_k Σ_{w=q-w_i}^{q-1} count_i[k][w] · k!(n-1-k)!/n!.
 * O(n² · W) per player, W = Σ weights. Counts stay below C(63, 31) < 2^63; doubles hold them to
 * ~1e-16 relative error.
 */
export function votingShapleyDP(spec: VotingGameSpec): number[] {
  const { n, weights, quota } = spec;
  const total = weights.reduce((a, b) => a + b, 0);
  const cap = Math.min(total, quota - 1); // only weights < quota matter for pivotality
  const width = cap + 1;
  const phi = new Array<number>(n).fill(0);
  const count = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    const wi = weights[i] as number;
    if (wi === 0) continue;
    count.fill(0);
    count[0] = 1; // k = 0, w = 0
    let players = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const wj = weights[j] as number;
      for (let k = players; k >= 0; k--) {
        const row = k * width;
        const next = (k + 1) * width;
        for (let w = cap - wj; w >= 0; w--) {
          const c = count[row + w] as number;
          if (c !== 0) count[next + w + wj] = (count[next + w + wj] as number) + c;
        }
      }
      players++;
    }
    let sum = 0;
    for (let k = 0; k <= n - 1; k++) {
      let pivotal = 0;
      for (let w = Math.max(0, quota - wi); w <= cap; w++) pivotal += count[k * width + w] as number;
      if (pivotal !== 0) sum += pivotal * shapleyWeight(n, k);
    }
    phi[i] = sum;
  }
  return phi;
}

/**
 * Glove game closed form. A left glove joining predecessors with a left and b right gloves adds
 * min(a+1, b) - min(a, b) = [a < b]; the predecessors of a player in a uniform random order are
 * a uniform size s ∈ {0..n-1} and then a uniform s-subset, so
 * φ_left = (1/n) Σ_s Σ_a [a < s-a] C(l-1, a) C(r, s-a) / C(n-1, s), and symmetrically for right.
 */
export function gloveShapley(spec: GloveGameSpec): number[] {
  const l = spec.left.length;
  const r = spec.right.length;
  const n = spec.n;
  const side = (own: number, other: number): number => {
    let total = 0;
    for (let s = 0; s <= n - 1; s++) {
      let p = 0;
      for (let a = 0; a <= Math.min(s, own - 1); a++) {
        const b = s - a;
        if (b > other || a >= b) continue;
        p += (binomial(own - 1, a) * binomial(other, b)) / binomial(n - 1, s);
      }
      total += p;
    }
    return total / n;
  };
  const phiLeft = l > 0 ? side(l, r) : 0;
  const phiRight = r > 0 ? side(r, l) : 0;
  const phi = new Array<number>(n).fill(0);
  for (const p of spec.left) phi[p] = phiLeft;
  for (const p of spec.right) phi[p] = phiRight;
  return phi;
}

/**
 * Airport game closed form (Littlechild & Owen 1973): with costs sorted ascending
 * c_(1) ≤ … ≤ c_(n) and c_(0) = 0, φ_(k) = Σ_{j=1}^{k} (c_(j) - c_(j-1)) / (n - j + 1).
 */
export function airportShapley(spec: AirportGameSpec): number[] {
  const n = spec.n;
  const order = spec.costs.map((c, i) => ({ c, i })).sort((x, y) => x.c - y.c || x.i - y.i);
  const phi = new Array<number>(n).fill(0);
  let acc = 0;
  let prev = 0;
  order.forEach(({ c, i }, j) => {
    acc += (c - prev) / (n - j);
    prev = c;
    phi[i] = acc;
  });
  return phi;
}
