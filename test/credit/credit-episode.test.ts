import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { buildCausalGraph, creditEpisode, CreditOptionsError, DegenerateEpisodeError, firstErrorStep, type DegenerateReason, type Game } from '../../src/credit/index.js';
import { correctiveAttempts } from '../../src/credit/signals/blame-repair.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { CreditEventSchema, EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema } from '../../src/events/schemas.js';
import { episode, sid, step, threeAgentSteps } from './episode-builder.js';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('creditEpisode: success', () => {
  it('conserves R − b over agents and messages, agent by agent', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 0.9), { baseline: 0.1 });
    expect(out.outcome).toBe('success');
    expect(out.estimator.name).toBe('closed-form');
    expect(out.estimator.status).toBe('exact');
    expect(Math.abs(sum(out.agents.map((a) => a.credit)) - 0.8)).toBeLessThan(1e-9);
    expect(Math.abs(sum(out.messages.map((m) => m.reward)) - 0.8)).toBeLessThan(1e-9);
    for (const a of out.agents) {
      const mine = out.messages.filter((m) => m.step.agentId === a.agentId);
      expect(Math.abs(sum(mine.map((m) => m.reward)) - a.credit)).toBeLessThan(1e-9);
    }
    for (const m of out.messages) expect(Math.abs(m.reward)).toBeLessThanOrEqual(out.rewardBound);
  });

  it('gives a sabotaging (flagged) message of a positively credited agent a negative reward', async () => {
    const out = await creditEpisode(episode(threeAgentSteps({ sabotage: true }), 0.9), {});
    const researcher = out.agents.find((a) => a.agentId === 'researcher')!;
    expect(researcher.credit).toBeGreaterThan(0);
    const sabotage = out.messages.find((m) => m.step.stepId === sid(5))!;
    expect(sabotage.delta).toBeLessThan(0);
    expect(sabotage.reward).toBeLessThan(0);
    expect(sabotage.components.sabotage).toBeLessThan(0);
  });

  it('gives a redundant message no more than its agent mean', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 1), {});
    const planner = out.agents.find((a) => a.agentId === 'planner')!;
    const note = out.messages.find((m) => m.step.stepId === sid(6))!; // nothing consumes it
    expect(out.provenance?.roles.get(sid(6))).toBe('redundant-no-path');
    expect(note.delta).toBe(0);
    expect(note.reward).toBeLessThanOrEqual(planner.credit / planner.steps);
  });

  it('the LLM call that re-issues a failed tool call unchanged is a retry, not a redundant duplicate (tool-call ids are not in the digest); a third identical call after the fix is one', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'researcher', name: 'chat gpt-4o', inputs: [1], digest: 'get_weather(Lisbon)' }),
      step({ id: 3, agent: 'researcher', kind: 'tool', tool: 'get_weather', name: 'get_weather', inputs: [2], ok: false }),
      step({ id: 4, agent: 'researcher', name: 'chat gpt-4o', inputs: [2, 3], digest: 'get_weather(Lisbon)' }), // reads the error, re-issues
      step({ id: 5, agent: 'researcher', kind: 'tool', tool: 'get_weather', name: 'get_weather', inputs: [4] }),
      step({ id: 6, agent: 'researcher', name: 'chat gpt-4o', inputs: [4, 5], digest: 'get_weather(Lisbon)' }), // asks again after it worked
      step({ id: 7, agent: 'writer', name: 'answer', inputs: [5, 6] }),
    ];
    const out = await creditEpisode(episode(steps, 0.9), {});
    expect(out.outcome).toBe('success');
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.provenance?.roles.get(sid(4))).not.toBe('redundant-duplicate');
    expect(m(4).delta).toBeGreaterThan(0);
    expect(m(4).components.redundancy).toBe(0);
    expect(m(4).reward).toBeGreaterThan(0);
    expect(out.provenance?.roles.get(sid(6))).toBe('redundant-duplicate');
  });

  it('is deterministic and produces schema-valid events with deterministic ids', async () => {
    const input = episode(threeAgentSteps({ toolFails: true }), 0.2);
    const a = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 1 });
    const b = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs: 2 });
    EpisodeCreditSchema.parse(a.episode);
    for (const r of a.rewards) MessageRewardSchema.parse(r);
    for (const p of a.pairs) PreferencePairSchema.parse(p);
    for (const e of [a.episode, ...a.rewards, ...a.pairs]) CreditEventSchema.parse(e);
    expect(a.rewards.map((r) => r.event_id)).toEqual(b.rewards.map((r) => r.event_id));
    expect(a.episode.event_id).toBe(b.episode.event_id);
    expect(new Set([a.episode.event_id, ...a.rewards.map((r) => r.event_id), ...a.pairs.map((p) => p.event_id)]).size).toBe(1 + a.rewards.length + a.pairs.length);
    const next = outcomeToEvents(await creditEpisode({ ...input, revision: 1 }, {}), { emittedAtMs: 1 });
    expect(next.episode.event_id).not.toBe(a.episode.event_id);
  });
});

/** Planner → coder's flagged answer (2) → reviewer objects (3) → coder redoes reading the review (4) → reviewer approves (5). */
function reviewRound() {
  return [
    step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
    step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
    step({ id: 3, agent: 'reviewer', name: 'chat gpt-4o', inputs: [2] }),
    step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [1, 3] }),
    step({ id: 5, agent: 'reviewer', name: 'chat gpt-4o', inputs: [4] }),
  ];
}

describe('creditEpisode: failure, first error and repair', () => {
  it('finds the injected error, rewards the later fix and emits the pair (chosen = fix, rejected = error)', async () => {
    const out = await creditEpisode(episode(threeAgentSteps({ toolFails: true }), 0.2), {});
    expect(out.outcome).toBe('failure');
    expect(out.firstError?.stepId).toBe(sid(3));
    expect(out.firstError?.evidence).toEqual(['status=error: boom']);
    const fix = out.messages.find((m) => m.step.stepId === sid(4))!;
    const err = out.messages.find((m) => m.step.stepId === sid(3))!;
    expect(fix.failureRole).toBe('repair');
    expect(err.failureRole).toBe('first-error');
    expect(fix.reward).toBeGreaterThan(0);
    expect(err.reward).toBeLessThan(0);
    expect(err.reward).toBe(Math.min(...out.messages.map((m) => m.reward)));
    expect(out.pairs).toHaveLength(1);
    expect(out.pairs[0]!.chosen?.stepId).toBe(sid(4));
    expect(out.pairs[0]!.rejected.stepId).toBe(sid(3));
    expect(out.pairs[0]!.margin).toBeGreaterThan(0);
    expect(out.pairs[0]!.rejectedOnly).toBe(false);
    // transfers conserve the total
    expect(Math.abs(sum(out.messages.map((m) => m.reward)) - (out.systemValue - out.baseline))).toBeLessThan(1e-9);
    for (const a of out.agents) {
      const mine = out.messages.filter((m) => m.step.agentId === a.agentId);
      expect(Math.abs(sum(mine.map((m) => m.reward)) - a.credit)).toBeLessThan(1e-9);
    }
  });

  it('a same-named later step that reads a flagged (bad, not failed) result is a dependent, not a repair (GenAI names every LLM call "chat {model}")', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [2] }),
      step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [3, 2] }),
      step({ id: 5, agent: 'writer', name: 'chat gpt-4o', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.1), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    for (const id of [3, 4]) expect(out.messages.find((m) => m.step.stepId === sid(id))!.failureRole).toBe('dependent');
    expect(out.pairs).toHaveLength(1);
    expect(out.pairs[0]!.rejectedOnly).toBe(true);
    expect(out.pairs[0]!.reason).toMatch(/no corrective attempt found/);
    // a redo that does not read the bad answer is still the agent's repair, and forms the pair
    const redo = [...steps.slice(0, 2), step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [1] }), step({ id: 5, agent: 'writer', name: 'chat gpt-4o', inputs: [3] })];
    const fixed = await creditEpisode(episode(redo, 0.1), {});
    expect(fixed.messages.find((m) => m.step.stepId === sid(3))!.failureRole).toBe('repair');
    expect(fixed.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId, p.rejectedOnly])).toEqual([[sid(3), sid(2), false]]);
  });

  it("another agent's successful retry earns its repair reward but forms no preference pair (a pair compares one agent's answers in one context)", async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'critic', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [1, 2] }),
      step({ id: 4, agent: 'critic', name: 'review', inputs: [3] }),
      step({ id: 5, agent: 'writer', name: 'answer', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    const retry = out.messages.find((m) => m.step.stepId === sid(3))!;
    expect(retry.failureRole).toBe('repair');
    expect(retry.components.repair).toBeGreaterThan(0);
    expect(out.pairs).toHaveLength(1);
    expect(out.pairs[0]!.rejectedOnly).toBe(true);
    expect(out.pairs[0]!.chosen).toBeUndefined();
    expect(out.pairs[0]!.reason).toMatch(new RegExp(`corrected only by another agent \\(${sid(3)} by critic\\): no pair across agents`));
  });

  it('a critic — the step that read the error and whose output the fix read — is rewarded (method.md §3), not blamed, and forms no pair', async () => {
    // coder answers badly (flagged), the reviewer reads it and objects, the coder redoes the task
    // reading the review (not its bad answer), the reviewer approves, the writer reads the redo.
    const steps = [...reviewRound(), step({ id: 6, agent: 'writer', name: 'chat gpt-4o', inputs: [5] })];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(3).failureRole).toBe('critic');
    expect(m(4).failureRole).toBe('repair');
    expect(m(5).failureRole).toBe('unrelated'); // reads the fix, not the error
    expect(m(6).failureRole).toBe('unrelated');
    // +criticWeight·blame0 = 0.25, paid by the reviewer's later unrelated message
    expect(m(3).components.repair).toBeCloseTo(0.25, 12);
    expect(m(3).components.blame).toBe(0);
    expect(m(5).components.blame).toBeCloseTo(-0.25, 12);
    expect(m(3).reward).toBeGreaterThan(m(5).reward);
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(4), sid(2)]]);
    for (const a of out.agents) {
      const mine = out.messages.filter((x) => x.step.agentId === a.agentId);
      expect(Math.abs(sum(mine.map((x) => x.reward)) - a.credit)).toBeLessThan(1e-9);
    }
    // without the fix there is no critic: the same review is a dependent of the bad answer
    const unfixed = await creditEpisode(episode([...steps.slice(0, 3), step({ id: 6, agent: 'writer', name: 'chat gpt-4o', inputs: [3] })], 0.2), {});
    expect(unfixed.messages.find((x) => x.step.stepId === sid(3))!.failureRole).toBe('dependent');
    // criticWeight 0: still named, no transfer
    const zero = await creditEpisode(episode(steps, 0.2), { criticWeight: 0 });
    const c = zero.messages.find((x) => x.step.stepId === sid(3))!;
    expect(c.failureRole).toBe('critic');
    expect(c.components.repair).toBe(0);
    expect(c.components.blame).toBe(0);
  });

  it('a step that reads the error only through a fix is no critic of a later fix (a second review round: the approval of the redo is not a critic)', async () => {
    // coder answers badly (flagged), reviewer objects, coder redoes (repair), reviewer reads only the
    // redo and approves, coder answers once more reading the approval: no second redo — t* was
    // repaired before it started. The approval never read the error — only the fix — so it is
    // neither a critic nor blamed.
    const steps = [...reviewRound(), step({ id: 6, agent: 'coder', name: 'chat gpt-4o', inputs: [5] }), step({ id: 7, agent: 'writer', name: 'chat gpt-4o', inputs: [6] })];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(3).failureRole).toBe('critic');
    expect(m(4).failureRole).toBe('repair');
    expect(m(6).failureRole).toBe('unrelated');
    expect(m(5).failureRole).toBe('unrelated'); // reads the fix, not the error (as in the one-round case)
  });

  it('under clock skew the step that reads a failed step still comes after it: the producer is the first error', async () => {
    // the reviewer reads the coder's failed test run, but its host clock puts its start 2 ms earlier
    const steps = [
      step({ id: 1, agent: 'planner', t: 0 }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'run_tests', inputs: [1], ok: false, t: 10 }),
      step({ id: 3, agent: 'reviewer', inputs: [2], ok: false, t: 8 }),
      step({ id: 4, agent: 'reviewer', inputs: [3], t: 20 }),
    ];
    const out = await creditEpisode(episode(steps, 0.1), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(m(3).failureRole).toBe('dependent');
    expect(m(2).reward).toBeLessThan(0);
  });

  it('under clock skew a retry that read the error is still its repair (and the call that read it its critic)', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan', t: 0 }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'search', name: 'search', inputs: [1], ok: false, t: 10 }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [2], t: 8 }), // reads the error; its host's clock is behind
      step({ id: 4, agent: 'coder', kind: 'tool', tool: 'search', name: 'search', inputs: [3], t: 9 }),
      step({ id: 5, agent: 'writer', name: 'answer', inputs: [4], t: 20 }),
    ];
    const out = await creditEpisode(episode(steps, 0.3), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(4).failureRole).toBe('repair');
    expect(m(3).failureRole).toBe('critic');
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(4), sid(2)]]);
  });

  it('a cycle in the telemetry stays where its earliest step is: a later unrelated failure does not become the first error', async () => {
    const steps = [
      step({ id: 1, agent: 'a', name: 'P', inputs: [2], t: 0 }),
      step({ id: 2, agent: 'b', name: 'C', inputs: [1], ok: false, t: 1 }),
      step({ id: 3, agent: 'c', name: 'Q', ok: false, t: 50 }),
      step({ id: 4, agent: 'c', name: 'final', inputs: [2, 3], t: 60 }),
    ];
    expect(buildCausalGraph(steps).order.map((s) => s.name)).toEqual(['P', 'C', 'Q', 'final']);
    const out = await creditEpisode(episode(steps, 0.1), {});
    expect(out.firstError?.stepId).toBe(sid(2));
  });

  it('once t* is repaired, later same-named calls of its agent are no further redos (one pair, not one per later turn)', async () => {
    // GenAI names every LLM call `chat {model}`: a rate-limited call, its retry, three later turns.
    const steps = [
      step({ id: 1, agent: 'user_proxy', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], ok: false }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [1] }),
      step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [3] }),
      step({ id: 5, agent: 'coder', name: 'chat gpt-4o', inputs: [4] }),
      step({ id: 6, agent: 'coder', name: 'chat gpt-4o', inputs: [5] }),
    ];
    const out = await creditEpisode(episode(steps, 0.3), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(3).failureRole).toBe('repair');
    for (const n of [4, 5, 6]) expect(m(n).failureRole).not.toBe('repair');
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(3), sid(2)]]);
  });

  it('parallel attempts that started before the first fix ended are all repairs', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'search', name: 'search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'coder', kind: 'tool', tool: 'search', name: 'search', inputs: [1], t: 3 }),
      step({ id: 4, agent: 'coder', kind: 'tool', tool: 'search', name: 'search', inputs: [1], t: 3 }),
      step({ id: 5, agent: 'writer', name: 'answer', inputs: [3, 4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.3), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(m(3).failureRole).toBe('repair');
    expect(m(4).failureRole).toBe('repair');
  });

  it('the LLM call that read a failed tool call and issued the retry is its critic (ReAct loop), no longer blamed as a dependent', async () => {
    const steps = [
      step({ id: 1, agent: 'coder', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'run_tests', inputs: [1], ok: false }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [1, 2] }),
      step({ id: 4, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'run_tests', inputs: [3] }),
      step({ id: 5, agent: 'coder', name: 'chat gpt-4o', inputs: [3, 4] }),
      step({ id: 6, agent: 'writer', name: 'answer', inputs: [5] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(4).failureRole).toBe('repair');
    expect(m(3).failureRole).toBe('critic');
    expect(m(5).failureRole).toBe('unrelated'); // reads the error only through the critic and the fix
    expect(m(3).reward).toBeGreaterThan(m(2).reward);
    expect(m(3).components.blame).toBe(0);
  });

  it("another agent's retry issued by its LLM call that read the error is a repair (the tool call reads its own LLM call, not t*), and that call is its critic", async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'supervisor', name: 'chat gpt-4o', inputs: [2] }),
      step({ id: 4, agent: 'supervisor', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [3] }),
      step({ id: 5, agent: 'supervisor', name: 'chat gpt-4o', inputs: [3, 4] }),
      step({ id: 6, agent: 'writer', name: 'answer', inputs: [5] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(m(4).failureRole).toBe('repair');
    expect(m(3).failureRole).toBe('critic');
    // a colleague's search for its own sub-task, issued without reading the error, stays no retry
    const own = [...steps.slice(0, 2), step({ id: 3, agent: 'supervisor', name: 'chat gpt-4o', inputs: [1] }), step({ id: 4, agent: 'supervisor', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [3] }), step({ id: 6, agent: 'writer', name: 'answer', inputs: [4, 2] })];
    const unrelated = await creditEpisode(episode(own, 0.2), {});
    expect(unrelated.messages.find((x) => x.step.stepId === sid(4))!.failureRole).not.toBe('repair');
  });

  it("a retry by the worker a supervisor handed the error to is a repair (delegation), and the supervisor's step that read the error is its critic; the notice goes one hand-off deep", async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'supervisor', name: 'chat gpt-4o', inputs: [2] }), // reads the failed call
      step({ id: 4, agent: 'supervisor', kind: 'tool', tool: 'transfer_to_worker', name: 'transfer_to_worker', inputs: [3] }), // hands off
      step({ id: 5, agent: 'worker', name: 'chat gpt-4o', inputs: [4] }),
      step({ id: 6, agent: 'worker', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [5] }), // the delegated retry
      step({ id: 7, agent: 'writer', name: 'answer', inputs: [6] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const role = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!.failureRole;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(role(6)).toBe('repair');
    expect(role(3)).toBe('critic');
    expect(out.messages.find((x) => x.step.stepId === sid(6))!.components.repair).toBeGreaterThan(0);
    // A third agent the worker hands on to got no notice of the error: its search is its own.
    const deeper = [
      ...steps.slice(0, 5),
      step({ id: 6, agent: 'worker', kind: 'tool', tool: 'transfer_to_analyst', name: 'transfer_to_analyst', inputs: [5] }),
      step({ id: 7, agent: 'analyst', name: 'chat gpt-4o', inputs: [6] }),
      step({ id: 8, agent: 'analyst', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [7] }),
      step({ id: 9, agent: 'writer', name: 'answer', inputs: [8] }),
    ];
    const third = await creditEpisode(episode(deeper, 0.2), {});
    expect(third.messages.find((x) => x.step.stepId === sid(8))!.failureRole).not.toBe('repair');
    // A worker handed a sub-task by a supervisor that never read the error: no retry either.
    const unaware = steps.map((s) => (s.stepId === sid(3) ? { ...s, causalInputs: [sid(1)] } : s));
    const own = await creditEpisode(episode(unaware, 0.2), {});
    expect(own.messages.find((x) => x.step.stepId === sid(6))!.failureRole).not.toBe('repair');
  });

  it("whether another agent read the error is one pass over the graph, not a walk back through its whole history per call of t*'s tool (quadratic on long same-agent chains)", () => {
    // t*: a's search fails; b then runs a long LLM → search → LLM … chain that never read it. Each
    // of b's searches walked b's history back to its start: 8000 steps took ~1.3 s, 5x the
    // documented credit time of an 8000-message episode. Counted as reads of graph.inputs.
    const n = 8000;
    const steps = [step({ id: 1, agent: 'a', kind: 'tool', tool: 'search', name: 'search', ok: false })];
    for (let i = 2; i <= n; i++) steps.push(i % 2 === 0 ? step({ id: i, agent: 'b', name: 'chat', inputs: i > 2 ? [i - 1] : [] }) : step({ id: i, agent: 'b', kind: 'tool', tool: 'search', name: 'search', inputs: [i - 1] }));
    // the last search's LLM call read t* (a long same-agent chain that does reach it): a retry
    steps.push(step({ id: n + 1, agent: 'b', name: 'chat', inputs: [n, 1] }), step({ id: n + 2, agent: 'b', kind: 'tool', tool: 'search', name: 'search', inputs: [n + 1] }));
    const graph = buildCausalGraph(steps);
    let reads = 0;
    const inputs = new Proxy(graph.inputs, { get: (t, k, r) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k, r)) });
    const repairs = correctiveAttempts({ ...graph, inputs }, { stepId: sid(1), agentId: 'a', evidence: [], ties: [], index: 0 });
    expect(repairs.map((r) => r.stepId)).toEqual([sid(n + 2)]);
    expect(reads).toBeLessThan(10 * steps.length);
  });

  it('only the step that read the error itself is its critic (not every step between it and the fix), and a colleague\'s calls after its successful retry are no retries', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'researcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'supervisor', name: 'chat gpt-4o', inputs: [2] }), // reads the error
      step({ id: 4, agent: 'supervisor', name: 'chat gpt-4o', inputs: [3] }), // carries it on
      step({ id: 5, agent: 'supervisor', name: 'chat gpt-4o', inputs: [4] }),
      step({ id: 6, agent: 'supervisor', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [5] }), // the retry
      step({ id: 7, agent: 'supervisor', name: 'chat gpt-4o', inputs: [5, 6] }),
      step({ id: 8, agent: 'supervisor', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [7] }), // its own next search
      step({ id: 9, agent: 'writer', name: 'answer', inputs: [7, 8] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    const role = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!.failureRole;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(role(6)).toBe('repair');
    expect(role(3)).toBe('critic');
    expect([role(4), role(5)]).toEqual(['unrelated', 'unrelated']); // read only the critic's notice
    expect(role(8)).not.toBe('repair'); // after the successful retry, a search of its own
  });

  it("another agent's call of the same tool for its own sub-task is no retry (every coder calls search_docs): only t*'s agent, a call that read t*, or one repeating its input repairs it", async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'plan' }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'search_docs', name: 'execute_tool search_docs', inputs: [1], ok: false }),
      step({ id: 3, agent: 'coder', name: 'write f', inputs: [2] }),
      step({ id: 4, agent: 'coder_2', kind: 'tool', tool: 'search_docs', name: 'execute_tool search_docs', inputs: [1] }),
      step({ id: 5, agent: 'coder_2', name: 'write g', inputs: [4] }),
      step({ id: 6, agent: 'reviewer', name: 'review', inputs: [3, 5] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    const own = out.messages.find((m) => m.step.stepId === sid(4))!;
    expect(own.failureRole).not.toBe('repair');
    expect(own.components.repair).toBe(0);
    expect(out.pairs.map((p) => p.reason)).toEqual([expect.stringMatching(/no corrective attempt found/)]);
    // the same call (same input) by coder_2 is a retry of it
    const same = steps.map((s) => (s.stepId === sid(4) ? { ...s, inputText: steps[1]!.inputText, inputDigest: 'same-query' } : s.stepId === sid(2) ? { ...s, inputDigest: 'same-query' } : s));
    const retried = await creditEpisode(episode(same, 0.2), {});
    expect(retried.messages.find((m) => m.step.stepId === sid(4))!.failureRole).toBe('repair');
  });

  it("messages before t* are never blamed: they do not pay for their agent's repair bonus (t*'s own agent hands its blame back to them)", async () => {
    const steps = [
      step({ id: 1, agent: 'fixer', name: 'scope' }),
      step({ id: 2, agent: 'searcher', name: 'plan search', inputs: [1] }),
      step({ id: 3, agent: 'searcher', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [2], ok: false }),
      step({ id: 4, agent: 'fixer', kind: 'tool', tool: 'web_search', name: 'web_search', inputs: [2, 3] }),
      step({ id: 5, agent: 'writer', name: 'answer', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(3));
    const m = (n: number) => out.messages.find((x) => x.step.stepId === sid(n))!;
    expect(m(4).failureRole).toBe('repair');
    // its agent's only other message is before t*: the bonus has nowhere to come from (centred to 0),
    // and the repair's reward is positive through the credit its useful work earned
    expect(m(4).components.repair).toBe(0);
    expect(m(4).reward).toBeGreaterThan(0);
    // t* carries its blame (its agent's other message is before t* too)
    expect(m(3).reward).toBe(Math.min(...out.messages.map((x) => x.reward)));
    expect(m(3).reward).toBeLessThan(0);
    for (const before of [1, 2]) {
      expect(m(before).failureRole).toBe('before-error');
      expect(m(before).components.blame).toBe(0);
    }
    expect(m(1).components.repair).toBe(0); // the repairing agent's earlier step
    expect(m(2).components.repair).toBe(0.5); // t*'s agent: its blame's counterpart, within the agent
    for (const a of out.agents) {
      const mine = out.messages.filter((x) => x.step.agentId === a.agentId);
      expect(Math.abs(sum(mine.map((x) => x.reward)) - a.credit)).toBeLessThan(1e-9);
    }
  });

  it('blames dependent steps with decay and not the steps before the error', async () => {
    const steps = [
      step({ id: 1, agent: 'a' }),
      step({ id: 2, agent: 'b', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'b', inputs: [2] }),
      step({ id: 4, agent: 'b', inputs: [3] }),
      step({ id: 5, agent: 'b', name: 'other' }),
      step({ id: 6, agent: 'c', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0), {});
    const role = (n: number) => out.messages.find((m) => m.step.stepId === sid(n))!;
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(role(1).failureRole).toBe('before-error');
    expect(role(1).components.blame).toBe(0);
    expect(role(3).failureRole).toBe('dependent');
    expect(role(4).failureRole).toBe('dependent');
    expect(role(3).components.blame).toBeLessThan(role(4).components.blame); // distance 1 blamed more than distance 2
    expect(out.pairs).toHaveLength(1);
    expect(out.pairs[0]!.rejectedOnly).toBe(true); // no corrective attempt
  });

  it('localizes by prefix-value drop and reports concurrent ties', () => {
    const steps = [step({ id: 1, agent: 'a' }), step({ id: 2, agent: 'b', inputs: [1] }), step({ id: 3, agent: 'c', inputs: [1] }), step({ id: 4, agent: 'a', inputs: [2, 3] })];
    const g = buildCausalGraph(steps);
    const fe = firstErrorStep(g, { prefixScores: [0.5, 0.8, 0.3, 0.35] });
    expect(fe?.stepId).toBe(sid(3));
    expect(fe?.evidence[0]).toMatch(/prefix value drop 0\.80→0\.30/);
    const concurrent = [step({ id: 1, agent: 'a' }), step({ id: 2, agent: 'b', inputs: [1], ok: false, t: 2 }), step({ id: 3, agent: 'c', inputs: [1], flagged: true, t: 2 })];
    const fe2 = firstErrorStep(concurrent); // steps directly: the graph is built
    expect(fe2?.stepId).toBe(sid(2));
    expect(fe2?.ties).toEqual([sid(3)]);
  });

  it('uses a prefix scorer: the drop localizes the error, the recovery marks the repair', async () => {
    const steps = [1, 2, 3, 4, 5].map((id) => step({ id, agent: id % 2 ? 'a' : 'b', inputs: id > 1 ? [id - 1] : [], name: `turn ${id}` }));
    const seen: number[] = [];
    const out = await creditEpisode(episode(steps, 0.1), {
      prefixScorer: (messages) => {
        seen.push(messages.length);
        return [0.3, 0.6, 0.1, 0.15, 0.7];
      },
    });
    expect(seen).toEqual([5]);
    expect(out.firstError?.stepId).toBe(sid(3));
    expect(out.firstError?.evidence).toEqual(['prefix value drop 0.60→0.10']);
    const byId = (n: number) => out.messages.find((m) => m.step.stepId === sid(n))!;
    expect(byId(5).failureRole).toBe('repair');
    expect(byId(4).failureRole).toBe('dependent');
    expect(byId(5).reward).toBeGreaterThan(byId(3).reward);
    expect(out.pairs[0]).toMatchObject({ rejectedOnly: false });
    expect(out.pairs[0]!.chosen?.stepId).toBe(sid(5));
    expect(out.pairs[0]!.reason).toMatch(/prefix value recovers/);
  });

  it('a prefix value that never fell does not recover: a failed step the scorer did not mark has no prefix-recovery repair; a later drop recovers where the value comes back', async () => {
    const steps = [
      step({ id: 1, agent: 'a', name: 'plan' }),
      step({ id: 2, agent: 'a', kind: 'tool', tool: 'search', name: 'search', inputs: [1], ok: false }),
      step({ id: 3, agent: 'a', name: 'think', inputs: [2] }),
      step({ id: 4, agent: 'b', name: 'answer', inputs: [3] }),
    ];
    const held = await creditEpisode(episode(steps, 0.1), { prefixScorer: () => [0.5, 0.5, 0.5, 0.5] });
    expect(held.firstError).toMatchObject({ stepId: sid(2), evidence: ['status=error: boom'] });
    const role = (out: typeof held, n: number) => out.messages.find((m) => m.step.stepId === sid(n))!;
    // the call that read the error fixed nothing: a dependent, not a repair with a pair against t*
    expect(role(held, 3).failureRole).toBe('dependent');
    expect(role(held, 3).components.repair).toBe(0);
    expect(role(held, 4).failureRole).toBe('dependent');
    expect(held.pairs).toHaveLength(1);
    expect(held.pairs[0]).toMatchObject({ rejectedOnly: true });
    // the value holds after t*, falls at 3 and comes back at 4: 4 is the recovery
    const later = await creditEpisode(episode(steps, 0.1), { prefixScorer: () => [0.5, 0.5, 0.1, 0.6] });
    expect(role(later, 3).failureRole).toBe('dependent');
    expect(role(later, 4).failureRole).toBe('repair');
    expect(later.pairs[0]).toMatchObject({ rejectedOnly: true }); // 4 is another agent's
  });

  it('falls back to the failed output when nothing is marked erroneous, and says so', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 0), {});
    expect(out.firstError?.stepId).toBe(sid(7));
    expect(out.firstError?.evidence[0]).toMatch(/failed output/);
  });

  it('a first error located by a prefix-value drop is harmful in the provenance game (its single-message agent is blamed through its credit); the failed-output guess is not, and keeps its blame when its agent has earlier messages', async () => {
    // a prefix-value drop at an agent's only message
    const steps = [step({ id: 1, agent: 'a', name: 'plan' }), step({ id: 2, agent: 'b', name: 'analyse', inputs: [1] }), step({ id: 3, agent: 'a', name: 'answer', inputs: [2] })];
    const out = await creditEpisode(episode(steps, 0.1), { prefixScorer: () => [0.5, 0.1, 0.1] });
    expect(out.firstError?.evidence).toEqual(['prefix value drop 0.50→0.10']);
    expect(out.provenance?.roles.get(sid(2))).toBe('harmful');
    const b = out.messages.find((m) => m.step.stepId === sid(2))!;
    expect(b.reward).toBeLessThan(0);
    expect(b.reward).toBe(Math.min(...out.messages.map((m) => m.reward)));
    // the failed-output guess: not a harm term (credit stays monotone in R), but blamed by transfer
    const guess = await creditEpisode(episode(steps, 0.2), {});
    expect(guess.firstError).toMatchObject({ stepId: sid(3), evidence: ['failed output (no earlier error evidence)'] });
    expect(guess.provenance?.roles.get(sid(3))).toBe('useful');
    const star = guess.messages.find((m) => m.step.stepId === sid(3))!;
    expect(star.components.blame).toBeLessThan(0);
    expect(star.reward).toBe(Math.min(...guess.messages.map((m) => m.reward)));
    const success = await creditEpisode(episode(steps, 0.6), {});
    for (const a of success.agents) expect(guess.agents.find((x) => x.agentId === a.agentId)!.credit).toBeLessThanOrEqual(a.credit + 1e-12);
  });
});

describe('creditEpisode: pluggable and failing games', () => {
  const steps = threeAgentSteps();

  it('accepts a game factory and anchors v(N), v(∅) to R and b', async () => {
    const weights: Record<string, number> = { planner: 0.2, researcher: 0.5, writer: 0.3 };
    const out = await creditEpisode(episode(steps, 0.8), {
      gameFactory: (_input, ctx) => ({
        kind: 'module',
        agentGame: { id: 'additive', players: ctx.agentIds, value: (c) => ctx.agentIds.reduce((a, id, i) => a + (c[i] ? weights[id]! : 0), 0) } satisfies Game,
      }),
    });
    expect(out.game.kind).toBe('module');
    expect(out.estimator.name).toBe('exact');
    expect(Math.abs(sum(out.agents.map((a) => a.credit)) - 0.8)).toBeLessThan(1e-9);
    expect(out.warnings).toContain('no message game: δ_m = 0 for every message (equal split of agent credit, a failed or flagged step held below 0; in a config file credit.judge.players or credit.module.players: messages asks the value function per message)');
  });

  // its timer never ran: the run's promises settle in microtasks, so 256 × 10 ms went on to the end, `exact`
  it('stops a value function that computes synchronously (declared async or not) at timeoutMs, partial, by the clock', async () => {
    const players = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    // The clock the deadline is read on (performance.now) moves 10 ms per evaluation and only then:
    // "stopped at 300 ms" is a count of evaluations, not a wall-clock time that a loaded machine
    // stretches (it was timed against 1.5 s, busy-waiting 10 ms per evaluation). The deadline's
    // timer stays real: the run settles in microtasks, so it cannot fire — as with a real module.
    let clockMs = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    try {
      for (const declaredAsync of [true, false]) {
        let evaluations = 0;
        const busy = (c: Uint8Array) => {
          evaluations++;
          clockMs += 10;
          return c.reduce((a, x) => a + x, 0) / 8;
        };
        const out = await creditEpisode(episode(steps, 0.8), {
          timeoutMs: 300,
          gameFactory: () => ({ kind: 'module', agentGame: { id: 'busy', players, value: declaredAsync ? async (c: Uint8Array) => busy(c) : busy } }),
        });
        // 30 evaluations took the 300 ms; the 31st found the deadline passed (without the clock check: all 256)
        expect(evaluations, declaredAsync ? 'declared async' : 'synchronous').toBe(30);
        expect(out.estimator.status).toBe('partial');
        expect(out.warnings.join('\n')).toMatch(/timeoutMs \(credit\.timeoutMs: 300 ms\) ran out/);
      }
    } finally {
      clock.mockRestore();
    }
  });

  // a judge answering 0–100 while R is normalized: credits of ±tens, status exact, and only "exceeds the reward bound" warnings
  it('says when the value function answers off the scale R is on (anchored v(N) = R, v(∅) = b): the credits mix two scales', async () => {
    const weights: Record<string, number> = { planner: 20, researcher: 50, writer: 30 };
    const judge100 = (_input: unknown, ctx: { agentIds: readonly string[] }) => ({
      kind: 'http' as const,
      agentGame: { id: 'judge-0-100', players: ctx.agentIds, value: async (c: Uint8Array) => ctx.agentIds.reduce((a, id, i) => a + (c[i] ? weights[id]! : 0), 0) } satisfies Game,
    });
    const out = await creditEpisode(episode(steps, 0.8), { gameFactory: judge100 });
    const off = out.warnings.filter((w) => /outside the score's scale/.test(w));
    expect(off).toEqual([
      "the value function answered 6 value(s) outside the score's scale [0, 1] (first: 20 for a coalition of 1 of 3 players), while v(N) = R and v(∅) = b are on it (R = 0.8 is the verdict mapped to [0, 1] from credit.normalization.task_success [0, 1]): these credits mix two scales and are not meaningful — make the judge or module answer on that scale",
    ]);
    // normalize: false — R is the raw score, the scale the evaluation's range
    const raw = await creditEpisode(episode(steps, 80), { gameFactory: judge100, normalize: false, normalization: { task_success: { min: 0, max: 10 } } });
    expect(raw.warnings.find((w) => /outside the score's scale/.test(w))).toMatch(/^the value function answered 6 value\(s\) outside the score's scale \[0, 10\] \(first: 20 for .*R = 10 is the raw score on credit\.normalization\.task_success\)/);
    // on the scale (and a rounding error past its end): no such warning
    const fine = await creditEpisode(episode(steps, 0.8), { gameFactory: (_i, ctx) => ({ agentGame: { id: 'fine', players: ctx.agentIds, value: (c) => (c[0] ? 1 + 1e-12 : 0.3) } }) });
    expect(fine.warnings.filter((w) => /outside the score's scale/.test(w))).toEqual([]);
  });

  it('without a message game (δ_m not measured) a failed step of a positively credited agent still gets a negative reward, its share going to the agent\'s other messages — unmeasured is not redundant', async () => {
    // a judge scoring agents only (credit.judge.players: agents): every δ_m is 0 because none was measured
    const out = await creditEpisode(episode(threeAgentSteps({ toolFails: true }), 0.9), {
      gameFactory: (_i, ctx) => ({ kind: 'module', agentGame: { id: 'flat', players: ctx.agentIds, value: (c) => 0.3 * c.reduce((a, b) => a + b, 0) } }),
    });
    expect(out.outcome).toBe('success');
    expect(out.game.messageEffects).toBe('none');
    const r = (n: number) => out.messages.find((m) => m.step.stepId === sid(n))!;
    expect(r(3).step.status.ok).toBe(false);
    expect(r(3).reward).toBeLessThan(0); // +0.075, the researcher's equal share, without the fix
    for (const n of [2, 4, 5]) expect(r(n).reward).toBeCloseTo(0.1, 9);
    expect(Math.abs(sum(out.messages.filter((m) => m.step.agentId === 'researcher').map((m) => m.reward)) - 0.3)).toBeLessThan(1e-9);
    // its other messages are not redundant: no 'cannot sign … all its messages are harmful or redundant'
    expect(out.warnings.filter((w) => /cannot sign/.test(w))).toEqual([]);
    // agents without a failed step keep the equal split
    expect(r(1).reward).toBeCloseTo(0.15, 12);
    expect(r(6).reward).toBeCloseTo(0.15, 12);
  });

  it('samples each episode with its own seed (the seed mixed with the episode id): errors do not repeat across episodes, the same episode gives the same estimate', async () => {
    // a game where sampling error is visible: a unanimity of 2 of 3 agents, estimated by permutation sampling
    const options = {
      gameFactory: (_i: unknown, ctx: { agentIds: readonly string[] }) => ({ agentGame: { id: 'glove', players: ctx.agentIds, value: (c: Uint8Array) => (c[0] && (c[1] || c[2]) ? 0.8 : 0) } satisfies Game }),
      estimator: 'permutation' as const,
      budget: 7, // below 2^3: a run that sees every coalition is exact, the same for every seed
      seed: 7,
    };
    const credits = async (episodeId: string) => (await creditEpisode({ ...episode(steps, 0.8), episodeId }, options as never)).agents.map((a) => a.credit);
    const a = await credits('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(await credits('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toEqual(a);
    const others = await Promise.all(['b', 'c', 'd', 'e', 'f'].map((x) => credits(x.repeat(32))));
    expect(others.some((o) => o.some((v, i) => v !== a[i]))).toBe(true);
  });

  it('selects each sampling estimator by name (credit.estimator); on an additive game they recover the weights', async () => {
    const weights: Record<string, number> = { planner: 0.2, researcher: 0.5, writer: 0.1 };
    const factory = (_input: unknown, ctx: { agentIds: readonly string[] }) => ({
      kind: 'module' as const,
      agentGame: { id: 'additive-2', players: ctx.agentIds, value: (c: Uint8Array) => ctx.agentIds.reduce((a, id, i) => a + (c[i] ? weights[id]! : 0), 0) } satisfies Game,
    });
    const names: Record<string, RegExp> = { permutation: /^permutation/, kernel: /kernel/, 'regression-adjusted': /^regression-adjusted-msr$/, svarm: /^svarm$/ };
    for (const estimator of ['permutation', 'kernel', 'regression-adjusted', 'svarm'] as const) {
      const out = await creditEpisode(episode(steps, 0.8), { gameFactory: factory as never, estimator, budget: 400, seed: 7 });
      expect(out.estimator.name).toMatch(names[estimator]!);
      expect(Math.abs(sum(out.agents.map((a) => a.credit)) - 0.8)).toBeLessThan(1e-9);
      // Permutation marginals, the kernel regression and SVARM (3 agents: its exact strata are the
      // whole game) are exact on an additive game; the regression-adjusted estimator's first
      // samples use the equal-split surrogate (unbiased, not exact).
      const tolerance = estimator === 'regression-adjusted' ? 0.05 : 1e-6;
      for (const a of out.agents) expect(Math.abs(a.credit - weights[a.agentId]!)).toBeLessThan(tolerance);
    }
  });

  it("uses a message game's leaveOneOut() when well-formed, and evaluates coalitions when it is not", async () => {
    const msgIds = steps.filter((s) => s.rewardable).map((s) => s.stepId);
    const w = new Map(msgIds.map((id, i) => [id, 0.05 * (i + 1)] as const));
    const run = async (loo: () => number[]) => {
      let evaluations = 0;
      const messageGame: Game = {
        id: 'additive-messages',
        players: msgIds,
        value: (c) => {
          evaluations++;
          return msgIds.reduce((a, id, i) => a + (c[i] ? w.get(id)! : 0), 0);
        },
        leaveOneOut: loo,
      };
      const out = await creditEpisode(episode(steps, 0.8), {
        anchor: false,
        gameFactory: (_i, ctx) => ({ agentGame: { id: 'flat', players: ctx.agentIds, value: (c) => (c.every(Boolean) ? 0.8 : 0) }, messageGame }),
      });
      return { out, evaluations };
    };
    const good = await run(() => msgIds.map((id) => w.get(id)!));
    expect(good.evaluations).toBe(0);
    for (const m of good.out.messages) expect(m.delta).toBeCloseTo(w.get(m.step.stepId)!, 12);
    const bad = await run(() => [1, 2]);
    expect(bad.evaluations).toBeGreaterThan(msgIds.length);
    expect(bad.out.warnings.some((x) => /leaveOneOut\(\) returned 2 values/.test(x))).toBe(true);
    for (const m of bad.out.messages) expect(m.delta).toBeCloseTo(w.get(m.step.stepId)!, 12);
    // The event says how δ_m were obtained, so a trainer can tell an equal split from a measured one.
    expect(good.out.game.messageEffects).toBe('closed-form');
    expect(bad.out.game.messageEffects).toBe('leave-one-out');
    expect(outcomeToEvents(bad.out, { emittedAtMs: 0 }).episode.game.message_effects).toBe('leave-one-out');
    const failing = await run(() => {
      throw new Error('judge down');
    });
    expect(failing.out.game.messageEffects).toBe('none');
    expect(failing.out.warnings.some((x) => /message game failed \(.*judge down.*\): δ_m = 0/.test(x))).toBe(true);
    for (const m of failing.out.messages) expect(m.delta).toBe(0);
    const shapley = await creditEpisode(episode(steps, 0.8), { messageDelta: 'shapley' });
    expect(shapley.game.messageEffects).toBe('shapley');
  });

  it('maps credit by player id when the factory orders players differently', async () => {
    const weights: Record<string, number> = { planner: 0.1, researcher: 0.2, writer: 0.5 };
    const players = ['writer', 'planner', 'researcher'];
    const out = await creditEpisode(episode(steps, 0.8), {
      gameFactory: () => ({ agentGame: { id: 'reordered', players, value: (c) => players.reduce((a, id, i) => a + (c[i] ? weights[id]! : 0), 0) } }),
    });
    // the weights sum to R = 0.8, so anchoring changes nothing: additive game, φ = weights
    expect(out.agents.find((a) => a.agentId === 'writer')!.credit).toBeCloseTo(0.5, 12);
    expect(out.agents.find((a) => a.agentId === 'planner')!.credit).toBeCloseTo(0.1, 12);
  });

  it('a factory game that names one player twice falls back to the provenance game with a warning naming the player (credit is mapped back by name: one of the two credits was dropped and the credits did not sum to R)', async () => {
    const players = ['planner', 'researcher', 'writer', 'planner'];
    const out = await creditEpisode(episode(steps, 0.8), {
      gameFactory: () => ({ kind: 'module', agentGame: { id: 'dup', players, value: (c) => 0.2 * c.reduce((a, b) => a + b, 0) } }),
    });
    expect(out.game.kind).toBe('provenance');
    expect(out.warnings.some((w) => /^gameFactory failed \(.*game dup: player "planner" appears twice in players \(indices 0 and 3\).*\); falling back to the provenance game$/.test(w))).toBe(true);
    expect(sum(out.agents.map((a) => a.credit))).toBeCloseTo(0.8, 12);
    // a message game too
    const messages = await creditEpisode(episode(steps, 0.8), {
      gameFactory: (_i, ctx) => ({ agentGame: { id: 'ok', players: ctx.agentIds, value: (c) => 0.8 * Math.min(1, c.reduce((a, b) => a + b, 0)) }, messageGame: { id: 'mdup', players: [ctx.messages[0]!.stepId, ctx.messages[0]!.stepId], value: () => 0 } }),
    });
    expect(messages.game.kind).toBe('provenance');
    expect(messages.warnings.some((w) => /^gameFactory failed \(.*game mdup: player ".+" appears twice in players \(indices 0 and 1\)/.test(w))).toBe(true);
  });

  it('turns a throwing game into a partial, flagged, finite result', async () => {
    const out = await creditEpisode(episode(steps, 0.8), {
      gameFactory: (_i, ctx) => ({ agentGame: { id: 'broken', players: ctx.agentIds, value: () => Promise.reject(new Error('judge 503')) } }),
    });
    expect(out.estimator.status).toBe('partial');
    expect(out.estimator.note).toMatch(/judge 503/);
    for (const a of out.agents) expect(Number.isFinite(a.credit) && Number.isFinite(a.ciLow) && Number.isFinite(a.ciHigh)).toBe(true);
    expect(Math.abs(sum(out.messages.map((m) => m.reward)) - 0.8)).toBeLessThan(1e-9);
    const events = outcomeToEvents(out, { emittedAtMs: 5 });
    EpisodeCreditSchema.parse(events.episode);
    expect(events.episode.estimator.status).toBe('partial');
  });

  it('turns a slow game into a partial result at the timeout', async () => {
    const t0 = Date.now();
    const out = await creditEpisode(episode(steps, 0.8), {
      timeoutMs: 100,
      gameFactory: (_i, ctx) => ({ agentGame: { id: 'slow', players: ctx.agentIds, value: () => new Promise<number>((r) => setTimeout(() => r(0.5), 10_000).unref()) } }),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out.estimator.status).toBe('partial');
    expect(out.estimator.note).toMatch(/abort/i);
    // the note named no limit: "estimation aborted: The operation was aborted due to timeout"
    expect(out.estimator.note).toContain('timeoutMs (credit.timeoutMs: 100 ms) ran out while waiting for the value function');
  });
});

describe('creditEpisode: degenerate inputs', () => {
  // Every step failed, so no message is useful and the harm terms' offset has nowhere to go (the
  // downstream review: a1's single failed step, the first error, got +0.083 and every δ_m was +0.75).
  const allFailing = () => [
    step({ id: 1, agent: 'a1', ok: false }),
    step({ id: 2, agent: 'a2', inputs: [1], ok: false }),
    step({ id: 3, agent: 'a3', inputs: [2], ok: false }),
    step({ id: 4, agent: 'a3', inputs: [3], ok: false }),
  ];

  it('a run where every step failed: no agent gains for failing less often, the first error is not rewarded', async () => {
    const out = await creditEpisode(episode(allFailing(), 0), {});
    expect(out.outcome).toBe('failure');
    expect(out.provenance?.fallbackSplit).toBe(true);
    for (const a of out.agents) expect(Math.abs(a.credit)).toBeLessThan(1e-12); // Δ = 0, split by message count
    for (const m of out.messages) expect(Math.abs(m.delta)).toBeLessThan(1e-12); // Δ/q, not Δ + q·h − h
    const first = out.messages.find((m) => m.step.stepId === out.firstError?.stepId)!;
    expect(first.step.stepId).toBe(sid(1));
    expect(first.reward).toBeLessThanOrEqual(0);
    const pair = out.pairs.find((p) => p.rejected.stepId === sid(1))!;
    expect(pair.rejectedOnly).toBe(true);
    expect(pair.margin).toBeGreaterThanOrEqual(0);
  });

  it('a rejected-only first error whose reward is not negative has margin 0, not |reward|', async () => {
    // every step failed but the run scored above the baseline: Δ = 0.3 > 0 is shared by failed steps
    const out = await creditEpisode(episode(allFailing(), 0.3), {});
    expect(out.outcome).toBe('failure');
    const first = out.messages.find((m) => m.step.stepId === sid(1))!;
    expect(first.reward).toBeGreaterThan(0);
    expect(out.pairs.find((p) => p.rejected.stepId === sid(1))!.margin).toBe(0);
  });

  it('a run where every step failed and the score is below the baseline: every agent pays in proportion to its failed steps', async () => {
    const out = await creditEpisode(episode(allFailing(), 0), { baseline: 0.4 });
    const credit = (a: string) => out.agents.find((x) => x.agentId === a)!.credit;
    expect(credit('a1')).toBeCloseTo(-0.1, 12);
    expect(credit('a2')).toBeCloseTo(-0.1, 12);
    expect(credit('a3')).toBeCloseTo(-0.2, 12);
    const first = out.messages.find((m) => m.step.stepId === sid(1))!;
    expect(first.delta).toBeCloseTo(-0.1, 12);
    expect(first.reward).toBeLessThan(0);
    expect(out.pairs.find((p) => p.rejected.stepId === sid(1))!.margin).toBeCloseTo(-first.reward, 12);
  });

  it('throws a typed error without an evaluation or with a non-finite score', async () => {
    await expect(creditEpisode(episode(threeAgentSteps(), undefined), {})).rejects.toMatchObject({ name: 'DegenerateEpisodeError', reason: 'no-evaluation' });
    await expect(creditEpisode(episode(threeAgentSteps(), Number.NaN), {})).rejects.toBeInstanceOf(DegenerateEpisodeError);
    await expect(creditEpisode(episode(threeAgentSteps(), Number.POSITIVE_INFINITY), {})).rejects.toMatchObject({ reason: 'non-finite-score' });
  });

  it('a score that contradicts its label: the score decides, a warning says so, and the event keeps the raw score', async () => {
    const input = episode(threeAgentSteps(), undefined, { evaluation: { name: 'task_success', score: 5, label: 'fail', source: 'log-event', timeUnixNano: 0n } });
    const out = await creditEpisode(input, {});
    expect(out.outcome).toBe('success');
    expect(out.evaluation.rawScore).toBe(5);
    expect(out.warnings.some((w) => w.includes('label "fail" says failure') && w.includes('the score decides'))).toBe(true);
    const ev = outcomeToEvents(out, { emittedAtMs: 1 }).episode;
    EpisodeCreditSchema.parse(ev);
    expect(ev.evaluation).toMatchObject({ score: 1, raw_score: 5, label: 'fail' });
    const agreeing = await creditEpisode(episode(threeAgentSteps(), undefined, { evaluation: { name: 'task_success', score: 0.9, label: 'pass', source: 'log-event', timeUnixNano: 0n } }), {});
    expect(agreeing.warnings.some((w) => w.includes('the score decides'))).toBe(false);
  });

  it('maps label-only evaluations and rejects unknown labels naming the option', async () => {
    const input = episode(threeAgentSteps(), undefined, { evaluation: { name: 'task_success', label: 'pass', source: 'log-event', timeUnixNano: 0n } });
    expect((await creditEpisode(input, {})).systemValue).toBe(1);
    const bad = episode(threeAgentSteps(), undefined, { evaluation: { name: 'task_success', label: 'meh', source: 'log-event', timeUnixNano: 0n } });
    await expect(creditEpisode(bad, {})).rejects.toThrow(/labelScores/);
  });

  it("a DegenerateEpisodeError's reason is one creditEpisode (or processEpisode: no-agents) can give: a bad normalization range is refused with the options, not per episode (the type listed 'invalid-normalization', which nothing threw)", async () => {
    // checked by `npm run typecheck` (expectTypeOf), as test/package/entry-types.test.ts does
    expectTypeOf<DegenerateReason>().toEqualTypeOf<'no-evaluation' | 'non-finite-score' | 'unknown-label' | 'no-agents'>();
    for (const range of [{ min: 1, max: 1 }, { min: 10, max: 0 }, { min: 0, max: Number.POSITIVE_INFINITY }]) {
      await expect(creditEpisode(episode(threeAgentSteps(), 0.5), { normalization: { task_success: range } })).rejects.toThrow(CreditOptionsError);
    }
  });

  it('normalizes raw scores per evaluation name and clamps out-of-range scores with a warning', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 7), { normalization: { task_success: { min: 0, max: 10 } } });
    expect(out.systemValue).toBeCloseTo(0.7, 12);
    const clamped = await creditEpisode(episode(threeAgentSteps(), 1.4), {});
    expect(clamped.systemValue).toBe(1);
    expect(clamped.warnings.some((w) => w.includes('clamped'))).toBe(true);
  });

  it('gives an empty episode a documented empty result', async () => {
    const out = await creditEpisode(episode([], 1), {});
    expect(out.agents).toEqual([]);
    expect(out.messages).toEqual([]);
    expect(out.warnings[0]).toMatch(/empty episode/);
    EpisodeCreditSchema.parse(outcomeToEvents(out, { emittedAtMs: 0 }).episode);
  });

  it('reports the removal protocol the game applied: the provenance game masks, whatever the option says (with a warning)', async () => {
    const out = await creditEpisode(episode(threeAgentSteps(), 0.9), { removalProtocol: 'null' });
    expect(out.game).toEqual({ kind: 'provenance', removalProtocol: 'mask', players: 'agents', messageEffects: 'closed-form' });
    expect(out.warnings).toContain("removalProtocol 'null' does not apply to the provenance game, which masks: reported as mask");
    const judged = await creditEpisode(episode(threeAgentSteps(), 0.9), { removalProtocol: 'mask', gameFactory: (_i, ctx) => ({ agentGame: { id: 'g', players: ctx.agentIds, value: (s: Uint8Array) => s.reduce((a, b) => a + b, 0) / s.length }, kind: 'http', removalProtocol: 'replay' }) });
    expect(judged.game).toEqual({ kind: 'http', removalProtocol: 'replay', players: 'agents', messageEffects: 'none' });
  });

  it('gives a single agent all of R − b', async () => {
    const out = await creditEpisode(episode([step({ id: 1, agent: 'solo' }), step({ id: 2, agent: 'solo', inputs: [1] })], 0.7), {});
    expect(out.agents).toHaveLength(1);
    expect(out.agents[0]!.credit).toBeCloseTo(0.7, 12);
    expect(sum(out.messages.map((m) => m.reward))).toBeCloseTo(0.7, 12);
  });

  it('carries warnings of earlier stages into the outcome', async () => {
    const out = await creditEpisode({ ...episode(threeAgentSteps(), 0.9), warnings: ['conventions: 1 forward link dropped'] }, {});
    expect(out.warnings[0]).toBe('conventions: 1 forward link dropped');
  });

  it('ignores duplicate step ids with a warning', async () => {
    const steps = threeAgentSteps();
    const out = await creditEpisode(episode([...steps, steps[1]!], 0.9), {});
    expect(out.messages).toHaveLength(steps.length);
    expect(out.warnings).toContain('1 duplicate step ids ignored (first occurrence kept)');
  });

  it('ignores repeated agent ids with a warning, after the one for repeated step ids, and credits each agent once', async () => {
    const steps = threeAgentSteps();
    const input = episode([...steps, steps[1]!], 0.9);
    const repeated = { ...input, agents: [...input.agents, { ...input.agents[0]!, agentName: 'again' }, input.agents[1]!] };
    const out = await creditEpisode(repeated, {});
    expect(out.agents.map((a) => a.agentId)).toEqual(input.agents.map((a) => a.agentId));
    expect(out.agents[0]!.agentName).toBe(input.agents[0]!.agentName); // the first occurrence
    const at = (w: string) => out.warnings.indexOf(w);
    expect(at('1 duplicate step ids ignored (first occurrence kept)')).toBeGreaterThanOrEqual(0);
    expect(at('2 duplicate agent ids ignored (first occurrence kept)')).toBeGreaterThan(at('1 duplicate step ids ignored (first occurrence kept)'));
  });
});
