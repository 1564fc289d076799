/**
 * smolagents under OpenInference (Arize-ai/openinference `openinference-instrumentation-smolagents` 0.1.34,
 * `_wrappers.py`): an agent run is an AGENT span `<agent.name or class>.run` with `input.value`,
 * `smolagents.task`, `smolagents.max_steps`, `smolagents.tools_names`, `smolagents.managed_agents.<i>.name`
 * and no `agent.name` (`_RunWrapper`); each step a CHAIN span `Step <n>` (`_StepWrapper`); a model call an LLM
 * span `<Model class>.generate` with flattened `llm.{input,output}_messages` (`_ModelWrapper`); a tool call a
 * TOOL span named after the tool's class with `tool.name`, `input.value`, `output.value` (`_ToolCallWrapper`).
 * A managed agent is run from inside its manager's step (smolagents `agents.py`: the manager calls it like a
 * tool; it is no `Tool`, so no TOOL span): its `<name>.run` span is a child of the manager's `Step <n>`.
 * The run: smolagents docs' multi-agent example, a CodeAgent `manager` with a ToolCallingAgent `web_agent`.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
const FOUND = 'The LLaMA 3 405B model was trained on 16,384 H100 GPUs for about 54 days.';
const ANSWER = 'Training LLaMA 3 405B took about 30.84M GPU hours (16,384 H100s for ~54 days).';

function llm(r: Recorder, parent: Parent, start: number, end: number, input: string, output: { content?: string; call?: { id: string; name: string; args: string } }): void {
  const a: Record<string, unknown> = {
    'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o',
    'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': input,
    'llm.output_messages.0.message.role': 'assistant',
    'llm.token_count.prompt': 100, 'llm.token_count.completion': 30,
  };
  if (output.content !== undefined) a['llm.output_messages.0.message.content'] = output.content;
  if (output.call) {
    a['llm.output_messages.0.message.tool_calls.0.tool_call.id'] = output.call.id;
    a['llm.output_messages.0.message.tool_calls.0.tool_call.function.name'] = output.call.name;
    a['llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments'] = output.call.args;
  }
  r.start('OpenAIServerModel.generate', start, a, parent).end(at(end));
}

function tool(r: Recorder, parent: Parent, cls: string, name: string, start: number, end: number, kwargs: object, out: string): void {
  r.start(cls, start, {
    'openinference.span.kind': 'TOOL', 'tool.name': name,
    'input.value': JSON.stringify({ args: [], sanitize_inputs_outputs: true, kwargs }), 'input.mime_type': 'application/json',
    'output.value': out,
  }, parent).end(at(end));
}

/** manager (CodeAgent) → web_agent (ToolCallingAgent, managed) → web_search; manager answers. */
export function managedAgentRun(): Span[] {
  return recordSpans((r) => {
    const manager = r.start('manager.run', 0, {
      'openinference.span.kind': 'AGENT', 'input.value': JSON.stringify({ task: 'How long did LLaMA 3 405B take to train?', stream: false }),
      'smolagents.task': 'How long did LLaMA 3 405B take to train?', 'smolagents.max_steps': 10, 'smolagents.tools_names': ['final_answer'],
      'smolagents.managed_agents.0.name': 'web_agent', 'smolagents.managed_agents.0.description': 'Runs web searches for you.',
    });
    const m1 = r.start('Step 1', 1, { 'openinference.span.kind': 'CHAIN' }, manager);
    llm(r, m1, 2, 10, 'How long did LLaMA 3 405B take to train?', { content: 'Code:\n```py\nfacts = web_agent(task="Find the LLaMA 3 405B training compute")\nprint(facts)\n```' });
    const web = r.start('web_agent.run', 11, {
      'openinference.span.kind': 'AGENT', 'input.value': JSON.stringify({ task: 'Find the LLaMA 3 405B training compute' }),
      'smolagents.task': 'Find the LLaMA 3 405B training compute', 'smolagents.max_steps': 10, 'smolagents.tools_names': ['web_search', 'final_answer'],
    }, m1);
    const w1 = r.start('Step 1', 12, { 'openinference.span.kind': 'CHAIN' }, web);
    llm(r, w1, 13, 20, 'Find the LLaMA 3 405B training compute', { call: { id: 'call_1', name: 'web_search', args: '{"query": "LLaMA 3 405B training GPUs days"}' } });
    tool(r, w1, 'DuckDuckGoSearchTool', 'web_search', 21, 25, { query: 'LLaMA 3 405B training GPUs days' }, FOUND);
    w1.end(at(26));
    const w2 = r.start('Step 2', 27, { 'openinference.span.kind': 'CHAIN' }, web);
    llm(r, w2, 28, 35, `Find the LLaMA 3 405B training compute\nObservation: ${FOUND}`, { call: { id: 'call_2', name: 'final_answer', args: JSON.stringify({ answer: FOUND }) } });
    tool(r, w2, 'FinalAnswerTool', 'final_answer', 36, 37, { answer: FOUND }, FOUND);
    w2.end(at(38));
    web.setAttribute('output.value', FOUND);
    web.end(at(39));
    m1.end(at(40));
    const m2 = r.start('Step 2', 41, { 'openinference.span.kind': 'CHAIN' }, manager);
    llm(r, m2, 42, 50, `How long did LLaMA 3 405B take to train?\nObservation: ${FOUND}`, { content: `Code:\n\`\`\`py\nfinal_answer("${ANSWER}")\n\`\`\`` });
    tool(r, m2, 'FinalAnswerTool', 'final_answer', 51, 52, { answer: ANSWER }, ANSWER);
    m2.end(at(53));
    manager.setAttribute('output.value', ANSWER);
    manager.end(at(54));
  });
}


describe('smolagents (OpenInference): a manager agent with a managed agent', () => {
  it('both agent runs are agents, each model call and tool call its own agent\'s step (before: the manager, which contains an agent span, was demoted to a chain)', () => {
    const { steps, agents, warnings } = stepsFromSpans(managedAgentRun());
    expect(agents.map((a) => a.agentName)).toEqual(['manager', 'web_agent']);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual(['manager', 'web_agent', 'web_agent', 'manager']);
    expect(steps.filter((s) => s.kind === 'tool').map((s) => `${s.agentName}:${s.toolName}`)).toEqual(['web_agent:web_search', 'web_agent:final_answer', 'manager:final_answer']);
    expect(warnings.join('\n')).not.toMatch(/fallback/);
  });

  it('the tool calls are linked to the model calls that issued and read them (C3)', () => {
    const { steps } = stepsFromSpans(managedAgentRun());
    const search = steps.find((s) => s.toolName === 'web_search')!;
    const webLlm = steps.filter((s) => s.kind === 'llm' && s.agentName === 'web_agent');
    expect(search.causalInputs).toContain(webLlm[0]!.stepId);
  });

  it('the managed agent\'s answer is read by the manager\'s next model call (C10)', () => {
    const { steps } = stepsFromSpans(managedAgentRun());
    const webLast = steps.filter((s) => s.rewardable && s.agentName === 'web_agent').at(-1)!;
    const managerNext = steps.filter((s) => s.kind === 'llm' && s.agentName === 'manager')[1]!;
    expect(managerNext.causalInputs).toContain(webLast.stepId);
  });

  it('both agents get credit for a successful run (before: the managed agent that found the facts got 0)', async () => {
    const credit = await creditOf(managedAgentRun());
    expect(credit.get('manager')).toBeGreaterThan(0);
    expect(credit.get('web_agent')).toBeGreaterThan(0);
    expect(credit.has('sdk-agents')).toBe(false);
  });
});
