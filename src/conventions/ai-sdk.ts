/**
 * Vercel AI SDK (npm `ai`) mapper: the spans the SDK itself records when a call is made with
 * `experimental_telemetry: { isEnabled: true, functionId?, metadata? }` (no instrumentation
 * package; the SDK calls the OpenTelemetry API directly).
 *
 * Spec: vercel/ai `packages/ai/src/telemetry/*` and the docs page "Telemetry → Collected data";
 * checked against the spans `ai` 6.0.333 records (test/support/ai-sdk-run.ts). Every span has
 * `ai.operationId` (= its span name), `operation.name` = `<operationId> <functionId>`,
 * `resource.name` = `ai.telemetry.functionId` and `ai.telemetry.metadata.<key>`:
 *
 * - `ai.generateText` / `ai.streamText` / `ai.generateObject` / `ai.streamObject`: one call of the
 *   SDK, possibly several model steps (tool loop): `ai.prompt` = JSON `{system, prompt, messages}`,
 *   `ai.response.{text,toolCalls,finishReason}` of the last step, `ai.usage.*` totals.
 * - `<call>.doGenerate` / `<call>.doStream`: one provider call: `ai.prompt.messages` (the
 *   provider-level prompt, JSON `[{role, content}]`, content a string or parts `text`,
 *   `reasoning`, `file`, `tool-call {toolCallId, toolName, input}`, `tool-result {toolCallId,
 *   toolName, output: {type, value}}`), `ai.response.text`, `ai.response.toolCalls` (JSON
 *   `[{toolCallId, toolName, input}]`, input the JSON text), `ai.response.{finishReason,id}`,
 *   `ai.usage.{inputTokens,outputTokens}`, and GenAI attributes beside them (`gen_ai.system`,
 *   `gen_ai.request.model`, `gen_ai.response.{id,finish_reasons}`, `gen_ai.usage.*`) but no
 *   `gen_ai.operation.name`.
 * - generateObject / streamObject record `ai.response.object` (the object's JSON text) instead of
 *   `ai.response.text`: it is their output text.
 * - `ai.toolCall`: one tool execution: `ai.toolCall.{name,id,args,result}` (result JSON-encoded:
 *   a string arrives quoted); a throwing tool sets status ERROR with an `exception` event.
 * - `ai.embed`, `ai.embedMany`, `ai.rerank` and their `.doEmbed` / `.doRerank`: no agent work
 *   the model consumes through a call: `other`.
 *
 * Older lines are read as well: 4.x names the tool call's arguments `args` (in
 * `ai.response.toolCalls` and prompt `tool-call` parts), a tool result `result` (prompt
 * `tool-result` parts) and the usage `ai.usage.{promptTokens,completionTokens}`; a tool span's
 * `ai.toolCall.input` / `.output` are taken when `.args` / `.result` are absent.
 *
 * Agents: the SDK has no agent attribute. The `functionId` an app gives each call names what the
 * call does, and a multi-agent app gives each agent its own (`router`, `researcher`, …), so an
 * outer call with a `functionId` is an invocation of the agent of that name (kind `agent`; other
 * attributes, e.g. a metadata key, by `conventions.aiSdkAgentAttributes`) and
 * its provider calls and tool executions are that agent's steps; an outer call without one is
 * structure (`chain`: its steps belong to the agent around it, R4). A sub-agent run inside a
 * tool's `execute` is a child of that `ai.toolCall` span: an agent used as a tool (C7).
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { firstNum, firstStr, isRecord, str, structured, textOf, unquotedText } from './attributes.js';
import { canonicalArgs, issuedCalls, readMessages, renderOutput, renderTranscript, resultIds, type ChatMessage } from './messages.js';
import { NO_CALLS, NO_IDS, usageOf, type ConventionMapper, type SpanFacts } from './span-facts.js';

/** Outer calls of the SDK: one agent invocation (or structure) each. */
const CALL_OPERATIONS = new Set(['ai.generateText', 'ai.streamText', 'ai.generateObject', 'ai.streamObject']);
/** Provider calls inside them: one model call each. */
const MODEL_CALL = /^ai\.(?:generateText|streamText|generateObject|streamObject)\.do(?:Generate|Stream)$/;
const TOOL_OPERATION = 'ai.toolCall';

/** The attribute that names the agent of an AI SDK call by default (`conventions.aiSdkAgentAttributes`). */
export const AI_SDK_AGENT_ATTRIBUTE = 'ai.telemetry.functionId';

function aiSdkKind(operationId: string): StepKind {
  if (MODEL_CALL.test(operationId)) return 'llm';
  if (operationId === TOOL_OPERATION) return 'tool';
  if (CALL_OPERATIONS.has(operationId)) return 'agent';
  // ai.embed / ai.embedMany / ai.rerank and their provider calls, and operations added later
  return 'other';
}

/** Text of a tool result as the SDK records it: `{type, value}` (5.x+), or the 4.x `result`. */
function toolOutputText(part: Record<string, unknown>): unknown {
  const output = part['output'];
  if (isRecord(output)) {
    const value = output['value'];
    if (output['type'] === 'content' && Array.isArray(value)) {
      const texts = value.filter(isRecord).map((p) => (typeof p['text'] === 'string' ? p['text'] : undefined)).filter((t): t is string => t !== undefined);
      return texts.length > 0 ? texts.join('\n') : undefined;
    }
    return value ?? output['reason'];
  }
  return output ?? part['result'];
}

/**
 * AI SDK messages (provider-level `ai.prompt.messages`, or the app's `ModelMessage`s in `ai.prompt`)
 * as GenAI parts, so they render and link like every other convention's (messages.ts).
 */
function asGenAiMessages(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  const out: unknown[] = [];
  for (const item of value) {
    if (!isRecord(item)) continue;
    const role = item['role'];
    const content = item['content'];
    if (typeof content === 'string') {
      out.push({ role, parts: [{ type: 'text', content }] });
      continue;
    }
    if (!Array.isArray(content)) continue;
    const parts: unknown[] = [];
    for (const p of content) {
      if (!isRecord(p)) continue;
      switch (p['type']) {
        case 'text':
          parts.push({ type: 'text', content: p['text'] });
          break;
        case 'reasoning':
          parts.push({ type: 'reasoning', content: p['text'] });
          break;
        case 'tool-call':
          parts.push({ type: 'tool_call', id: p['toolCallId'], name: p['toolName'], arguments: p['input'] ?? p['args'] });
          break;
        case 'tool-result':
          parts.push({ type: 'tool_call_response', id: p['toolCallId'], response: toolOutputText(p) });
          break;
        default: // file, image, tool-approval-*: no text
          break;
      }
    }
    out.push({ role, parts });
  }
  return out;
}

function messagesOf(value: unknown): ChatMessage[] {
  const m = asGenAiMessages(value);
  return m.length > 0 ? readMessages(m) : [];
}

/** The outer call's input: `ai.prompt` = `{system, prompt, messages}` (prompt a text or messages). */
function callInput(span: Span): ChatMessage[] {
  const p = structured(span.attributes, 'ai.prompt');
  if (!isRecord(p)) return [];
  const list: unknown[] = [];
  if (typeof p['system'] === 'string') list.push({ role: 'system', content: p['system'] });
  const prompt = p['prompt'];
  if (typeof prompt === 'string') list.push({ role: 'user', content: prompt });
  // loops, not push(...): spreading a prompt of a few million entries (a few MB of JSON) threw a RangeError
  else if (Array.isArray(prompt)) for (const m of prompt as unknown[]) list.push(m);
  if (Array.isArray(p['messages'])) for (const m of p['messages'] as unknown[]) list.push(m);
  return messagesOf(list);
}

/** The response: `ai.response.text` (or `.object`) and the calls of `ai.response.toolCalls`, as one assistant message. */
function responseOutput(span: Span): ChatMessage[] {
  const a = span.attributes;
  const parts: unknown[] = [];
  // generateObject / streamObject record the generated object (JSON text) instead of a text
  const text = textOf(a['ai.response.text']) ?? textOf(a['ai.response.object']);
  if (text !== undefined) parts.push({ type: 'text', content: text });
  const calls = structured(a, 'ai.response.toolCalls');
  if (Array.isArray(calls)) {
    for (const c of calls) if (isRecord(c)) parts.push({ type: 'tool_call', id: c['toolCallId'], name: c['toolName'], arguments: c['input'] ?? c['args'] });
  }
  return parts.length > 0 ? readMessages([{ role: 'assistant', parts }]) : [];
}


/**
 * The AI SDK mapper naming agents by the first of `agentAttributes` a span has
 * (`conventions.aiSdkAgentAttributes`; `aiSdkMapper` reads the `functionId`).
 */
export function aiSdkMapperFor(agentAttributes: readonly string[]): ConventionMapper {
  const keys = [...agentAttributes];
  return (span) => mapAiSdkSpan(span, keys);
}

function mapAiSdkSpan(span: Span, agentAttributes: readonly string[]): SpanFacts | undefined {
  const a = span.attributes;
  const operationId = str(a, 'ai.operationId');
  if (operationId === undefined || !operationId.startsWith('ai.')) return undefined;
  let kind = aiSdkKind(operationId);
  const agentName = firstStr(a, agentAttributes);
  // an SDK call without a functionId names no agent: structure, its steps go to the agent around it
  if (kind === 'agent' && agentName === undefined) kind = 'chain';

  if (kind === 'tool') {
    const args = a['ai.toolCall.args'] ?? a['ai.toolCall.input'];
    return {
      convention: 'ai-sdk',
      kind,
      agentName,
      toolName: str(a, 'ai.toolCall.name'),
      toolCallId: str(a, 'ai.toolCall.id'),
      toolArgs: canonicalArgs(args),
      inputText: textOf(args),
      outputText: unquotedText(a['ai.toolCall.result'] ?? a['ai.toolCall.output']),
      issuedCalls: NO_CALLS,
      historyCalls: NO_CALLS,
      consumedCallIds: NO_IDS,
    } as SpanFacts;
  }
  if (kind === 'llm') {
    const input = messagesOf(structured(a, 'ai.prompt.messages'));
    const output = responseOutput(span);
    return {
      convention: 'ai-sdk',
      kind,
      agentName,
      inputText: renderTranscript(input),
      outputText: renderOutput(output),
      usage: usageOf(
        firstNum(a, ['gen_ai.usage.input_tokens', 'ai.usage.inputTokens', 'ai.usage.promptTokens']),
        firstNum(a, ['gen_ai.usage.output_tokens', 'ai.usage.outputTokens', 'ai.usage.completionTokens']),
        undefined,
      ),
      issuedCalls: issuedCalls(output),
      historyCalls: issuedCalls(input),
      consumedCallIds: resultIds(input),
      endedOnToolCall: str(a, 'ai.response.finishReason') === 'tool-calls' ? true : undefined,
    } as SpanFacts;
  }
  if (kind === 'agent' || kind === 'chain') {
    // the whole call: what the app passed in and got back (its usage totals stay off: the model
    // calls below carry theirs)
    const input = callInput(span);
    return {
      convention: 'ai-sdk',
      kind,
      agentName,
      inputText: renderTranscript(input),
      outputText: renderOutput(responseOutput(span)),
      issuedCalls: NO_CALLS,
      historyCalls: issuedCalls(input),
      consumedCallIds: NO_IDS,
    } as SpanFacts;
  }
  return { convention: 'ai-sdk', kind, agentName, issuedCalls: NO_CALLS, historyCalls: NO_CALLS, consumedCallIds: NO_IDS } as SpanFacts;
}

export const aiSdkMapper: ConventionMapper = aiSdkMapperFor([AI_SDK_AGENT_ATTRIBUTE]);
