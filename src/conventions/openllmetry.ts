/**
 * OpenLLMetry (Traceloop) mapper.
 *
 * Spec: traceloop/openllmetry `packages/opentelemetry-semantic-conventions-ai/opentelemetry/
 * semconv_ai/__init__.py` (0.4.x): `traceloop.span.kind` ∈ workflow, task, agent, tool, unknown;
 * `traceloop.entity.name`, `traceloop.workflow.name`, `traceloop.entity.{input,output}`; LLM spans
 * carry `llm.request.type` (chat/completion) and legacy flattened `gen_ai.prompt.N.*` /
 * `gen_ai.completion.N.*`, `gen_ai.usage.{prompt,completion}_tokens` / `llm.usage.total_tokens`.
 * The openai-agents instrumentation (0.62.4) adds `traceloop.span.kind = handoff` with
 * `gen_ai.handoff.from_agent` and names agent/tool/handoff spans `<name>.agent`, `<name>.tool`,
 * `<from> → <to>.handoff`, with the GenAI attributes beside them. Its LLM spans (`openai.response`)
 * have no traceloop attributes at all and are recognised by the GenAI mapper.
 * The Traceloop SDKs' workflow/task/agent/tool decorators (node-server-sdk `withEntity`, Python
 * `traceloop.sdk.decorators`) record the decorated function's call as `traceloop.entity.input =
 * {"args": [...], "kwargs": {...}}` and its result as `traceloop.entity.output` = the result
 * JSON-encoded (a string result arrives quoted): read back as the arguments / text the function
 * got and returned (`entityArguments`, `entityText`).
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { isRecord, num, str, structured, textOf, unquotedText } from './attributes.js';
import { genaiUsage, messagesAt } from './genai.js';
import {
  OPENLLMETRY_CALL,
  canonicalArgs,
  issuedCalls,
  readFlattenedCall,
  renderOutput,
  renderTranscript,
  resultIds,
} from './messages.js';
import { NO_CALLS, NO_IDS, usageOf, type SpanFacts } from './span-facts.js';

function openllmetryKind(traceloopKind: string): StepKind {
  switch (traceloopKind) {
    case 'workflow':
    case 'task':
      return 'chain';
    case 'agent':
      return 'agent';
    case 'tool':
      return 'tool';
    case 'handoff':
      return 'handoff';
    default:
      return 'other';
  }
}

// `triage → flights.handoff`; quirk: 0.62.4 writes `triage → unknown.handoff` when the SDK's
// handoff span data has no target yet: "unknown" is no agent (agents.ts infers the target).
const HANDOFF_NAME = /^(.+?)\s*(?:→|->)\s*(.+)\.handoff$/;
const UNKNOWN_TARGETS = new Set(['unknown', 'None', 'null', '']);

/**
 * Quirk (opentelemetry-instrumentation-anthropic, `span_utils.py` `_set_span_completions` and
 * `set_streaming_response_attributes`): a thinking block of the response is written as a completion of
 * its own before the answer, `gen_ai.completion.0.role = "thinking"` with the thinking as its `content`,
 * the answer at `gen_ai.completion.1`. It is the model's reasoning, not what it said: read as a message,
 * it became the head of the step's output text and C8 no longer found the answer another agent was run
 * on (as GenAI `reasoning` parts, messages.ts `NOT_SAID`).
 */
const THINKING_ROLE = 'thinking';

function stripSuffix(name: string, suffix: string): string | undefined {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : undefined;
}

/**
 * The arguments of a decorated call from its `traceloop.entity.input` wrapper `{"args": [...],
 * "kwargs": {...}}`: the keyword arguments when there are no positional ones (the JS SDK puts a
 * single object argument there), the one positional argument when there are no keyword ones, else
 * the wrapper itself. Anything that is not such a wrapper is returned as recorded.
 */
function entityArguments(v: unknown): unknown {
  // Only a text that can be the wrapper is parsed (entity inputs can be large).
  const w = typeof v === 'string' ? (v.includes('"kwargs"') ? structured({ v }, 'v') : undefined) : v;
  if (!isRecord(w) || !Array.isArray(w['args']) || !isRecord(w['kwargs']) || Object.keys(w).length !== 2) return v;
  const args = w['args'];
  const kwargs = w['kwargs'];
  if (args.length === 0) return kwargs;
  if (args.length === 1 && Object.keys(kwargs).length === 0) return args[0];
  return v;
}

/** Text of an entity input (unwrapped by `entityArguments`) or output (a JSON-encoded string result is decoded). */
function entityText(v: unknown, input: boolean): string | undefined {
  return input ? textOf(entityArguments(v)) : unquotedText(v);
}

export const openllmetryMapper = (span: Span): SpanFacts | undefined => {
  const a = span.attributes;
  const traceloopKind = str(a, 'traceloop.span.kind');
  const legacyLlm = traceloopKind === undefined ? str(a, 'llm.request.type') : undefined;
  if (traceloopKind === undefined && legacyLlm === undefined) return undefined;

  if (legacyLlm !== undefined) {
    if (legacyLlm !== 'chat' && legacyLlm !== 'completion') return undefined; // rerank/embedding: not ours
    const { input: prompt, output: completion } = readFlattenedCall(a, OPENLLMETRY_CALL);
    const input = prompt.length > 0 ? prompt : messagesAt(span, 'gen_ai.input.messages');
    const output = completion.length > 0 ? completion.filter((m) => m.role !== THINKING_ROLE) : messagesAt(span, 'gen_ai.output.messages');
    const gu = genaiUsage(span);
    return {
      convention: 'openllmetry',
      kind: 'llm',
      agentName: str(a, 'gen_ai.agent.name'),
      agentId: str(a, 'gen_ai.agent.id'),
      inputText: renderTranscript(input),
      outputText: renderOutput(output),
      usage: gu ?? usageOf(undefined, undefined, num(a, 'gen_ai.usage.cost')),
      issuedCalls: issuedCalls(output),
      historyCalls: issuedCalls(input),
      consumedCallIds: resultIds(input),
    } as SpanFacts;
  }

  const kind = openllmetryKind(traceloopKind!);
  const entity = str(a, 'traceloop.entity.name');
  const entityInput = a['traceloop.entity.input'];
  const entityOutput = a['traceloop.entity.output'];
  let agentName = str(a, 'gen_ai.agent.name');
  let agentNameFromSpanName = false;
  if (kind === 'agent' && agentName === undefined) {
    agentName = entity ?? stripSuffix(span.name, '.agent') ?? span.name;
    agentNameFromSpanName = entity === undefined;
  }
  let handoffFrom = str(a, 'gen_ai.handoff.from_agent');
  let handoffTo = str(a, 'gen_ai.handoff.to_agent');
  if (kind === 'handoff') {
    const m = HANDOFF_NAME.exec(span.name);
    if (m) {
      handoffFrom ??= m[1]!.trim();
      const target = m[2]!.trim();
      if (handoffTo === undefined && !UNKNOWN_TARGETS.has(target)) handoffTo = target;
    }
    if (handoffTo !== undefined && UNKNOWN_TARGETS.has(handoffTo)) handoffTo = undefined;
  }
  const toolArgsRaw = a['gen_ai.tool.call.arguments'] ?? entityArguments(entityInput);
  const input = kind === 'agent' ? messagesAt(span, 'gen_ai.input.messages') : [];
  const gu = genaiUsage(span);
  return {
    convention: 'openllmetry',
    kind,
    agentName,
    agentId: str(a, 'gen_ai.agent.id'),
    agentNameFromSpanName: agentNameFromSpanName || undefined,
    toolName: kind === 'tool' ? str(a, 'gen_ai.tool.name') ?? entity ?? stripSuffix(span.name, '.tool') ?? span.name : undefined,
    toolCallId: kind === 'tool' ? str(a, 'gen_ai.tool.call.id') : undefined,
    toolArgs: kind === 'tool' ? canonicalArgs(toolArgsRaw) : undefined,
    handoffFrom,
    handoffTo,
    inputText: kind === 'tool' && a['gen_ai.tool.call.arguments'] !== undefined ? textOf(a['gen_ai.tool.call.arguments']) : entityText(entityInput, true),
    outputText: a['gen_ai.tool.call.result'] !== undefined ? textOf(a['gen_ai.tool.call.result']) : entityText(entityOutput, false),
    usage: gu ?? usageOf(undefined, undefined, num(a, 'gen_ai.usage.cost')),
    issuedCalls: NO_CALLS,
    historyCalls: input.length > 0 ? issuedCalls(input) : NO_CALLS,
    consumedCallIds: NO_IDS,
  } as SpanFacts;
};
