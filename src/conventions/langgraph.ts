/**
 * L1 — LangGraph multi-agent graphs under OpenInference's LangChain instrumentor.
 *
 * Sources (checked): Arize-ai/openinference `openinference-instrumentation-langchain` 0.1.70 `_tracer.py` — a
 * span per LangChain run, named `run.name`; `_update_span` marks a run whose name contains "agent" AGENT (the JS
 * `@arizeai/openinference-instrumentation-langchain` 4.0.18 reads the run type only: CHAIN), with no
 * `agent.name`; `_metadata` writes the run's metadata as the JSON `metadata` attribute; a tool's result is
 * `output.value` (the ToolMessage, `{"type": "tool", "data": {…, "tool_call_id"}}`, or the `Command` a hand-off
 * tool returns), its input the Python repr of its arguments, no `tool.id`. langchain-ai/langgraph 1.2
 * `pregel/_algo.py` puts `langgraph_node` and `langgraph_checkpoint_ns` (`<parent ns>|<node>:<task id>`) in the
 * metadata of every run of a task. `create_react_agent` (`langgraph.prebuilt`) runs its model in node `agent`
 * and its tools in node `tools`; langgraph-supervisor-py 0.0.31 (`supervisor.py`) and langgraph-swarm-py 0.1.0
 * (`swarm.py`) add each agent's compiled graph as the node named `agent.name` (the supervisor's own graph as
 * `supervisor`), and their hand-off tools are `transfer_to_<agent>` returning `Command(goto=<agent>,
 * graph=Command.PARENT)` (`handoff.py`).
 *
 * So a model node `agent` whose namespace has an enclosing graph (`math_expert:<id>|agent:<id>`) belongs to the
 * agent that graph is: the node of the outer graph named by the namespace's last enclosing segment. That node's
 * span (the outermost span of that namespace above the model node) becomes the agent span, named by the node;
 * the `agent` spans inside it become structure. Its model and tool calls (node `tools`, beside `agent`) are
 * then its steps by the ancestor rule (R4). A `transfer_to_<agent>` / `transfer_back_to_<agent>` tool span of
 * such a run is a hand-off to the `Command`'s `goto`, else to the LangGraph agent its name names (C5 links the
 * target's first step). A tool span without `tool.id` takes the call id of the ToolMessage it returned.
 *
 * LangChain 1.x `create_agent(name=…)` (model node `model` / JS `model_request`, no `agent` node) is found by the
 * `lc_agent_name` metadata its runs carry instead (below, `namedCreateAgents`).
 *
 * Runs whose spans carry no `langgraph_checkpoint_ns` nor `lc_agent_name` in an OpenInference `metadata` attribute are untouched; a
 * single react agent (no enclosing graph in its namespace) keeps its `agent` span as before.
 */
import type { Span } from '../model/telemetry.js';
import { isRecord, parsedJsonText } from './attributes.js';
import { compact, type SpanFacts, type SpanFactsTable } from './span-facts.js';
import type { SpanTree } from './span-tree.js';

/** LangGraph's namespace separators (`_internal/_constants.py` NS_SEP, NS_END). */
const NS_SEP = '|';
const NS_END = ':';
/** `create_react_agent`'s model node (langgraph.prebuilt `chat_agent_executor.py`). */
const MODEL_NODE = 'agent';
const HANDOFF_TOOL = /^transfer_(?:back_)?to_(.+)$/;
const MAX_HOPS = 64;

interface LangGraphMeta {
  readonly node: string;
  readonly ns: string;
}

function langGraphMeta(span: Span): LangGraphMeta | undefined {
  const m = span.attributes['metadata'];
  if (typeof m !== 'string' || !m.includes('langgraph_checkpoint_ns')) return undefined;
  const v = parsedJsonText(m);
  if (!isRecord(v)) return undefined;
  const node = v['langgraph_node'];
  const ns = v['langgraph_checkpoint_ns'];
  return typeof node === 'string' && typeof ns === 'string' && ns !== '' ? { node, ns } : undefined;
}

/**
 * L1 for LangChain 1.x `create_agent(name=…)`: its compiled graph runs with the metadata `lc_agent_name` = the
 * name (langchain `agents/factory.py`, JS `ReactAgent`), inherited by every run inside it — LangChain's own
 * marker of a named agent (a nested run whose `lc_agent_name` differs from its parent's is a subagent).
 */
function lcAgentName(span: Span): string | undefined {
  const m = span.attributes['metadata'];
  if (typeof m !== 'string' || !m.includes('lc_agent_name')) return undefined;
  const v = parsedJsonText(m);
  const n = isRecord(v) ? v['lc_agent_name'] : undefined;
  return typeof n === 'string' && n !== '' ? n : undefined;
}

/**
 * A run whose `lc_agent_name` differs from its parent's is the graph run of that agent (the span named after the
 * compiled graph): it becomes the agent span — or the node span around it that runs the graph as a subgraph and
 * is named after it (a langgraph-supervisor / swarm worker), so that agents side by side share a parent (L2).
 * AGENT spans inside it that the Python tracer made from a run's name (middleware `<name>.before_agent`) are
 * structure.
 */
function namedCreateAgents(
  tree: SpanTree,
  facts: SpanFactsTable,
  lcNames: ReadonlyMap<string, string>,
  metas: ReadonlyMap<string, LangGraphMeta>,
  agentNames: Set<string>,
): void {
  for (const s of tree.ordered) {
    const name = lcNames.get(s.spanId);
    if (name === undefined) continue;
    const f = facts.get(s.spanId)!;
    const p = tree.parentOf(s.spanId);
    if (p !== undefined && lcNames.get(p) === name) {
      if (f.kind === 'agent' && f.agentNameFromSpanName === true && f.langGraphAgent !== true) {
        facts.set(s.spanId, compact({ ...f, kind: 'chain', agentName: undefined, agentNameFromSpanName: undefined }) as SpanFacts);
      }
      continue;
    }
    if (f.kind !== 'chain' && f.kind !== 'agent') continue;
    let agentSpan = s.spanId;
    const node = p === undefined ? undefined : tree.byId.get(p);
    if (node !== undefined && node.name === s.name) {
      const nf = facts.get(node.spanId)!;
      if (nf.kind === 'chain' || nf.kind === 'agent') {
        agentSpan = node.spanId;
        facts.set(s.spanId, compact({ ...f, kind: 'chain', agentName: undefined, agentNameFromSpanName: undefined, langGraphAgent: undefined }) as SpanFacts);
      }
    }
    // L2 only for an agent inside a LangGraph graph (its run has a `langgraph_checkpoint_ns`): a named agent the
    // application invokes itself (no graph around it) shares no graph state with the next one it invokes.
    const a = facts.get(agentSpan)!;
    facts.set(agentSpan, compact({ ...a, kind: 'agent', agentName: name, agentNameFromSpanName: undefined, langGraphAgent: metas.has(agentSpan) || undefined }) as SpanFacts);
    agentNames.add(name);
  }
}

/** The node named by one namespace segment (`<node>:<task id>`). */
function nodeOf(segment: string): string {
  const i = segment.indexOf(NS_END);
  return i < 0 ? segment : segment.slice(0, i);
}

/** langgraph-supervisor / langgraph-swarm `_normalize_agent_name`: whitespace runs → `_`, lower case. */
const normalise = (name: string) => name.trim().replace(/\s+/g, '_').toLowerCase();

function parsed(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return undefined;
  }
}

/** The tool call id of a ToolMessage as the tracer dumps it (`message_to_dict`: `{type, data}`; or flat). */
function toolMessageCallId(v: unknown, toolName: string | undefined): string | undefined {
  if (!isRecord(v)) return undefined;
  const data = isRecord(v['data']) ? v['data'] : v;
  if (v['type'] !== 'tool' && data['type'] !== 'tool') return undefined;
  if (toolName !== undefined && typeof data['name'] === 'string' && data['name'] !== toolName) return undefined;
  const id = data['tool_call_id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** What a tool span's `output.value` says: the call id it answered, the `Command`'s `goto` node. */
function toolOutput(span: Span, toolName: string | undefined): { callId?: string; goto?: string } {
  const out = parsed(span.attributes['output.value']);
  if (!isRecord(out)) return {};
  const direct = toolMessageCallId(out, toolName);
  if (direct !== undefined) return { callId: direct };
  // a Command (dataclass dump: graph, update, resume, goto)
  if (!('goto' in out) && !('graph' in out)) return {};
  const goto = typeof out['goto'] === 'string' && out['goto'] !== '' ? out['goto'] : undefined;
  let callId: string | undefined;
  const update = out['update'];
  const messages = isRecord(update) ? update['messages'] : undefined;
  if (Array.isArray(messages)) {
    for (let i = messages.length - 1; i >= 0 && callId === undefined; i--) callId = toolMessageCallId(messages[i], toolName);
  }
  return compact({ callId, goto });
}

/**
 * L1 over one episode: rewrites `facts` in place (agent spans, structure, hand-offs, call ids). Returns
 * whether anything was LangGraph (nothing is changed otherwise).
 */
export function refineLangGraphAgents(tree: SpanTree, facts: SpanFactsTable): boolean {
  let metas: Map<string, LangGraphMeta> | undefined;
  let lcNames: Map<string, string> | undefined;
  for (const s of tree.ordered) {
    if (facts.get(s.spanId)!.convention !== 'openinference') continue;
    const m = langGraphMeta(s);
    if (m !== undefined) (metas ??= new Map()).set(s.spanId, m);
    const n = lcAgentName(s);
    if (n !== undefined) (lcNames ??= new Map()).set(s.spanId, n);
  }
  if (metas === undefined && lcNames === undefined) return false;
  metas ??= new Map();

  // Agent graphs: the enclosing graph of each model node.
  const agentNames = new Set<string>();
  for (const s of tree.ordered) {
    const m = metas.get(s.spanId);
    if (m === undefined || m.node !== MODEL_NODE || s.name !== MODEL_NODE) continue;
    const cut = m.ns.lastIndexOf(NS_SEP);
    if (cut <= 0) continue; // a react agent at the top: no graph names it
    const graphNs = m.ns.slice(0, cut);
    const name = nodeOf(graphNs.slice(graphNs.lastIndexOf(NS_SEP) + 1));
    if (name === '') continue;
    let agentSpan: string | undefined;
    for (let p = tree.parentOf(s.spanId), hops = 0; p !== undefined && hops < MAX_HOPS; p = tree.parentOf(p), hops++) {
      if (metas.get(p)?.ns === graphNs) agentSpan = p;
    }
    agentNames.add(name);
    const f = facts.get(s.spanId)!;
    if (agentSpan === undefined) {
      // the graph's node span is not in the episode: the model node stands for the agent
      facts.set(s.spanId, compact({ ...f, kind: 'agent', agentName: name, agentNameFromSpanName: undefined, langGraphAgent: true }) as SpanFacts);
      continue;
    }
    facts.set(s.spanId, compact({ ...f, kind: 'chain', agentName: undefined, agentNameFromSpanName: undefined }) as SpanFacts);
    const a = facts.get(agentSpan)!;
    if (a.kind !== 'agent' || a.agentName !== name || a.langGraphAgent !== true) {
      facts.set(agentSpan, compact({ ...a, kind: 'agent', agentName: name, agentNameFromSpanName: undefined, langGraphAgent: true }) as SpanFacts);
    }
  }
  if (lcNames !== undefined) namedCreateAgents(tree, facts, lcNames, metas, agentNames);
  const byNormalised = new Map([...agentNames].map((n) => [normalise(n), n]));

  // Tool spans: the call id of the ToolMessage they returned; hand-off tools.
  for (const s of tree.ordered) {
    if (!metas.has(s.spanId)) continue;
    const f = facts.get(s.spanId)!;
    if (f.kind !== 'tool') continue;
    const out = toolOutput(s, f.toolName);
    const callId = f.toolCallId ?? out.callId;
    const h = f.toolName === undefined ? null : HANDOFF_TOOL.exec(f.toolName);
    const target = h === null ? undefined : out.goto ?? byNormalised.get(normalise(h[1]!));
    if (target !== undefined && (agentNames.has(target) || out.goto !== undefined)) {
      facts.set(s.spanId, compact({ ...f, kind: 'handoff', handoffTo: target, toolCallId: callId }) as SpanFacts);
    } else if (callId !== f.toolCallId) {
      facts.set(s.spanId, compact({ ...f, toolCallId: callId }) as SpanFacts);
    }
  }
  return true;
}
