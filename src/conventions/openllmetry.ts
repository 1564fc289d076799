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
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { firstNum, firstStr, num, str, textOf } from './attributes.js';
import { genaiUsage, messagesAt } from './genai.js';
import {
  OPENLLMETRY_COMPLETION,
  OPENLLMETRY_PROMPT,
  canonicalArgs,
  issuedCalls,
  readFlattenedMessages,
  renderOutput,
  renderTranscript,
  resultIds,
} from './messages.js';
import { NO_CALLS, NO_IDS, compact, usageOf, type SpanFacts } from './span-facts.js';

export function openllmetryKind(traceloopKind: string): StepKind {
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

function stripSuffix(name: string, suffix: string): string | undefined {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : undefined;
}

export const openllmetryMapper = (span: Span): SpanFacts | undefined => {
  const a = span.attributes;
  const traceloopKind = str(a, 'traceloop.span.kind');
  const legacyLlm = traceloopKind === undefined ? str(a, 'llm.request.type') : undefined;
  if (traceloopKind === undefined && legacyLlm === undefined) return undefined;

  if (legacyLlm !== undefined) {
    if (legacyLlm !== 'chat' && legacyLlm !== 'completion') return undefined; // rerank/embedding: not ours
    const keys = Object.keys(a);
    const prompt = readFlattenedMessages(a, OPENLLMETRY_PROMPT, keys);
    const completion = readFlattenedMessages(a, OPENLLMETRY_COMPLETION, keys);
    const input = prompt.length > 0 ? prompt : messagesAt(span, 'gen_ai.input.messages');
    const output = completion.length > 0 ? completion : messagesAt(span, 'gen_ai.output.messages');
    const gu = genaiUsage(span);
    return compact({
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
    }) as SpanFacts;
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
  const toolArgsRaw = a['gen_ai.tool.call.arguments'] ?? entityInput;
  const input = kind === 'agent' ? messagesAt(span, 'gen_ai.input.messages') : [];
  const gu = genaiUsage(span);
  return compact({
    convention: 'openllmetry',
    kind,
    agentName,
    agentId: str(a, 'gen_ai.agent.id'),
    agentNameFromSpanName: agentNameFromSpanName || undefined,
    toolName: kind === 'tool' ? firstStr(a, ['gen_ai.tool.name']) ?? entity ?? stripSuffix(span.name, '.tool') ?? span.name : undefined,
    toolCallId: kind === 'tool' ? str(a, 'gen_ai.tool.call.id') : undefined,
    toolArgs: kind === 'tool' ? canonicalArgs(toolArgsRaw) : undefined,
    handoffFrom,
    handoffTo,
    inputText: textOf(kind === 'tool' ? toolArgsRaw : entityInput),
    outputText: textOf(a['gen_ai.tool.call.result'] ?? entityOutput),
    usage: gu ?? usageOf(undefined, undefined, firstNum(a, ['gen_ai.usage.cost'])),
    issuedCalls: NO_CALLS,
    historyCalls: input.length > 0 ? issuedCalls(input) : NO_CALLS,
    consumedCallIds: NO_IDS,
  }) as SpanFacts;
};
