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
import { crewaiToolName } from '../../src/conventions/crewai.js';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
const DIVIDER = '\n\n----------\n\n';
const FOUND = 'In 2026 most production AI agents run with OpenTelemetry tracing; multi-agent credit assignment is an open problem.';
const ARTICLE = 'AI agents in 2026: tracing is now standard, and the next frontier is knowing which agent earned the result.';

interface Call { id: string; name: string; args: string }
interface Msg { role: string; content?: string; call?: Call; calls?: Call[]; toolCallId?: string }

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
    (m.calls ?? (m.call ? [m.call] : [])).forEach((c, j) => {
      a[`${prefix}.${i}.message.tool_calls.${j}.tool_call.id`] = c.id;
      a[`${prefix}.${i}.message.tool_calls.${j}.tool_call.function.name`] = c.name;
      a[`${prefix}.${i}.message.tool_calls.${j}.tool_call.function.arguments`] = c.args;
    });
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
    writerTask(r, crew, 27);
  });
}


/** The sequential crew's second task: `Content Writer` writes the article from the researcher's output (its context), then the crew ends at 42 ms. */
function writerTask(r: Recorder, crew: Parent & ReturnType<Recorder['start']>, startMs: number): void {
  const write = task(r, crew, 'Content Writer', 'write_task', startMs, { 'graph.node.parent_id': 'Senior Researcher' }, agentJson('Content Writer', 'Write articles', []), FOUND);
  llm(r, write, startMs + 1, 40, [
    { role: 'system', content: 'You are Content Writer. You are a Content Writer.\nYour personal goal is: Write articles' },
    { role: 'user', content: `\nCurrent Task: Write an article on AI agents\n\nThis is the context you're working with:\n${FOUND}` },
  ], { role: 'assistant', content: ARTICLE });
  write.setAttributes({ 'output.value': taskOutput('write_task', 'Content Writer', ARTICLE), 'output.mime_type': 'application/json' });
  write.end(at(41));
  crew.setAttributes({ 'output.value': JSON.stringify({ raw: ARTICLE, tasks_output: [] }), 'output.mime_type': 'application/json' });
  crew.end(at(42));
}

/**
 * A hierarchical crew (`process=Process.hierarchical`, `manager_llm`): one task, run by `Crew Manager`, which
 * delegates the research to `Senior Researcher` and the writing to `Content Writer` through `Delegate work to
 * coworker`, then answers with the writer's article.
 */
export function hierarchicalCrew(): Span[] {
  return recordSpans((r) => {
    const crew = r.start('Crew_3f1c.kickoff', 0, {
      'openinference.span.kind': 'CHAIN', 'input.value': JSON.stringify({ topic: 'AI agents' }), 'input.mime_type': 'application/json',
      crew_key: 'crew-key', crew_id: 'crew-id',
      crew_agents: JSON.stringify([{ role: 'Senior Researcher' }, { role: 'Content Writer' }]),
    });
    const manager = task(r, crew, 'Crew Manager', 'article_task', 1, {}, agentJson('Crew Manager', 'Manage the team', ['Delegate work to coworker', 'Ask question to coworker'], true), '');
    const sysM = { role: 'system', content: 'You are Crew Manager. You are a seasoned manager.\nYour personal goal is: Manage the team' };
    const userM = { role: 'user', content: '\nCurrent Task: Write an article on AI agents in 2026' };
    const d1Args = { task: 'Research AI agents in 2026', context: 'We are writing an article on AI agents.', coworker: 'Senior Researcher' };
    const d1 = { id: 'call_d1', name: 'delegate_work_to_coworker', args: JSON.stringify(d1Args) };
    llm(r, manager, 2, 8, [sysM, userM], { role: 'assistant', call: d1 });
    tool(r, manager, 'Delegate work to coworker', 9, d1Args, FOUND, 30, (t) => {
      const sysR = { role: 'system', content: 'You are Senior Researcher. You are a Senior Researcher.\nYour personal goal is: Find facts' };
      const userR = { role: 'user', content: `\nCurrent Task: Research AI agents in 2026\n\nThis is the context you're working with:\nWe are writing an article on AI agents.` };
      const call = { id: 'call_search', name: 'search_the_internet', args: '{"search_query": "AI agents 2026"}' };
      llm(r, t, 10, 16, [sysR, userR], { role: 'assistant', call });
      tool(r, t, 'Search the internet', 17, { search_query: 'AI agents 2026' }, FOUND, 20);
      llm(r, t, 21, 29, [sysR, userR, { role: 'assistant', call }, { role: 'tool', toolCallId: 'call_search', content: FOUND }], { role: 'assistant', content: FOUND });
    });
    const d2Args = { task: 'Write an article on AI agents', context: FOUND, coworker: 'content writer' };
    const d2 = { id: 'call_d2', name: 'delegate_work_to_coworker', args: JSON.stringify(d2Args) };
    const hist = [sysM, userM, { role: 'assistant', call: d1 }, { role: 'tool', toolCallId: 'call_d1', content: FOUND }];
    llm(r, manager, 31, 36, hist, { role: 'assistant', call: d2 });
    tool(r, manager, 'Delegate work to coworker', 37, d2Args, ARTICLE, 50, (t) => {
      llm(r, t, 38, 49, [
        { role: 'system', content: 'You are Content Writer. You are a Content Writer.\nYour personal goal is: Write articles' },
        { role: 'user', content: `\nCurrent Task: Write an article on AI agents\n\nThis is the context you're working with:\n${FOUND}` },
      ], { role: 'assistant', content: ARTICLE });
    });
    llm(r, manager, 51, 58, [...hist, { role: 'assistant', call: d2 }, { role: 'tool', toolCallId: 'call_d2', content: ARTICLE }], { role: 'assistant', content: ARTICLE });
    manager.setAttributes({ 'output.value': taskOutput('article_task', 'Crew Manager', ARTICLE), 'output.mime_type': 'application/json' });
    manager.end(at(59));
    crew.setAttributes({ 'output.value': JSON.stringify({ raw: ARTICLE, tasks_output: [] }), 'output.mime_type': 'application/json' });
    crew.end(at(60));
  });
}


const PAGE = 'Survey 2026: 78% of teams trace their agents with OpenTelemetry; few can say which agent earned a result.';
const STATS = 'Of 1,200 surveyed teams, 78% trace their agents; 9% measure per-agent contribution.';
/** crewai `translations/en.json` `post_tool_reasoning`: the user message appended after a round of tool results. */
const POST_TOOL = { role: 'user', content: 'Analyze the tool result. If requirements are met, provide the Final Answer. Otherwise, call the next tool. Deliver only the answer without meta-commentary.' };

/**
 * A sequential crew whose researcher's model asks for two tools in one response (OpenAI parallel tool calls):
 * crewai 1.15.17 `CrewAgentExecutor._handle_native_tool_calls` runs them side by side (`ThreadPoolExecutor`,
 * `contextvars.copy_context()`: both TOOL spans children of the task span), appends `{role: tool, tool_call_id}`
 * for each in call order and `post_tool_reasoning`, then calls the model again. The tools are crewai-tools'
 * `SerperDevTool` (`Search the internet with Serper`) and `ScrapeWebsiteTool` (`Read website content`); the model
 * calls them `search_the_internet_with_serper` / `read_website_content` (`sanitize_tool_name`).
 */
export function parallelToolsCrew(): Span[] {
  return recordSpans((r) => {
    const crew = r.start('research_crew.kickoff', 0, {
      'openinference.span.kind': 'CHAIN', 'input.value': JSON.stringify({ topic: 'AI agents' }), 'input.mime_type': 'application/json',
      crew_key: 'crew-key', crew_id: 'crew-id', crew_inputs: JSON.stringify({ topic: 'AI agents' }),
      crew_agents: JSON.stringify([{ role: 'Senior Researcher' }, { role: 'Content Writer' }]),
    });
    const research = task(r, crew, 'Senior Researcher', 'research_task', 1, {}, agentJson('Senior Researcher', 'Find facts', ['Search the internet with Serper', 'Read website content']), '');
    const sys1 = { role: 'system', content: 'You are Senior Researcher. You are a Senior Researcher.\nYour personal goal is: Find facts' };
    const user1 = { role: 'user', content: '\nCurrent Task: Research AI agents in 2026\n\nThis is the expected criteria for your final answer: A report' };
    const calls = [
      { id: 'call_search', name: 'search_the_internet_with_serper', args: '{"search_query": "AI agents 2026"}' },
      { id: 'call_read', name: 'read_website_content', args: '{"website_url": "https://example.com/agents-2026"}' },
    ];
    llm(r, research, 2, 10, [sys1, user1], { role: 'assistant', calls });
    tool(r, research, 'Search the internet with Serper', 11, { search_query: 'AI agents 2026' }, FOUND, 15);
    tool(r, research, 'Read website content', 12, { website_url: 'https://example.com/agents-2026' }, PAGE, 18);
    const results = [{ role: 'tool', toolCallId: 'call_search', content: FOUND }, { role: 'tool', toolCallId: 'call_read', content: PAGE }];
    llm(r, research, 19, 27, [sys1, user1, { role: 'assistant', calls }, ...results, POST_TOOL], { role: 'assistant', content: FOUND });
    research.setAttributes({ 'output.value': taskOutput('research_task', 'Senior Researcher', FOUND), 'output.mime_type': 'application/json' });
    research.end(at(28));
    writerTask(r, crew, 29);
  });
}

/**
 * A hierarchical crew whose manager asks two coworkers at once: one response with `delegate_work_to_coworker`
 * (to `Senior Researcher`) and `ask_question_to_coworker` (to `Data Analyst`), run side by side as above, then
 * one model call that reads both answers and writes the article.
 */
export function parallelDelegationCrew(): Span[] {
  return recordSpans((r) => {
    const crew = r.start('Crew_7a2e.kickoff', 0, {
      'openinference.span.kind': 'CHAIN', 'input.value': JSON.stringify({ topic: 'AI agents' }), 'input.mime_type': 'application/json',
      crew_key: 'crew-key', crew_id: 'crew-id',
      crew_agents: JSON.stringify([{ role: 'Senior Researcher' }, { role: 'Data Analyst' }]),
    });
    const manager = task(r, crew, 'Crew Manager', 'article_task', 1, {}, agentJson('Crew Manager', 'Manage the team', ['Delegate work to coworker', 'Ask question to coworker'], true), '');
    const sysM = { role: 'system', content: 'You are Crew Manager. You are a seasoned manager.\nYour personal goal is: Manage the team' };
    const userM = { role: 'user', content: '\nCurrent Task: Write an article on AI agents in 2026' };
    const dArgs = { task: 'Research AI agents in 2026', context: 'We are writing an article on AI agents.', coworker: 'Senior Researcher' };
    const qArgs = { question: 'How many teams trace their agents, and how many measure each agent\'s contribution?', context: 'We are writing an article on AI agents.', coworker: 'Data Analyst' };
    const calls = [
      { id: 'call_d1', name: 'delegate_work_to_coworker', args: JSON.stringify(dArgs) },
      { id: 'call_q1', name: 'ask_question_to_coworker', args: JSON.stringify(qArgs) },
    ];
    llm(r, manager, 2, 8, [sysM, userM], { role: 'assistant', calls });
    tool(r, manager, 'Delegate work to coworker', 9, dArgs, FOUND, 30, (t) => {
      llm(r, t, 10, 29, [
        { role: 'system', content: 'You are Senior Researcher. You are a Senior Researcher.\nYour personal goal is: Find facts' },
        { role: 'user', content: `\nCurrent Task: Research AI agents in 2026\n\nThis is the context you're working with:\n${dArgs.context}` },
      ], { role: 'assistant', content: FOUND });
    });
    tool(r, manager, 'Ask question to coworker', 10, qArgs, STATS, 25, (t) => {
      llm(r, t, 11, 24, [
        { role: 'system', content: 'You are Data Analyst. You are a Data Analyst.\nYour personal goal is: Answer with numbers' },
        { role: 'user', content: `\nCurrent Task: ${qArgs.question}\n\nThis is the context you're working with:\n${qArgs.context}` },
      ], { role: 'assistant', content: STATS });
    });
    const results = [{ role: 'tool', toolCallId: 'call_d1', content: FOUND }, { role: 'tool', toolCallId: 'call_q1', content: STATS }];
    llm(r, manager, 31, 40, [sysM, userM, { role: 'assistant', calls }, ...results, POST_TOOL], { role: 'assistant', content: ARTICLE });
    manager.setAttributes({ 'output.value': taskOutput('article_task', 'Crew Manager', ARTICLE), 'output.mime_type': 'application/json' });
    manager.end(at(41));
    crew.setAttributes({ 'output.value': JSON.stringify({ raw: ARTICLE, tasks_output: [] }), 'output.mime_type': 'application/json' });
    crew.end(at(42));
  });
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

describe('CrewAI (OpenInference): a hierarchical crew, the manager delegating to coworkers (W1)', () => {
  it('the coworkers\' model and tool calls below a delegation tool span are theirs, the delegation the manager\'s (before: all the manager\'s)', () => {
    const { steps, agents, warnings } = stepsFromSpans(hierarchicalCrew());
    expect(agents.map((a) => a.agentName)).toEqual(['Crew Manager', 'Senior Researcher', 'Content Writer']);
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.agentName}:${s.toolName ?? s.kind}`)).toEqual([
      'Crew Manager:llm', 'Crew Manager:delegate_work_to_coworker', // named as the model called it (W2)
      'Senior Researcher:llm', 'Senior Researcher:search_the_internet', 'Senior Researcher:llm',
      'Crew Manager:llm', 'Crew Manager:delegate_work_to_coworker',
      'Content Writer:llm', // the model wrote `content writer`: the role as `crew_agents` spells it
      'Crew Manager:llm',
    ]);
    expect(warnings).toEqual([]);
  });

  it('the manager\'s next model call reads the coworker\'s answer (C7), the coworker reads its delegation (C1)', () => {
    const { steps } = stepsFromSpans(hierarchicalCrew());
    const [d1] = steps.filter((s) => s.toolName === 'delegate_work_to_coworker');
    const researcher = steps.filter((s) => s.agentName === 'Senior Researcher' && s.rewardable);
    const managerLlm = steps.filter((s) => s.agentName === 'Crew Manager' && s.kind === 'llm');
    expect(researcher[0]!.causalInputs).toContain(d1!.stepId);
    expect(managerLlm[1]!.causalInputs).toContain(researcher.at(-1)!.stepId);
  });

  it('credit reaches the coworkers (before: Crew Manager 1.0; after: manager 1/3, researcher 4/21, writer 10/21)', async () => {
    const credit = await creditOf(hierarchicalCrew());
    expect(credit.get('Crew Manager')).toBeCloseTo(1 / 3, 6);
    expect(credit.get('Senior Researcher')).toBeCloseTo(4 / 21, 6);
    expect(credit.get('Content Writer')).toBeCloseTo(10 / 21, 6);
  });

  it('a tool of that name not written by the CrewAI instrumentor is read as before', () => {
    const spans = hierarchicalCrew().map((s) => {
      const { ['tool.result_as_answer']: _a, ['tool.description_updated']: _b, ...attributes } = s.attributes;
      return { ...s, attributes };
    });
    const { agents } = stepsFromSpans(spans);
    expect(agents.map((a) => a.agentName)).toEqual(['Crew Manager']);
  });
});

describe('CrewAI (OpenInference): one model call asking for two tools at once (W2)', () => {
  const links = (spans: Span[]) => {
    const { steps } = stepsFromSpans(spans);
    return { tools: steps.filter((s) => s.kind === 'tool'), llms: steps.filter((s) => s.kind === 'llm') };
  };

  it('each tool step is matched to its call by the name the model called it (C3), and the next model call reads both results (before: no tool matched; by C4 that call read only the tool that ended last)', () => {
    const { tools, llms } = links(parallelToolsCrew());
    expect(tools.map((t) => [t.toolName, t.toolCallId])).toEqual([
      ['search_the_internet_with_serper', 'call_search'], ['read_website_content', 'call_read'],
    ]);
    for (const t of tools) expect(t.causalInputs).toContain(llms[0]!.stepId);
    expect(llms[1]!.causalInputs).toEqual(expect.arrayContaining(tools.map((t) => t.stepId)));
  });

  it('the search both tools fed reaches the answer (before: researcher 1/3, writer 2/3, the search a dead end; after: 3/8, 5/8)', async () => {
    const credit = await creditOf(parallelToolsCrew());
    expect(credit.get('Senior Researcher')).toBeCloseTo(3 / 8, 6);
    expect(credit.get('Content Writer')).toBeCloseTo(5 / 8, 6);
  });

  it('both coworkers asked at once reach the manager\'s answer (before: the Data Analyst, whose tool ended first, reached nothing: manager 5/8, researcher 3/8, analyst 0; after: 5/9, 2/9, 2/9)', async () => {
    const { tools, llms } = links(parallelDelegationCrew());
    expect(tools.map((t) => `${t.agentName}:${t.toolName}:${t.toolCallId}`)).toEqual([
      'Crew Manager:delegate_work_to_coworker:call_d1', 'Crew Manager:ask_question_to_coworker:call_q1',
    ]);
    const analyst = llms.find((s) => s.agentName === 'Data Analyst')!;
    const managerLast = llms.filter((s) => s.agentName === 'Crew Manager').at(-1)!;
    expect(managerLast.causalInputs).toEqual(expect.arrayContaining([...tools.map((t) => t.stepId), analyst.stepId]));
    const credit = await creditOf(parallelDelegationCrew());
    expect(credit.get('Crew Manager')).toBeCloseTo(5 / 9, 6);
    expect(credit.get('Senior Researcher')).toBeCloseTo(2 / 9, 6);
    expect(credit.get('Data Analyst')).toBeCloseTo(2 / 9, 6);
  });

  it('a tool of that name not written by the CrewAI instrumentor keeps its name and is read as before', () => {
    const spans = parallelToolsCrew().map((s) => {
      const { ['tool.result_as_answer']: _a, ['tool.description_updated']: _b, ...attributes } = s.attributes;
      return { ...s, attributes };
    });
    const { tools, llms } = links(spans);
    expect(tools.map((t) => [t.toolName, t.toolCallId])).toEqual([['Search the internet with Serper', undefined], ['Read website content', undefined]]);
    expect(llms[1]!.causalInputs).not.toContain(tools[0]!.stepId);
  });

  it('crewaiToolName is crewai 1.15.17 sanitize_tool_name (values from running it)', () => {
    expect([
      'Search the internet with Serper', 'Café Menü Lookup', 'getHTTPResponse Tool', 'What\'s the "best" tool?',
      'Retrieve the full quarterly financial statements of a publicly listed company by ticker symbol',
    ].map(crewaiToolName)).toEqual([
      'search_the_internet_with_serper', 'cafe_menu_lookup', 'get_http_response_tool', 'whats_the_best_tool',
      'retrieve_the_full_quarterly_financial_statements_of_a_p_040caa5e',
    ]);
  });
});

describe('CrewAI (OpenInference): an MCP tool recorded twice (W2 with D2)', () => {
  /**
   * crewai-tools' `MCPServerAdapter` names a CrewAI tool after the MCP server's tool (`resolve-library-id`); the model
   * calls it `resolve_library_id` (W2), and the MCP client writes its own `tools/call resolve-library-id` span (GenAI
   * MCP conventions) inside the CrewAI TOOL span. D2 reads the two as one call by their tool name: the name as the
   * span recorded it, not the one W2 gives the step.
   */
  function mcpCrew(withClientSpan: boolean): Span[] {
    return recordSpans((r) => {
      const crew = r.start('research_crew.kickoff', 0, {
        'openinference.span.kind': 'CHAIN', crew_key: 'crew-key', crew_id: 'crew-id',
        crew_agents: JSON.stringify([{ role: 'Senior Researcher' }, { role: 'Content Writer' }]),
      });
      const research = task(r, crew, 'Senior Researcher', 'research_task', 1, {}, agentJson('Senior Researcher', 'Find facts', ['resolve-library-id']), '');
      const sys1 = { role: 'system', content: 'You are Senior Researcher.' };
      const user1 = { role: 'user', content: '\nCurrent Task: Find the library id of OpenTelemetry JS' };
      const call = { id: 'call_lib', name: 'resolve_library_id', args: '{"libraryName": "opentelemetry-js"}' };
      llm(r, research, 2, 10, [sys1, user1], { role: 'assistant', call });
      tool(r, research, 'resolve-library-id', 11, { libraryName: 'opentelemetry-js' }, FOUND, 15, (t) => {
        if (!withClientSpan) return;
        r.start('tools/call resolve-library-id', 12, {
          'mcp.method.name': 'tools/call', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'resolve-library-id',
          'jsonrpc.request.id': '3', 'mcp.protocol.version': '2025-06-18', 'network.transport': 'pipe',
        }, t).end(at(14));
      });
      llm(r, research, 16, 25, [sys1, user1, { role: 'assistant', call }, { role: 'tool', toolCallId: 'call_lib', content: FOUND }], { role: 'assistant', content: FOUND });
      research.end(at(26));
      const write = task(r, crew, 'Content Writer', 'write_task', 27, { 'graph.node.parent_id': 'Senior Researcher' }, agentJson('Content Writer', 'Write articles', []), FOUND);
      llm(r, write, 28, 40, [{ role: 'system', content: 'You are Content Writer.' }, { role: 'user', content: `\nCurrent Task: Write an article\n\n${FOUND}` }], { role: 'assistant', content: ARTICLE });
      write.end(at(41));
      crew.end(at(42));
    });
  }

  it('the MCP client span inside the CrewAI tool span is that call again: one tool step, matched to its call', async () => {
    const { steps } = stepsFromSpans(mcpCrew(true));
    const tools = steps.filter((s) => s.kind === 'tool');
    expect(tools.map((s) => `${s.name}:${s.toolName}`)).toEqual(['resolve-library-id.run:resolve_library_id']);
    expect(tools[0]!.toolCallId).toBe('call_lib');
    expect(steps.find((s) => s.name === 'tools/call resolve-library-id')!.kind).toBe('other');
    expect(await creditOf(mcpCrew(true))).toEqual(await creditOf(mcpCrew(false)));
  });
});
