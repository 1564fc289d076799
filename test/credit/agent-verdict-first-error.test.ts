/**
 * A failing verdict on an agent invocation (the `invoke_agent` span, an AGENT span: what per-agent
 * evaluators score — the GenAI evaluation event names the operation span it evaluated) flagged a
 * step that is no message, and first-error localization walks messages only: the verdict was
 * dropped without a word, and a failed run's first error fell back to the last agent's output —
 * blaming the reviewer for the coder's turn the evaluator had failed.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, sid, step } from './episode-builder.js';
import { failedGeneratedRun } from './failed-run.js';

describe('a failing verdict on an agent invocation', () => {
  const steps = (flagged: boolean) => [
    step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
    step({ id: 2, agent: 'coder', kind: 'agent', name: 'invoke_agent coder', rewardable: false, flagged, t: 2 }),
    step({ id: 3, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [1], t: 3 }),
    step({ id: 4, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [3], t: 4 }),
    step({ id: 5, agent: 'coder', kind: 'handoff', name: 'agent_handoff coder', parent: 2, inputs: [4], t: 5 }),
    step({ id: 6, agent: 'reviewer', name: 'chat gpt-4o', inputs: [5], t: 6 }),
  ];

  it('makes its last LLM call the first error of a failed run, and says why', async () => {
    const out = await creditEpisode(episode(steps(true), 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(4));
    expect(out.firstError?.evidence.join('; ')).toMatch(/evaluator flag on agent invocation "invoke_agent coder"/);
    expect(out.pairs.map((p) => [p.rejected.stepId, p.agentId])).toEqual([[sid(4), 'coder']]);
    expect(out.messages.find((m) => m.step.stepId === sid(4))!.reward).toBeLessThan(0);
  });

  it('without the verdict the failed output is the last resort, as before', async () => {
    const out = await creditEpisode(episode(steps(false), 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(6));
  });

  it('an error status inside the invocation, earlier, is still the first error', async () => {
    const s = steps(true);
    s[1 + 1] = step({ id: 3, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [1], t: 3, ok: false });
    const out = await creditEpisode(episode(s, 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(3));
  });
});

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a generated run judged as failed with a failing verdict on the coder’s invocation (%s)', (convention) => {
  it('localizes the first error in the coder’s turn, not at the reviewer’s output', async () => {
    const { traceId, judge } = await failedGeneratedRun(convention);
    const before = await judge([]);
    const coder = before.flatMap((e) => (e.event_type === 'message_reward' && e.agent_name === 'coder' ? [e] : []));
    const invocation = coder[0]?.causal_inputs?.[0] ?? '';
    const events = await judge([{ name: 'agent_review', score: 0, label: 'fail', traceId, spanId: invocation, source: 'evaluations-stream', timeUnixNano: 1n }]);
    const ep = events.find((e) => e.event_type === 'episode_credit');
    const firstError = ep?.event_type === 'episode_credit' ? ep.first_error : undefined;
    expect(firstError?.step_id).toBe(coder.filter((e) => e.kind === 'llm').at(-1)?.step_id);
    expect(firstError?.evidence.join('; ')).toMatch(/evaluator flag on agent invocation/);
    const pairs = events.filter((e) => e.event_type === 'preference_pair');
    expect(pairs.map((p) => p.rejected.agent_id)).toEqual([coder[0]?.agent_id]);
  });
});
