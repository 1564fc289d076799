/**
 * Semantic Kernel Python's hand-off orchestration (microsoft/semantic-kernel python-1.44.1,
 * `agents/orchestration/handoffs.py`): `_add_handoff_functions` gives each agent a kernel function
 * `transfer_to_<agent name>` in the plugin `Handoff`; `function_tracer.py` records its run as
 * `execute_tool Handoff-transfer_to_<agent>` (`gen_ai.tool.name` the fully qualified `<plugin>-<function>`,
 * `gen_ai.tool.call.id`), and `_handoff_function_filter` then terminates the agent: the orchestration runs the
 * target next. The run here has an app span around `runtime.start()` (one trace), contents not recorded.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, creditOf } from './sdk.js';

function skHandoffRun(toolName = 'Handoff-transfer_to_RefundAgent'): Span[] {
  return recordSpans((r) => {
    const app = r.start('support request', 0, {});
    const agent = (name: string, ms: number) => r.start(`invoke_agent ${name}`, ms, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.agent.id': `${name}-91c4`,
    }, app);
    const chat = (p: ReturnType<typeof agent>, s: number, e: number, finish: string) =>
      r.start('chat gpt-4o', s, { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.finish_reason': finish }, p).end(at(e));
    const triage = agent('TriageAgent', 1);
    chat(triage, 2, 8, 'FinishReason.TOOL_CALLS');
    r.start(`execute_tool ${toolName}`, 9, {
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': toolName, 'gen_ai.tool.call.id': 'call_h1',
      'gen_ai.tool.description': 'Transfer to this agent for refunds',
    }, triage).end(at(10));
    triage.end(at(11));
    const refund = agent('RefundAgent', 12);
    chat(refund, 13, 20, 'FinishReason.STOP');
    refund.end(at(21));
    app.end(at(22));
  });
}

describe("Semantic Kernel's hand-off function `Handoff-transfer_to_<agent>`", () => {
  it('is a hand-off of its agent to <agent>, read by the target (before: a tool nothing read)', () => {
    const { steps } = stepsFromSpans(skHandoffRun());
    const h = steps.find((s) => s.name.startsWith('execute_tool'))!;
    expect(h.kind).toBe('handoff');
    expect(h.agentName).toBe('TriageAgent');
    const refund = steps.find((s) => s.kind === 'llm' && s.agentName === 'RefundAgent')!;
    expect(refund.causalInputs).toContain(h.stepId);
  });

  it('the triage agent gets credit (before: 0)', async () => {
    const credit = await creditOf(skHandoffRun());
    expect(credit.get('TriageAgent')).toBeGreaterThan(0);
    expect(credit.get('RefundAgent')).toBeGreaterThan(0);
  });

  it('a function of another plugin (or unprefixed) stays a tool', () => {
    for (const name of ['Billing-transfer_to_RefundAgent', 'transfer_to_savings', 'Handoff-complete_task']) {
      const { steps } = stepsFromSpans(skHandoffRun(name));
      expect(steps.find((s) => s.name.startsWith('execute_tool'))!.kind).toBe('tool');
    }
  });
});
