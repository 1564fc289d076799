/**
 * Google ADK (google/adk-python `src/google/adk/telemetry/tracing.py`, `flows/llm_flows/functions.py`,
 * `flows/llm_flows/base_llm_flow.py`, `tools/transfer_to_agent_tool.py`): a coordinator LlmAgent routes
 * the user to a sub-agent with ADK's built-in `transfer_to_agent(agent_name=...)` tool; the flow then
 * runs the target agent inside the coordinator's invocation. Spans as ADK writes them:
 * `invocation` (runner), `invoke_agent <name>` (`gen_ai.operation.name = invoke_agent`,
 * `gen_ai.agent.name`), `call_llm` (no operation name; `gen_ai.system = gcp.vertex.agent`,
 * `gcp.vertex.agent.llm_request` / `llm_response` JSON, finish reasons) around the model call's own
 * `generate_content <model>` span (`use_generate_content_span`: `gen_ai.operation.name =
 * generate_content`, `gen_ai.agent.name`; message contents only as log events), and
 * `execute_tool <tool>` (`gen_ai.operation.name = execute_tool`, `gen_ai.tool.{name,call.id}`, arguments
 * and response in `gcp.vertex.agent.tool_call_args` / `gcp.vertex.agent.tool_response`, not the GenAI keys).
 * Spans from the real OTel JS SDK (test/conventions/sdk.ts).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { AgentStep } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

function modelCall(r: Recorder, agent: string, parent: Parent, start: number, end: number, finish: string, response: object) {
  const call = r.start('call_llm', start, {
    'gen_ai.system': 'gcp.vertex.agent', 'gen_ai.request.model': 'gemini-2.5-flash',
    'gcp.vertex.agent.invocation_id': 'e-1', 'gcp.vertex.agent.session_id': 's-1', 'gcp.vertex.agent.event_id': `ev-${start}`,
    'gcp.vertex.agent.llm_request': '{}', 'gcp.vertex.agent.llm_response': JSON.stringify(response),
    'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 12, 'gen_ai.response.finish_reasons': [finish],
  }, parent);
  r.start('generate_content gemini-2.5-flash', start + 1, {
    'gen_ai.system': 'gemini', 'gen_ai.operation.name': 'generate_content', 'gen_ai.request.model': 'gemini-2.5-flash',
    'gen_ai.agent.name': agent, 'gen_ai.conversation.id': 's-1', 'gen_ai.response.finish_reasons': [finish],
    'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 12,
  }, call).end(at(end - 1));
  call.end(at(end));
}

function tool(r: Recorder, parent: Parent, start: number, end: number, name: string, id: string, args: object, response: object) {
  r.start(`execute_tool ${name}`, start, {
    'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.description': name, 'gen_ai.tool.type': 'FunctionTool',
    'gen_ai.tool.call.id': id, 'gcp.vertex.agent.llm_request': '{}', 'gcp.vertex.agent.llm_response': '{}',
    'gcp.vertex.agent.tool_call_args': JSON.stringify(args), 'gcp.vertex.agent.event_id': `ev-${start}`,
    'gcp.vertex.agent.tool_response': JSON.stringify(response),
  }, parent).end(at(end));
}

const fc = (id: string, name: string, args: object) => ({ content: { role: 'model', parts: [{ function_call: { id, name, args } }] }, finish_reason: 'STOP' });
const said = (text: string) => ({ content: { role: 'model', parts: [{ text }] }, finish_reason: 'STOP' });

/** coordinator → transfer_to_agent(billing_agent) → billing_agent looks the invoice up and answers. */
function transferRun(): Span[] {
  return recordSpans((r) => {
    const invocation = r.start('invocation', 0);
    const coordinator = r.start('invoke_agent coordinator', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'coordinator', 'gen_ai.agent.description': 'routes', 'gen_ai.conversation.id': 's-1' }, invocation);
    modelCall(r, 'coordinator', coordinator, 2, 10, 'stop', fc('adk-t1', 'transfer_to_agent', { agent_name: 'billing_agent' }));
    tool(r, coordinator, 11, 12, 'transfer_to_agent', 'adk-t1', { agent_name: 'billing_agent' }, { result: null });
    const billing = r.start('invoke_agent billing_agent', 13, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'billing_agent', 'gen_ai.agent.description': 'billing', 'gen_ai.conversation.id': 's-1' }, coordinator);
    modelCall(r, 'billing_agent', billing, 14, 20, 'stop', fc('adk-l1', 'lookup_invoice', { invoice: 'INV-7' }));
    tool(r, billing, 21, 22, 'lookup_invoice', 'adk-l1', { invoice: 'INV-7' }, { status: 'paid', amount: 120 });
    modelCall(r, 'billing_agent', billing, 23, 30, 'stop', said('Invoice INV-7 is paid (120 EUR).'));
    billing.end(at(31));
    coordinator.end(at(32));
    invocation.end(at(33));
  });
}


describe('Google ADK', () => {
  it('agents, model calls and tool calls: each model call is one step of its agent', () => {
    const { steps, agents } = stepsFromSpans(transferRun());
    expect(agents.map((a) => a.agentName)).toEqual(['coordinator', 'billing_agent']);
    const rewardable = steps.filter((s) => s.rewardable).map((s) => [s.name, s.agentName]);
    expect(rewardable).toEqual([
      ['generate_content gemini-2.5-flash', 'coordinator'],
      ['execute_tool transfer_to_agent', 'coordinator'],
      ['generate_content gemini-2.5-flash', 'billing_agent'],
      ['execute_tool lookup_invoice', 'billing_agent'],
      ['generate_content gemini-2.5-flash', 'billing_agent'],
    ]);
  });

  it("a tool step's texts are ADK's gcp.vertex.agent.tool_call_args / tool_response", () => {
    const { steps } = stepsFromSpans(transferRun());
    const lookup = steps.find((s) => s.name === 'execute_tool lookup_invoice')!;
    expect(lookup.inputText).toBe('{"invoice":"INV-7"}');
    expect(lookup.outputText).toBe('{"status":"paid","amount":120}');
  });

  it('transfer_to_agent is a hand-off of the coordinator to the agent it names, read by that agent (C5)', () => {
    expectTransferHandoff(stepsFromSpans(transferRun()).steps);
  });

  it('the routing agent gets credit (before: 0, nothing linked the target to it)', async () => {
    expectBothCredited(await creditOf(transferRun()));
  });
});

/**
 * The same run under openinference-instrumentation-google-adk (Arize-ai/openinference `google_adk/_wrappers.py`):
 * its runner and agent spans `invocation [<app>]` (CHAIN) and `agent_run [<name>]` (AGENT, `agent.name`; a
 * transferred-to agent runs inside the routing agent's), and ADK's own `call_llm` / `execute_tool <tool>` spans
 * made OpenInference ones — `_TraceCallLlm` / `_TraceToolCall` set `openinference.span.kind` LLM / TOOL, the
 * flattened messages, `tool.name`, `tool.id`, `input.value` (the arguments) on the current span after ADK's
 * `trace_tool_call` wrote its `gen_ai.*` / `gcp.vertex.agent.*` attributes there. The model sees the other agent's
 * turn only as "For context:" text (no call ids).
 */
function openinferenceTransferRun(): Span[] {
  const adkTool = (name: string, id: string, args: object, response: object) => ({
    'openinference.span.kind': 'TOOL', 'tool.name': name, 'tool.description': name, 'tool.id': id,
    'input.value': JSON.stringify(args), 'input.mime_type': 'application/json',
    'output.value': JSON.stringify({ id, name, response }), 'output.mime_type': 'application/json',
    'gen_ai.system': 'gcp.vertex.agent', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': id,
    'gcp.vertex.agent.tool_call_args': JSON.stringify(args), 'gcp.vertex.agent.tool_response': JSON.stringify(response),
  });
  const llm = (messages: Record<string, string>) => ({
    'openinference.span.kind': 'LLM', 'llm.provider': 'google', 'llm.model_name': 'gemini-2.5-flash',
    'gen_ai.system': 'gcp.vertex.agent', 'gen_ai.request.model': 'gemini-2.5-flash', ...messages,
  });
  const USER = 'Is invoice INV-7 paid?';
  return recordSpans((r) => {
    const invocation = r.start('invocation [support]', 0, { 'openinference.span.kind': 'CHAIN', 'session.id': 's-1' });
    const coordinator = r.start('agent_run [coordinator]', 1, { 'openinference.span.kind': 'AGENT', 'agent.name': 'coordinator' }, invocation);
    r.start('call_llm', 2, llm({
      'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.contents.0.message_content.type': 'text', 'llm.input_messages.0.message.contents.0.message_content.text': USER,
      'llm.output_messages.0.message.role': 'model', 'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'adk-t1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'transfer_to_agent', 'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"agent_name": "billing_agent"}',
    }), coordinator).end(at(10));
    r.start('execute_tool transfer_to_agent', 11, adkTool('transfer_to_agent', 'adk-t1', { agent_name: 'billing_agent' }, { result: null }), coordinator).end(at(12));
    const billing = r.start('agent_run [billing_agent]', 13, { 'openinference.span.kind': 'AGENT', 'agent.name': 'billing_agent' }, coordinator);
    const context = {
      'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.contents.0.message_content.type': 'text', 'llm.input_messages.0.message.contents.0.message_content.text': USER,
      'llm.input_messages.1.message.role': 'user', 'llm.input_messages.1.message.contents.0.message_content.type': 'text', 'llm.input_messages.1.message.contents.0.message_content.text': 'For context:',
      'llm.input_messages.1.message.contents.1.message_content.type': 'text', 'llm.input_messages.1.message.contents.1.message_content.text': '[coordinator] called tool `transfer_to_agent` with parameters: {\'agent_name\': \'billing_agent\'}',
    };
    r.start('call_llm', 14, llm({
      ...context,
      'llm.output_messages.0.message.role': 'model', 'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'adk-l1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'lookup_invoice', 'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"invoice": "INV-7"}',
    }), billing).end(at(20));
    r.start('execute_tool lookup_invoice', 21, adkTool('lookup_invoice', 'adk-l1', { invoice: 'INV-7' }, { status: 'paid', amount: 120 }), billing).end(at(22));
    r.start('call_llm', 23, llm({
      ...context,
      'llm.input_messages.2.message.role': 'tool', 'llm.input_messages.2.message.tool_call_id': 'adk-l1', 'llm.input_messages.2.message.content': '{"status": "paid", "amount": 120}',
      'llm.output_messages.0.message.role': 'model', 'llm.output_messages.0.message.contents.0.message_content.type': 'text', 'llm.output_messages.0.message.contents.0.message_content.text': 'Invoice INV-7 is paid (120 EUR).',
    }), billing).end(at(30));
    billing.end(at(31));
    coordinator.end(at(32));
    invocation.end(at(33));
  });
}

describe('Google ADK under the OpenInference instrumentor', () => {
  it('transfer_to_agent (a TOOL span with ADK’s attributes) is a hand-off of the coordinator, read by the agent it names (C5)', () => {
    expectTransferHandoff(stepsFromSpans(openinferenceTransferRun()).steps);
  });

  it('the routing agent gets credit (before: 0, the transfer was a tool nothing read)', async () => {
    expectBothCredited(await creditOf(openinferenceTransferRun()));
  });
});

/** The coordinator's transfer_to_agent is its hand-off to the agent it names, read by that agent's first step (C5). */
function expectTransferHandoff(steps: readonly AgentStep[]): void {
    const transfer = steps.find((s) => s.name === 'execute_tool transfer_to_agent')!;
    expect(transfer.kind).toBe('handoff');
    expect(transfer.agentName).toBe('coordinator');
    expect(transfer.handoffTo).toBe('billing_agent');
    const first = steps.find((s) => s.rewardable && s.agentName === 'billing_agent')!;
    expect(first.causalInputs).toContain(transfer.stepId);
}

/** Both the routing agent and the one it routed to get credit. */
function expectBothCredited(credit: Map<string, number>): void {
    expect(credit.get('coordinator')).toBeGreaterThan(0);
    expect(credit.get('billing_agent')).toBeGreaterThan(0);
}
