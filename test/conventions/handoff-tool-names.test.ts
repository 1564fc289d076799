/**
 * The OpenAI Agents SDK names a hand-off's tool call after the target agent with
 * `transform_string_function_style` (`Handoff.default_tool_name`, util/_transforms.py): each code
 * point other than an ASCII letter, digit or `_` becomes `_`, then lower case. A hand-off is
 * matched to the call that made it by that name (C3), and a hand-off recorded without its target
 * (OpenLLMetry's `triage → unknown.handoff`) gets it from the call (C5). agent-credit dropped the
 * other characters and collapsed whitespace instead, so for an agent named `Flights-EU`,
 * `Vols (EU)` or `Réservations` it looked for `transfer_to_flights-eu`, `transfer_to_vols_eu`,
 * `transfer_to_rservations` — calls the SDK never makes. Runs in the shapes of the recorded fixtures
 * (test/fixtures/agents-sdk: openllmetry/ and genai/), made by the real OpenTelemetry JS SDK.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans } from './sdk.js';

/** Target agent names and the tool name the Python SDK gives their hand-off. */
const TARGETS = [
  ['Flights-EU', 'transfer_to_flights_eu'],
  ['Vols (EU)', 'transfer_to_vols__eu_'],
  ['Réservations', 'transfer_to_r_servations'],
] as const;

const J = JSON.stringify;
const user = { role: 'user', parts: [{ type: 'text', content: 'Book me flights to Montreal on Monday' }] };
const callOf = (tool: string) => ({ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_61', name: tool, arguments: {} }] });
const resultOf = (target: string) => ({ role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_61', response: J({ assistant: target }) }] });

/** OpenLLMetry (traceloop): `<name>.agent` spans, `openai.response` calls with input messages only, the hand-off without its target. */
function openllmetryRun(target: string, tool: string): Span[] {
  return recordSpans((r) => {
    const wf = r.start('Agent Workflow', 0, { 'traceloop.span.kind': 'workflow', 'traceloop.workflow.name': 'Agent Workflow' });
    const triage = r.start('triage.agent', 1, { 'traceloop.span.kind': 'agent', 'gen_ai.agent.name': 'triage', 'gen_ai.operation.name': 'invoke_agent' }, wf);
    r.start('openai.response', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'fake-gpt', 'gen_ai.input.messages': J([user]) }, triage).end(at(10));
    r.start('triage → unknown.handoff', 11, { 'traceloop.span.kind': 'handoff', 'gen_ai.operation.name': 'handoff', 'gen_ai.handoff.from_agent': 'triage', 'gen_ai.agent.name': 'triage' }, triage).end(at(12));
    triage.end(at(13));
    const next = r.start(`${target}.agent`, 14, { 'traceloop.span.kind': 'agent', 'gen_ai.agent.name': target, 'gen_ai.operation.name': 'invoke_agent' }, wf);
    r.start('openai.response', 15, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'fake-gpt', 'gen_ai.input.messages': J([user, callOf(tool), resultOf(target)]) }, next).end(at(20));
    next.end(at(21));
    wf.end(at(22));
  });
}

/** GenAI (openai-agents-v2): placeholder agent names on calls, an `agent_handoff` span naming both agents. */
function genaiRun(target: string, tool: string): Span[] {
  const placeholder = { 'gen_ai.agent.name': 'OpenAI Agent', 'gen_ai.agent.id': 'agent' };
  return recordSpans((r) => {
    const wf = r.start('Agent workflow', 0, { 'gen_ai.operation.name': 'invoke_agent' });
    const triage = r.start('invoke_agent triage', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' }, wf);
    r.start('chat fake-gpt', 2, { ...placeholder, 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': J([user]), 'gen_ai.output.messages': J([callOf(tool)]) }, triage).end(at(10));
    r.start('agent_handoff OpenAI Agent', 11, { ...placeholder, 'gen_ai.operation.name': 'agent_handoff', 'gen_ai.handoff.from_agent': 'triage', 'gen_ai.handoff.to_agent': target }, triage).end(at(12));
    triage.end(at(13));
    const next = r.start(`invoke_agent ${target}`, 14, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': target }, wf);
    const answer = { role: 'assistant', parts: [{ type: 'text', content: 'Booked: AC 123, 09:00.' }] };
    r.start('chat fake-gpt', 15, { ...placeholder, 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': J([user, callOf(tool), resultOf(target)]), 'gen_ai.output.messages': J([answer]) }, next).end(at(20));
    next.end(at(21));
    wf.end(at(22));
  });
}

/**
 * A transfer recorded as its own tool span (GenAI `execute_tool transfer_to_…` with
 * `gen_ai.transfer.target.name`) by a framework that keeps `-` in the tool name, as LangGraph's
 * `create_handoff_tool` does: the span's own name is the call's, whatever the SDK would make of it.
 */
function transferSpanRun(): Span[] {
  const call = { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_7', name: 'transfer_to_weather-agent', arguments: {} }] };
  return recordSpans((r) => {
    const wf = r.start('invoke_workflow support', 0, { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'support' });
    const triage = r.start('invoke_agent triage', 1, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' }, wf);
    r.start('chat gpt-4o-mini', 2, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': J([user]), 'gen_ai.output.messages': J([call]) }, triage).end(at(10));
    r.start('execute_tool transfer_to_weather-agent weather-agent', 11, {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'transfer_to_weather-agent',
      'gen_ai.tool.type': 'function',
      'gen_ai.agent.name': 'triage',
      'gen_ai.transfer.mode': 'pass_control',
      'gen_ai.transfer.target.name': 'weather-agent',
    }, triage).end(at(12));
    triage.end(at(13));
    const weather = r.start('invoke_agent weather-agent', 14, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather-agent' }, wf);
    r.start('chat gpt-4o-mini', 15, { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': J([user, call]) }, weather).end(at(20));
    weather.end(at(21));
    wf.end(at(22));
  });
}

describe('hand-off tool names as the OpenAI Agents SDK makes them', () => {
  it.each(TARGETS)('a hand-off to %s without a recorded target (OpenLLMetry) takes it from the %s call, no warning', (target, tool) => {
    const { steps, warnings } = stepsFromSpans(openllmetryRun(target, tool));
    const handoff = steps.find((s) => s.kind === 'handoff')!;
    expect(handoff).toMatchObject({ handoffTo: target, toolCallId: 'call_61' });
    expect(warnings).toEqual([]);
  });

  it.each(TARGETS)('a hand-off to %s (GenAI agent_handoff) is the %s call: the target reads the hand-off, not the call around it', (target, tool) => {
    const { steps } = stepsFromSpans(genaiRun(target, tool));
    const handoff = steps.find((s) => s.kind === 'handoff')!;
    const [triageCall, targetCall] = steps.filter((s) => s.kind === 'llm');
    expect(handoff.toolCallId).toBe('call_61');
    expect(handoff.causalInputs).toContain(triageCall!.stepId);
    expect(targetCall!.causalInputs).toContain(handoff.stepId);
    expect(targetCall!.causalInputs).not.toContain(triageCall!.stepId);
  });

  it('a hand-off span that is the transfer tool itself matches the call by its own tool name', () => {
    const { steps } = stepsFromSpans(transferSpanRun());
    const handoff = steps.find((s) => s.kind === 'handoff')!;
    expect(handoff).toMatchObject({ handoffTo: 'weather-agent', toolCallId: 'call_7' });
  });
});
