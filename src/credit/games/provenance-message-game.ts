/**
 * The provenance game's terms without materialising their carrier sets.
 *
 * A useful message m has the term u · [C(m) ⊆ S], where C(m) is m plus every useful message
 * downstream of it (its descendants in the causal graph). In a long causal chain the C(m) add up
 * to O(m²) indices — 8 M for a 4000-message chain, 1.7 GB of resident memory at 8000 — so listing
 * them (as a `UnanimityGame` needs) made one long episode cost seconds and could take a stream
 * processor down. Everything the credit engine needs follows from one reverse pass over the DAG
 * that carries, per step, the bitset of useful messages at or below it (and the bitmask of their
 * authors): |C(m)| is a popcount, φ_i = Σ_{m: i ∈ C(m)} u / |C(m)|, LOO_i = Σ_{m: i ∈ C(m)} u, and
 * v(S) is one more reverse pass ("every carrier at or below this step is in S"). A step's bitset
 * is recycled as soon as its earliest input has read it. Memory is then (live bitsets) × ⌈m/32⌉
 * words: small for chains, at worst one bitset per step when every step hangs off one early span
 * (the usual root agent span) — 8000 messages: ~2 M words, against the 32 M indices the listed
 * carrier sets of that chain take. Time: O(edges · m/32) word operations plus Σ|C(m)| bit visits.
 * Pure.
 */
import type { CausalGraph } from '../causal-graph.js';
import type { Game } from '../types.js';

export interface ProvenanceTermsInput {
  readonly graph: CausalGraph;
  /** Number of message players; `messageAt[j]` is step j's message index or -1. */
  readonly messageCount: number;
  readonly messageAt: readonly number[];
  /** Step j carries a useful term's contribution (a useful message reaching the output). */
  readonly carrierAt: readonly number[];
  /** Step indices of the useful messages' terms, each once. */
  readonly usefulSteps: readonly number[];
  /** Number of agent players; `agentAt[j]` is the agent index of step j's author or -1. */
  readonly agentCount: number;
  readonly agentAt: readonly number[];
}

export interface ProvenanceTerms {
  /** Per useful term (in `usefulSteps` order): the agent indices that authored one of its carriers, ascending. */
  readonly agentCarriers: readonly number[][];
  /** Per message: Σ_{m: i ∈ C(m)} 1/|C(m)| (φ_i = u · this). */
  readonly shareSums: readonly number[];
  /** Per message: #{m: i ∈ C(m)} (LOO_i = u · this). */
  readonly termCounts: readonly number[];
}

/** One reverse pass over the causal graph; see the module comment. */
export function provenanceTerms(input: ProvenanceTermsInput): ProvenanceTerms {
  const { graph, messageCount, messageAt, carrierAt, agentCount, agentAt } = input;
  const n = graph.order.length;
  const mw = Math.max(1, (messageCount + 31) >>> 5);
  const aw = Math.max(1, (agentCount + 31) >>> 5);
  const stride = mw + aw; // a slot: message bitset, then agent bitmask
  // Plain arrays, not typed ones: an episode is usually a few dozen steps, and a dozen small
  // ArrayBuffers per episode doubled the pipeline's GC time.
  const termOf: number[] = new Array<number>(n).fill(-1);
  input.usefulSteps.forEach((s, k) => {
    termOf[s] = k;
  });
  // A step's sets are last read by its earliest input (inputs are earlier steps, visited later).
  const minInput: number[] = new Array<number>(n).fill(-1);
  for (let j = 0; j < n; j++) {
    for (const u of graph.inputs[j]!) if (minInput[j] === -1 || u < minInput[j]!) minInput[j] = u;
  }
  // Live sets sit in slots of one growable buffer, recycled through a free list: allocations
  // follow the DAG's width, and short episodes allocate almost nothing.
  const slotOf: number[] = new Array<number>(n).fill(-1);
  const freeSlots: number[] = [];
  const pool: number[] = []; // int32 words
  let slots = 0;
  const agentCarriers: number[][] = new Array(input.usefulSteps.length);
  const shareSums: number[] = new Array<number>(messageCount).fill(0);
  const termCounts: number[] = new Array<number>(messageCount).fill(0);
  for (let j = n - 1; j >= 0; j--) {
    const consumers = graph.consumers[j]!;
    const own = carrierAt[j] === 1 || termOf[j]! >= 0;
    let fed = false;
    for (const c of consumers) if (slotOf[c]! >= 0) fed = true;
    if (!own && !fed) continue;
    const slot = freeSlots.length > 0 ? freeSlots.pop()! : slots++;
    const at = slot * stride;
    for (let w = 0; w < stride; w++) pool[at + w] = 0;
    if (own) {
      const mi = messageAt[j]!;
      if (mi >= 0) pool[at + (mi >>> 5)] = pool[at + (mi >>> 5)]! | (1 << (mi & 31));
      const ai = agentAt[j]!;
      if (ai >= 0) pool[at + mw + (ai >>> 5)] = pool[at + mw + (ai >>> 5)]! | (1 << (ai & 31));
    }
    for (const c of consumers) {
      const from = slotOf[c]! * stride;
      if (from < 0) continue;
      for (let w = 0; w < stride; w++) pool[at + w] = pool[at + w]! | pool[from + w]!;
      // j is c's earliest input: nobody reads c's sets after this.
      if (minInput[c] === j) {
        freeSlots.push(slotOf[c]!);
        slotOf[c] = -1;
      }
    }
    const k = termOf[j]!;
    if (k >= 0) {
      let size = 0; // |C(m)|
      for (let w = 0; w < mw; w++) size += popcount(pool[at + w]!);
      const share = 1 / size;
      for (let w = 0; w < mw; w++) {
        let x = pool[at + w]!;
        while (x !== 0) {
          const low = x & -x;
          const i = (w << 5) + 31 - Math.clz32(low);
          shareSums[i] = shareSums[i]! + share;
          termCounts[i] = termCounts[i]! + 1;
          x ^= low;
        }
      }
      const agents: number[] = [];
      for (let w = 0; w < aw; w++) {
        let x = pool[at + mw + w]!;
        while (x !== 0) {
          const low = x & -x;
          agents.push((w << 5) + 31 - Math.clz32(low));
          x ^= low;
        }
      }
      agentCarriers[k] = agents;
    }
    if (minInput[j] === -1) freeSlots.push(slot); // nothing upstream reads it
    else slotOf[j] = slot;
  }
  return { agentCarriers, shareSums, termCounts };
}

/**
 * The provenance game over messages: v(S) = base + Σ_useful u · [C(m) ⊆ S] − h · |harmful ∩ S|
 * (+ the fallback split when there is no useful one: (Δ + q·h)/|M| to each message, additive). Same game as the
 * `UnanimityGame` of those terms, with closed form and leave-one-out from `provenanceTerms`.
 */
export class ProvenanceMessageGame implements Game {
  private readonly phi: readonly number[];
  private readonly loo: readonly number[];
  private readonly harmfulMessages: readonly number[];
  private ok: Uint8Array | undefined; // scratch of value(), reused

  constructor(
    readonly id: string,
    readonly players: readonly string[],
    readonly base: number,
    private readonly input: ProvenanceTermsInput,
    terms: ProvenanceTerms,
    /** u: weight of every useful term. */
    private readonly usefulWeight: number,
    /** Message indices of harmful messages (weight −h each, carrier {m}). */
    harmful: readonly number[],
    private readonly harmWeight: number,
    /** Total weight of the fallback split over the messages, `/m` each (0 when there is none). */
    private readonly fallbackWeight: number,
  ) {
    const m = players.length;
    const phi = new Array<number>(m).fill(0);
    const loo = new Array<number>(m).fill(0);
    for (let i = 0; i < m; i++) {
      phi[i] = usefulWeight * terms.shareSums[i]!;
      loo[i] = usefulWeight * terms.termCounts[i]!;
    }
    for (const i of harmful) {
      phi[i] = phi[i]! - harmWeight;
      loo[i] = loo[i]! - harmWeight;
    }
    if (fallbackWeight !== 0 && m > 0) {
      for (let i = 0; i < m; i++) {
        phi[i] = phi[i]! + fallbackWeight / m;
        loo[i] = loo[i]! + fallbackWeight / m;
      }
    }
    this.phi = phi;
    this.loo = loo;
    this.harmfulMessages = harmful;
  }

  value(coalition: Uint8Array): number {
    const { graph, messageAt, carrierAt, usefulSteps } = this.input;
    const n = graph.order.length;
    // ok[j]: every carrier at or below step j is in the coalition.
    const ok = this.ok ?? (this.ok = new Uint8Array(n));
    for (let j = n - 1; j >= 0; j--) {
      let all = carrierAt[j] !== 1 || messageAt[j]! < 0 || coalition[messageAt[j]!] === 1;
      if (all) {
        for (const c of graph.consumers[j]!) {
          if (ok[c] !== 1) {
            all = false;
            break;
          }
        }
      }
      ok[j] = all ? 1 : 0;
    }
    let v = this.base;
    for (const s of usefulSteps) {
      const mi = messageAt[s]!;
      if (ok[s] === 1 && (mi < 0 || coalition[mi] === 1)) v += this.usefulWeight;
    }
    for (const i of this.harmfulMessages) if (coalition[i] === 1) v -= this.harmWeight;
    if (this.fallbackWeight !== 0 && this.players.length > 0) {
      let k = 0;
      for (let i = 0; i < this.players.length; i++) if (coalition[i] === 1) k++;
      v += (this.fallbackWeight * k) / this.players.length;
    }
    return v;
  }

  /** φ_i, exact. */
  closedForm(): number[] {
    return [...this.phi];
  }

  /** v(N) − v(N \ {i}), exact, without evaluating coalitions. */
  leaveOneOut(): number[] {
    return [...this.loo];
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
