/**
 * CrewAI under OpenInference (Arize-ai/openinference `openinference-instrumentation-crewai` 1.1.12, `_wrappers.py`;
 * crewAIInc/crewAI 1.15.17). What the instrumentor writes:
 * - `Crew.kickoff` → CHAIN `<crew name or Crew_<id>>.kickoff` (`_CrewKickoffWrapper`): `input.value` the kickoff
 *   inputs, `crew_key`, `crew_id`, `crew_inputs`, `crew_agents` / `crew_tasks` (JSON), `output.value` the CrewOutput.
 * - `Task._execute_core(agent, context, tools)` → AGENT `<role>.<task name>._execute_core` (`<role>._execute_core`
 *   for an unnamed task; `_ExecuteCoreWrapper`): no `agent.name`; `graph.node.id` = the agent's role,
 *   `graph.node.parent_id` = the role of the agent before it in `crew.agents` (list order, not task order);
 *   `task_key`, `task_id`, `task_name`, `crew_key`, `crew_id`; `input.value` JSON `{agent: {role, goal, …}, context,
 *   tools}` (`context`: the raw outputs of the earlier tasks it reads, joined by `\n\n----------\n\n`);
 *   `output.value` the TaskOutput JSON (`raw`, `agent`, …).
 * - `BaseTool.run` / `Tool.run` → TOOL `<tool name>.run` (`_BaseToolRunWrapper`): `tool.name` the tool's display
 *   name (`Search the internet`), `tool.description`, `tool.parameters`, `input.value` JSON of the keyword
 *   arguments, `output.value` the result; no `tool.id`. The model calls it by `sanitize_tool_name(name)`
 *   (crewai `utilities/string_utils.py`: `search_the_internet`; `utilities/agent_utils.py`
 *   `convert_tools_to_openai_schema`).
 * - model calls: no span of CrewAI's own; the provider instrumentor's (here OpenInference OpenAI `ChatCompletion`).
 * Hierarchical process (crewai `crew.py` `_create_manager_agent`): every task runs as the manager agent
 * (`Crew Manager`, not in `crew.agents`: no `graph.node.parent_id`), whose tools are `Delegate work to coworker` /
 * `Ask question to coworker` (`tools/agent_tools/base_agent_tools.py` `_execute`: `selected_agent.execute_task(Task(
 * description=task, agent=coworker), context)` — no `_execute_core`, no kickoff: the coworker's model and tool
 * calls are children of the TOOL span, no span names the coworker but the tool's `coworker` argument).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { Span } from '../../src/model/telemetry.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { at, episodeOf, recordSpans, type Recorder } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
const DIVIDER = '\n\n----------\n\n';
const FOUND = 'In 2026 most production AI agents run with OpenTelemetry tracing; multi-agent credit assignment is an open problem.';
const ARTICLE = 'AI agents in 2026: tracing is now standard, and the next frontier is knowing which agent earned the result.';

interface Msg { role: string; content?: string; call?: { id: string; name: string; args: string }; toolCallId?: string }

function llm(r: Recorder, parent: Parent, start: number, end: number, input: Msg[], output: Msg): void {
  const a: Record<string, unknown> = {
    'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o-mini-2024-07-18', 'llm.provider': 'openai', 'llm.system': 'openai',
    'llm.token_count.prompt': 400, 'llm.token_count.completion': 60, 'llm.token_count.total': 460,
    'input.mime_type': 'application/json', 'output.mime_type': 'application/json',
  };
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
  input.forEach((m, i) => put('llm.input_messages', i, m));
  put('llm.output_messages', 0, output);
  a['input.value'] = JSON.stringify({ messages: input.map((m) => ({ role: m.role, content: m.content ?? null })), model: 'gpt-4o-mini' });
  a['output.value'] = JSON.stringify({ choices: [{ message: { role: 'assistant', content: output.content ?? null } }] });
  r.start('ChatCompletion', start, a, parent).end(at(end));
}

function tool(r: Recorder, parent: Parent, name: string, start: number, kwargs: object, out: string, end: number, body?: (span: Parent) => void): void {
  const t = r.start(`${name}.run`, start, {
    'openinference.span.kind': 'TOOL', 'tool.name': name,
    'tool.description': `Tool Name: ${name}\nTool Arguments: {}\nTool Description: ${name}`,
    'input.value': JSON.stringify(kwargs), 'input.mime_type': 'application/json',
    'tool.description_updated': false, 'tool.result_as_answer': false, 'tool.current_usage_count': 0,
  }, parent);
  body?.(t);
  t.setAttributes({ 'output.value': out, 'output.mime_type': 'text/plain' });
  t.end(at(end));
}

const agentJson = (role: string, goal: string, tools: string[], allowDelegation = false) =>
  ({ id: `id-${role}`, role, goal, backstory: `You are a ${role}.`, verbose: false, allow_delegation: allowDelegation, max_iter: 25, max_rpm: null, tools: tools.map((name) => ({ name })), key: `key-${role}` });

function task(r: Recorder, parent: Parent, role: string, taskName: string, start: number, extra: Record<string, unknown>, agent: object, context: string): ReturnType<Recorder['start']> {
  return r.start(`${role}.${taskName}._execute_core`, start, {
    'openinference.span.kind': 'AGENT', 'graph.node.id': role, ...extra,
    'input.value': JSON.stringify({ agent, context, tools: [] }), 'input.mime_type': 'application/json',
    task_key: `key-${taskName}`, task_id: `id-${taskName}`, task_name: taskName, crew_key: 'crew-key', crew_id: 'crew-id',
  }, parent);
}

const taskOutput = (taskName: string, role: string, raw: string) =>
  JSON.stringify({ description: taskName, name: taskName, expected_output: 'A report', summary: raw.slice(0, 40), raw, pydantic: null, json_dict: null, agent: role, output_format: 'raw', messages: [] });

/** A sequential crew: `Senior Researcher` (research_task, with a search tool) → `Content Writer` (write_task). */
export function sequentialCrew(): Span[] {
  return recordSpans((r) => {
    const crew = r.start('research_crew.kickoff', 0, {
      'openinference.span.kind': 'CHAIN', 'input.value': JSON.stringify({ topic: 'AI agents' }), 'input.mime_type': 'application/json',
      crew_key: 'crew-key', crew_id: 'crew-id', crew_inputs: JSON.stringify({ topic: 'AI agents' }),
      crew_agents: JSON.stringify([{ role: 'Senior Researcher' }, { role: 'Content Writer' }]),
    });
    const research = task(r, crew, 'Senior Researcher', 'research_task', 1, {}, agentJson('Senior Researcher', 'Find facts', ['Search the internet']), '');
    const sys1 = { role: 'system', content: 'You are Senior Researcher. You are a Senior Researcher.\nYour personal goal is: Find facts' };
    const user1 = { role: 'user', content: '\nCurrent Task: Research AI agents in 2026\n\nThis is the expected criteria for your final answer: A report' };
    const call = { id: 'call_search', name: 'search_the_internet', args: '{"search_query": "AI agents 2026"}' };
    llm(r, research, 2, 10, [sys1, user1], { role: 'assistant', call });
    tool(r, research, 'Search the internet', 11, { search_query: 'AI agents 2026' }, FOUND, 15);
    llm(r, research, 16, 25, [sys1, user1, { role: 'assistant', call }, { role: 'tool', toolCallId: 'call_search', content: FOUND }], { role: 'assistant', content: FOUND });
    research.setAttributes({ 'output.value': taskOutput('research_task', 'Senior Researcher', FOUND), 'output.mime_type': 'application/json' });
    research.end(at(26));
    const write = task(r, crew, 'Content Writer', 'write_task', 27, { 'graph.node.parent_id': 'Senior Researcher' }, agentJson('Content Writer', 'Write articles', []), FOUND);
    llm(r, write, 28, 40, [
      { role: 'system', content: 'You are Content Writer. You are a Content Writer.\nYour personal goal is: Write articles' },
      { role: 'user', content: `\nCurrent Task: Write an article on AI agents\n\nThis is the context you're working with:\n${FOUND}` },
    ], { role: 'assistant', content: ARTICLE });
    write.setAttributes({ 'output.value': taskOutput('write_task', 'Content Writer', ARTICLE), 'output.mime_type': 'application/json' });
    write.end(at(41));
    crew.setAttributes({ 'output.value': JSON.stringify({ raw: ARTICLE, tasks_output: [] }), 'output.mime_type': 'application/json' });
    crew.end(at(42));
  });
}

export async function creditOf(spans: Span[]): Promise<Map<string, number>> {
  const events = await processEpisode(episodeOf(spans, 1));
  return new Map((events[0] as EpisodeCredit).agents.map((a) => [a.agent_name, a.credit]));
}

describe('CrewAI (OpenInference): a sequential crew, researcher → writer', () => {
  it('each task span is its role\'s agent, its model and tool calls that agent\'s steps (already so: graph.node.id names the agent)', () => {
    const { steps, agents, warnings } = stepsFromSpans(sequentialCrew());
    expect(agents.map((a) => a.agentName)).toEqual(['Senior Researcher', 'Content Writer']);
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.agentName}:${s.kind}`)).toEqual(['Senior Researcher:llm', 'Senior Researcher:tool', 'Senior Researcher:llm', 'Content Writer:llm']);
    expect(steps.find((s) => s.name === 'research_crew.kickoff')!.kind).toBe('chain');
    expect(warnings).toEqual([]);
  });

  it('the writer\'s first model call reads the researcher\'s answer (C6 graph.node.parent_id, C8 the context in its prompt)', () => {
    const { steps } = stepsFromSpans(sequentialCrew());
    const researcherLast = steps.filter((s) => s.agentName === 'Senior Researcher' && s.rewardable).at(-1)!;
    const writer = steps.find((s) => s.agentName === 'Content Writer' && s.kind === 'llm')!;
    expect(writer.causalInputs).toContain(researcherLast.stepId);
  });

  it('both agents get credit (researcher 1/3, writer 2/3)', async () => {
    const credit = await creditOf(sequentialCrew());
    expect(credit.get('Senior Researcher')).toBeCloseTo(1 / 3, 6);
    expect(credit.get('Content Writer')).toBeCloseTo(2 / 3, 6);
  });
});

