/**
 * A preference pair compares two answers of one agent to one sub-task (method.md §3: "same agent
 * role / sub-task, same context"). Retries and redos are of t*'s kind by construction; a
 * prefix-value recovery is the first step after which the scorer's value recovers, whatever it
 * is. By t*'s agent it formed a pair across kinds: chosen = a tool execution (or a hand-off),
 * rejected = the LLM call that went wrong — DPO on a tool result as the answer to a prompt.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { episode, sid, step } from './episode-builder.js';

const steps = (recoveryKind: 'tool' | 'llm') => [
  step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
  step({ id: 2, agent: 'coder', name: 'chat gpt-4o', inputs: [1] }),
  step({ id: 3, agent: 'reviewer', name: 'chat gpt-4o', inputs: [2] }),
  recoveryKind === 'tool'
    ? step({ id: 4, agent: 'coder', kind: 'tool', tool: 'run_tests', name: 'execute_tool run_tests', inputs: [3] })
    : step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [3] }),
  step({ id: 5, agent: 'coder', kind: 'handoff', name: 'agent_handoff coder', inputs: [4] }),
  step({ id: 6, agent: 'reviewer', name: 'chat gpt-4o', inputs: [5] }),
];
const prefixScorer = async () => [0.5, 0.1, 0.1, 0.5, 0.5, 0.3];

describe('a prefix-value recovery by the first error’s agent', () => {
  it('of another kind of step earns its repair but forms no pair: the sample is rejected-only and says why', async () => {
    const out = await creditEpisode(episode(steps('tool'), 0.3), { prefixScorer });
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(out.messages.find((m) => m.step.stepId === sid(4))!.failureRole).toBe('repair');
    expect(out.pairs).toHaveLength(1);
    expect(out.pairs[0]!.rejectedOnly).toBe(true);
    expect(out.pairs[0]!.chosen).toBeUndefined();
    expect(out.pairs[0]!.reason).toMatch(new RegExp(`corrected only by .*${sid(4)} \\(a tool step\\) by coder.*no pair across`));
  });

  it('of the same kind forms the pair, as before', async () => {
    const out = await creditEpisode(episode(steps('llm'), 0.3), { prefixScorer });
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId, p.rejectedOnly])).toEqual([[sid(4), sid(2), false]]);
  });
});
