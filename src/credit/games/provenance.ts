/**
 * The built-in provenance game (no external calls): the system score flows back along the
 * episode's causal graph from the final output, built as a sum of unanimity games so that its
 * Shapley value is exact in closed form. Design (docs/credit.md, "Provenance game"):
 *
 * - Output: the message the evaluation names (its span id), else the message that ends last.
 * - Useful message m: ok status, not evaluator-flagged, not a duplicate of an earlier message's
 *   output digest, and the output is reachable from m (m is the output or an ancestor of it).
 *   Term: weight u = (Δ + q·h) / p, carriers = m plus every useful message on a causal path from m
 *   to the output — under the `mask` removal protocol m's contribution reaches the judged output
 *   only if the messages that carry it are kept.
 * - Harmful message (error status / exception, evaluator flag, or named in `harmfulStepIds`: the
 *   located first error of a failed run): term of weight -h with carrier {m}
 *   (the harm is done whenever the message is present); h = harmWeight · scale / (p + q).
 * - Redundant message (no path to the output, or duplicate content): no term (a null player).
 * - p = #useful, q = #harmful, Δ = R - b. v(∅) = b and v(N) = b + p·u - q·h = R.
 * - No useful message but Δ + q·h ≠ 0: one term over all messages / all agents that authored a
 *   message (equal split), documented fallback so the value stays attributed.
 * Agent game: the same terms with each carrier mapped to its author (a term needs every agent
 * that authored one of its messages). Message game: players are the messages themselves.
 */
import type { Agent, AgentStep } from '../../model/agents.js';
import { type CausalGraph, buildCausalGraph, descendantOrder, duplicatesOf, isErroneous, isMessage } from '../causal-graph.js';
import { ProvenanceMessageGame, provenanceTerms } from './provenance-message-game.js';
import { UnanimityGame, type UnanimityTerm } from './unanimity.js';

export interface ProvenanceOptions {
  /** R = v(N): the (normalized) system score. */
  systemValue: number;
  /** b = v(∅). */
  baseline: number;
  /** R_max - R_min of the score scale (1 when normalized). */
  scale?: number;
  /** Total harm weight relative to the scale. Default 1. */
  harmWeight?: number;
  /** Span id the evaluation is attached to (output step when it is a message). */
  evaluatedStepId?: string;
  /** Override: the output message ids. */
  outputStepIds?: readonly string[];
  /** `buildCausalGraph(steps)` when the caller already has it (built here otherwise). */
  graph?: CausalGraph;
  /**
   * Messages to treat as harmful although their telemetry shows no error (no error status, no
   * evaluator flag): the first error of a failed run located by a prefix-value drop or, as the last
   * resort, the failed output (credit-episode.ts). Without this its agent's credit would not
   * reflect the blame, and with one message the agent's blame transfer has nowhere to go.
   */
  harmfulStepIds?: readonly string[];
}

export type MessageRole = 'useful' | 'harmful' | 'redundant-no-path' | 'redundant-duplicate';

export interface ProvenanceAnalysis {
  readonly graph: CausalGraph;
  readonly outputStepIds: readonly string[];
  readonly roles: ReadonlyMap<string, MessageRole>;
  /**
   * For useful messages: the message ids its term requires (itself included). Built on first
   * access (O(m²) in a long causal chain); credit itself never reads it.
   */
  readonly carriers: ReadonlyMap<string, readonly string[]>;
  readonly usefulWeight: number;
  readonly harmWeight: number;
  /**
   * True when no message is useful and Δ + q·h is split over the messages instead (one singleton
   * term of weight (Δ + q·h)/|M| per message; over all agents when there are no messages).
   */
  readonly fallbackSplit: boolean;
}

export interface ProvenanceGames {
  agentGame: UnanimityGame;
  messageGame: ProvenanceMessageGame;
  analysis: ProvenanceAnalysis;
}

export function outputMessages(graph: CausalGraph, evaluatedStepId?: string, override?: readonly string[]): string[] {
  const order = graph.order;
  if (override && override.length > 0) return override.filter((id) => order.some((m) => isMessage(m) && m.stepId === id));
  // one pass over the steps, without a list of the messages (asked twice per failed episode)
  let last: AgentStep | undefined;
  for (const m of order) {
    if (!isMessage(m)) continue;
    if (evaluatedStepId && m.stepId === evaluatedStepId) return [evaluatedStepId];
    if (!last || m.endTimeUnixNano >= last.endTimeUnixNano) last = m;
  }
  return last ? [last.stepId] : [];
}

/**
 * @param agents agent players in order (the agent game's players); steps of agents not listed are
 *   ignored by the agent game.
 */
export function provenanceGames(episodeId: string, steps: readonly AgentStep[], agents: readonly Agent[], opts: ProvenanceOptions): ProvenanceGames {
  const graph = opts.graph ?? buildCausalGraph(steps);
  const scale = opts.scale ?? 1;
  const delta = opts.systemValue - opts.baseline;
  const outputs = outputMessages(graph, opts.evaluatedStepId, opts.outputStepIds);
  const n = graph.order.length;
  const reachesOutput: number[] = new Array<number>(n).fill(0);
  for (const id of outputs) markWithAncestors(graph, graph.indexOf.get(id)!, reachesOutput);
  const dups = duplicatesOf(graph);
  const markedHarmful = opts.harmfulStepIds !== undefined && opts.harmfulStepIds.length > 0 ? new Set(opts.harmfulStepIds) : NO_IDS;
  const agentIndex = new Map(agents.map((a, i) => [a.agentId, i] as const));
  const facts = graph.indexOf.size === n ? stepFacts(graph, agentIndex, reachesOutput, dups, markedHarmful) : stepFactsByStepId(graph, agentIndex, reachesOutput, dups, markedHarmful);
  const { roles, messages, messageSteps, useful, harmfulSteps, carrierAt, messageAt, agentAt } = facts;
  const p = useful.length;
  const q = harmfulSteps.length;
  const h = q > 0 ? ((opts.harmWeight ?? 1) * scale) / (p + q) : 0;
  const u = p > 0 ? (delta + q * h) / p : 0;

  // Per-step facts for the reverse pass (provenance-message-game.ts): which steps carry a useful
  // term, and the message / agent index of each step.
  const termsInput = {
    graph,
    messageCount: messages.length,
    messageAt,
    carrierAt,
    usefulSteps: facts.usefulSteps,
    agentCount: agents.length,
    agentAt,
  };
  const terms = provenanceTerms(termsInput);

  const agentTerms: UnanimityTerm[] = terms.agentCarriers.map((carriers) => ({ carriers, weight: u }));
  const harmfulMessages: number[] = [];
  for (const j of harmfulSteps) {
    harmfulMessages.push(messageAt[j]!);
    agentTerms.push({ carriers: agentAt[j]! >= 0 ? [agentAt[j]!] : [], weight: -h });
  }
  const rest = delta + q * h - p * u;
  const fallbackSplit = p === 0 && rest !== 0;
  if (fallbackSplit) {
    // Nothing useful carries Δ + q·h, so it is split evenly over the messages, each a term of its
    // own (additive): with only failed messages each nets (Δ + q·h)/q − h = Δ/q, so an agent's
    // credit is Δ times its share of the messages, and a harmful message stays below a redundant
    // one. A term over all messages (or over their authors) instead made every message pivotal
    // (leave-one-out Δ + q·h − h: +0.75 on a failed run scored 0) and paid an agent with one failed
    // step more than one with two — the first error was rewarded (downstream review). With no
    // messages at all it is one term over every agent: an equal split.
    if (messages.length > 0) {
      const count = new Map<number, number>();
      for (const j of messageSteps) {
        const a = agentAt[j]!;
        count.set(a, (count.get(a) ?? 0) + 1);
      }
      for (const [a, k] of count) agentTerms.push({ carriers: a >= 0 ? [a] : [], weight: (rest * k) / messages.length });
    } else if (agents.length > 0) agentTerms.push({ carriers: agents.map((_, i) => i), weight: rest });
  }
  const messageGame = new ProvenanceMessageGame(
    `${episodeId}#provenance/messages`,
    messages.map((m) => m.stepId),
    opts.baseline,
    termsInput,
    terms,
    u,
    harmfulMessages,
    h,
    fallbackSplit && messages.length > 0 ? rest : 0,
  );
  const agentGame = new UnanimityGame(`${episodeId}#provenance/agents`, agents.map((a) => a.agentId), opts.baseline, agentTerms);
  return {
    agentGame,
    messageGame,
    analysis: new Analysis(graph, outputs, roles, u, h, fallbackSplit, useful, carrierAt),
  };
}

/** What the terms are built from, per step of the graph's order (see provenanceGames). */
interface StepFacts {
  readonly roles: Map<string, MessageRole>;
  /** The messages in causal order; messages[i] is step messageSteps[i]. */
  readonly messages: AgentStep[];
  readonly messageSteps: readonly number[];
  /** Ids and step indices of the useful messages, in causal order. */
  readonly useful: string[];
  readonly usefulSteps: readonly number[];
  /** Step indices of the harmful messages, in causal order. */
  readonly harmfulSteps: readonly number[];
  /** Per step: 1 when it carries a useful term; its message index or −1; its author's agent index or −1. */
  readonly carrierAt: number[];
  readonly messageAt: number[];
  readonly agentAt: number[];
}

const NO_IDS: ReadonlySet<string> = new Set();

/** Marks `to` and every step it is reachable from (its ancestors) with 1 in `marks`. */
function markWithAncestors(graph: CausalGraph, to: number, marks: number[]): void {
  marks[to] = 1;
  const stack = [to];
  while (stack.length > 0) {
    const w = stack.pop()!;
    for (const u of graph.inputs[w]!) {
      if (marks[u] !== 1) {
        marks[u] = 1;
        stack.push(u);
      }
    }
  }
}

/**
 * Roles and per-step facts when the steps' ids are distinct (as creditEpisode's are): read by step
 * index in one pass. Sets and Maps keyed by step id (the useful ids, every message's index and
 * author) were about half of provenanceGames' own time — hashing the ids — and of its allocations.
 */
function stepFacts(graph: CausalGraph, agentIndex: ReadonlyMap<string, number>, reachesOutput: readonly number[], dups: ReadonlyMap<string, string>, markedHarmful: ReadonlySet<string>): StepFacts {
  const n = graph.order.length;
  const roles = new Map<string, MessageRole>();
  const messages: AgentStep[] = [];
  const messageSteps: number[] = [];
  const useful: string[] = [];
  const usefulSteps: number[] = [];
  const harmfulSteps: number[] = [];
  const carrierAt: number[] = new Array<number>(n).fill(0);
  const messageAt: number[] = new Array<number>(n).fill(-1);
  const agentAt: number[] = new Array<number>(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const s = graph.order[i]!;
    if (!isMessage(s)) continue;
    messageAt[i] = messages.length;
    agentAt[i] = agentIndex.get(s.agentId) ?? -1;
    messages.push(s);
    messageSteps.push(i);
    if (isErroneous(s) || markedHarmful.has(s.stepId)) {
      roles.set(s.stepId, 'harmful');
      harmfulSteps.push(i);
    } else if (dups.has(s.stepId)) roles.set(s.stepId, 'redundant-duplicate');
    else if (reachesOutput[i] !== 1) roles.set(s.stepId, 'redundant-no-path');
    else {
      roles.set(s.stepId, 'useful');
      useful.push(s.stepId);
      usefulSteps.push(i);
      carrierAt[i] = 1;
    }
  }
  return { roles, messages, messageSteps, useful, usefulSteps, harmfulSteps, carrierAt, messageAt, agentAt };
}

/**
 * `stepFacts` for steps some of whose ids repeat (a caller's own list; creditEpisode dedupes): by
 * id, as before — a role per id (its last message's), and an id's index and author its last
 * message's.
 */
function stepFactsByStepId(graph: CausalGraph, agentIndex: ReadonlyMap<string, number>, reachesOutput: readonly number[], dups: ReadonlyMap<string, string>, markedHarmful: ReadonlySet<string>): StepFacts {
  const n = graph.order.length;
  const roles = new Map<string, MessageRole>();
  const messages: AgentStep[] = [];
  graph.order.forEach((s, i) => {
    if (!isMessage(s)) return;
    messages.push(s);
    if (isErroneous(s) || markedHarmful.has(s.stepId)) roles.set(s.stepId, 'harmful');
    else if (dups.has(s.stepId)) roles.set(s.stepId, 'redundant-duplicate');
    else if (reachesOutput[i] !== 1) roles.set(s.stepId, 'redundant-no-path');
    else roles.set(s.stepId, 'useful');
  });
  const useful: string[] = [];
  const harmful: string[] = [];
  for (const [id, r] of roles) {
    if (r === 'useful') useful.push(id);
    else if (r === 'harmful') harmful.push(id);
  }
  const usefulSet = new Set(useful);
  const msgIndex = new Map(messages.map((m, i) => [m.stepId, i] as const));
  const authorOf = new Map(messages.map((m) => [m.stepId, m.agentId] as const));
  const carrierAt: number[] = new Array<number>(n).fill(0);
  const messageAt: number[] = new Array<number>(n).fill(-1);
  const agentAt: number[] = new Array<number>(n).fill(-1);
  for (let j = 0; j < n; j++) {
    const id = graph.order[j]!.stepId;
    if (reachesOutput[j] === 1 && usefulSet.has(id)) carrierAt[j] = 1;
    messageAt[j] = msgIndex.get(id) ?? -1;
    const author = authorOf.get(id);
    agentAt[j] = author === undefined ? -1 : (agentIndex.get(author) ?? -1);
  }
  const at = (id: string) => graph.indexOf.get(id)!;
  return { roles, messages, messageSteps: messages.map((m) => at(m.stepId)), useful, usefulSteps: useful.map(at), harmfulSteps: harmful.map(at), carrierAt, messageAt, agentAt };
}

/**
 * `ProvenanceAnalysis` with the carrier lists built on first access: they are O(m²) in long chains
 * and credit itself never reads them (tests and worked examples do).
 *
 * A class with the getter on its prototype, not an object literal with `get carriers()`: a literal's
 * getter is a new closure per episode, and V8 gives each new accessor its own hidden-class
 * transition, which holds the closure — and with it the episode's graph and steps — from the
 * literal's long-lived map until the next full GC. Every scavenge then copied and promoted those
 * episodes' data (measured: ~1.5 MB per scavenge, 5–7 ms scavenges instead of <1 ms).
 */
class Analysis implements ProvenanceAnalysis {
  // What the carrier lists are built from (provenanceGames' pass), kept out of the public shape.
  readonly #useful: readonly string[];
  readonly #carrierAt: readonly number[];
  #carriers: Map<string, string[]> | undefined;

  constructor(
    readonly graph: CausalGraph,
    readonly outputStepIds: readonly string[],
    readonly roles: ReadonlyMap<string, MessageRole>,
    readonly usefulWeight: number,
    readonly harmWeight: number,
    readonly fallbackSplit: boolean,
    useful: readonly string[],
    carrierAt: readonly number[],
  ) {
    this.#useful = useful;
    this.#carrierAt = carrierAt;
  }

  get carriers(): ReadonlyMap<string, readonly string[]> {
    if (this.#carriers) return this.#carriers;
    const graph = this.graph;
    const carrierAt = this.#carrierAt;
    const carriers = new Map<string, string[]>();
    for (const id of this.#useful) {
      const at = [graph.indexOf.get(id)!];
      for (const j of descendantOrder(graph, at[0]!)) if (carrierAt[j] === 1) at.push(j);
      carriers.set(id, at.map((j) => graph.order[j]!.stepId));
    }
    return (this.#carriers = carriers);
  }
}
