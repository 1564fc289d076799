/**
 * LangGraph multi-agent apps under OpenInference's LangChain instrumentor
 * (Arize-ai/openinference `openinference-instrumentation-langchain` 0.1.70 `_tracer.py`; JS
 * `@arizeai/openinference-instrumentation-langchain` 4.0.18 `tracer.ts`/`utils.ts`). Every LangChain run is a span
 * named after the run (`_start_trace`: `name=run.name`); its kind is AGENT when the run's name contains
 * "agent" (Python `_update_span`; JS reads only the run type, so the same node is CHAIN), else the run type
 * (chain → CHAIN, llm → LLM, tool → TOOL); `metadata` is the run's metadata as JSON (`_metadata`), where LangGraph
 * (langchain-ai/langgraph 1.2 `pregel/_algo.py` `prepare_single_task`) writes `langgraph_step`, `langgraph_node`,
 * `langgraph_triggers`, `langgraph_path`, `langgraph_checkpoint_ns` (`<parent ns>|<node>:<task id>`, NS_SEP `|`,
 * NS_END `:`); tools record `tool.name`, `input.value` = `str(tool_input)` (a Python repr) and `output.value`
 * the ToolMessage (`{"type": "tool", "data": {…, "tool_call_id"}}`) or, for a hand-off, the `Command`.
 *
 * The run: langgraph-supervisor-py 0.0.31 README, `create_supervisor([research_agent, math_agent])` of two
 * `create_react_agent(name=…)` workers. `supervisor.py`: the supervisor is itself a `create_react_agent` named
 * `supervisor`, added as node `supervisor`; each worker is node `<agent.name>` (`_make_call_agent`), with an edge
 * back to the supervisor and, after it, the `transfer_back_to_supervisor` call/result *messages* only
 * (`create_handoff_back_messages`: no tool runs, so no span). `handoff.py`: the supervisor's hand-off tools
 * `transfer_to_<agent>` return `Command(goto=<agent>, graph=Command.PARENT, update=…)`. Inside a react agent
 * (`langgraph.prebuilt.chat_agent_executor`) the model node is `agent` (a RunnableSeq of `call_model` and the
 * `should_continue` branch), the tool node `tools` (ToolNode, not traced itself: tool spans sit right under it).
 */
import { describe, expect, it } from 'vitest';
import { stepsFromSpans } from '../../src/conventions/index.js';
import type { Span } from '../../src/model/telemetry.js';
import { at, recordSpans, type Recorder, creditOf } from './sdk.js';

type Parent = Parameters<Recorder['start']>[3];
type OtelSpan = ReturnType<Recorder['start']>;

const QUESTION = "what's the combined headcount of the FAANG companies in 2024?";
const FOUND =
  'FAANG headcounts in 2024: Meta 67,317; Apple 164,000; Amazon 1,551,000; Netflix 14,000; Google 181,269 employees.';
const SUM = 'The combined headcount of the FAANG companies in 2024 is 1,977,586 employees.';
const ANSWER = 'The combined headcount of the FAANG companies in 2024 was 1,977,586 employees.';

/** `metadata` of a run inside a LangGraph task (`prepare_single_task`), as the tracer writes it (JSON). */
function meta(node: string, step: number, ns: string, extra: Record<string, unknown> = {}): string {
  const parent = ns.includes('|') ? ns.slice(0, ns.lastIndexOf('|')) : '';
  return JSON.stringify({
    langgraph_step: step,
    langgraph_node: node,
    langgraph_triggers: [`branch:to:${node}`],
    langgraph_path: ['__pregel_pull', node],
    langgraph_checkpoint_ns: ns,
    ...(parent !== '' ? { checkpoint_ns: parent } : {}),
    ...extra,
  });
}

const LLM_META = { ls_provider: 'openai', ls_model_name: 'gpt-4o', ls_model_type: 'chat', ls_temperature: 0 };

interface Msg { role: string; content?: string; name?: string; call?: { id: string; name: string; args: string }; toolCallId?: string }

function flatten(prefix: string, msgs: Msg[], a: Record<string, unknown>): void {
  msgs.forEach((m, i) => {
    const p = `${prefix}.${i}.message`;
    a[`${p}.role`] = m.role;
    if (m.content !== undefined) a[`${p}.content`] = m.content;
    if (m.name !== undefined) a[`${p}.name`] = m.name;
    if (m.toolCallId !== undefined) a[`${p}.tool_call_id`] = m.toolCallId;
    if (m.call) {
      a[`${p}.tool_calls.0.tool_call.id`] = m.call.id;
      a[`${p}.tool_calls.0.tool_call.function.name`] = m.call.name;
      a[`${p}.tool_calls.0.tool_call.function.arguments`] = m.call.args;
    }
  });
}

interface Run {
  /** true: Python tracer (a run named `…agent…` is AGENT); false: JS tracer (run type: CHAIN). */
  agentKindByName: boolean;
  /** message contents recorded (false: OPENINFERENCE_HIDE_INPUTS / _OUTPUTS style, no messages, no values) */
  contents: boolean;
}

/** One react agent's model node: `agent` → `call_model` → `RunnableSequence` → `ChatOpenAI`, and `should_continue`. */
function modelNode(r: Recorder, run: Run, parent: Parent, step: number, ns: string, t: number, input: Msg[], output: Msg): OtelSpan {
  const node = r.start('agent', t, { 'openinference.span.kind': run.agentKindByName ? 'AGENT' : 'CHAIN', metadata: meta('agent', step, ns) }, parent);
  const call = r.start('call_model', t + 1, { 'openinference.span.kind': 'CHAIN', metadata: meta('agent', step, ns) }, node);
  const seq = r.start('RunnableSequence', t + 1, { 'openinference.span.kind': 'CHAIN', metadata: meta('agent', step, ns) }, call);
  const a: Record<string, unknown> = {
    'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai', 'llm.system': 'openai',
    'llm.token_count.prompt': 120, 'llm.token_count.completion': 30,
    metadata: meta('agent', step, ns, LLM_META),
  };
  if (run.contents) {
    flatten('llm.input_messages', input, a);
    flatten('llm.output_messages', [output], a);
  }
  r.start('ChatOpenAI', t + 2, a, seq).end(at(t + 8));
  seq.end(at(t + 9));
  call.end(at(t + 9));
  r.start('should_continue', t + 9, { 'openinference.span.kind': 'CHAIN', metadata: meta('agent', step, ns) }, node).end(at(t + 10));
  node.end(at(t + 10));
  return node;
}

/** The react agent's `tools` node (ToolNode, untraced) with one TOOL span. */
function toolNode(r: Recorder, run: Run, parent: Parent, step: number, ns: string, t: number, tool: string, pyArgs: string, output: unknown): void {
  const node = r.start('tools', t, { 'openinference.span.kind': 'CHAIN', metadata: meta('tools', step, ns) }, parent);
  const a: Record<string, unknown> = {
    'openinference.span.kind': 'TOOL', 'tool.name': tool, 'tool.description': `${tool} tool`,
    metadata: meta('tools', step, ns),
  };
  if (run.contents) {
    a['input.value'] = pyArgs;
    a['input.mime_type'] = 'application/json';
    a['output.value'] = JSON.stringify(output);
    a['output.mime_type'] = 'application/json';
  }
  r.start(tool, t + 1, a, node).end(at(t + 4));
  node.end(at(t + 5));
}

const toolMessage = (content: string, name: string, id: string) => ({
  type: 'tool',
  data: { content, additional_kwargs: {}, response_metadata: {}, type: 'tool', name, id: null, tool_call_id: id, artifact: null, status: 'success' },
});

/** The `Command` a supervisor hand-off tool returns (langgraph-supervisor `handoff.py`), as the tracer's encoder dumps it. */
const command = (agent: string, callId: string) => ({
  graph: '__parent__',
  update: { messages: [{ type: 'human', data: { content: QUESTION, type: 'human' } }, toolMessage(`Successfully transferred to ${agent}`, `transfer_to_${agent}`, callId)] },
  goto: agent,
});

/** A node of the outer graph that runs a compiled subgraph: the node run, then the subgraph's own run, both named `name`. */
function graphNode(r: Recorder, parent: Parent, name: string, step: number, ns: string, t: number): [OtelSpan, OtelSpan] {
  const node = r.start(name, t, { 'openinference.span.kind': 'CHAIN', metadata: meta(name, step, ns) }, parent);
  const graph = r.start(name, t, { 'openinference.span.kind': 'CHAIN', metadata: meta(name, step, ns) }, node);
  return [node, graph];
}

/** supervisor → research_expert (web_search) → back → supervisor → math_expert (add) → back → supervisor answers. */
export function supervisorRun(run: Run = { agentKindByName: true, contents: true }): Span[] {
  return recordSpans((r) => {
    const root = r.start('LangGraph', 0, { 'openinference.span.kind': 'CHAIN', ...(run.contents ? { 'input.value': JSON.stringify({ messages: [{ role: 'user', content: QUESTION }] }), 'input.mime_type': 'application/json' } : {}) });
    const user: Msg = { role: 'user', content: QUESTION };

    // step 1: supervisor routes to the research expert
    const S1 = 'supervisor:0b7c1c1e-6b1c-5d0e-9f2a-1a1a1a1a1a01';
    let [node, graph] = graphNode(r, root, 'supervisor', 1, S1, 1);
    modelNode(r, run, graph, 1, `${S1}|agent:1f0e2d3c-0001-4a5b-8c7d-000000000001`, 2, [{ role: 'system', content: 'You are a team supervisor managing a research expert and a math expert.' }, user],
      { role: 'assistant', name: 'supervisor', call: { id: 'call_s1', name: 'transfer_to_research_expert', args: '{}' } });
    toolNode(r, run, graph, 2, `${S1}|tools:1f0e2d3c-0002-4a5b-8c7d-000000000002`, 13, 'transfer_to_research_expert',
      `{'state': {'messages': [HumanMessage(content="${QUESTION}")]}}`, command('research_expert', 'call_s1'));
    graph.end(at(19)); node.end(at(19));

    // step 2: research expert searches, answers; the node adds the transfer-back messages
    const R = 'research_expert:2a2a2a2a-0003-4a5b-8c7d-000000000003';
    [node, graph] = graphNode(r, root, 'research_expert', 2, R, 20);
    const rIn: Msg[] = [{ role: 'system', content: 'You are a world class researcher with access to web search. Do not do any math.' }, user, { role: 'tool', content: 'Successfully transferred to research_expert', toolCallId: 'call_s1' }];
    modelNode(r, run, graph, 1, `${R}|agent:3b3b3b3b-0004-4a5b-8c7d-000000000004`, 21, rIn,
      { role: 'assistant', name: 'research_expert', call: { id: 'call_r1', name: 'web_search', args: '{"query": "FAANG headcount 2024"}' } });
    toolNode(r, run, graph, 2, `${R}|tools:3b3b3b3b-0005-4a5b-8c7d-000000000005`, 32, 'web_search', "{'query': 'FAANG headcount 2024'}", toolMessage(FOUND, 'web_search', 'call_r1'));
    modelNode(r, run, graph, 3, `${R}|agent:3b3b3b3b-0006-4a5b-8c7d-000000000006`, 38,
      [...rIn, { role: 'assistant', name: 'research_expert', call: { id: 'call_r1', name: 'web_search', args: '{"query": "FAANG headcount 2024"}' } }, { role: 'tool', content: FOUND, toolCallId: 'call_r1' }],
      { role: 'assistant', name: 'research_expert', content: FOUND });
    graph.end(at(49)); node.end(at(50));

    // step 3: supervisor routes to the math expert
    const back = (agent: string, id: string): Msg[] => [
      { role: 'assistant', name: agent, content: 'Transferring back to supervisor', call: { id, name: 'transfer_back_to_supervisor', args: '{}' } },
      { role: 'tool', content: 'Successfully transferred back to supervisor', toolCallId: id },
    ];
    const S3 = 'supervisor:0b7c1c1e-6b1c-5d0e-9f2a-1a1a1a1a1a07';
    [node, graph] = graphNode(r, root, 'supervisor', 3, S3, 51);
    const sIn: Msg[] = [{ role: 'system', content: 'You are a team supervisor managing a research expert and a math expert.' }, user,
      { role: 'assistant', name: 'supervisor', call: { id: 'call_s1', name: 'transfer_to_research_expert', args: '{}' } }, { role: 'tool', content: 'Successfully transferred to research_expert', toolCallId: 'call_s1' },
      { role: 'assistant', name: 'research_expert', content: FOUND }, ...back('research_expert', '6c1d1f0e-8a9b-4c2d-9e3f-000000000001')];
    modelNode(r, run, graph, 1, `${S3}|agent:1f0e2d3c-0008-4a5b-8c7d-000000000008`, 52, sIn,
      { role: 'assistant', name: 'supervisor', call: { id: 'call_s2', name: 'transfer_to_math_expert', args: '{}' } });
    toolNode(r, run, graph, 2, `${S3}|tools:1f0e2d3c-0009-4a5b-8c7d-000000000009`, 63, 'transfer_to_math_expert',
      `{'state': {'messages': [HumanMessage(content="${QUESTION}")]}}`, command('math_expert', 'call_s2'));
    graph.end(at(69)); node.end(at(69));

    // step 4: math expert adds, answers
    const M = 'math_expert:4d4d4d4d-0010-4a5b-8c7d-000000000010';
    [node, graph] = graphNode(r, root, 'math_expert', 4, M, 70);
    const mIn: Msg[] = [{ role: 'system', content: 'You are a math expert. Always use one tool at a time.' }, ...sIn.slice(1),
      { role: 'assistant', name: 'supervisor', call: { id: 'call_s2', name: 'transfer_to_math_expert', args: '{}' } }, { role: 'tool', content: 'Successfully transferred to math_expert', toolCallId: 'call_s2' }];
    const addArgs = '{"numbers": [67317, 164000, 1551000, 14000, 181269]}';
    modelNode(r, run, graph, 1, `${M}|agent:5e5e5e5e-0011-4a5b-8c7d-000000000011`, 71, mIn,
      { role: 'assistant', name: 'math_expert', call: { id: 'call_m1', name: 'add', args: addArgs } });
    toolNode(r, run, graph, 2, `${M}|tools:5e5e5e5e-0012-4a5b-8c7d-000000000012`, 82, 'add', "{'numbers': [67317, 164000, 1551000, 14000, 181269]}", toolMessage('1977586', 'add', 'call_m1'));
    modelNode(r, run, graph, 3, `${M}|agent:5e5e5e5e-0013-4a5b-8c7d-000000000013`, 88,
      [...mIn, { role: 'assistant', name: 'math_expert', call: { id: 'call_m1', name: 'add', args: addArgs } }, { role: 'tool', content: '1977586', toolCallId: 'call_m1' }],
      { role: 'assistant', name: 'math_expert', content: SUM });
    graph.end(at(99)); node.end(at(100));

    // step 5: supervisor answers
    const S5 = 'supervisor:0b7c1c1e-6b1c-5d0e-9f2a-1a1a1a1a1a14';
    [node, graph] = graphNode(r, root, 'supervisor', 5, S5, 101);
    modelNode(r, run, graph, 1, `${S5}|agent:1f0e2d3c-0015-4a5b-8c7d-000000000015`, 102,
      [...sIn, { role: 'assistant', name: 'supervisor', call: { id: 'call_s2', name: 'transfer_to_math_expert', args: '{}' } }, { role: 'tool', content: 'Successfully transferred to math_expert', toolCallId: 'call_s2' },
        { role: 'assistant', name: 'math_expert', content: SUM }, ...back('math_expert', '6c1d1f0e-8a9b-4c2d-9e3f-000000000002')],
      { role: 'assistant', name: 'supervisor', content: ANSWER });
    graph.end(at(113)); node.end(at(113));
    if (run.contents) root.setAttribute('output.value', JSON.stringify({ messages: [{ role: 'assistant', content: ANSWER }] }));
    root.end(at(114));
  });
}


const AGENTS = ['supervisor', 'research_expert', 'math_expert'];

describe.each([
  ['Python tracer (model node AGENT), contents recorded', { agentKindByName: true, contents: true }],
  ['JS tracer (model node CHAIN), contents recorded', { agentKindByName: false, contents: true }],
  ['Python tracer, no contents', { agentKindByName: true, contents: false }],
])('LangGraph supervisor under the OpenInference LangChain instrumentor — %s', (_label, run) => {
  const spans = () => supervisorRun(run);

  it('the supervisor and each worker are agents of their own, named by their graph (before: one agent `agent`, transfers to the fallback agent)', () => {
    const { steps, agents, warnings } = stepsFromSpans(spans());
    expect(agents.map((a) => a.agentName)).toEqual(AGENTS);
    expect(steps.filter((s) => s.kind === 'llm').map((s) => s.agentName)).toEqual([
      'supervisor', 'research_expert', 'research_expert', 'supervisor', 'math_expert', 'math_expert', 'supervisor',
    ]);
    expect(steps.filter((s) => s.kind === 'tool').map((s) => `${s.agentName}:${s.toolName}`)).toEqual(['research_expert:web_search', 'math_expert:add']);
    expect(warnings.join('\n')).not.toMatch(/fallback/);
  });

  it('each transfer is a hand-off of the supervisor, read by the target worker\'s first model call (C5)', () => {
    const { steps } = stepsFromSpans(spans());
    const handoffs = steps.filter((s) => s.kind === 'handoff');
    expect(handoffs.map((h) => `${h.agentName}→${h.handoffTo}`)).toEqual(['supervisor→research_expert', 'supervisor→math_expert']);
    for (const h of handoffs) {
      const first = steps.find((s) => s.rewardable && s.agentName === h.handoffTo)!;
      expect(first.causalInputs).toContain(h.stepId);
    }
  });

  it('each worker\'s answer goes back to the supervisor: its next model call reads the worker\'s last step', () => {
    const { steps } = stepsFromSpans(spans());
    const sup = steps.filter((s) => s.kind === 'llm' && s.agentName === 'supervisor');
    const lastOf = (agent: string) => steps.filter((s) => s.rewardable && s.agentName === agent).at(-1)!;
    expect(sup[1]!.causalInputs).toContain(lastOf('research_expert').stepId);
    expect(sup[2]!.causalInputs).toContain(lastOf('math_expert').stepId);
  });

  it('every agent that did the work gets credit (before: `agent` took it all)', async () => {
    const credit = await creditOf(spans());
    expect([...credit.keys()].sort()).toEqual([...AGENTS].sort());
    for (const a of AGENTS) expect(credit.get(a)).toBeGreaterThan(0);
  });
});

describe('LangGraph tool spans', () => {
  it('a tool span takes its call id from the ToolMessage it returned (no `tool.id`; its Python-repr input matches no call)', () => {
    const { steps } = stepsFromSpans(supervisorRun());
    expect(steps.filter((s) => s.rewardable && s.kind !== 'llm').map((s) => s.toolCallId)).toEqual(['call_s1', 'call_r1', 'call_s2', 'call_m1']);
  });

  it('a single react agent (no enclosing graph in its namespace) is read as before', () => {
    const spans = recordSpans((r) => {
      const root = r.start('LangGraph', 0, { 'openinference.span.kind': 'CHAIN' });
      const node = r.start('agent', 1, { 'openinference.span.kind': 'AGENT', metadata: meta('agent', 1, 'agent:7a7a7a7a-0001-4a5b-8c7d-000000000001') }, root);
      r.start('ChatOpenAI', 2, { 'openinference.span.kind': 'LLM', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': ANSWER,
        metadata: meta('agent', 1, 'agent:7a7a7a7a-0001-4a5b-8c7d-000000000001', LLM_META) }, node).end(at(8));
      node.end(at(9));
      root.end(at(10));
    });
    const { agents, steps } = stepsFromSpans(spans);
    expect(agents.map((a) => a.agentName)).toEqual(['agent']);
    expect(steps.find((s) => s.kind === 'llm')!.agentName).toBe('agent');
  });
});

/** langgraph-swarm-py 0.1.0 README: `create_swarm([alice, bob])`; Alice hands off with `transfer_to_bob`, Bob answers. */
function swarmRun(): Span[] {
  const run: Run = { agentKindByName: true, contents: true };
  return recordSpans((r) => {
    const root = r.start('LangGraph', 0, { 'openinference.span.kind': 'CHAIN' });
    const A = 'Alice:8a8a8a8a-0001-4a5b-8c7d-000000000001';
    let [node, graph] = graphNode(r, root, 'Alice', 1, A, 1);
    modelNode(r, run, graph, 1, `${A}|agent:8a8a8a8a-0002-4a5b-8c7d-000000000002`, 2, [{ role: 'user', content: "i'd like to speak to Bob" }],
      { role: 'assistant', name: 'Alice', call: { id: 'call_a1', name: 'transfer_to_bob', args: '{}' } });
    toolNode(r, run, graph, 2, `${A}|tools:8a8a8a8a-0003-4a5b-8c7d-000000000003`, 13, 'transfer_to_bob', "{'state': {'messages': []}}",
      { graph: '__parent__', update: { messages: [toolMessage('Successfully transferred to Bob', 'transfer_to_bob', 'call_a1')], active_agent: 'Bob' }, goto: 'Bob' });
    graph.end(at(19)); node.end(at(19));
    const B = 'Bob:9b9b9b9b-0004-4a5b-8c7d-000000000004';
    [node, graph] = graphNode(r, root, 'Bob', 2, B, 20);
    modelNode(r, run, graph, 1, `${B}|agent:9b9b9b9b-0005-4a5b-8c7d-000000000005`, 21, [{ role: 'user', content: "i'd like to speak to Bob" }, { role: 'tool', content: 'Successfully transferred to Bob', toolCallId: 'call_a1' }],
      { role: 'assistant', name: 'Bob', content: 'Ahoy, matey! Bob here — what be ye needin\'?' });
    graph.end(at(32)); node.end(at(32));
    root.end(at(33));
  });
}

describe('LangGraph swarm under the OpenInference LangChain instrumentor', () => {
  it('each agent is its own; the transfer is a hand-off of Alice to Bob (C5); Bob, who answered, is not read back', async () => {
    const { steps, agents } = stepsFromSpans(swarmRun());
    expect(agents.map((a) => a.agentName)).toEqual(['Alice', 'Bob']);
    const h = steps.find((s) => s.kind === 'handoff')!;
    expect([h.agentName, h.handoffTo, h.toolCallId]).toEqual(['Alice', 'Bob', 'call_a1']);
    expect(steps.find((s) => s.kind === 'llm' && s.agentName === 'Bob')!.causalInputs).toContain(h.stepId);
    const credit = await creditOf(swarmRun());
    expect(credit.get('Alice')).toBeGreaterThan(0);
    expect(credit.get('Bob')).toBeGreaterThan(0);
  });
});
