/**
 * X1 — LlamaIndex agent workflows under OpenInference's LlamaIndex instrumentor.
 *
 * Sources (checked by running them: llama-index-core 0.14.25, llama-index-workflows 2.26.1,
 * openinference-instrumentation-llama-index 4.6.1; the same code in Arize-ai/openinference 4.4.5 `_handler.py`):
 * the instrumentor marks a span AGENT only for the legacy `BaseAgent` / `BaseAgentWorker` (`_init_span_kind`). The
 * workflow agents (`FunctionAgent`, `ReActAgent`, `CodeActAgent`: `BaseWorkflowAgent`, llama_index
 * `core/agent/workflow/base_agent.py`) and `AgentWorkflow` (`multi_agent_workflow.py`) are workflows: each `@step`
 * is a CHAIN span `<class>.<step>` (`id_.partition("-")[0]`) — `AgentWorkflow.run` › `init_run`, `setup_agent`,
 * `run_agent_step`, `parse_agent_output`, `call_tool`, `aggregate_tool_results`, all siblings under the run span.
 * Their `input.value` is the `_Encoder` JSON of the step's arguments, `{"ctx": "<…Context object at …>", "ev":
 * "<repr of the event>"}` (pydantic's encoder fails on the event, so `repr(obj)`); `output.value` a text/plain,
 * cut `str()` of the returned event. So the agent's name is only inside a repr: `run_agent_step`'s `ev` is
 * `AgentSetup(input=[…], current_agent_name='<agent>')`, and `call_tool`'s `ev` is `ToolCall(tool_name=…,
 * tool_kwargs={…}, tool_id='<call id>')` — with no agent: the workflow runs it as the `current_agent_name` of its
 * store, the agent of the last `run_agent_step`. The model call is an LLM span under `run_agent_step`
 * (`<LLM class>.achat` / `.astream_chat`, flattened messages with call ids), beside an LLM span
 * `<LLM class>._prepare_chat_with_tools` that only builds the request (`DispatcherSpanMixin` spans every
 * method; its `input.value` / `output.value` the chat history and tools as JSON). A tool is a TOOL span
 * `FunctionTool.acall` (`tool.name`, `input.value` `{"kwargs": {…}}`, no `tool.id`) under `call_tool`; the
 * hand-off is the tool `handoff(to_agent, reason)` (`return_direct`), which answers `Agent <to> not found…` /
 * `… cannot hand off to …` when it refuses.
 *
 * Rule: a `*.run_agent_step` CHAIN span whose `ev` is an `AgentSetup` naming `current_agent_name` is that agent's
 * span (one invocation per step); the `_prepare_chat_with_tools` LLM spans under it are structure; a TOOL span
 * under a `*.call_tool` CHAIN whose `ev` is a `ToolCall` is the call `tool_id` names, by the agent whose model
 * call issued that id (else the agent of the last agent step before it under the same parent), and the `handoff`
 * tool that did not refuse is a hand-off of that agent to `to_agent`. Before, no span named an agent: every
 * step went to the fallback agent (`service.name`).
 */
import type { Span } from '../model/telemetry.js';
import { isRecord, structured } from './attributes.js';
import { compact, type SpanFacts, type SpanFactsTable } from './span-facts.js';
import type { SpanTree } from './span-tree.js';
import { capName } from './text.js';

const AGENT_STEP = '.run_agent_step';
const CALL_TOOL = '.call_tool';
const PREPARE = '._prepare_chat_with_tools';
const HANDOFF_TOOL = 'handoff';
/** How far above a model call its agent step may be (an LLM span inside another: `achat` → `chat`). */
const MAX_HOPS = 8;
/** A Python `repr` of a str: single quotes unless the text holds one and no double quote. */
const PY_STR = String.raw`('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")`;
/** The last field of the event repr (anchored at its end: message texts inside may hold anything). */
const SETUP_AGENT = new RegExp(String.raw`^AgentSetup\([\s\S]*, current_agent_name=${PY_STR}\)$`);
const TOOL_CALL_ID = new RegExp(String.raw`^ToolCall\([\s\S]*, tool_id=${PY_STR}\)$`);
/** `multi_agent_workflow.py` `handoff`'s refusals. */
const REFUSED = /^Agent [\s\S]* (?:not found\. Please select a valid agent|cannot hand off to )/;

const PY_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
function pyString(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, (_, c: string) => PY_ESCAPES[c] ?? `\\${c}`);
}

/** The event repr a workflow step span received (`input.value` `{"ctx": …, "ev": "<repr>"}`). */
function eventRepr(span: Span): string | undefined {
  const v = span.attributes['input.value'];
  if (typeof v !== 'string' || !v.includes('"ev"')) return undefined;
  const args = structured(span.attributes, 'input.value');
  const ev = isRecord(args) ? args['ev'] : undefined;
  return typeof ev === 'string' ? ev : undefined;
}

function reprField(span: Span, pattern: RegExp): string | undefined {
  const ev = eventRepr(span);
  const m = ev === undefined ? null : pattern.exec(ev);
  const v = m === null ? '' : pyString(m[1]!);
  return v === '' ? undefined : v;
}

/** The `to_agent` argument of a `handoff` tool span (`{"kwargs": {"to_agent": …, "reason": …, "ctx": …}}`). */
function handoffTarget(span: Span, outputText: string | undefined): string | undefined {
  const args = structured(span.attributes, 'input.value');
  const kwargs = isRecord(args) && isRecord(args['kwargs']) ? args['kwargs'] : args;
  const to = isRecord(kwargs) ? kwargs['to_agent'] : undefined;
  if (typeof to !== 'string' || to.trim() === '') return undefined;
  const out = structured(span.attributes, 'output.value');
  const said = isRecord(out) && typeof out['raw_output'] === 'string' ? out['raw_output'] : outputText;
  if (said !== undefined && REFUSED.test(said)) return undefined;
  return to.trim();
}

/** X1 over one episode: rewrites `facts` in place. Returns whether any LlamaIndex agent step was found. */
export function refineLlamaIndexAgents(tree: SpanTree, facts: SpanFactsTable): boolean {
  // agent steps, in order, by their parent (the workflow run)
  let steps: Map<string, { span: Span; agent: string }[]> | undefined;
  const agentOfStep = new Map<string, string>();
  for (const s of tree.ordered) {
    if (!s.name.endsWith(AGENT_STEP)) continue;
    const f = facts.get(s.spanId)!;
    if (f.convention !== 'openinference' || f.kind !== 'chain') continue;
    const agent = capName(reprField(s, SETUP_AGENT));
    if (agent === undefined) continue;
    facts.set(s.spanId, compact({ ...f, kind: 'agent', agentName: agent, agentNameFromSpanName: undefined }) as SpanFacts);
    agentOfStep.set(s.spanId, agent);
    const p = tree.parentOf(s.spanId) ?? '';
    let list = (steps ??= new Map()).get(p);
    if (list === undefined) steps.set(p, (list = []));
    list.push({ span: s, agent });
  }
  if (steps === undefined) return false;

  // the agent step each LLM span runs in; the calls their model calls issued
  const issuedBy = new Map<string, string>();
  for (const s of tree.ordered) {
    const f = facts.get(s.spanId)!;
    if (f.kind !== 'llm' || f.convention !== 'openinference') continue;
    let stepAgent: string | undefined;
    for (let p = tree.parentOf(s.spanId), hops = 0; p !== undefined && stepAgent === undefined && hops < MAX_HOPS; p = tree.parentOf(p), hops++) stepAgent = agentOfStep.get(p);
    if (stepAgent === undefined) continue;
    if (s.name.endsWith(PREPARE)) {
      facts.set(s.spanId, { ...f, kind: 'other' });
      continue;
    }
    for (const c of f.issuedCalls) if (c.id !== undefined && !issuedBy.has(c.id)) issuedBy.set(c.id, stepAgent);
  }

  for (const s of tree.ordered) {
    const f = facts.get(s.spanId)!;
    if (f.kind !== 'tool' || f.convention !== 'openinference') continue;
    const p = tree.parentOf(s.spanId);
    const call = p === undefined ? undefined : tree.byId.get(p);
    if (call === undefined || !call.name.endsWith(CALL_TOOL) || facts.get(call.spanId)!.kind !== 'chain') continue;
    const ev = eventRepr(call);
    if (ev === undefined || !ev.startsWith('ToolCall(')) continue;
    const callId = f.toolCallId ?? reprField(call, TOOL_CALL_ID);
    let agent = callId === undefined ? undefined : issuedBy.get(callId);
    if (agent === undefined) {
      const before = steps.get(tree.parentOf(call.spanId) ?? '') ?? [];
      for (const st of before) if (st.span.startTimeUnixNano <= call.startTimeUnixNano) agent = st.agent;
    }
    if (agent === undefined) continue;
    const to = f.toolName === HANDOFF_TOOL ? capName(handoffTarget(s, f.outputText)) : undefined;
    facts.set(
      s.spanId,
      compact({ ...f, agentName: agent, toolCallId: callId, ...(to !== undefined ? { kind: 'handoff', handoffFrom: agent, handoffTo: to } : {}) }) as SpanFacts,
    );
  }
  return true;
}
