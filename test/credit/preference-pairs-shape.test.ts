import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preferencePairs } from '../../src/credit/index.js';
import type { AgentStep } from '../../src/model/agents.js';

/**
 * preferencePairs builds its drafts by assignment and written-out literals (one V8 map per shape,
 * not per object): the drafts must be those the spread form built — same members, same order.
 */
function spreadForm(rejected: AgentStep, chosen: AgentStep | undefined, margin: number, reason: string) {
  const context = {
    ...(rejected.parentStepId !== undefined ? { parentStepId: rejected.parentStepId } : {}),
    subTask: rejected.toolName ?? rejected.name,
    ...(rejected.inputText !== undefined ? { input: rejected.inputText } : {}),
    ...(rejected.inputDigest !== undefined ? { inputDigest: rejected.inputDigest } : {}),
  };
  const base = { agentId: rejected.agentId, traceId: rejected.traceId, context, rejected };
  return chosen ? { ...base, chosen, margin, rejectedOnly: false, reason } : { ...base, margin, rejectedOnly: true, reason };
}

const step = (id: string, agentId: string, o: { parentStepId?: string; toolName?: string; inputText?: string; inputDigest?: string }): AgentStep =>
  ({ stepId: id, traceId: 't1', agentId, name: `name-${id}`, kind: 'llm', status: { ok: true }, causalInputs: [], startTimeUnixNano: 1n, endTimeUnixNano: 2n, ...o }) as unknown as AgentStep;

const optional = fc.record({ parentStepId: fc.string(), toolName: fc.string(), inputText: fc.string(), inputDigest: fc.string() }, { requiredKeys: [] });

describe('preferencePairs draft shape', () => {
  it('equals the spread form, key order included, with and without a same-agent repair', () => {
    fc.assert(
      fc.property(optional, optional, fc.boolean(), (ro, co, sameAgent) => {
        const rejected = step('r', 'a', ro);
        const chosen = step('c', sameAgent ? 'a' : 'b', co);
        const byId = new Map([
          ['r', rejected],
          ['c', chosen],
        ]);
        const rewards: Record<string, number> = { r: -0.25, c: 0.5 };
        const fe = { stepId: 'r', agentId: 'a', evidence: ['tool error'], ties: [], index: 0 };
        const [draft, ...rest] = preferencePairs(byId, fe, [{ stepId: 'c', reason: 'a retry' }], (id) => rewards[id] ?? 0);
        expect(rest).toEqual([]);
        const expected = sameAgent
          ? spreadForm(rejected, chosen, 0.75, 'first error (tool error) corrected by a retry')
          : spreadForm(rejected, undefined, 0.25, 'first error (tool error); corrected only by another agent (c by b): no pair across agents');
        expect(draft).toStrictEqual(expected);
        expect(Object.keys(draft!)).toEqual(Object.keys(expected));
        expect(Object.keys(draft!.context)).toEqual(Object.keys(expected.context));
      }),
    );
  });
});
