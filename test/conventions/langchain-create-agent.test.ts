/**
 * LangChain 1.x `create_agent` multi-agent runs under OpenInference's LangChain instrumentor.
 *
 * Sources: langchain-ai/langchain `libs/langchain_v1/langchain/agents/factory.py` (langchain 1.5.0): the model node
 * is `model` (`RunnableCallable(model_node, trace=False)`: the chat model's LLM span sits right under the node
 * span), tools run in node `tools` (one `Send("tools", …)` task per call), the graph is compiled with `name=name`
 * and runs with the metadata `{"ls_integration": "langchain_create_agent", "lc_agent_name": name}` (the latter only
 * when named), inherited by every run inside it. langchain-ai/langchainjs `libs/langchain/src/agents/ReactAgent.ts`
 * / `nodes/AgentNode.ts` (langchain 1.5.14): the same metadata, model node `model_request`. LangChain's own stream
 * transformers (`SubagentRunStream`) take a nested run whose `lc_agent_name` differs from its parent's as a
 * subagent. The pattern: LangChain's "subagents" multi-agent docs — a supervisor `create_agent` whose tool invokes a
 * named `create_agent` subagent.
 *
 * Shapes checked by running the real packages under the real instrumentors (fake chat model, in-memory exporter):
 * Python langchain 1.5.0 + langgraph 1.2.24 + openinference-instrumentation-langchain 0.1.80, and JS langchain
 * 1.5.14 + @langchain/langgraph 1.7.3 + @arizeai/openinference-instrumentation-langchain 4.1.1:
 *   supervisor                       CHAIN  {lc_agent_name: supervisor}
 *     model | model_request          CHAIN  {…, langgraph_node, langgraph_checkpoint_ns: model:<id>}
 *       ChatOpenAI                   LLM
 *     tools                          CHAIN  {…, tools:<id>}
 *       research                     TOOL   {lc_agent_name: supervisor, …}
 *         research_agent             AGENT (Python: the name contains "agent") / CHAIN (JS)
 *                                           {lc_agent_name: research_agent, langgraph_node: tools, ns tools:<id>}
 *           model                    CHAIN  {…, ns tools:<id>|model:<id>}  → LLM
 *           tools → web_search TOOL
 *           model → LLM
 *     model → LLM (answers)
 * The JS tracer also writes a `RunnableLambda` CHAIN beside the LLM span in `model_request`.
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];

const QUESTION = 'What was the combined headcount of Meta and Apple in 2024?';
const FOUND = 'Headcounts in 2024: Meta 67,317 employees; Apple 164,000 employees.';
const ANSWER = 'Meta and Apple together had 231,317 employees in 2024.';

interface Run {
  python: boolean;
  /** the supervisor was given `name=` (else its runs carry no `lc_agent_name`, its graph span is `LangGraph`) */
  namedSupervisor: boolean;
}

function meta(run: Run, agent: string | undefined, lg?: { node: string; ns: string }, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ls_integration: 'langchain_create_agent',
    ...(agent !== undefined ? { lc_agent_name: agent } : {}),
    ...(lg !== undefined
      ? { langgraph_step: 1, langgraph_node: lg.node, langgraph_triggers: [`branch:to:${lg.node}`], langgraph_path: ['__pregel_pull', lg.node], langgraph_checkpoint_ns: lg.ns, checkpoint_ns: lg.ns }
      : {}),
    ...extra,
  });
}

interface Call { id: string; name: string; args: string }

/** A model node (`model` / `model_request`) with its LLM span. */
function modelNode(r: Recorder, run: Run, parent: Parent, agent: string | undefined, ns: string, t: number, input: string, out: { text?: string; call?: Call }, toolResult?: { id: string; text: string }): void {
  const node = run.python ? 'model' : 'model_request';
  const nodeNs = `${ns}${node}:${t.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const lg = { node, ns: nodeNs };
  const n = r.start(node, t, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, agent, lg) }, parent);
  const a: Record<string, unknown> = {
    'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai', 'llm.system': 'openai',
    'llm.token_count.prompt': 100, 'llm.token_count.completion': 20,
    metadata: meta(run, agent, lg, { ls_integration: 'langchain_chat_model', ls_provider: 'openai', ls_model_name: 'gpt-4o', ls_model_type: 'chat' }),
    'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': input,
    'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': out.text ?? '',
  };
  if (toolResult !== undefined) {
    a['llm.input_messages.1.message.role'] = 'tool';
    a['llm.input_messages.1.message.content'] = toolResult.text;
    a['llm.input_messages.1.message.tool_call_id'] = toolResult.id;
  }
  if (out.call !== undefined) {
    a['llm.output_messages.0.message.tool_calls.0.tool_call.id'] = out.call.id;
    a['llm.output_messages.0.message.tool_calls.0.tool_call.function.name'] = out.call.name;
    a['llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments'] = out.call.args;
  }
  r.start('ChatOpenAI', t + 1, a, n).end(at(t + 8));
  if (!run.python) r.start('RunnableLambda', t + 8, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, agent, lg) }, n).end(at(t + 9));
  n.end(at(t + 9));
}

/** A `tools` node task with one TOOL span; `inside` runs within the tool (a subagent). */
function toolNode(r: Recorder, run: Run, parent: Parent, agent: string | undefined, ns: string, t: number, end: number, call: Call, result: string, inside?: (tool: ReturnType<Recorder['start']>, toolNs: string) => void): void {
  const toolNs = `${ns}tools:${t.toString(16).padStart(8, '0')}-0000-4000-8000-000000000001`;
  const lg = { node: 'tools', ns: toolNs };
  const n = r.start('tools', t, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, agent, lg) }, parent);
  const output = run.python
    ? { type: 'tool', data: { content: result, additional_kwargs: {}, response_metadata: {}, type: 'tool', name: call.name, id: null, tool_call_id: call.id, artifact: null, status: 'success' } }
    : { output: { lc: 1, type: 'constructor', id: ['langchain_core', 'messages', 'ToolMessage'], kwargs: { status: 'success', content: result, tool_call_id: call.id, name: call.name } } };
  const tool = r.start(call.name, t + 1, {
    'openinference.span.kind': 'TOOL', 'tool.name': call.name, 'tool.description': `${call.name} tool`,
    'input.value': run.python ? `{'query': '${(JSON.parse(call.args) as { query: string }).query}'}` : (JSON.parse(call.args) as { query: string }).query,
    'input.mime_type': run.python ? 'application/json' : 'text/plain',
    'output.value': JSON.stringify(output), 'output.mime_type': 'application/json',
    metadata: meta(run, agent, lg),
  }, n);
  inside?.(tool, toolNs);
  tool.end(at(end - 1));
  n.end(at(end));
}

const SEARCH: Call = { id: 'call_r1', name: 'web_search', args: '{"query": "Meta Apple headcount 2024"}' };
const RESEARCH: Call = { id: 'call_s1', name: 'research', args: '{"query": "Meta and Apple headcount 2024"}' };

/** A supervisor `create_agent` whose `research` tool runs the `research_agent` subagent, then answers. */
export function subagentRun(run: Run): Span[] {
  return recordSpans((r) => {
    const sup = run.namedSupervisor ? 'supervisor' : undefined;
    const root = r.start(sup ?? 'LangGraph', 0, { 'openinference.span.kind': 'CHAIN', 'input.value': JSON.stringify({ messages: [{ role: 'user', content: QUESTION }] }), 'input.mime_type': 'application/json', metadata: meta(run, sup) });
    modelNode(r, run, root, sup, '', 1, QUESTION, { call: RESEARCH });
    toolNode(r, run, root, sup, '', 11, 60, RESEARCH, FOUND, (tool, toolNs) => {
      const sub = 'research_agent';
      const graph = r.start(sub, 13, {
        'openinference.span.kind': run.python ? 'AGENT' : 'CHAIN',
        'input.value': JSON.stringify({ messages: [{ role: 'user', content: 'Meta and Apple headcount 2024' }] }), 'input.mime_type': 'application/json',
        metadata: meta(run, sub, { node: 'tools', ns: toolNs }),
      }, tool);
      const inner = `${toolNs}|`;
      modelNode(r, run, graph, sub, inner, 14, 'Meta and Apple headcount 2024', { call: SEARCH });
      toolNode(r, run, graph, sub, inner, 24, 30, SEARCH, 'Meta: 67,317 employees (2024). Apple: 164,000 employees (2024).');
      modelNode(r, run, graph, sub, inner, 31, 'Meta and Apple headcount 2024', { text: FOUND }, { id: SEARCH.id, text: 'Meta: 67,317 employees (2024). Apple: 164,000 employees (2024).' });
      graph.end(at(42));
    });
    modelNode(r, run, root, sup, '', 61, QUESTION, { text: ANSWER }, { id: RESEARCH.id, text: FOUND });
    root.setAttribute('output.value', JSON.stringify({ messages: [{ role: 'assistant', content: ANSWER }] }));
    root.end(at(71));
  });
}


describe.each([
  ['Python tracer (langchain 1.5.0, model node `model`)', { python: true, namedSupervisor: true }],
  ['JS tracer (langchain 1.5.14, model node `model_request`)', { python: false, namedSupervisor: true }],
])('LangChain create_agent supervisor with a subagent as a tool — %s', (_label, run) => {
  it('the supervisor and the subagent are agents of their own, named by `lc_agent_name` (before: one agent, or the fallback)', () => {
    const { steps, agents, warnings } = stepsFromSpans(subagentRun(run));
    expect(agents.map((a) => a.agentName)).toEqual(['supervisor', 'research_agent']);
    expect(steps.filter((s) => s.rewardable).map((s) => `${s.kind}:${s.agentName}`)).toEqual([
      'llm:supervisor', 'tool:supervisor', 'llm:research_agent', 'tool:research_agent', 'llm:research_agent', 'llm:supervisor',
    ]);
    expect(warnings.join('\n')).not.toMatch(/fallback/);
  });

  it('the subagent\'s answer reaches the supervisor\'s answer (C7 through the tool), and both get credit', async () => {
    const { steps } = stepsFromSpans(subagentRun(run));
    const llm = steps.filter((s) => s.kind === 'llm');
    expect(llm.at(-1)!.causalInputs).toContain(llm.filter((s) => s.agentName === 'research_agent').at(-1)!.stepId);
    const credit = await creditOf(subagentRun(run));
    expect([...credit.keys()].sort()).toEqual(['research_agent', 'supervisor']);
    expect(credit.get('supervisor')).toBeGreaterThan(0);
    expect(credit.get('research_agent')).toBeGreaterThan(0);
  });
});

describe('LangChain create_agent — unnamed supervisor', () => {
  it('a supervisor without `name=` (graph `LangGraph`, no `lc_agent_name`) stays the fallback agent; its named subagent is told apart', async () => {
    const { agents } = stepsFromSpans(subagentRun({ python: false, namedSupervisor: false }));
    expect(agents.map((a) => a.agentName)).toEqual(['sdk-agents', 'research_agent']);
    const credit = await creditOf(subagentRun({ python: false, namedSupervisor: false }));
    expect(credit.get('research_agent')).toBeGreaterThan(0);
  });
});

describe('LangChain create_agent workers in a langgraph-supervisor graph', () => {
  /** The worker is the node `research_expert` of the outer graph, running its compiled graph of the same name. */
  it('the node span that runs the worker\'s graph is the agent span (workers side by side under one parent, L2)', () => {
    const run: Run = { python: true, namedSupervisor: true };
    const spans = recordSpans((r) => {
      const root = r.start('LangGraph', 0, { 'openinference.span.kind': 'CHAIN' });
      const ns = 'research_expert:2a2a2a2a-0003-4a5b-8c7d-000000000003';
      const outer = JSON.stringify({ langgraph_step: 2, langgraph_node: 'research_expert', langgraph_checkpoint_ns: ns, checkpoint_ns: ns });
      const node = r.start('research_expert', 1, { 'openinference.span.kind': 'CHAIN', metadata: outer }, root);
      const graph = r.start('research_expert', 1, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, 'research_expert', { node: 'research_expert', ns }) }, node);
      modelNode(r, run, graph, 'research_expert', `${ns}|`, 2, QUESTION, { text: FOUND });
      graph.end(at(12));
      node.end(at(12));
      root.end(at(13));
    });
    const { agents, steps } = stepsFromSpans(spans);
    expect(agents.map((a) => a.agentName)).toEqual(['research_expert']);
    const agentSpan = steps.find((s) => s.kind === 'agent')!;
    expect(spans.find((s) => s.spanId === agentSpan.stepId)!.parentSpanId).toBe(spans.find((s) => s.name === 'LangGraph')!.spanId);
  });

  it('a middleware node the Python tracer made AGENT from its name (`<Middleware>.before_agent`) is no agent', () => {
    const run: Run = { python: true, namedSupervisor: true };
    const spans = recordSpans((r) => {
      const root = r.start('writer', 0, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, 'writer') });
      r.start('SummarizationMiddleware.before_agent', 1, { 'openinference.span.kind': 'AGENT', metadata: meta(run, 'writer', { node: 'SummarizationMiddleware.before_agent', ns: 'SummarizationMiddleware.before_agent:1' }) }, root).end(at(2));
      modelNode(r, run, root, 'writer', '', 3, QUESTION, { text: ANSWER });
      root.end(at(13));
    });
    expect(stepsFromSpans(spans).agents.map((a) => a.agentName)).toEqual(['writer']);
  });
});

describe('LangChain create_agent — named agents the application runs one after another', () => {
  /**
   * Two named `create_agent`s invoked by the application's own code under its request span, on unrelated inputs:
   * their graph runs carry `lc_agent_name` but no `langgraph_checkpoint_ns` (no graph runs them as nodes), so no
   * graph state passes between them. L2 (a node reads the state the previous node wrote) must not link them:
   * before, the second agent's first model call read the first agent's answer and the first agent took a quarter
   * of the credit for a reply it had no part in.
   */
  it.each([true, false])('no L2 edge between them (Python tracer: %s)', async (python) => {
    const run: Run = { python, namedSupervisor: true };
    const spans = recordSpans((r) => {
      const root = r.start('POST /chat', 0, { 'http.request.method': 'POST' });
      const a = r.start('summarizer', 1, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, 'summarizer') }, root);
      modelNode(r, run, a, 'summarizer', '', 2, 'Summarize the ACME Corp quarterly report.', { text: 'ACME revenue grew 12% year over year in Q3.' });
      a.end(at(12));
      const b = r.start('translator', 20, { 'openinference.span.kind': 'CHAIN', metadata: meta(run, 'translator') }, root);
      modelNode(r, run, b, 'translator', '', 21, 'Translate "good morning" into French.', { text: 'Bonjour.' });
      b.end(at(31));
      root.end(at(32));
    });
    const { steps, agents } = stepsFromSpans(spans);
    expect(agents.map((x) => x.agentName)).toEqual(['summarizer', 'translator']);
    const first = steps.find((s) => s.rewardable && s.agentName === 'translator')!;
    expect(first.causalInputs.filter((id) => steps.find((s) => s.stepId === id)!.agentName === 'summarizer')).toEqual([]);
    const credit = await creditOf(spans);
    expect(credit.get('summarizer')).toBe(0);
    expect(credit.get('translator')).toBe(1);
  });
});
