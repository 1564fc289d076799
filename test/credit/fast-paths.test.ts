/**
 * The credit engine's fast paths give exactly what the straightforward forms give: the causal
 * graph (sort skipped for ordered input), BFS descendants, unanimity-term merging, and the
 * provenance game built from a graph the caller already has.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCausalGraph, compareSteps, descendantOrder, descendants, type CausalGraph } from '../../src/credit/causal-graph.js';
import { provenanceGames } from '../../src/credit/games/provenance.js';
import { UnanimityGame, type UnanimityTerm } from '../../src/credit/games/unanimity.js';
import type { AgentStep } from '../../src/model/agents.js';
import { step } from './episode-builder.js';

/** Random small episodes: steps with random start times, inputs and parents (any direction). */
const stepsArb = fc
  .array(fc.record({ t: fc.nat(6), inputs: fc.array(fc.nat(9), { maxLength: 3 }), parent: fc.option(fc.nat(9), { nil: undefined }), agent: fc.constantFrom('a', 'b', 'c'), ok: fc.boolean(), kind: fc.constantFrom('llm' as const, 'tool' as const, 'agent' as const) }), { minLength: 1, maxLength: 10 })
  .map((specs) => specs.map((s, i) => step({ id: i + 1, t: s.t, inputs: s.inputs.map((x) => x + 1), agent: s.agent, ok: s.ok, kind: s.kind, ...(s.parent !== undefined ? { parent: s.parent + 1 } : {}) })));

/**
 * The graph by its definition, without the fast paths: sort by time; group steps that read each
 * other in a cycle (mutually reachable along reads: inputs, parent; not itself); repeatedly take the
 * group with the earliest step among those all of whose outside reads are taken, its steps in time
 * order; edges from causal inputs then the parent, forward ones only.
 */
function graphReference(steps: readonly AgentStep[]) {
  const byTime = [...steps].sort(compareSteps);
  const ids = byTime.map((s) => s.stepId);
  const reads = (s: AgentStep) => (s.parentStepId !== undefined ? [...s.causalInputs, s.parentStepId] : s.causalInputs).filter((id) => id !== s.stepId && ids.includes(id));
  const reach = new Map(ids.map((id) => [id, new Set<string>([id])] as const)); // reach.get(a) ∋ b: a reads b, transitively
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of byTime) {
      const r = reach.get(s.stepId)!;
      for (const id of reads(s)) for (const x of reach.get(id)!) if (!r.has(x)) (r.add(x), (changed = true));
    }
  }
  const group = (id: string) => ids.filter((x) => reach.get(id)!.has(x) && reach.get(x)!.has(id));
  const order: AgentStep[] = [];
  const taken = new Set<string>();
  while (order.length < byTime.length) {
    const next = byTime.find((s) => {
      if (taken.has(s.stepId)) return false;
      const g = group(s.stepId);
      return g.every((m) => reads(byTime[ids.indexOf(m)]!).every((id) => taken.has(id) || g.includes(id)));
    })!;
    for (const m of group(next.stepId)) {
      taken.add(m);
      order.push(byTime[ids.indexOf(m)]!);
    }
  }
  const indexOf = new Map(order.map((s, i) => [s.stepId, i] as const));
  const inputs: number[][] = order.map(() => []);
  const consumers: number[][] = order.map(() => []);
  order.forEach((s, w) => {
    for (const id of s.parentStepId !== undefined ? [...s.causalInputs, s.parentStepId] : s.causalInputs) {
      const u = indexOf.get(id);
      if (u === undefined || u >= w || inputs[w]!.includes(u)) continue;
      inputs[w]!.push(u);
      consumers[u]!.push(w);
    }
  });
  return { order: order.map((s) => s.stepId), inputs, consumers };
}

/** BFS with a shifted queue and a distance map: the reference for `descendants`. */
function descendantsReference(g: CausalGraph, from: number, blocked: ReadonlySet<number>): [number, number][] {
  const dist = new Map<number, number>();
  const d0 = new Map([[from, 0]]);
  const queue = [from];
  while (queue.length > 0) {
    const u = queue.shift()!;
    for (const w of g.consumers[u]!) {
      if (d0.has(w)) continue;
      d0.set(w, d0.get(u)! + 1);
      dist.set(w, d0.get(u)! + 1);
      if (!blocked.has(w)) queue.push(w);
    }
  }
  return [...dist];
}

describe('causal graph', () => {
  it('equals the always-sorting reference for shuffled and already ordered steps', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const want = graphReference(steps);
        for (const input of [steps, [...steps].sort(compareSteps), [...steps].reverse()]) {
          const g = buildCausalGraph(input);
          expect({ order: g.order.map((s) => s.stepId), inputs: g.inputs, consumers: g.consumers }).toEqual(want);
        }
      }),
    );
  });

  it('keeps the input order of steps that compare equal (stable, sorted or not)', () => {
    const a = step({ id: 1, agent: 'a' });
    const twin = { ...a }; // same id and times: compareSteps = 0
    expect(buildCausalGraph([a, twin]).order[0]).toBe(a);
    expect(buildCausalGraph([twin, a]).order[0]).toBe(twin);
  });

  it('descendants (and descendantOrder) equal a plain BFS (discovery order and distances), with and without blocked steps', () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.nat(9), { maxLength: 3 }), (steps, blockedPick) => {
        const g = buildCausalGraph(steps);
        const blocked = new Set(blockedPick.filter((b) => b < steps.length));
        for (let from = 0; from < steps.length; from++) {
          expect([...descendants(g, from, blocked)]).toEqual(descendantsReference(g, from, blocked));
          expect([...descendants(g, from)]).toEqual(descendantsReference(g, from, new Set()));
          expect(descendantOrder(g, from)).toEqual(descendantsReference(g, from, new Set()).map(([w]) => w));
        }
      }),
    );
  });
});

describe('UnanimityGame term merging', () => {
  /** Reference merge: carriers de-duplicated with a Set, sorted, keyed by their decimal join. */
  function mergedReference(terms: readonly UnanimityTerm[]) {
    const merged = new Map<string, { carriers: number[]; weight: number }>();
    for (const t of terms) {
      const carriers = [...new Set(t.carriers)].sort((a, b) => a - b);
      if (carriers.length === 0) continue;
      const m = merged.get(carriers.join(','));
      if (m) m.weight += t.weight;
      else merged.set(carriers.join(','), { carriers, weight: t.weight });
    }
    return [...merged.values()].filter((t) => t.weight !== 0);
  }

  it('merges permuted and repeated carrier lists like the reference, short and long', () => {
    const game = fc.constantFrom(3, 20, 300).chain((n) =>
      fc.tuple(fc.constant(n), fc.array(fc.record({ carriers: fc.array(fc.nat(n - 1), { maxLength: 90 }), weight: fc.integer({ min: -3, max: 3 }) }), { maxLength: 12 })),
    );
    fc.assert(
      fc.property(game, ([n, terms]) => {
        const players = Array.from({ length: n }, (_, i) => `p${i}`);
        expect(new UnanimityGame('g', players, 0, terms).terms).toEqual(mergedReference(terms));
      }),
    );
  });

  it('merges long carrier sets (hashed keys) only when they are equal, whatever their order', () => {
    // Long sets as long causal chains give them: a base set, its permutations (must merge) and
    // variants with one index replaced (must not).
    const n = 1200;
    const game = fc
      .tuple(fc.uniqueArray(fc.nat(n - 1), { minLength: 257, maxLength: 700 }), fc.array(fc.tuple(fc.nat(), fc.nat(n - 1), fc.boolean()), { minLength: 1, maxLength: 6 }))
      .map(([base, variants]) => {
        const terms: UnanimityTerm[] = [{ carriers: base, weight: 1 }];
        for (const [seed, replacement, permute] of variants) {
          const c = [...base];
          if (permute) c.reverse();
          else c[seed % c.length] = replacement;
          terms.push({ carriers: seed % 3 === 0 ? [...c, ...c.slice(0, 5)] : c, weight: (seed % 5) - 2 });
        }
        return terms;
      });
    fc.assert(
      fc.property(game, (terms) => {
        const players = Array.from({ length: n }, (_, i) => `p${i}`);
        expect(new UnanimityGame('g', players, 0, terms).terms).toEqual(mergedReference(terms));
      }),
      { numRuns: 60 },
    );
  });

  it('still rejects carriers that are not player indices', () => {
    expect(() => new UnanimityGame('g', ['a', 'b'], 0, [{ carriers: [1, 2], weight: 1 }])).toThrow(RangeError);
    expect(() => new UnanimityGame('g', ['a', 'b'], 0, [{ carriers: [0.5], weight: 1 }])).toThrow(RangeError);
  });
});

describe('provenanceGames', () => {
  it('gives the same games and analysis from a graph the caller built', () => {
    fc.assert(
      fc.property(stepsArb, fc.double({ min: 0, max: 1, noNaN: true }), (steps, R) => {
        const agents = ['a', 'b', 'c'].map((a) => ({ agentId: a, agentName: a }));
        const own = provenanceGames('ep', steps, agents, { systemValue: R, baseline: 0 });
        const shared = provenanceGames('ep', steps, agents, { systemValue: R, baseline: 0, graph: buildCausalGraph(steps) });
        expect(shared.agentGame.terms).toEqual(own.agentGame.terms);
        expect(shared.messageGame.closedForm()).toEqual(own.messageGame.closedForm());
        expect(shared.messageGame.leaveOneOut()).toEqual(own.messageGame.leaveOneOut());
        expect([...shared.analysis.carriers]).toEqual([...own.analysis.carriers]);
        expect([...shared.analysis.roles]).toEqual([...own.analysis.roles]);
      }),
    );
  });

  it('builds the carrier lists once, through a prototype getter (no per-episode accessor)', () => {
    const steps = [step({ id: 1, t: 0, agent: 'a' }), step({ id: 2, t: 1, agent: 'b', inputs: [1] })];
    const agents = ['a', 'b'].map((a) => ({ agentId: a, agentName: a }));
    const { analysis } = provenanceGames('ep', steps, agents, { systemValue: 1, baseline: 0 });
    // An own `get carriers()` (object literal) is a new closure per episode: V8 then keeps every
    // episode's graph reachable from a hidden-class transition until a full GC (provenance.ts).
    expect(Object.getOwnPropertyDescriptor(analysis, 'carriers')).toBeUndefined();
    expect(analysis.carriers).toBe(analysis.carriers);
    expect([...analysis.carriers.keys()].length).toBeGreaterThan(0);
  });
});

/** Bigger random episodes than `stepsArb`: up to 40 steps, several inputs each, errors, duplicate outputs, 4 agents. */
const wideStepsArb = fc
  .array(fc.record({ t: fc.nat(30), inputs: fc.array(fc.nat(39), { maxLength: 4 }), parent: fc.option(fc.nat(39), { nil: undefined }), agent: fc.constantFrom('a', 'b', 'c', 'd'), ok: fc.nat(9).map((x) => x > 1), digest: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }), kind: fc.constantFrom('llm' as const, 'tool' as const, 'agent' as const, 'handoff' as const) }), { minLength: 1, maxLength: 40 })
  .map((specs) => specs.map((s, i) => step({ id: i + 1, t: s.t, inputs: s.inputs.map((x) => x + 1), agent: s.agent, ok: s.ok, kind: s.kind, ...(s.digest !== undefined ? { digest: s.digest } : {}), ...(s.parent !== undefined ? { parent: s.parent + 1 } : {}) })));

/**
 * Longer episodes than one bitset word holds (33–110 steps): a shared root span every step hangs
 * off (so every slot stays live until the end), several causal inputs per step, and up to 40
 * agents (the agent mask past one word).
 */
const longStepsArb = fc.integer({ min: 33, max: 110 }).chain((n) =>
  fc
    .array(fc.record({ inputs: fc.array(fc.nat(n - 1), { maxLength: 3 }), agent: fc.nat(39), ok: fc.nat(9).map((x) => x > 0), kind: fc.constantFrom('llm' as const, 'tool' as const, 'handoff' as const) }), { minLength: n, maxLength: n })
    .map((specs) => [
      step({ id: 1, t: 0, agent: 'a0', kind: 'agent' }),
      ...specs.map((s, i) => step({ id: i + 2, t: i + 1, parent: 1, inputs: s.inputs.map((x) => x + 2), agent: `a${s.agent}`, ok: s.ok, kind: s.kind })),
    ]),
);

describe('provenance game without materialised carriers', () => {
  /**
   * Reference: the unanimity games written out term by term from the listed carrier sets (the
   * form the engine used before the reverse pass), which the bitset pass must equal exactly —
   * closed form, leave-one-out, every coalition's value, and the agent game's terms.
   */
  it('equals the unanimity games built from explicit carrier lists', () => {
    fc.assert(
      fc.property(fc.oneof(stepsArb, wideStepsArb, longStepsArb), fc.double({ min: -1, max: 1, noNaN: true }), fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }), (steps, R, bits) => {
        const agents = [...new Set(['a', 'b', 'c', 'd', ...steps.map((s) => s.agentId)])].map((a) => ({ agentId: a, agentName: a }));
        const { agentGame, messageGame, analysis } = provenanceGames('ep', steps, agents, { systemValue: R, baseline: 0.1 });
        const players = messageGame.players;
        const mIdx = new Map(players.map((p, i) => [p, i] as const));
        const author = new Map(steps.map((s) => [s.stepId, s.agentId] as const));
        const aIdx = new Map(agents.map((a, i) => [a.agentId, i] as const));
        const toAgents = (ids: readonly string[]) => [...new Set(ids.map((id) => aIdx.get(author.get(id)!)!))];
        const u = analysis.usefulWeight;
        const h = analysis.harmWeight;
        const msgTerms: UnanimityTerm[] = [];
        const agentTerms: UnanimityTerm[] = [];
        for (const [, carriers] of analysis.carriers) {
          msgTerms.push({ carriers: carriers.map((id) => mIdx.get(id)!), weight: u });
          agentTerms.push({ carriers: toAgents(carriers), weight: u });
        }
        for (const [id, role] of analysis.roles) {
          if (role !== 'harmful') continue;
          msgTerms.push({ carriers: [mIdx.get(id)!], weight: -h });
          agentTerms.push({ carriers: toAgents([id]), weight: -h });
        }
        const p = analysis.carriers.size;
        const q = [...analysis.roles.values()].filter((r) => r === 'harmful').length;
        const rest = R - 0.1 + q * h - p * u;
        expect(analysis.fallbackSplit).toBe(p === 0 && rest !== 0);
        if (analysis.fallbackSplit) {
          // an even split over the messages, one additive term each; over all agents with no messages
          const perAgent = new Map<number, number>();
          for (const [i, id] of players.entries()) {
            msgTerms.push({ carriers: [i], weight: rest / players.length });
            const a = toAgents([id])[0]!;
            perAgent.set(a, (perAgent.get(a) ?? 0) + rest / players.length);
          }
          for (const [a, w] of perAgent) agentTerms.push({ carriers: [a], weight: w });
          if (players.length === 0) agentTerms.push({ carriers: agents.map((_, i) => i), weight: rest });
        }
        const refM = new UnanimityGame('ref', players, 0.1, msgTerms);
        const refA = new UnanimityGame('ref', agents.map((a) => a.agentId), 0.1, agentTerms);
        expect(players.length).toBe(steps.filter((s) => s.kind !== 'agent').length);
        const close = (a: readonly number[], b: readonly number[]) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 9));
        close(messageGame.closedForm(), refM.closedForm());
        close(messageGame.leaveOneOut(), refM.leaveOneOut());
        const all = new Uint8Array(players.length).fill(1);
        const some = Uint8Array.from(players, (_, i) => (bits[i] ? 1 : 0));
        for (const S of [all, some, new Uint8Array(players.length)]) expect(messageGame.value(S)).toBeCloseTo(refM.value(S), 9);
        // a term whose merged weight cancels to about 0 is dropped by the side where it cancels exactly
        // and kept as ±1e-17 by the other (harm −h and an even share summed in another order)
        const key = (g: UnanimityGame) => g.terms.filter((t) => Math.abs(t.weight) >= 5e-10).map((t) => `${t.carriers.join(',')}:${t.weight.toFixed(9)}`).sort();
        expect(key(agentGame)).toEqual(key(refA));
        expect(agentGame.base).toBeCloseTo(refA.base, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('credits a 3000-message causal chain (4.5 M carrier indices if listed) exactly', () => {
    const n = 3000;
    const steps = Array.from({ length: n }, (_, i) => step({ id: i + 1, t: i, inputs: i > 0 ? [i] : [], agent: ['a', 'b', 'c'][i % 3]!, ok: true, kind: 'llm' }));
    const agents = ['a', 'b', 'c'].map((a) => ({ agentId: a, agentName: a }));
    const { messageGame, agentGame } = provenanceGames('chain', steps, agents, { systemValue: 1, baseline: 0 });
    // Chain of n useful messages: message k (0-based) is in the terms of messages 0..k, whose
    // carrier sets have sizes n..n-k; so φ_k = (1/n) · Σ_{j=0..k} 1/(n-j) and LOO_k = (k+1)/n.
    const phi = messageGame.closedForm();
    let harmonic = 0;
    for (let k = 0; k < n; k++) {
      harmonic += 1 / (n - k);
      expect(phi[k]).toBeCloseTo(harmonic / n, 12);
    }
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(messageGame.leaveOneOut()[n - 1]).toBeCloseTo(1, 12);
    expect(messageGame.leaveOneOut()[0]).toBeCloseTo(1 / n, 12);
    // Agent game: every term from message 0..n-3 needs all three agents.
    expect(agentGame.closedForm().reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

