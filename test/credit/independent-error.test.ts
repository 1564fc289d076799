/**
 * A failed run's second, independent error (method.md §3, blame-repair.ts): an erroneous step after
 * t* that t*'s blame does not reach — a parallel call that failed too, a flagged answer in a branch
 * that does not read t* — was `unrelated`: no blame at all, and it could take its agent's offset
 * of t*'s blame as a positive `repair`. It is now an `independent-error`, blamed blame0 · decay
 * (less than t*), with its dependents, repairs and critics treated as t*'s are.
 */
import { describe, expect, it } from 'vitest';
import { blameAndRepair, buildCausalGraph, creditEpisode, firstErrorStep } from '../../src/credit/index.js';
import type { AgentStep } from '../../src/model/agents.js';
import type { MessageReward } from '../../src/events/schemas.js';
import { episode, sid, step } from './episode-builder.js';
import { twoErrorRun } from './failed-run.js';
import { parallelFailedSearches, search } from './search-steps.js';


function blameOf(steps: AgentStep[], options: { decay?: number } = {}) {
  const graph = buildCausalGraph(steps);
  const fe = firstErrorStep(graph)!;
  const out = blameAndRepair(graph, fe, { blame0: 0.5, decay: options.decay ?? 0.5 });
  const role = (id: number) => out.roles.get(sid(id));
  const blame = (id: number) => out.transfers.get(sid(id))?.blame ?? 0;
  const repair = (id: number) => out.transfers.get(sid(id))?.repair ?? 0;
  return { fe, out, role, blame, repair };
}

describe('independent errors on the causal graph', () => {
  // 1 a plans · 2 a's search fails (t*) · 3 b's fetch fails, reading no t* · 4 a reads t* · 5 b reads 3 ·
  // 6 c reads 4 and 5 · 7 c reads 5 · 8, 9 later steps of b and c that read nothing (they take their agent's offset)
  const steps = [
    step({ id: 1, agent: 'a', name: 'chat m' }),
    step({ id: 2, agent: 'a', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [1], ok: false }),
    step({ id: 3, agent: 'b', kind: 'tool', tool: 'fetch', name: 'execute_tool fetch', ok: false }),
    step({ id: 4, agent: 'a', name: 'chat m', inputs: [2] }),
    step({ id: 5, agent: 'b', name: 'chat m', inputs: [3] }),
    step({ id: 6, agent: 'c', name: 'chat m', inputs: [4, 5] }),
    step({ id: 7, agent: 'c', name: 'chat m', inputs: [5] }),
    step({ id: 8, agent: 'b', name: 'chat m' }),
    step({ id: 9, agent: 'c', name: 'chat m' }),
  ];

  it('blames the second error blame0 · decay, less than t*, and its dependents decayed from it', () => {
    const { fe, role, blame, repair } = blameOf(steps);
    expect(fe.stepId).toBe(sid(2));
    expect([2, 3, 4, 5, 6, 7].map(role)).toEqual(['first-error', 'independent-error', 'dependent', 'dependent', 'dependent', 'dependent']);
    expect(blame(2)).toBe(-0.5);
    expect(blame(3)).toBe(-0.25);
    expect(blame(5)).toBe(-0.125); // one edge from the independent error
    expect(blame(7)).toBe(-0.0625);
    // 6 reads t* (two edges: −0.125) and the independent error (two edges: −0.0625): the larger, once
    expect(blame(6)).toBe(-0.125);
    // zero-sum within each agent: b's later step takes back its blame
    expect(role(8)).toBe('unrelated');
    expect(repair(8)).toBe(0.375);
    expect(repair(3)).toBe(0);
  });

  it('t* keeps the largest blame whatever the decay', () => {
    for (const decay of [0, 0.3, 0.9, 0.99]) {
      const { blame } = blameOf(steps, { decay });
      expect(blame(3)).toBeCloseTo(-0.5 * decay, 12);
      expect(blame(3)).toBeGreaterThan(blame(2));
    }
  });

  it('an erroneous step that reads the independent error is its dependent, not another independent error', () => {
    const chain = [
      step({ id: 1, agent: 'a', name: 'chat m' }),
      step({ id: 2, agent: 'a', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'b', name: 'chat m' }),
      step({ id: 4, agent: 'b', kind: 'tool', tool: 'fetch', name: 'execute_tool fetch', inputs: [3], ok: false }),
      step({ id: 5, agent: 'b', name: 'chat m', inputs: [4] }),
      step({ id: 6, agent: 'b', kind: 'tool', tool: 'run_tests', name: 'execute_tool run_tests', inputs: [5], ok: false }),
      step({ id: 7, agent: 'b', name: 'chat m', t: 20 }),
    ];
    const { role, blame } = blameOf(chain);
    expect([4, 5, 6].map(role)).toEqual(['independent-error', 'dependent', 'dependent']);
    expect(blame(6)).toBe(-0.0625);
  });

  it('parallel failed calls: the tie is an independent error, its own retry its repair (rewarded, no pair), the call that issued it keeps its role as t*’s critic', async () => {
    const parallel = parallelFailedSearches();
    const { fe, role } = blameOf(parallel);
    expect(fe.ties).toEqual([sid(3)]);
    expect([2, 3, 4, 5, 6, 7].map(role)).toEqual(['first-error', 'independent-error', 'critic', 'repair', 'repair', 'unrelated']);
    const out = await creditEpisode(episode(parallel, 0.2), {});
    const r = (id: number) => out.messages.find((m) => m.step.stepId === sid(id))!;
    expect(r(3).reward).toBeLessThan(0);
    expect(r(3).components.blame).toBeGreaterThan(r(2).components.blame);
    expect(r(6).components.repair).toBeGreaterThan(0);
    expect(r(6).components.repair).toBeLessThan(r(5).components.repair); // repairs an error blamed less than t*
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(5), sid(2)]]);
  });

  it('a run with one error has no independent error', () => {
    const { out } = blameOf(steps.map((s) => (s.stepId === sid(3) ? { ...s, status: { ok: true } } : s)));
    expect([...out.roles.values()]).not.toContain('independent-error');
  });
});

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a generated failed run with two independent errors (%s)', (convention) => {
  for (const second of ['error', 'flag'] as const) {
    it(`${second === 'error' ? 'two failed search_docs calls in branches' : 'a failed search_docs and a flagged answer in a branch'} that do not read each other: the second is blamed, less than t*; conservation and the bound hold; no pair for it`, async () => {
      const { events, firstErrorId, secondErrorId } = await twoErrorRun(convention, second);
      const ep = events.find((e) => e.event_type === 'episode_credit')!;
      if (ep.event_type !== 'episode_credit') throw new Error('no episode_credit');
      expect(ep.outcome).toBe('failure');
      expect(ep.first_error?.step_id).toBe(firstErrorId);
      const rewards = events.filter((e): e is MessageReward => e.event_type === 'message_reward');
      const star = rewards.find((r) => r.step_id === firstErrorId)!;
      const other = rewards.find((r) => r.step_id === secondErrorId)!;
      expect(other.agent_name).toBe('researcher');
      expect(other.failure_role).toBe('independent-error');
      expect(other.reward).toBeLessThan(0);
      expect(other.components.blame).toBeLessThan(0);
      expect(other.components.repair).toBe(0);
      expect(other.components.blame).toBeGreaterThan(star.components.blame);
      for (const a of ep.agents) {
        const sum = rewards.filter((r) => r.agent_id === a.agent_id).reduce((s, r) => s + r.reward, 0);
        expect(sum).toBeCloseTo(a.credit, 9);
      }
      for (const r of rewards) expect(Math.abs(r.reward)).toBeLessThanOrEqual(ep.diagnostics.reward_bound);
      const pairs = events.filter((e) => e.event_type === 'preference_pair');
      expect(pairs.every((p) => p.event_type === 'preference_pair' && p.rejected.step_id === firstErrorId)).toBe(true);
    });
  }
});

describe('independent errors of a long run', () => {
  it('each is localized without a walk of the whole episode: a chain of 2,000 repaired failures reads each step a few times, not once per error', () => {
    // agents a and b take turns: LLM call → search fails → LLM call reads the error → search retried (ok) → …
    const steps: AgentStep[] = [];
    let id = 1;
    for (let c = 0; c < 2_000; c++) {
      const agent = c % 2 ? 'a' : 'b';
      const call = id++;
      steps.push(step({ id: call, agent, name: 'chat m', ...(c > 0 ? { inputs: [call - 1] } : {}) }));
      steps.push(step({ id: id++, agent, kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [call], ok: false }));
      steps.push(step({ id: id++, agent, name: 'chat m', inputs: [call + 1] }));
      steps.push(step({ id: id++, agent, kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [call + 2] }));
    }
    const graph = buildCausalGraph(steps);
    const fe = firstErrorStep(graph)!;
    let reads = 0;
    const order = new Proxy(graph.order, { get: (rows, key, receiver) => (typeof key === 'string' && /^\d+$/.test(key) && reads++, Reflect.get(rows, key, receiver)) });
    const out = blameAndRepair({ ...graph, order }, fe);
    const roles = [...out.roles.values()];
    expect(roles.filter((r) => r === 'independent-error')).toHaveLength(1_999);
    expect(roles.filter((r) => r === 'repair')).toHaveLength(2_000);
    expect(roles.filter((r) => r === 'critic')).toHaveLength(2_000);
    expect(reads).toBeLessThan(20 * steps.length); // ~12 per step; a walk of the later steps per error: ~16,000,000
  });

  it('nor a walk of every later call of the tool per error: 2,000 failed calls that nothing reads, among as many successful calls of that tool by other agents', () => {
    const steps: AgentStep[] = [step({ id: 1, agent: 'planner', name: 'plan' })];
    let id = 2;
    for (const [prefix, ok] of [['w', false], ['v', true]] as const) {
      for (let c = 0; c < 2_000; c++) {
        const call = id++;
        steps.push(step({ id: call, agent: `${prefix}${c % 50}`, name: 'chat m', inputs: [1] }));
        steps.push(step({ id: id++, agent: `${prefix}${c % 50}`, kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [call], ok }));
      }
    }
    const graph = buildCausalGraph(steps);
    const fe = firstErrorStep(graph)!;
    let reads = 0;
    const order = new Proxy(graph.order, { get: (rows, key, receiver) => (typeof key === 'string' && /^\d+$/.test(key) && reads++, Reflect.get(rows, key, receiver)) });
    const out = blameAndRepair({ ...graph, order }, fe);
    expect([...out.roles.values()].filter((r) => r === 'independent-error')).toHaveLength(1_999);
    expect([...out.roles.values()]).not.toContain('repair'); // another agent's own search retries no one's error
    expect(reads).toBeLessThan(50 * steps.length); // ~17 per step; every later call of search per error: ~16,000,000
  });
});
