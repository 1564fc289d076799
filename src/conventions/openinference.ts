/**
 * OpenInference mapper.
 *
 * Spec: Arize-ai/openinference `spec/semantic_conventions.md` (main, checked 2026-11):
 * `openinference.span.kind` ∈ LLM, EMBEDDING, CHAIN, RETRIEVER, RERANKER, TOOL, AGENT, GUARDRAIL,
 * EVALUATOR, PROMPT; `agent.name`, `graph.node.{id,parent_id}`, `session.id`, `input.value`,
 * `output.value`, `llm.token_count.{prompt,completion}`, `llm.cost.total`, `tool.name`, `tool.id`
 * ("the identifier for the result of the tool call, corresponding to tool_call.id"), flattened
 * `llm.{input,output}_messages.N.message.*` with `tool_calls.M.tool_call.{id,function.name,function.arguments}`.
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { num, str, structured, textOf } from './attributes.js';
import { adkTransferTarget } from './genai.js';
import {
  OPENINFERENCE_CALL,
  canonicalArgs,
  issuedCalls,
  readFlattenedCall,
  readMessages,
  renderOutput,
  renderTranscript,
  resultIds,
  type ChatMessage,
} from './messages.js';
import { NO_CALLS, NO_IDS, usageOf, type SpanFacts } from './span-facts.js';

/** Step kind per OpenInference span kind. RETRIEVER/RERANKER are work an agent does with a result the LLM consumes: tools. */
function openinferenceKind(spanKind: string): StepKind {
  switch (spanKind.toUpperCase()) {
    case 'LLM':
      return 'llm';
    case 'TOOL':
    case 'RETRIEVER':
    case 'RERANKER':
      return 'tool';
    case 'AGENT':
      return 'agent';
    case 'CHAIN':
      return 'chain';
    case 'EVALUATOR':
      return 'evaluator';
    default: // EMBEDDING, GUARDRAIL, PROMPT, UNKNOWN, custom
      return 'other';
  }
}

// Quirk (openinference-instrumentation-openai-agents 2.6.0): a hand-off is a TOOL span named
// `handoff to <agent>` with `input.value` = source agent and `output.value` = target agent.
const HANDOFF_NAME = /^handoff to (.+)$/i;

/** `flat`, the flattened messages of one side of the call, or when there are none the JSON `valueKey` in OpenAI chat form, if it is one. */
function messages(span: Span, flat: ChatMessage[], valueKey: string): ChatMessage[] {
  if (flat.length > 0) return flat;
  if (!/json/i.test(str(span.attributes, `${valueKey.split('.')[0]}.mime_type`) ?? 'application/json')) return [];
  const v = structured(span.attributes, valueKey);
  return v === undefined ? [] : readMessages(v);
}

/**
 * Quirk (openinference-instrumentation-smolagents 0.1.x, `_wrappers.py` `_RunWrapper`): an agent run is an
 * AGENT span `<agent name or class>.run` with no `agent.name`, but with the run's own attributes
 * (`smolagents.max_steps`, `smolagents.tools_names`, `smolagents.managed_agents.<i>.name`). The span names
 * a real agent: the name before `.run`. Read as a name taken from the span name, a manager whose managed
 * agent runs inside its step (an agent span below it) was demoted to a workflow root (R3) and its model
 * and tool calls went to the fallback agent.
 */
function smolagentsAgentName(span: Span): string | undefined {
  const a = span.attributes;
  if (a['smolagents.max_steps'] === undefined && a['smolagents.tools_names'] === undefined) return undefined;
  const name = span.name.endsWith('.run') ? span.name.slice(0, -'.run'.length) : span.name;
  return name === '' ? undefined : name;
}

export const openinferenceMapper = (span: Span): SpanFacts | undefined => {
  const a = span.attributes;
  const spanKind = str(a, 'openinference.span.kind');
  if (spanKind === undefined) return undefined;
  let kind = openinferenceKind(spanKind);
  const inputValue = textOf(a['input.value']);
  const outputValue = textOf(a['output.value']);

  let handoffTo: string | undefined;
  let handoffFrom: string | undefined;
  const handoff = kind === 'tool' ? HANDOFF_NAME.exec(span.name) : null;
  if (handoff) {
    kind = 'handoff';
    handoffTo = outputValue ?? handoff[1]!.trim();
    handoffFrom = inputValue;
  }

  // A1 under openinference-instrumentation-google-adk (`google_adk/_wrappers.py` `_TraceToolCall`): ADK's own
  // `execute_tool transfer_to_agent` span, on which ADK's `trace_tool_call` wrote its `gen_ai.tool.name` and
  // `gcp.vertex.agent.tool_call_args`, is made a TOOL span. Read as a tool, nothing after it read the transfer (the
  // target agent sees the routing agent's turn only as "For context:" text) and the routing agent got 0.
  const adkTarget = kind === 'tool' && !handoff ? adkTransferTarget(a) : undefined;
  if (adkTarget !== undefined) {
    kind = 'handoff';
    if (adkTarget !== '') handoffTo = adkTarget;
  }

  let agentName = str(a, 'agent.name');
  let agentNameFromSpanName = false;
  if (kind === 'agent' && agentName === undefined) agentName = smolagentsAgentName(span);
  if (kind === 'agent' && agentName === undefined) {
    // An AGENT span must name an agent; without `agent.name` the span name is the best name, and
    // agents.ts decides whether it is really a workflow root (quirk: "Agent workflow").
    agentName = str(a, 'graph.node.name') ?? str(a, 'graph.node.id') ?? span.name;
    agentNameFromSpanName = true;
  }

  if (kind === 'llm') {
    const flat = readFlattenedCall(a, OPENINFERENCE_CALL);
    const input = messages(span, flat.input, 'input.value');
    const output = messages(span, flat.output, 'output.value');
    return {
      convention: 'openinference',
      kind,
      agentName,
      inputText: renderTranscript(input) ?? inputValue,
      outputText: renderOutput(output) ?? outputValue,
      usage: usageOf(
        num(a, 'llm.token_count.prompt'),
        num(a, 'llm.token_count.completion'),
        num(a, 'llm.cost.total'),
      ),
      issuedCalls: issuedCalls(output),
      historyCalls: issuedCalls(input),
      consumedCallIds: resultIds(input),
    } as SpanFacts;
  }
  return {
    convention: 'openinference',
    kind,
    agentName,
    agentNameFromSpanName: agentNameFromSpanName || undefined,
    graphNodeId: str(a, 'graph.node.id'),
    graphParentNodeId: str(a, 'graph.node.parent_id'),
    toolName: kind === 'tool' || adkTarget !== undefined ? str(a, 'tool.name') ?? span.name : undefined,
    toolCallId: kind === 'tool' || adkTarget !== undefined ? str(a, 'tool.id') ?? str(a, 'tool_call.id') : undefined,
    toolArgs: kind === 'tool' || adkTarget !== undefined ? canonicalArgs(a['input.value']) : undefined,
    handoffFrom,
    handoffTo,
    inputText: inputValue,
    outputText: outputValue,
    issuedCalls: NO_CALLS,
    historyCalls: NO_CALLS,
    consumedCallIds: NO_IDS,
  } as SpanFacts;
};
