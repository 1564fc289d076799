/**
 * LlamaIndex `AgentWorkflow` under OpenInference (openinference-instrumentation-llama-index 4.6.1 / 4.4.5 `_handler.py`;
 * llama-index-core 0.14.25 `core/agent/workflow/multi_agent_workflow.py`, `base_agent.py`, `workflow_events.py`).
 * The shapes below are those a real two-agent run wrote (FunctionAgent `triage_agent` → `handoff` → `refund_agent`
 * with a tool, `MockFunctionCallingLLM`, in-memory exporter), rebuilt with the OTel JS SDK:
 * - every workflow step is a CHAIN span `AgentWorkflow.<step>` under `AgentWorkflow.run`, siblings:
 *   `init_run`, `setup_agent`, `run_agent_step`, `parse_agent_output`, `call_tool`, `aggregate_tool_results`;
 *   `input.value` JSON `{"ctx": "<… Context object at …>", "ev": "<repr of the event>"}`, `output.value` the
 *   text/plain `str()` of the returned event, cut with `...`. No span is AGENT, none has `agent.name`.
 * - `run_agent_step`'s `ev` is `AgentSetup(input=[…], current_agent_name='<agent>')`; under it an LLM span
 *   `<LLM>._prepare_chat_with_tools` (JSON of the history and tools, no call) and the model call `<LLM>.achat`
 *   (flattened messages with tool call ids).
 * - `call_tool`'s `ev` is `ToolCall(tool_name=…, tool_kwargs={…}, tool_id='<call id>')`; under it the TOOL span
 *   `FunctionTool.acall` (`tool.name`, `input.value` `{"kwargs": {…}}`, no `tool.id`); the hand-off is the tool
 *   `handoff` with `to_agent`.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
interface Msg { role: string; content?: string; call?: { id: string; name: string; args: string }; toolCallId?: string }

const ctx = (n: number) => `<workflows.context.context.Context object at 0x7fbcab3d${n.toString(16).padStart(4, '0')}>`;
const pyMsg = (m: Msg) => m.call
  ? `ChatMessage(role=<MessageRole.ASSISTANT: 'assistant'>, additional_kwargs={}, blocks=[ToolCallBlock(block_type='tool_call', tool_call_id='${m.call.id}', tool_name='${m.call.name}', tool_kwargs=${m.call.args.replace(/"/g, "'")})])`
  : `ChatMessage(role=<MessageRole.${m.role.toUpperCase()}: '${m.role}'>, additional_kwargs={${m.toolCallId ? `'tool_call_id': '${m.toolCallId}'` : ''}}, blocks=[TextBlock(block_type='text', text=${JSON.stringify(m.content ?? '').replace(/^"|"$/g, "'")})])`;
const cut = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}...` : s);

function step(r: Recorder, run: Parent, name: string, start: number, ev: string, out: string): ReturnType<Recorder['start']> {
  return r.start(`AgentWorkflow.${name}`, start, {
    'openinference.span.kind': 'CHAIN',
    'input.value': JSON.stringify({ ctx: ctx(start), ev }), 'input.mime_type': 'application/json',
    'output.value': cut(out), 'output.mime_type': 'text/plain',
  }, run);
}

/** One `run_agent_step` of `agent`: `_prepare_chat_with_tools`, then the model call. */
function agentStep(r: Recorder, run: Parent, agent: string, start: number, history: Msg[], output: Msg, contents = true): number {
  const setup = `AgentSetup(input=[${history.map(pyMsg).join(', ')}], current_agent_name='${agent}')`;
  const out = `AgentOutput(response=${pyMsg(output.call ? output : { role: 'assistant', content: output.content! })}, structured_response=None, current_agent_name='${agent}', raw=None, tool_calls=[], retry_messages=[])`;
  step(r, run, 'setup_agent', start, `AgentInput(input=[${history.slice(1).map(pyMsg).join(', ')}], current_agent_name='${agent}')`, setup).end(at(start + 1));
  const s = step(r, run, 'run_agent_step', start + 2, setup, out);
  const llmBase = { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o-mini', 'llm.invocation_parameters': '{"is_chat_model":true,"is_function_calling_model":true}' };
  const hist = JSON.stringify(history.map(pyMsg));
  r.start('OpenAI._prepare_chat_with_tools', start + 3, {
    ...llmBase,
    'input.value': `{"tools": ["<FunctionTool object>"], "user_msg": null, "chat_history": ${hist}, "verbose": false, "allow_parallel_tool_calls": true, "tool_required": false}`,
    'input.mime_type': 'application/json',
    'output.value': `{"messages": ${hist}, "tools": ["<FunctionTool object>"]}`, 'output.mime_type': 'application/json',
  }, s).end(at(start + 4));
  const a: Record<string, unknown> = { ...llmBase, 'input.value': `{"messages": ${hist}, "kwargs": {"tools": ["<FunctionTool object>"]}}`, 'input.mime_type': 'application/json' };
  if (contents) {
    const put = (prefix: string, i: number, m: Msg) => {
      a[`${prefix}.${i}.message.role`] = m.role;
      if (m.content !== undefined) a[`${prefix}.${i}.message.content`] = m.content;
      if (m.toolCallId !== undefined) a[`${prefix}.${i}.message.tool_call_id`] = m.toolCallId;
      if (m.call) {
        a[`${prefix}.${i}.message.tool_calls.0.tool_call.id`] = m.call.id;
        a[`${prefix}.${i}.message.tool_calls.0.tool_call.function.name`] = m.call.name;
        a[`${prefix}.${i}.message.tool_calls.0.tool_call.function.arguments`] = m.call.args;
      }
    };
    history.forEach((m, i) => put('llm.input_messages', i, m));
    put('llm.output_messages', 0, output);
  }
  a['output.value'] = `assistant: ${output.content ?? 'None'}`;
  r.start('OpenAI.achat', start + 5, a, s).end(at(start + 9));
  s.end(at(start + 10));
  step(r, run, 'parse_agent_output', start + 11, cut(out), '').end(at(start + 12));
  return start + 13;
}

/** One `call_tool` step running `call` (its TOOL span), then `aggregate_tool_results`. */
function callTool(r: Recorder, run: Parent, start: number, call: { id: string; name: string; args: string }, result: string, description = call.name): number {
  const kwargs = call.args.replace(/"/g, "'");
  const c = step(r, run, 'call_tool', start, `ToolCall(tool_name='${call.name}', tool_kwargs=${kwargs}, tool_id='${call.id}')`,
    `ToolCallResult(tool_name='${call.name}', tool_kwargs=${kwargs}, tool_id='${call.id}', tool_output=ToolOutput(blocks=[TextBlock(block_type='text', text='${result}')]))`);
  const args = JSON.parse(call.args) as Record<string, unknown>;
  r.start('FunctionTool.acall', start + 1, {
    'openinference.span.kind': 'TOOL', 'tool.name': call.name, 'tool.description': description,
    'tool.parameters': JSON.stringify({ properties: Object.fromEntries(Object.keys(args).map((k) => [k, { type: 'string' }])), type: 'object' }),
    'input.value': JSON.stringify({ kwargs: call.name === 'handoff' ? { ...args, ctx: ctx(start) } : args }), 'input.mime_type': 'application/json',
    'output.value': JSON.stringify({ blocks: [{ text: result }], tool_name: call.name, raw_input: { args: [], kwargs: args }, raw_output: result, is_error: false }),
    'output.mime_type': 'application/json',
  }, c).end(at(start + 4));
  c.end(at(start + 5));
  step(r, run, 'aggregate_tool_results', start + 6, `ToolCallResult(tool_name='${call.name}', tool_id='${call.id}')`, 'AgentInput(input=[...])').end(at(start + 7));
  return start + 8;
}

const USER = { role: 'user', content: 'I want a refund for order 42' };
const HANDOFF = { id: 'call_h1', name: 'handoff', args: '{"to_agent": "refund_agent", "reason": "customer wants a refund"}' };
const HANDED = 'Agent refund_agent is now handling the request due to the following reason: customer wants a refund.\nPlease continue with the current request.';
const REFUND = { id: 'call_r1', name: 'issue_refund', args: '{"order_id": "42"}' };
const ANSWER = 'Your refund for order 42 is on its way.';

/** triage_agent hands off to refund_agent, which calls `issue_refund` and answers (the recorded run). */
export function handoffWorkflow(opts: { refused?: boolean; contents?: boolean } = {}): Span[] {
  const contents = opts.contents ?? true;
  return recordSpans((r) => {
    const run = r.start('AgentWorkflow.run', 0, {
      'openinference.span.kind': 'CHAIN',
      'input.value': JSON.stringify({ start_event: 'AgentWorkflowStartEvent()', tags: { instrument_tags: { 'llamaindex.run_id': 'ce0n2VQiHs' } } }), 'input.mime_type': 'application/json',
    });
    step(r, run, 'init_run', 1, 'AgentWorkflowStartEvent()', `AgentInput(input=[${pyMsg(USER)}], current_agent_name='triage_agent')`).end(at(2));
    const triageHist = [{ role: 'system', content: 'route' }, USER];
    let t = agentStep(r, run, 'triage_agent', 3, triageHist, { role: 'assistant', call: HANDOFF }, contents);
    const refusal = 'Agent refund_agent cannot hand off to triage_agent. Please select a valid agent to hand off to.';
    t = callTool(r, run, t, HANDOFF, opts.refused ? refusal : HANDED, 'Useful for handing off to another agent.');
    const refundHist = [{ role: 'system', content: 'refund' }, USER, { role: 'assistant', call: HANDOFF }, { role: 'tool', toolCallId: 'call_h1', content: HANDED }];
    t = agentStep(r, run, 'refund_agent', t, refundHist, { role: 'assistant', call: REFUND }, contents);
    t = callTool(r, run, t, REFUND, 'Refund issued for order 42');
    t = agentStep(r, run, 'refund_agent', t, [...refundHist, { role: 'assistant', call: REFUND }, { role: 'tool', toolCallId: 'call_r1', content: 'Refund issued for order 42' }], { role: 'assistant', content: ANSWER }, contents);
    run.setAttributes({ 'output.value': cut(`StopEvent(result=AgentOutput(response=ChatMessage(role=<MessageRole.ASSISTANT: 'assistant'>, additional_kwargs={}, blocks=[TextBlock(block_type='text', text='${ANSWER}')])))`), 'output.mime_type': 'text/plain' });
    run.end(at(t + 1));
  }, 'otlp_proto', 'llama-app');
}

describe('LlamaIndex AgentWorkflow (OpenInference): triage_agent hands off to refund_agent (X1)', () => {
  it('each run_agent_step is its agent, its model call that agent\'s step; the tools are the current agent\'s, `handoff` a hand-off (before: all `llama-app`)', () => {
    const { steps, agents, warnings } = stepsFromSpans(handoffWorkflow());
    expect(agents.map((a) => a.agentName)).toEqual(['triage_agent', 'refund_agent']);
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.agentName}:${s.kind}:${s.toolName ?? s.name}`)).toEqual([
      'triage_agent:llm:OpenAI.achat', 'triage_agent:handoff:handoff',
      'refund_agent:llm:OpenAI.achat', 'refund_agent:tool:issue_refund', 'refund_agent:llm:OpenAI.achat',
    ]);
    const h = steps.find((s) => s.kind === 'handoff')!;
    expect(h.handoffTo).toBe('refund_agent');
    expect(h.toolCallId).toBe('call_h1');
    expect(steps.find((s) => s.name === 'OpenAI._prepare_chat_with_tools')!.kind).toBe('other');
    expect(steps.find((s) => s.name === 'AgentWorkflow.call_tool')!.kind).toBe('chain');
    expect(warnings).toEqual([]);
  });

  it('the hand-off reads the triage call that issued it, the refund agent\'s first call reads the hand-off (C3 by the ToolCall\'s tool_id)', () => {
    const { steps } = stepsFromSpans(handoffWorkflow());
    const [triageLlm, refundLlm] = steps.filter((s) => s.kind === 'llm');
    const h = steps.find((s) => s.kind === 'handoff')!;
    expect(h.causalInputs).toContain(triageLlm!.stepId);
    expect(refundLlm!.causalInputs).toContain(h.stepId);
  });

  // The provenance game's closed form (src/credit/games/provenance.ts), R = 1, b = 0: five useful
  // messages (none failed) on one causal chain triage.achat → handoff → refund.achat → issue_refund →
  // refund.achat (the output), so each is a term of u = (R − b)/5 = 0.2 whose carriers are itself and
  // every message after it. The two triage terms need both agents (0.1 each to each), the three refund
  // terms only refund_agent: triage 2 · 0.1 = 0.2, refund 2 · 0.1 + 3 · 0.2 = 0.8.
  it('both agents get credit: triage_agent 0.2, refund_agent 0.8 (before: llama-app 1)', async () => {
    const credit = await creditOf(handoffWorkflow());
    expect([...credit.keys()]).toEqual(['triage_agent', 'refund_agent']);
    expect(credit.get('triage_agent')).toBeCloseTo(0.2, 6);
    expect(credit.get('refund_agent')).toBeCloseTo(0.8, 6);
  });

  it('a refused hand-off (`… cannot hand off to …`) stays a tool of the agent that called it', () => {
    const { steps } = stepsFromSpans(handoffWorkflow({ refused: true }));
    const t = steps.find((s) => s.toolName === 'handoff')!;
    expect(t.kind).toBe('tool');
    expect(t.agentName).toBe('triage_agent');
  });

  it('without message contents the tools go to the agent of the last agent step before them', () => {
    const { steps } = stepsFromSpans(handoffWorkflow({ contents: false }));
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.agentName}:${s.toolName ?? s.kind}`)).toEqual([
      'triage_agent:llm', 'triage_agent:handoff', 'refund_agent:llm', 'refund_agent:issue_refund', 'refund_agent:llm',
    ]);
  });
});
