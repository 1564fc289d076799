/**
 * A regression tree over coalitions (binary membership features), and its exact Shapley value.
 * The surrogate of the tree-MSR estimator (./tree-msr.ts). Pure.
 *
 * Fit: CART with squared error — at each node the player whose membership splits the node's
 * coalitions into the two groups with the least summed squared error (ties: the lowest index),
 * until a node's values agree (to 1e-12 relative), a split gains nothing, or `maxDepth`. Leaves
 * predict their mean. With binary features a split per player is the only choice, so a player is
 * used at most once on a path.
 *
 * Shapley value, exact: the tree is g(S) = Σ_leaves value·1[P ⊆ S, Q ∩ S = ∅], with P the players
 * its path requires in, Q those it requires out (a = |P|, b = |Q|). For one such conjunction game a
 * player i ∈ P adds 1 exactly when, among P ∪ Q, it comes after the rest of P and before all of Q:
 * (a−1)!·b!/(a+b)! = 1/(a·C(a+b, a)) of the orders; a player j ∈ Q removes 1 with probability
 * a!·(b−1)!/(a+b)! = 1/(b·C(a+b, b)). Everyone else is null. So φ(g) costs one pass over the
 * leaves, and sums to g(N) − g(∅) like any Shapley value.
 *
 * Why a tree: many cooperative games are (near) decision lists or sums of few conjunctions —
 * airport games (the cost of the most expensive member), weighted voting, unanimity and provenance
 * games — which a linear surrogate cannot represent and a tree represents exactly from a few dozen
 * coalitions. shapiq's RegressionMSR uses the same idea with a scikit-learn tree.
 */

export interface CoalitionTreeOptions {
  /** Deepest path (≤ players). Default min(players, 50). */
  maxDepth?: number;
}

type Node = { leaf: true; value: number } | { leaf: false; player: number; without: Node; with: Node };

export interface TreeLeaf {
  readonly value: number;
  /** Players the leaf's path requires in the coalition. */
  readonly members: readonly number[];
  /** Players the leaf's path requires out of it. */
  readonly outsiders: readonly number[];
}

export class CoalitionTree {
  private constructor(
    readonly players: number,
    private readonly root: Node,
  ) {}

  /**
   * Fits a tree to `values[k]` = v(`coalitions[k]`) (membership vectors of length `players`).
   * Needs at least one coalition.
   */
  static fit(coalitions: readonly Uint8Array[], values: ArrayLike<number>, players: number, options: CoalitionTreeOptions = {}): CoalitionTree {
    if (coalitions.length === 0 || coalitions.length !== values.length) {
      throw new RangeError(`CoalitionTree.fit needs one value per coalition and at least one (got ${coalitions.length} coalitions, ${values.length} values)`);
    }
    const maxDepth = Math.min(players, options.maxDepth ?? 50);
    const rows = Array.from({ length: coalitions.length }, (_, k) => k);
    const used = new Uint8Array(players);
    return new CoalitionTree(players, grow(coalitions, values, rows, players, used, maxDepth));
  }

  predict(coalition: Uint8Array): number {
    let node = this.root;
    while (!node.leaf) node = coalition[node.player] ? node.with : node.without;
    return node.value;
  }

  leaves(): TreeLeaf[] {
    const out: TreeLeaf[] = [];
    const walk = (node: Node, members: number[], outsiders: number[]): void => {
      if (node.leaf) {
        out.push({ value: node.value, members: [...members], outsiders: [...outsiders] });
        return;
      }
      outsiders.push(node.player);
      walk(node.without, members, outsiders);
      outsiders.pop();
      members.push(node.player);
      walk(node.with, members, outsiders);
      members.pop();
    };
    walk(this.root, [], []);
    return out;
  }

  /** The exact Shapley value of the tree as a game over `players` (see the file header). */
  shapley(): Float64Array {
    const phi = new Float64Array(this.players);
    for (const { value, members, outsiders } of this.leaves()) {
      if (value === 0) continue;
      const a = members.length;
      const b = outsiders.length;
      const c = binomial(a + b, a);
      if (a > 0) {
        const share = value / (a * c);
        for (const i of members) phi[i] = phi[i]! + share;
      }
      if (b > 0) {
        const share = value / (b * c);
        for (const j of outsiders) phi[j] = phi[j]! - share;
      }
    }
    return phi;
  }
}

/**
 * C(n, k) as a double: exact for n ≤ 55 (the default depth, 50, included), where the running product
 * c·(n − m + i) stays below 2^53 (checked against BigInt); from n = 56 it rounds, at 1e-16 relative
 * (C(56, 23) comes out 1 off, though C(56, 28) ≈ 7.6e15 itself fits a double).
 */
export function binomial(n: number, k: number): number {
  const m = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= m; i++) c = (c * (n - m + i)) / i;
  return Math.round(c);
}

function grow(coalitions: readonly Uint8Array[], values: ArrayLike<number>, rows: number[], players: number, used: Uint8Array, depthLeft: number): Node {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rows) {
    const y = values[r]!;
    sum += y;
    if (y < min) min = y;
    if (y > max) max = y;
  }
  const mean = sum / rows.length;
  // Values that agree to rounding: nothing left to explain.
  if (depthLeft === 0 || rows.length < 2 || max - min <= 1e-12 * Math.max(1, Math.abs(min), Math.abs(max))) return { leaf: true, value: mean };

  // Sums of the centred values per player among the coalitions that contain it; the complement's
  // follow from the node's totals (centring keeps the squared sums well conditioned).
  const inSum = new Float64Array(players);
  const inCount = new Uint32Array(players);
  for (const r of rows) {
    const c = coalitions[r]!;
    const y = values[r]! - mean;
    for (let j = 0; j < players; j++) {
      if (c[j]) {
        inSum[j] = inSum[j]! + y;
        inCount[j] = inCount[j]! + 1;
      }
    }
  }
  // SSE reduction of splitting on j = s₁²/m₁ + s₀²/m₀ (centred sums: s₀ = −s₁).
  let best = -1;
  let bestGain = 0;
  for (let j = 0; j < players; j++) {
    const m1 = inCount[j]!;
    const m0 = rows.length - m1;
    if (used[j] || m1 === 0 || m0 === 0) continue;
    const s = inSum[j]!;
    const gain = (s * s) / m1 + (s * s) / m0;
    if (gain > bestGain * (1 + 1e-12)) {
      best = j;
      bestGain = gain;
    }
  }
  if (best < 0 || !(bestGain > 0)) return { leaf: true, value: mean };
  const withRows: number[] = [];
  const withoutRows: number[] = [];
  for (const r of rows) (coalitions[r]![best] ? withRows : withoutRows).push(r);
  used[best] = 1;
  const node: Node = {
    leaf: false,
    player: best,
    without: grow(coalitions, values, withoutRows, players, used, depthLeft - 1),
    with: grow(coalitions, values, withRows, players, used, depthLeft - 1),
  };
  used[best] = 0;
  return node;
}
