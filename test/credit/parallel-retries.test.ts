/**
 * Parallel calls of one tool (an LLM call issuing several searches at once) that both fail, and are
 * both retried: t* is the first to start, the other a tie. Each retry repeats its own call's
 * arguments, but every successful call of t*'s tool by t*'s agent counted as a retry of t*: the
 * retry of the other call was a second repair of t*, with a pair chosen = search("qB"), rejected =
 * search("qA") — two answers to different arguments.
 */
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import type { AgentStep } from '../../src/model/agents.js';
import { episode, sid, step } from './episode-builder.js';

const search = (id: number, inputs: number[], query: string, ok: boolean, t: number): AgentStep => ({
  ...step({ id, agent: 'coder', kind: 'tool', tool: 'search', name: 'execute_tool search', inputs, ok, t }),
  inputText: `{"query":"${query}"}`,
  inputDigest: `digest-${query}`,
});

describe('parallel failed calls of one tool, each retried', () => {
  const steps = (retryB: string) => [
    step({ id: 1, agent: 'coder', name: 'chat gpt-4o' }),
    search(2, [1], 'qA', false, 2),
    search(3, [1], 'qB', false, 2),
    step({ id: 4, agent: 'coder', name: 'chat gpt-4o', inputs: [2, 3], t: 4 }),
    search(5, [4], 'qA', true, 5),
    search(6, [4], retryB, true, 5),
    step({ id: 7, agent: 'coder', name: 'chat gpt-4o', inputs: [5, 6], t: 7 }),
    step({ id: 8, agent: 'writer', name: 'chat gpt-4o', inputs: [7], t: 8 }),
  ];

  it('the retry of the other call (its arguments) is no repair of t*, and forms no pair with it', async () => {
    const out = await creditEpisode(episode(steps('qB'), 0.2), {});
    expect(out.firstError?.stepId).toBe(sid(2));
    expect(out.firstError?.ties).toEqual([sid(3)]);
    // the other call (the tie) is an independent error, and its retry repairs it, not t*
    // (independent-error.test.ts): it is rewarded for that, and forms no pair
    const role = (id: number) => out.messages.find((m) => m.step.stepId === sid(id))?.failureRole;
    expect([role(3), role(5), role(6)]).toEqual(['independent-error', 'repair', 'repair']);
    expect(out.pairs.map((p) => [p.chosen?.stepId, p.rejected.stepId])).toEqual([[sid(5), sid(2)]]);
  });

  it('a call with arguments of no failed call is still a retry of t*, as before', async () => {
    const out = await creditEpisode(episode(steps('qC'), 0.2), {});
    expect(out.messages.filter((m) => m.failureRole === 'repair').map((m) => m.step.stepId)).toEqual([sid(5), sid(6)]);
  });
});
