/**
 * Pydantic AI's own instrumentation (pydantic/pydantic-ai, `InstrumentationSettings`; the default
 * instrumentation version is 2 through v1.x). Span shapes from its source:
 * - agent run: v1.0–1.75 `agent/__init__.py` `iter()`: span `agent run` (version 2) or
 *   `invoke_agent <name>` (version 3+, `_instrumentation.py` `InstrumentationNames.for_version`) with
 *   `model_name`, `agent_name`, `gen_ai.agent.name` (1.x), `logfire.msg`, `final_result`,
 *   `pydantic_ai.all_messages` — and no `gen_ai.operation.name` until v1.76.0 (#4936);
 * - tool call: v1.0–1.86.0 `_tool_manager.py`: span `running tool` (version 2) / `execute_tool <tool>`
 *   (3+) with `gen_ai.tool.name`, `gen_ai.tool.call.id` and the arguments / result in `tool_arguments` /
 *   `tool_response` (version 2) or `gen_ai.tool.call.{arguments,result}` (3+) — no `gen_ai.operation.name`
 *   until v1.86.1 (#5182);
 * - model request: `chat <model>`, `gen_ai.operation.name = chat`, `gen_ai.{input,output}.messages`
 *   (parts `text`, `tool_call`, `tool_call_response` with `result`), `gen_ai.response.finish_reasons`;
 *   the agent name only from v1.74.0 (#4876, baggage), so older model spans carry no agent.
 * The run is the docs' agent delegation example (docs/multi-agent-applications.md): the selection agent's
 * `joke_factory` tool runs the generation agent. Spans from the real OTel JS SDK (test/conventions/sdk.ts).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
const msgs = (m: unknown[]) => JSON.stringify(m);
const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });
const call = (id: string, name: string, args: object) => ({ role: 'assistant', parts: [{ type: 'tool_call', id, name, arguments: args }], finish_reason: 'tool_call' });
const result = (id: string, name: string, value: string) => ({ role: 'user', parts: [{ type: 'tool_call_response', id, name, result: value }] });

const JOKES = '["Why did the chicken cross the road? To get to the other side.", "Knock knock."]';
const ANSWER = 'Why did the chicken cross the road? To get to the other side.';

/** One run of the delegation example as pydantic-ai 1.x records it with `version` (2 or 3). */
function delegationRun(version: 2 | 3, opts: { agentOnModelSpans?: boolean; operationNames?: boolean } = {}): Span[] {
  const agentSpan = (r: Recorder, name: string, start: number, parent?: Parent) =>
    r.start(version === 2 ? 'agent run' : `invoke_agent ${name}`, start, {
      model_name: 'gpt-4o', agent_name: name, 'gen_ai.agent.name': name, 'logfire.msg': `${name} run`,
      ...(opts.operationNames ? { 'gen_ai.operation.name': 'invoke_agent' } : {}),
    }, parent);
  const chat = (r: Recorder, agent: string, parent: Parent, start: number, end: number, input: unknown[], output: unknown[], finish: string) =>
    r.start('chat gpt-4o', start, {
      'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o',
      'gen_ai.input.messages': msgs(input), 'gen_ai.output.messages': msgs(output), 'gen_ai.response.finish_reasons': [finish],
      'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 20,
      ...(opts.agentOnModelSpans ? { 'gen_ai.agent.name': agent } : {}),
    }, parent).end(at(end));
  return recordSpans((r) => {
    const selection = agentSpan(r, 'joke_selection_agent', 0);
    chat(r, 'joke_selection_agent', selection, 1, 10, [text('user', 'Tell me a joke.')], [call('call_jf', 'joke_factory', { count: 2 })], 'tool_call');
    const tool = r.start(version === 2 ? 'running tool' : 'execute_tool joke_factory', 11, {
      'gen_ai.tool.name': 'joke_factory', 'gen_ai.tool.call.id': 'call_jf', 'logfire.msg': 'running tool: joke_factory',
      [version === 2 ? 'tool_arguments' : 'gen_ai.tool.call.arguments']: '{"count":2}',
      ...(opts.operationNames ? { 'gen_ai.operation.name': 'execute_tool' } : {}),
    }, selection);
    const generation = agentSpan(r, 'joke_generation_agent', 12, tool);
    chat(r, 'joke_generation_agent', generation, 13, 30, [text('user', 'Please generate 2 jokes.')], [{ ...text('assistant', JOKES), finish_reason: 'stop' }], 'stop');
    generation.setAttribute('final_result', JOKES);
    generation.end(at(31));
    tool.setAttribute(version === 2 ? 'tool_response' : 'gen_ai.tool.call.result', JOKES);
    tool.end(at(32));
    chat(r, 'joke_selection_agent', selection, 33, 40,
      [text('user', 'Tell me a joke.'), call('call_jf', 'joke_factory', { count: 2 }), result('call_jf', 'joke_factory', JOKES)],
      [{ ...text('assistant', ANSWER), finish_reason: 'stop' }], 'stop');
    selection.setAttribute('final_result', ANSWER);
    selection.end(at(41));
  });
}


describe.each([2, 3] as const)('Pydantic AI 1.x, instrumentation version %i (no gen_ai.operation.name on agent and tool spans)', (version) => {
  it('the agent run spans are agents and every model call is its agent\'s step (before: one fallback agent)', () => {
    const { steps, agents } = stepsFromSpans(delegationRun(version));
    expect(agents.map((a) => a.agentName)).toEqual(['joke_selection_agent', 'joke_generation_agent']);
    const llm = steps.filter((s) => s.kind === 'llm');
    expect(llm.map((s) => s.agentName)).toEqual(['joke_selection_agent', 'joke_generation_agent', 'joke_selection_agent']);
  });

  it('the tool call is a rewardable tool step of the calling agent, with its arguments and result, linked both ways (C3)', () => {
    const { steps } = stepsFromSpans(delegationRun(version));
    const tool = steps.find((s) => s.toolName === 'joke_factory')!;
    expect(tool.kind).toBe('tool');
    expect(tool.rewardable).toBe(true);
    expect(tool.agentName).toBe('joke_selection_agent');
    expect(tool.toolCallId).toBe('call_jf');
    expect(tool.inputText).toBe('{"count":2}');
    expect(tool.outputText).toBe(JOKES);
    const [ask, , answer] = steps.filter((s) => s.kind === 'llm');
    expect(tool.causalInputs).toContain(ask!.stepId);
    expect(answer!.causalInputs).toContain(tool.stepId);
    // the delegated agent's answer is what the tool returned (C7)
    const generated = steps.find((s) => s.kind === 'llm' && s.agentName === 'joke_generation_agent')!;
    expect(answer!.causalInputs).toContain(generated.stepId);
  });

  it('both agents get credit for a successful run', async () => {
    const credit = await creditOf(delegationRun(version));
    expect(credit.get('joke_selection_agent')).toBeGreaterThan(0);
    expect(credit.get('joke_generation_agent')).toBeGreaterThan(0);
  });
});

describe('Pydantic AI with gen_ai.operation.name on every span (v1.86.1+, 2.x)', () => {
  it('reads the same agents, kinds and links as the older spans', () => {
    const old = stepsFromSpans(delegationRun(3));
    const current = stepsFromSpans(delegationRun(3, { agentOnModelSpans: true, operationNames: true }));
    const shape = (r: typeof old) => r.steps.map((s) => [s.name, s.kind, s.agentName, s.causalInputs.length]);
    expect(shape(current)).toEqual(shape(old));
  });
});
