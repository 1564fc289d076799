/**
 * A flagged step (a failing step-level verdict: a bad answer, ok status) is not redone by the next
 * calls of its own agent that have its answer in their history. The GenAI loop links each LLM call
 * to the previous step of its agent invocation only (chat → execute_tool → chat, or chat → chat),
 * so the call after the flagged one read it through the tool it issued or through the call in
 * between — and, named `chat {model}` as the flagged call is, counted as its "successful redo":
 * a repair with a preference pair (chosen = a call that built on the bad answer), the step that
 * carried the answer on a critic, and the error's consequences unblamed.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Evaluation } from '../../src/model/agents.js';
import { episode, sid, step } from './episode-builder.js';
import { failedGeneratedRun } from './failed-run.js';

const roleOf = (out: Awaited<ReturnType<typeof creditEpisode>>, id: number) => out.messages.find((m) => m.step.stepId === sid(id))!.failureRole;

describe('a flagged answer built on by its own agent is not redone by it', () => {
  it('chat → chat → chat: the calls after the flagged one are dependents, and the pair is rejected-only', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [2] }),
      step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [3] }),
      step({ id: 5, agent: 'reviewer', name: 'chat gpt-4o', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    for (const id of [3, 4, 5]) expect(roleOf(out, id)).toBe('dependent');
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejectedOnly])).toEqual([[undefined, true]]);
    expect(out.pairs[0]!.reason).toMatch(/no corrective attempt found/);
  });

  it('chat → execute_tool → chat: the tool ran the flagged call, the next call read its result', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [2] }),
      step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [3] }),
      step({ id: 5, agent: 'reviewer', name: 'chat gpt-4o', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    for (const id of [3, 4, 5]) expect(roleOf(out, id)).toBe('dependent');
    expect(out.pairs.every((p) => p.rejectedOnly)).toBe(true);
  });

  it('a call of the agent that also reads another agent’s objection to the error is still its redo', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', kind: 'handoff', name: 'agent_handoff coder', inputs: [2] }),
      step({ id: 4, agent: 'reviewer', name: 'chat gpt-4o', inputs: [3] }),
      step({ id: 5, agent: 'coder', name: 'chat gpt-4o', inputs: [3, 4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(roleOf(out, 5)).toBe('repair');
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(5), sid(2)]]);
  });

  it('through hand-offs: the reviewer who objected is the critic, not the coder’s hand-off that passed the bad answer on', async () => {
    const steps = [
      step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', kind: 'handoff', name: 'agent_handoff coder', inputs: [2] }),
      step({ id: 4, agent: 'reviewer', name: 'chat gpt-4o', inputs: [3] }),
      step({ id: 5, agent: 'reviewer', kind: 'handoff', name: 'agent_handoff reviewer', inputs: [4] }),
      step({ id: 6, agent: 'coder', name: 'chat gpt-4o', inputs: [5] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(roleOf(out, 6)).toBe('repair');
    expect(roleOf(out, 4)).toBe('critic');
    expect(roleOf(out, 3)).toBe('dependent');
    expect(out.messages.find((m) => m.step.stepId === sid(3))!.components.repair).toBe(0);
  });

  it('a failed tool call retried by the same agent is still repaired (the retry reads the error through the call that issued it)', async () => {
    const steps = [
      step({ id: 1, agent: 'coder', name: 'chat gpt-4o' }),
      step({ id: 2, agent: 'coder', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [1], flagged: true }),
      step({ id: 3, agent: 'coder', name: 'chat gpt-4o', inputs: [2] }),
      step({ id: 4, agent: 'coder', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs: [3] }),
      step({ id: 5, agent: 'coder', name: 'chat gpt-4o', inputs: [4] }),
    ];
    const out = await creditEpisode(episode(steps, 0.2), {});
    expect(roleOf(out, 4)).toBe('repair');
    expect(roleOf(out, 3)).toBe('critic');
  });
});

/** A generated run (real OTel JS SDK spans) judged as failed, with a failing step verdict on the coder's first LLM call. */
async function flaggedCoderCall(convention: 'genai' | 'openinference' | 'openllmetry'): Promise<{ events: CreditEvent[]; flagged: string }> {
  const { traceId, judge } = await failedGeneratedRun(convention);
  const before = await judge([]);
  const first = before.find((e) => e.event_type === 'message_reward' && e.agent_name === 'coder' && e.kind === 'llm');
  const flagged = first?.event_type === 'message_reward' ? first.step_id : '';
  const verdict: Evaluation = { name: 'code_review', score: 0, label: 'fail', traceId, spanId: flagged, source: 'evaluations-stream', timeUnixNano: 1n };
  return { events: await judge([verdict]), flagged };
}

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a generated run with a flagged LLM call, judged as failed (%s)', (convention) => {
  it('the coder’s later calls are no repair of it, and its pair is rejected-only', async () => {
    const { events, flagged } = await flaggedCoderCall(convention);
    const episodeEvent = events.find((e) => e.event_type === 'episode_credit')!;
    expect(episodeEvent.event_type === 'episode_credit' && episodeEvent.first_error?.step_id).toBe(flagged);
    const rewards = events.filter((e) => e.event_type === 'message_reward');
    expect(rewards.filter((r) => r.failure_role === 'repair' || r.failure_role === 'critic').map((r) => r.step_id)).toEqual([]);
    const pairs = events.filter((e) => e.event_type === 'preference_pair');
    expect(pairs.map((p) => p.rejected_only)).toEqual([true]);
  });
});
