/**
 * Per-message rewards from agent credit (method.md §2). For agent i with messages M_i (k = |M_i|):
 *
 *   r_m = φ_i/k  +  (δ_m - mean_{M_i} δ)  [+ sign transfers]  + blame_m + repair_m + shrink_m
 *         credit_share   marginal                               (failure transfers)  (bound)
 *
 * Invariants (each pinned by a test):
 * - conserving: Σ_{m ∈ M_i} r_m = φ_i (to 1e-9): the marginal terms sum to zero by construction,
 *   sign transfers and failure transfers are zero-sum within the agent, the shrink is a contraction
 *   toward φ_i/k (Σ(r - φ_i/k) stays 0), and after a shrink its rounding residual is spread evenly
 *   over `shrink` (which is exactly 0 on an agent whose messages nothing shrank).
 * - local: r_m depends only on δ_m, the agent's own messages' δ and φ_i.
 * - signed: a harmful message (δ_m < 0, or flagged) gets r_m ≤ δ_m < 0; a redundant message
 *   (|δ_m| ≤ ε or duplicate content) gets r_m ≤ φ_i/k (hence ≤ 0 when φ_i ≤ 0). When the default
 *   split violates this, the excess is moved to the agent's other (useful) messages equally
 *   ("sign transfer", recorded in `marginal` and in `sabotage`/`redundancy`). Impossible cases
 *   (no useful message to move it to) are left as they are and reported in `warnings`.
 * - bounded: |r_m| ≤ bound (= C·(R_max - R_min)) through r'_m = φ_i/k + α(r_m - φ_i/k) with the
 *   largest α ∈ [0,1] that satisfies every bound of the agent — a conservation-preserving shrink,
 *   not clipping. When |φ_i/k| > bound no α works: α = 0 (all messages get φ_i/k) and a warning.
 *   The shrink pulls every message toward φ_i/k, so it can lift a harmful message of a positively
 *   credited agent to ≥ 0. Then the rewards are instead the
 *   nearest ones (least squares) with the same sum that keep both the bound and the sign caps:
 *   r'_m = clamp(r_m + λ, lo_m, hi_m), one λ for the agent (monotone in λ: bisection). Still
 *   conservation-preserving; the contraction stays the default because it keeps the messages'
 *   differences in proportion, which the projection does not.
 *   The shrink has the last word: it can soften sign transfers (reported when it flips a sign).
 */

export interface MessageInput {
  readonly stepId: string;
  readonly agentId: string;
  /** Harmful by the step's own telemetry (error, evaluator flag) or by δ_m < 0. */
  readonly harmful?: boolean;
  /** Redundant: no effect or duplicate content. */
  readonly redundant?: boolean;
}

export interface Transfer {
  /** ≤ 0 */
  readonly blame: number;
  /** ≥ 0 */
  readonly repair: number;
}

export interface MessageRewardOptions {
  /** Max |r_m|: C · (R_max - R_min). */
  readonly bound: number;
  /** Zero-sum (per agent) failure transfers, by step id. */
  readonly transfers?: ReadonlyMap<string, Transfer>;
  /** |δ| at or below this is "no effect" (redundant). Default 1e-12. */
  readonly epsilon?: number;
  /**
   * False when the δ_m were not measured (no message game, or it failed: every δ is 0). A δ of 0
   * is then no evidence of "no effect", so only `redundant` makes a message redundant: read as
   * redundant, every message of an agent with a failed step was capped, the failed step kept its
   * positive share and a warning said all its messages were harmful or redundant. Default true.
   */
  readonly deltasMeasured?: boolean;
}

export interface RewardComponents {
  credit_share: number;
  marginal: number;
  redundancy: number;
  sabotage: number;
  blame: number;
  repair: number;
  shrink: number;
}

export interface MessageRewardResult {
  readonly stepId: string;
  readonly agentId: string;
  readonly reward: number;
  readonly delta: number;
  readonly components: RewardComponents;
}

export interface MessageRewards {
  readonly rewards: readonly MessageRewardResult[];
  readonly warnings: readonly string[];
}

/**
 * @param agentCredit φ_i by agent id; agents without messages cannot pass credit on (warning).
 * @param deltas δ_m by step id (missing = 0).
 */
export function messageRewards(
  agentCredit: ReadonlyMap<string, number>,
  messages: readonly MessageInput[],
  deltas: ReadonlyMap<string, number>,
  opts: MessageRewardOptions,
): MessageRewards {
  const deltaAt: number[] = [];
  for (const m of messages) deltaAt.push(deltas.get(m.stepId) ?? 0);
  const { rewards, warnings } = messageRewardsAt(agentCredit, messages, deltaAt, opts);
  // A step id given twice answers, at each of its places, the result computed last for it: agent
  // by agent (in the order of their first messages), each agent's messages in order.
  const groups = new Map<string, number[]>();
  for (let i = 0; i < messages.length; i++) {
    const list = groups.get(messages[i]!.agentId);
    if (list) list.push(i);
    else groups.set(messages[i]!.agentId, [i]);
  }
  const last = new Map<string, MessageRewardResult>();
  for (const list of groups.values()) for (const i of list) last.set(messages[i]!.stepId, rewards[i]!);
  return { rewards: messages.map((m) => last.get(m.stepId)!), warnings };
}

/**
 * `messageRewards` with δ_m by position (`deltaAt[i]` is `messages[i]`'s) and the rewards in
 * `messages`' order, each message's own — for creditEpisode, whose step ids are distinct: it made a
 * Map of the δ by step id and this function one of the results, both looked up once per message
 * (each a table grown three times for an episode's ~16 messages).
 */
export function messageRewardsAt(agentCredit: ReadonlyMap<string, number>, messages: readonly MessageInput[], deltaAt: readonly number[], opts: MessageRewardOptions): MessageRewards {
  const eps = opts.epsilon ?? 1e-12;
  const rounding = roundingOf(opts.bound);
  const warnings: string[] = [];
  // each agent's messages by position, agents in the order of their first message
  const byAgent = new Map<string, number[]>();
  for (let i = 0; i < messages.length; i++) {
    const list = byAgent.get(messages[i]!.agentId);
    if (list) list.push(i);
    else byAgent.set(messages[i]!.agentId, [i]);
  }
  for (const [agentId, phi] of agentCredit) {
    if (!byAgent.has(agentId) && phi !== 0) warnings.push(`agent ${agentId} has credit ${phi} but no rewardable messages: its credit is not passed to any message`);
  }
  const measured = opts.deltasMeasured ?? true;
  const transfers = opts.transfers;
  const out: MessageRewardResult[] = new Array<MessageRewardResult>(messages.length);
  // Loops over the agent's messages rather than map / filter / forEach with closures, and one
  // array of sums refilled (sumsInto) rather than a new one per read: the same operations in the
  // same order, without a dozen short arrays and a closure context per agent (this function was
  // ~10 % of the credit engine's allocations on the bench fleet).
  // The agents' work lists are made once per call and overwritten for each agent, their length set
  // to its message count: made per agent, each got a store of 17 slots from its first push. Not
  // emptied with `length = 0`, which gives a list's store up. The δ are read from `deltaAt`.
  const comp: RewardComponents[] = [];
  const harmful: boolean[] = [];
  const redundant: boolean[] = [];
  const r: number[] = [];
  for (const [agentId, at] of byAgent) {
    const phi = agentCredit.get(agentId) ?? 0;
    const k = at.length;
    const share = phi / k;
    let deltaSum = 0; // as reduce((a, b) => a + b, 0) sums them
    for (let j = 0; j < k; j++) deltaSum += deltaAt[at[j]!]!;
    const meanDelta = deltaSum / k;
    for (let j = 0; j < k; j++) {
      const d = deltaAt[at[j]!]!;
      comp[j] = { credit_share: share, marginal: roundingToZero(d - meanDelta, rounding), redundancy: 0, sabotage: 0, blame: 0, repair: 0, shrink: 0 };
      const m = messages[at[j]!]!;
      const h = m.harmful === true || d < -eps;
      harmful[j] = h;
      redundant[j] = !h && (m.redundant === true || (measured && Math.abs(d) <= eps));
    }
    comp.length = k;
    harmful.length = k;
    redundant.length = k;

    // Sign transfers: cap harmful at min(δ_m, 0) and redundant at φ_i/k; give the excess to free messages.
    sumsInto(r, comp);
    let excess = 0;
    let capped: number[] | undefined;
    for (let j = 0; j < k; j++) {
      const cap = harmful[j] ? Math.min(deltaAt[at[j]!]!, -eps) : redundant[j] ? share : Number.POSITIVE_INFINITY;
      if (r[j]! > cap) {
        (capped ??= []).push(j);
        excess += r[j]! - cap;
      }
    }
    if (excess > 0) {
      const free: number[] = [];
      for (let j = 0; j < k; j++) if (!harmful[j] && !redundant[j]) free.push(j);
      if (free.length === 0) {
        // say what it means for training, not only why (the interop review found the old text unactionable)
        warnings.push(`agent ${agentId}: cannot sign its rewards — all its messages are harmful or redundant, and its credit (φ = ${phi.toFixed(4)}) must still sum over them: some keep a positive reward (${excess.toFixed(6)} in all) — do not read those rewards as approval; in failed runs train on failure_role and the preference pairs`);
      } else {
        for (const j of capped!) {
          const cap = harmful[j] ? Math.min(deltaAt[at[j]!]!, -eps) : share;
          const move = r[j]! - cap;
          comp[j]!.marginal -= move;
        }
        for (const j of free) comp[j]!.marginal += excess / free.length;
      }
    }
    for (let j = 0; j < k; j++) {
      const neg = Math.min(0, comp[j]!.marginal);
      if (harmful[j]) comp[j]!.sabotage = neg;
      else if (redundant[j]) comp[j]!.redundancy = neg;
    }

    // Failure transfers (already zero-sum within the agent).
    if (transfers !== undefined) {
      for (let j = 0; j < k; j++) {
        const t = transfers.get(messages[at[j]!]!.stepId);
        if (!t) continue;
        comp[j]!.blame = t.blame;
        comp[j]!.repair = t.repair;
      }
    }

    // Conservation-preserving shrink toward φ_i/k.
    sumsInto(r, comp);
    const B = opts.bound;
    let alpha = 1;
    if (Math.abs(share) > B) {
      alpha = 0;
      warnings.push(`agent ${agentId}: |φ_i/k| = ${Math.abs(share).toFixed(6)} exceeds the reward bound ${B}; every message gets φ_i/k`);
    } else {
      for (const x of r) {
        const d = x - share;
        if (x > B && d > 0) alpha = Math.min(alpha, (B - share) / d);
        else if (x < -B && d < 0) alpha = Math.min(alpha, (B + share) / -d);
      }
      alpha = Math.max(0, Math.min(1, alpha));
    }
    if (alpha < 1) {
      const shrunk = r.map((x) => share + alpha * (x - share));
      // (A redundant message cannot be lifted above φ_i/k by a contraction toward φ_i/k.)
      const breaksSign = shrunk.some((y, j) => harmful[j] && r[j]! < 0 && y >= 0);
      // Caps: the bound, and the sign rule within it (a harmful message's δ_m below −bound caps it at −bound).
      const caps = at.map((_, j) => [-B, harmful[j] ? Math.max(-B, Math.min(deltaAt[at[j]!]!, -eps)) : redundant[j] ? Math.min(B, share) : B] as const);
      const projected = breaksSign && Math.abs(share) <= B ? projectOntoCaps(r, phi, caps) : undefined;
      if (breaksSign && !projected) warnings.push(`agent ${agentId}: the bound shrink makes a harmful message's reward non-negative, and no rewards within the bound keep its sign with Σ r = φ_i; shrunk anyway`);
      r.forEach((x, j) => {
        comp[j]!.shrink += (projected ?? shrunk)[j]! - x;
      });
    }
    // After a shrink, spread its rounding residual so that Σ r = φ_i to rounding. Without one the
    // residual is that of summing the components (a few ulps, far inside the 1e-9 the invariant
    // promises) and is left alone: spread into `shrink` it made shrink 2.8e-17 on messages nothing
    // shrank, and the schema says "0 when none" (consumer review).
    if (alpha < 1) {
      sumsInto(r, comp);
      const residual = phi - r.reduce((a, b) => a + b, 0);
      if (residual !== 0) for (const c of comp) c.shrink += residual / k;
      keepWithinBound(comp, B);
    }
    sumsInto(r, comp);
    for (let j = 0; j < k; j++) {
      const m = messages[at[j]!]!;
      out[at[j]!] = { stepId: m.stepId, agentId, reward: harmful[j] || (redundant[j] && share < 0) ? r[j]! : roundingToZero(r[j]!, rounding), delta: deltaAt[at[j]!]!, components: comp[j]! };
    }
  }
  return { rewards: out, warnings };
}

/**
 * The rewards nearest to `r` (least squares) with Σ = `total` and each r'_j in `caps[j]` = [lo, hi]:
 * r'_j = clamp(r_j + λ, lo_j, hi_j) for the one λ that meets the sum (the KKT solution of this
 * projection); undefined when the caps cannot hold `total` (Σ lo > total or Σ hi < total).
 */
function projectOntoCaps(r: readonly number[], total: number, caps: readonly (readonly [number, number])[]): number[] | undefined {
  if (caps.some(([lo, hi]) => lo > hi)) return undefined;
  const sumLo = caps.reduce((a, [lo]) => a + lo, 0);
  const sumHi = caps.reduce((a, [, hi]) => a + hi, 0);
  if (total < sumLo - 1e-12 || total > sumHi + 1e-12) return undefined;
  const at = (lambda: number) => r.map((x, j) => Math.min(caps[j]![1], Math.max(caps[j]![0], x + lambda)));
  const sumAt = (lambda: number) => at(lambda).reduce((a, b) => a + b, 0);
  // Σ clamp(r + λ) is continuous and non-decreasing in λ; these ends bracket the root.
  // loops, not Math.min(...): a RangeError past ~125k messages of one agent
  let lo = Infinity;
  let hi = -Infinity;
  caps.forEach(([l, h], j) => {
    lo = Math.min(lo, l - r[j]!);
    hi = Math.max(hi, h - r[j]!);
  });
  for (let i = 0; i < 200 && hi - lo > 1e-15 * (1 + Math.abs(lo) + Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (sumAt(mid) < total) lo = mid;
    else hi = mid;
  }
  return at((lo + hi) / 2);
}

/**
 * A reward the shrink put at the bound can end an ulp past it once its rounding residual is spread
 * (|r| = 0.9047194867251165 on a bound of 0.9047194867251164): the schema's and the method's
 * |r_m| ≤ bound, checked with `<=` by a consumer, failed. Such an excess (ulps) is taken off that
 * message's shrink and given to the message with the most room in that direction, so Σ r stays φ_i.
 */
function keepWithinBound(comp: RewardComponents[], B: number): void {
  const r = rewardsOf(comp);
  for (let j = 0; j < comp.length; j++) {
    const sign = r[j]! > B ? 1 : r[j]! < -B ? -1 : 0;
    if (sign === 0) continue;
    let room = 0;
    let to = -1;
    for (let i = 0; i < comp.length; i++) {
      const free = sign > 0 ? B - r[i]! : r[i]! + B;
      if (i !== j && free > room) [room, to] = [free, i];
    }
    if (to < 0) continue; // every message at the bound: nowhere to put it (Σ r = φ_i needs it)
    let moved = 0;
    // each pass takes off what the sum still exceeds by (≥ an ulp of B), but at least an ulp of the
    // shrink itself: an excess under half of that left the shrink unchanged by rounding, four passes
    // did nothing and the reward stayed an ulp past B (|r| 0.7529072245252193 on 0.7529072245252192,
    // shrink −1.1: fast-check seed −1854462746). `moved` is what the shrink really lost.
    for (let pass = 0; pass < 4; pass++) {
      const excess = sign > 0 ? rewardsOf([comp[j]!])[0]! - B : -B - rewardsOf([comp[j]!])[0]!;
      if (excess <= 0) break;
      const before = comp[j]!.shrink;
      const step = Math.max(excess, Math.abs(before) * Number.EPSILON);
      if (moved + step > room) break;
      comp[j]!.shrink = before - sign * step;
      moved += sign * (before - comp[j]!.shrink);
    }
    comp[to]!.shrink += sign * moved;
    r[to] = rewardsOf([comp[to]!])[0]!;
  }
}

/**
 * Below this (× the reward bound) a reward or marginal is float rounding, not a signal. Equal δ make
 * a mean that differs from them in the last bit, and φ_i/k minus that mean came out as a reward of
 * −2.8e-17 for a message with no effect: a trainer that splits rewards at 0 read it as a penalty.
 * Conservation moves by less
 * than k·1e-13·bound, far inside its 1e-9. A reward under a sign cap below 0 is left as it is: a
 * harmful message's (−ε: it must stay below 0, and ε may be smaller than this) and a redundant
 * message's of an agent with negative credit (at most φ_i/k < 0).
 */
const ROUNDING = 1e-13;
/** Relative to the reward bound C·(R_max − R_min): a value function on a tiny scale keeps its rewards. */
const roundingOf = (bound: number): number => (Number.isFinite(bound) && bound > 0 ? ROUNDING * bound : ROUNDING);
const roundingToZero = (x: number, rounding: number): number => (Math.abs(x) < rounding ? 0 : x);

/** r_m of each message from its components (the sum every step above re-reads after changing them). */
function rewardsOf(comp: readonly RewardComponents[]): number[] {
  return sumsInto([], comp);
}

/** `rewardsOf(comp)` written into `r` (refilled, then cut to the length of `comp`); returns `r`. */
function sumsInto(r: number[], comp: readonly RewardComponents[]): number[] {
  for (let j = 0; j < comp.length; j++) {
    const c = comp[j]!;
    r[j] = c.credit_share + c.marginal + c.blame + c.repair + c.shrink;
  }
  r.length = comp.length;
  return r;
}
