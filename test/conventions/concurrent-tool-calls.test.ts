/**
 * Two agents running side by side call the same tool; the tool spans record no call id (as the
 * fixture instrumentations and instrumentation-openai apps do), so C3 recovers each call from the
 * LLM calls that issued one. By time alone each tool took the call of whichever LLM call ended
 * last — the other agent's — and each agent's next call read the other's tool (third review of
 * the content-events change, which makes C3 reach such runs). Spans from the real OTel SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { recordSpans } from './sdk.js';

const out = (id: string, q: string) => JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id, name: 'search', arguments: { q } }] }]);
const read = (id: string) => JSON.stringify([{ role: 'tool', parts: [{ type: 'tool_call_response', id, result: 'found' }] }]);

function concurrentAgents(): Span[] {
  return recordSpans((r) => {
    const root = r.start('invoke_agent', 0, { 'gen_ai.operation.name': 'invoke_agent' });
    const agent = (name: string, t0: number, callId: string, q: string) => {
      const a = r.start(`invoke_agent ${name}`, t0, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name }, root);
      return { a, callId, q };
    };
    const A = agent('alpha', 1, 'call_a', 'a');
    const B = agent('beta', 1, 'call_b', 'b');
    // alpha's call ends first, beta's second; alpha's tool starts after both ended
    const a1 = r.start('chat m', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': out('call_a', 'a') }, A.a);
    a1.end([1_795_575_745, 10e6]);
    const b1 = r.start('chat m', 3, { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': out('call_b', 'b') }, B.a);
    b1.end([1_795_575_745, 12e6]);
    const at = r.start('execute_tool search', 13, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, A.a);
    at.end([1_795_575_745, 15e6]);
    const bt = r.start('execute_tool search', 14, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, B.a);
    bt.end([1_795_575_745, 16e6]);
    const a2 = r.start('chat m', 17, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': read('call_a') }, A.a);
    a2.end([1_795_575_745, 20e6]);
    const b2 = r.start('chat m', 18, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': read('call_b') }, B.a);
    b2.end([1_795_575_745, 21e6]);
    A.a.end([1_795_575_745, 22e6]);
    B.a.end([1_795_575_745, 22e6]);
    root.end([1_795_575_745, 23e6]);
  });
}

describe('C3 with agents side by side calling the same tool', () => {
  it('each tool execution is bound to its own agent\'s call, and each agent\'s next call reads its own tool', () => {
    const { steps } = stepsFromSpans(concurrentAgents());
    const of = (agent: string, kind: string) => steps.filter((s) => s.agentName === agent && s.kind === kind);
    for (const [agent, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const [issuer] = of(agent, 'llm');
      const [tool] = of(agent, 'tool');
      const reader = of(agent, 'llm')[1]!;
      expect(tool!.causalInputs).toContain(issuer!.stepId);
      expect(tool!.causalInputs).not.toContain(of(other, 'llm')[0]!.stepId); // before: the other agent's call
      expect(tool!.toolCallId).toBe(agent === 'alpha' ? 'call_a' : 'call_b');
      expect(reader.causalInputs).toContain(tool!.stepId);
      expect(reader.causalInputs).not.toContain(of(other, 'tool')[0]!.stepId);
    }
  });

  // The issuing outputs not recorded: the calls are known only from the next call's input history
  // (the assistant's tool call, then the tool's answer). Beta's next call starts first, so by time
  // alone alpha's tool took beta's call from beta's history, and the other way round.
  it('from the input history alone (issuing outputs not recorded), each tool is bound to its own agent\'s recalled call', () => {
    const recalled = (id: string, q: string) =>
      JSON.stringify([
        { role: 'assistant', parts: [{ type: 'tool_call', id, name: 'search', arguments: { q } }] },
        { role: 'tool', parts: [{ type: 'tool_call_response', id, result: 'found' }] },
      ]);
    const spans = recordSpans((r) => {
      const root = r.start('invoke_agent', 0, { 'gen_ai.operation.name': 'invoke_agent' });
      const A = r.start('invoke_agent alpha', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'alpha' }, root);
      const B = r.start('invoke_agent beta', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'beta' }, root);
      r.start('chat m', 2, { 'gen_ai.operation.name': 'chat' }, A).end([1_795_575_745, 10e6]);
      r.start('chat m', 3, { 'gen_ai.operation.name': 'chat' }, B).end([1_795_575_745, 12e6]);
      r.start('execute_tool search', 13, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, A).end([1_795_575_745, 15e6]);
      r.start('execute_tool search', 14, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, B).end([1_795_575_745, 16e6]);
      r.start('chat m', 17, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': recalled('call_b', 'b') }, B).end([1_795_575_745, 20e6]);
      r.start('chat m', 18, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': recalled('call_a', 'a') }, A).end([1_795_575_745, 21e6]);
      A.end([1_795_575_745, 22e6]);
      B.end([1_795_575_745, 22e6]);
      root.end([1_795_575_745, 23e6]);
    });
    const { steps } = stepsFromSpans(spans);
    const of = (agent: string, kind: string) => steps.filter((st) => st.agentName === agent && st.kind === kind);
    for (const [agent, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const [tool] = of(agent, 'tool');
      const reader = of(agent, 'llm')[1]!;
      expect(tool!.toolCallId).toBe(agent === 'alpha' ? 'call_a' : 'call_b');
      expect(reader.causalInputs).toContain(tool!.stepId);
      expect(reader.causalInputs).not.toContain(of(other, 'tool')[0]!.stepId);
    }
  });
});

