/**
 * OpenTelemetry GenAI semantic conventions mapper.
 *
 * Spec: open-telemetry/semantic-conventions `model/gen-ai/registry.yaml` and `spans.yaml`,
 * v1.38–v1.41 (all `development` stability; from v1.42 the GenAI conventions live in
 * open-telemetry/semantic-conventions-genai). `gen_ai.operation.name` well-known values (v1.41):
 * chat, generate_content, text_completion, embeddings, retrieval, create_agent, invoke_agent,
 * execute_tool, invoke_workflow (and, semantic-conventions-genai unreleased, handle_conversation_turn,
 * plan, fetch_response, memory operations: all but the turn are `other`); `gen_ai.agent.{id,name}`, `gen_ai.tool.{name,call.id,
 * call.arguments,call.result}`, `gen_ai.usage.{input_tokens,output_tokens}`,
 * `gen_ai.input.messages` / `gen_ai.output.messages`.
 * Hand-offs: `agent_handoff` (opentelemetry-instrumentation-openai-agents-v2) and `handoff`
 * (OpenLLMetry) with `gen_ai.handoff.{from_agent,to_agent}` are what real instrumentation emits;
 * semantic-conventions-genai (unreleased, #447) models one as the agent-as-a-tool refinement
 * `gen_ai.execute_tool.transfer.internal` of `execute_tool` (`transferTarget`).
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { num, str, structured, textOf } from './attributes.js';
import {
  canonicalArgs,
  issuedCalls,
  messagesOfAttribute,
  renderOutput,
  renderTranscript,
  resultIds,
  type ChatMessage,
} from './messages.js';
import { NO_CALLS, NO_IDS, usageOf, type SpanFacts } from './span-facts.js';

// Plus Semantic Kernel's own names for a model call (microsoft/semantic-kernel model diagnostics): `chat.completions` /
// `text.completions` (.NET `ModelDiagnostics.cs` dotnet-1.12.0 to 1.67.0; Python `model_diagnostics/decorators.py`
// python-1.4.0 to 1.37.1, with `chat.streaming_completions` / `text.streaming_completions` from 1.10.0) and Python's
// `text_completions` (python-1.38.0 on). Read as structure, a run recorded by those versions had no model-call step.
const LLM_OPERATIONS = new Set([
  'chat', 'text_completion', 'generate_content',
  'chat.completions', 'chat.streaming_completions', 'text.completions', 'text.streaming_completions', 'text_completions',
]);
const HANDOFF_OPERATIONS = new Set(['agent_handoff', 'handoff']);
// `handle_conversation_turn` (semantic-conventions-genai `gen_ai.invocation.internal`, #571): one
// framework-steered turn, e.g. an OpenAI Agents `Runner.run` or ADK `Runner.run`, which were
// `invoke_workflow` before. Its `gen_ai.agent.name` is the entry-point agent, not an agent at work
// here: the agents are the `invoke_agent` spans below it, so the turn is structure like a workflow.
const STRUCTURE_OPERATIONS = new Set(['invoke_workflow', 'handle_conversation_turn']);
// A retrieval is work the agent does whose result the model consumes, like a tool call
// (OpenInference RETRIEVER is mapped the same way).
const TOOL_OPERATIONS = new Set(['execute_tool', 'retrieval']);

/** Step kind for a `gen_ai.operation.name` value. Unknown values (incl. the literal "unknown") are structure. */
function genaiKind(operation: string): StepKind {
  if (LLM_OPERATIONS.has(operation)) return 'llm';
  if (TOOL_OPERATIONS.has(operation)) return 'tool';
  if (HANDOFF_OPERATIONS.has(operation)) return 'handoff';
  if (operation === 'invoke_agent') return 'agent';
  if (STRUCTURE_OPERATIONS.has(operation)) return 'chain';
  // create_agent, embeddings, plan (its model call is a child span: that is the step), memory
  // operations (read by the next model call of the invocation), apply_guardrail (a provider-native
  // result, no verdict: semantic-conventions-genai forbids generalizing it), and quirk:
  // opentelemetry-instrumentation-openai-agents-v2 emits
  // per-turn container spans with `gen_ai.operation.name = "unknown"`: kept as structure.
  return 'other';
}

/**
 * Target of a hand-off recorded as a tool call: semantic-conventions-genai `model/gen-ai/spans.yaml`
 * refinement `gen_ai.execute_tool.transfer.internal` (unreleased, #447; docs/gen-ai/non-normative/
 * examples-agent-interactions.md): an `execute_tool` span (`execute_tool transfer_to_weather_agent
 * weather_agent`) whose `gen_ai.agent.*` is the source agent, `gen_ai.transfer.target.name` the target
 * and `gen_ai.transfer.mode` `pass_control` when the target takes over the remaining work. That is a
 * hand-off: read as a tool, nothing linked the target's work to it and, without message content, the
 * source agent reached no output. `return_to_caller` (the source waits for the target's result) stays a
 * tool: the target runs inside it as nested work (C7).
 */
function transferTarget(a: Span['attributes']): string | undefined {
  return str(a, 'gen_ai.transfer.mode') === 'pass_control' ? str(a, 'gen_ai.transfer.target.name') : undefined;
}

/**
 * Google ADK's agent transfer (google/adk-python `tools/transfer_to_agent_tool.py`: the built-in
 * `transfer_to_agent(agent_name)` tool sets `actions.transfer_to_agent`, and `flows/llm_flows/base_llm_flow.py`
 * then runs the named agent): an `execute_tool transfer_to_agent` span that ADK wrote (its own
 * `gcp.vertex.agent.tool_call_args` attribute, `telemetry/tracing.py` `trace_tool_call`) is a hand-off.
 * Returns the target named in the arguments ('' when they were not recorded: C5 then takes the next
 * agent invoked), undefined for any other span. Also read on ADK's tool spans that openinference-instrumentation-google-adk
 * made OpenInference TOOL spans (openinference.ts).
 */
export function adkTransferTarget(a: Span['attributes']): string | undefined {
  if (str(a, 'gen_ai.tool.name') !== 'transfer_to_agent') return undefined;
  const args = a['gcp.vertex.agent.tool_call_args'];
  if (args === undefined) return undefined;
  const parsed = structured(a, 'gcp.vertex.agent.tool_call_args');
  const target = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)['agent_name'] : undefined;
  return typeof target === 'string' ? target.trim() : '';
}

/**
 * Strands Agents' swarm hand-off (strands-agents/sdk-python `multiagent/swarm.py`: each swarm node gets a
 * `handoff_to_agent(agent_name, message, context)` tool; the swarm then invokes that node's agent under
 * its `invoke_swarm` span). Strands writes its spans with `gen_ai.provider.name` (or, before the latest
 * GenAI conventions, `gen_ai.system`) `strands-agents` (`telemetry/tracer.py` `_get_common_attributes`)
 * and the tool's arguments only as span events: the target is not read here ('' — C5 takes the next agent
 * invoked).
 */
function isStrandsHandoff(a: Span['attributes']): boolean {
  return str(a, 'gen_ai.tool.name') === 'handoff_to_agent' && (str(a, 'gen_ai.provider.name') ?? str(a, 'gen_ai.system')) === 'strands-agents';
}

/**
 * AutoGen AgentChat's hand-off (microsoft/autogen `autogen_agentchat/base/_handoff.py`: a `Handoff` to `target`
 * is a function tool named `transfer_to_<target>` (lower-cased); `agents/_assistant_agent.py`
 * `_execute_tool_call` runs it through `BaseTool.run_json`, which records it with autogen-core's
 * `trace_tool_span` (`_telemetry/_genai.py`: `execute_tool <tool>`, `gen_ai.system` `autogen`,
 * `gen_ai.tool.call.id`, no arguments or result); a Swarm then runs the target agent). A hand-off of its
 * agent: the target is the agent the tool name names, else the next agent invoked (C5).
 */
function isAutogenHandoff(a: Span['attributes']): boolean {
  return str(a, 'gen_ai.system') === 'autogen' && (str(a, 'gen_ai.tool.name') ?? '').startsWith('transfer_to_');
}

/**
 * Semantic Kernel Python's hand-off orchestration (microsoft/semantic-kernel python-1.44.1
 * `agents/orchestration/handoffs.py` `_add_handoff_functions`): each connection is a kernel function
 * `transfer_to_<agent name>` in the plugin `Handoff` (`HANDOFF_PLUGIN_NAME`), recorded by
 * `utils/telemetry/model_diagnostics/function_tracer.py` as `execute_tool <plugin>-<function>` with
 * `gen_ai.tool.name` the fully qualified name: `Handoff-transfer_to_<agent>`. Its filter then ends the agent and
 * the orchestration runs `<agent>`. Returns that agent, undefined for any other span.
 */
function semanticKernelHandoffTarget(a: Span['attributes']): string | undefined {
  const m = /^Handoff-transfer_to_(.+)$/.exec(str(a, 'gen_ai.tool.name') ?? '');
  return m === null ? undefined : m[1];
}

export function messagesAt(span: Span, key: string): ChatMessage[] {
  return messagesOfAttribute(span.attributes, key);
}

/** Token usage in GenAI names, plus the pre-1.27 `prompt_tokens`/`completion_tokens` names. */
export function genaiUsage(span: Span): SpanFacts['usage'] {
  const a = span.attributes;
  // `??` rather than firstNum with a key list: this runs for every GenAI and OpenLLMetry span, and
  // the list literals were two arrays allocated per span
  return usageOf(
    num(a, 'gen_ai.usage.input_tokens') ?? num(a, 'gen_ai.usage.prompt_tokens'),
    num(a, 'gen_ai.usage.output_tokens') ?? num(a, 'gen_ai.usage.completion_tokens'),
    num(a, 'gen_ai.usage.cost'),
  );
}

// `gen_ai.response.finish_reasons` values of a response that asked for tool calls, compared lower-cased without
// `_` / `-` (a value of other characters is none of them): `tool_calls` (OpenAI chat completions, and what
// opentelemetry-instrumentation-genai-openai records for a Responses API function call; Microsoft.Extensions.AI
// and Agent Framework write it too), `tool_call` (the util-genai / semconv message finish reason), the pre-tools
// `function_call`, `tool_use` (Anthropic Messages `stop_reason`, Bedrock Converse `stopReason`) and the same in
// other casings (Semantic Kernel .NET `ToolCalls`, Cohere `TOOL_CALL`). Gemini's `STOP` ends a function call and an
// answer alike: not read as one.
const TOOL_CALL_FINISH = new Set(['toolcalls', 'toolcall', 'functioncall', 'tooluse']);

function isToolCallFinish(reason: unknown): boolean {
  if (typeof reason !== 'string') return false;
  let verdict = finishVerdicts.get(reason);
  if (verdict === undefined) {
    const r = reason.trim().toLowerCase();
    verdict = /^[a-z_-]+$/.test(r) && TOOL_CALL_FINISH.has(r.replace(/[_-]/g, ''));
    if (reason.length <= FINISH_MEMO_MAX_TEXT) {
      if (finishVerdicts.size >= FINISH_MEMO_MAX) finishVerdicts.clear();
      finishVerdicts.set(reason, verdict);
    }
  }
  return verdict;
}

/**
 * `isToolCallFinish` of the reasons seen lately. Every GenAI LLM span's reasons were trimmed,
 * lower-cased, tested and stripped (three strings and a regex run per span) though they are a
 * handful of words (`stop`, `tool_calls`, …); the reason → verdict map is pure. Bounded: cleared
 * when full, long (hostile) reasons are not kept.
 */
const finishVerdicts = new Map<string, boolean>();
const FINISH_MEMO_MAX = 256;
const FINISH_MEMO_MAX_TEXT = 64;

/**
 * Finish reasons as recorded: a string array (the spec), one string, or a JSON-encoded array in one string —
 * Microsoft Agent Framework python (`observability.py` `_get_response_attributes`: `json.dumps([finish_reason])`)
 * and Microsoft.Extensions.AI's `OpenTelemetryChatClient` (.NET Agent Framework's chat spans: `["tool_calls"]`).
 */
function finishReasonsIn(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') return [];
  const t = v.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(t);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // not JSON: the string itself
    }
  }
  return [v];
}

/**
 * Semantic Kernel's own model diagnostics write the reason under the singular `gen_ai.response.finish_reason`
 * (microsoft/semantic-kernel): Python (`utils/telemetry/model_diagnostics/decorators.py`, python-1.44.1) the
 * comma-joined `str()` of each choice's `FinishReason` (a `str, Enum`: `FinishReason.TOOL_CALLS`), .NET
 * (`InternalUtilities/src/Diagnostics/ModelDiagnostics.cs` `SetFinishReasons`, dotnet-1.80.0) a JSON-like list of
 * the connector's reason (`["ToolCalls"]`, `"N/A"` when none). Read only when the spec's plural key is absent.
 */
function semanticKernelFinishReasons(v: unknown): string[] {
  const out: string[] = [];
  for (const r of finishReasonsIn(v)) {
    if (typeof r !== 'string') continue;
    for (const part of r.split(',')) out.push(part.trim().replace(/^FinishReason\./, ''));
  }
  return out;
}

/** The span's finish reasons include a tool-call reason (recorded without message content). */
function endedOnToolCall(span: Span): boolean {
  const plural = span.attributes['gen_ai.response.finish_reasons'];
  if (plural !== undefined) return finishReasonsIn(plural).some(isToolCallFinish);
  const singular = span.attributes['gen_ai.response.finish_reason'];
  return singular !== undefined && semanticKernelFinishReasons(singular).some(isToolCallFinish);
}

/**
 * Quirk: Pydantic AI's own instrumentation (pydantic/pydantic-ai, instrumentation version 2, the 1.x
 * default, and 3+) wrote `gen_ai.operation.name` only on model request spans until v1.76.0 (#4936, agent
 * runs) and v1.86.1 (#5182, tool calls). Its agent run span — `agent run` (version 2) or
 * `invoke_agent <name>` (3+) — carries `agent_name` (and from 1.x `gen_ai.agent.name`); its tool span —
 * `running tool` / `running output function` (2) or `execute_tool <tool>` (3+) — `gen_ai.tool.name` and
 * `gen_ai.tool.call.id`. Read as what they are; before, both matched no convention: every model call of
 * the run went to one fallback agent and no tool call was a step.
 */
function pydanticAiOperation(span: Span): { operation: string; agentName?: string } | undefined {
  const a = span.attributes;
  const tool = str(a, 'gen_ai.tool.name');
  if (tool !== undefined && (span.name === 'running tool' || span.name === 'running output function' || span.name === `execute_tool ${tool}`)) {
    return { operation: 'execute_tool' };
  }
  const agent = str(a, 'agent_name');
  if (agent !== undefined && (span.name === 'agent run' || span.name === `invoke_agent ${agent}`)) {
    return { operation: 'invoke_agent', agentName: agent };
  }
  return undefined;
}

export const genaiMapper = (span: Span): SpanFacts | undefined => {
  const a = span.attributes;
  const recorded = str(a, 'gen_ai.operation.name');
  const inferred = recorded === undefined ? pydanticAiOperation(span) : undefined;
  const operation = recorded ?? inferred?.operation;
  if (operation === undefined) return undefined;
  let kind = genaiKind(operation);
  const agentName = str(a, 'gen_ai.agent.name') ?? inferred?.agentName;
  // Quirk: the openai-agents-v2 workflow root is `invoke_agent` with no agent name ("Agent
  // workflow"): an agent invocation that names no agent is the run, i.e. structure.
  if (kind === 'agent' && agentName === undefined) kind = 'chain';
  const frameworkTransfer = kind === 'tool' ? adkTransferTarget(a) ?? semanticKernelHandoffTarget(a) ?? (isStrandsHandoff(a) || isAutogenHandoff(a) ? '' : undefined) : undefined;
  const transferTo = kind === 'tool' ? transferTarget(a) ?? (frameworkTransfer || undefined) : undefined;
  const toolLike = kind === 'tool';
  if (transferTo !== undefined || frameworkTransfer !== undefined) kind = 'handoff';
  // A tool-call hand-off keeps its tool texts (arguments, result) like any tool.

  // A tool step's texts are its arguments and result: its message attributes are never read.
  const input = toolLike ? [] : messagesAt(span, 'gen_ai.input.messages');
  const output = toolLike ? [] : messagesAt(span, 'gen_ai.output.messages');
  // Pydantic AI instrumentation version 2 names a tool call's arguments and result `tool_arguments` /
  // `tool_response` (pydantic_ai `_instrumentation.py` `InstrumentationNames.for_version(2)`), Google ADK
  // `gcp.vertex.agent.tool_call_args` / `gcp.vertex.agent.tool_response` (`telemetry/tracing.py`)
  const args = toolLike ? a['gen_ai.tool.call.arguments'] ?? a['tool_arguments'] ?? a['gcp.vertex.agent.tool_call_args'] : undefined;
  const toolArgs = toolLike ? canonicalArgs(args) : undefined;
  const inputText = toolLike ? textOf(args) : renderTranscript(input);
  const outputText = toolLike ? textOf(a['gen_ai.tool.call.result'] ?? a['tool_response'] ?? a['gcp.vertex.agent.tool_response']) : renderOutput(output);
  return {
    convention: 'genai',
    kind,
    agentName,
    agentId: str(a, 'gen_ai.agent.id'),
    toolName: str(a, 'gen_ai.tool.name'),
    toolCallId: str(a, 'gen_ai.tool.call.id'),
    toolArgs,
    handoffFrom: str(a, 'gen_ai.handoff.from_agent'),
    handoffTo: str(a, 'gen_ai.handoff.to_agent') ?? transferTo,
    inputText,
    outputText,
    usage: genaiUsage(span),
    issuedCalls: kind === 'llm' ? issuedCalls(output) : NO_CALLS,
    historyCalls: kind === 'llm' || kind === 'agent' ? issuedCalls(input) : NO_CALLS,
    consumedCallIds: kind === 'llm' ? resultIds(input) : NO_IDS,
    endedOnToolCall: kind === 'llm' && endedOnToolCall(span) ? true : undefined,
  } as SpanFacts;
};
