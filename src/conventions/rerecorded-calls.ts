/**
 * One call recorded twice (double instrumentation). A framework instrumentation writes an LLM span
 * for a model call and, inside it, the provider SDK's instrumentation writes its own span for the
 * same request: OpenInference openai-agents `generation`/`response` → OpenInference openai
 * `ChatCompletion`/`Response` (Arize-ai/openinference issue #2101), LangChain `ChatOpenAI` →
 * `ChatCompletion`, openai-agents (GenAI or OpenLLMetry) `chat`/`openai.response` →
 * opentelemetry-instrumentation-openai-v2 `chat <model>` or OpenLLMetry `openai.chat`, and mixes
 * of conventions. Read as two rewardable steps, one call split its reward in two — the inner copy
 * of an answer got a large negative reward in a run that succeeded — and sent two events for it
 * to trainers.
 *
 * Rule D1: an LLM span whose nearest rewardable or agent span above it (structure spans skipped)
 * is an LLM span, the only LLM span in that position below it, and that records the same call —
 * equal `gen_ai.response.id`, or (no conflicting response ids) equal output text, or (an output
 * not recorded by both) equal input text or equal token usage (input and output counts) — is that
 * call again. Different output texts are different calls. The outer span keeps the
 * step and takes what only the inner one recorded (texts, tool calls, usage); the inner one is kept
 * as structure (kind `other`). Two or more LLM spans below one LLM span are calls of their own
 * (retries, fallbacks) and stay steps.
 *
 * Rule D2, the same for a tool call recorded by the framework and by an MCP client instrumentation
 * inside it (`sameToolCall`).
 */
import type { StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import { responseIdOf } from './response-ids.js';
import type { SpanFacts, SpanFactsLookup, SpanFactsTable } from './span-facts.js';
import type { SpanTree } from './span-tree.js';

/** Structure spans crossed between the inner span and the outer one. */
const MAX_HOPS = 8;

/** Kinds a re-recorded call can have (the span above it has the same kind). */
const COLLAPSIBLE: ReadonlySet<StepKind> = new Set(['llm', 'tool']);

const STOPS: ReadonlySet<StepKind> = new Set(['llm', 'tool', 'handoff', 'agent']);

export interface RerecordedCalls {
  /** Inner span id → the span id of the outermost span that records the same call (keeps the step). */
  readonly into: ReadonlyMap<string, string>;
}

const NONE: RerecordedCalls = { into: new Map() };

/**
 * Finds re-recorded calls and rewrites `facts` in place: each outer span's facts completed from its
 * inner copy's, each inner copy's kind set to `other`. Leaves `facts` untouched when there are none.
 */
export function collapseRerecordedCalls(tree: SpanTree, facts: SpanFactsTable): RerecordedCalls {
  // candidate inner span → the span above it, grouped by that span
  const below = new Map<string, string[]>();
  for (const s of tree.ordered) {
    const f = facts.get(s.spanId)!;
    if (!COLLAPSIBLE.has(f.kind)) continue;
    const above = nearestStop(tree, facts, s.spanId);
    if (above === undefined || facts.get(above)!.kind !== f.kind) continue;
    const list = below.get(above);
    if (list === undefined) below.set(above, [s.spanId]);
    else list.push(s.spanId);
  }
  if (below.size === 0) return NONE;

  const into = new Map<string, string>();
  // tree order: an outer span comes before its inner ones, so a chain of three resolves to the top
  for (const s of tree.ordered) {
    const inner = below.get(s.spanId);
    if (inner === undefined || inner.length !== 1) continue;
    const id = inner[0]!;
    if (!sameCall(tree.byId.get(s.spanId)!, facts.get(s.spanId)!, tree.byId.get(id)!, facts.get(id)!)) continue;
    into.set(id, into.get(s.spanId) ?? s.spanId);
  }
  if (into.size === 0) return NONE;
  for (const s of tree.ordered) {
    const outer = into.get(s.spanId);
    if (outer === undefined) continue;
    const f = facts.get(s.spanId)!;
    facts.set(outer, completed(facts.get(outer)!, f));
    facts.set(s.spanId, { ...f, kind: 'other' });
  }
  return { into };
}

/** The nearest span above `spanId` that is rewardable or an agent, across at most MAX_HOPS structure spans. */
function nearestStop(tree: SpanTree, facts: SpanFactsLookup, spanId: string): string | undefined {
  let cur = tree.parentOf(spanId);
  for (let hops = 0; cur !== undefined && hops <= MAX_HOPS; hops++) {
    if (STOPS.has(facts.get(cur)!.kind)) return cur;
    cur = tree.parentOf(cur);
  }
  return undefined;
}

function sameCall(outerSpan: Span, outer: SpanFacts, innerSpan: Span, inner: SpanFacts): boolean {
  if (outer.kind === 'tool') return sameToolCall(outer, inner);
  const a = responseIdOf(outerSpan);
  const b = responseIdOf(innerSpan);
  if (a !== undefined && b !== undefined) return a === b;
  // Both recorded an output: it decides. A call that answered something else is another call (an
  // LLM-as-judge or a summariser run inside the framework's call) even when its input text or its
  // token counts happen to be equal.
  if (both(outer.outputText, inner.outputText)) return outer.outputText === inner.outputText;
  if (both(outer.inputText, inner.inputText) && outer.inputText === inner.inputText) return true;
  const u = outer.usage;
  const v = inner.usage;
  return (
    u?.inputTokens !== undefined && u.outputTokens !== undefined && u.inputTokens === v?.inputTokens && u.outputTokens === v.outputTokens
  );
}

/**
 * D2: a tool span inside a tool span of the same tool name, nothing recorded by both differing (call
 * id, arguments, result): the MCP client's `tools/call <tool>` span (`execute_tool`, GenAI MCP
 * conventions) under the framework's span of that tool. A tool that runs another tool has another name.
 */
function sameToolCall(outer: SpanFacts, inner: SpanFacts): boolean {
  // the outer span's name as recorded too: CrewAI's is renamed to the model's (W2), an MCP client span inside keeps the server's
  if (inner.toolName === undefined || (outer.toolName !== inner.toolName && outer.recordedToolName !== inner.toolName)) return false;
  const differ = (x: string | undefined, y: string | undefined) => both(x, y) && x !== y;
  return !differ(outer.toolCallId, inner.toolCallId) && !differ(outer.toolArgs, inner.toolArgs) && !differ(outer.outputText, inner.outputText);
}

const both = (x: string | undefined, y: string | undefined): boolean => x !== undefined && y !== undefined && x !== '' && y !== '';

/** `outer` with what only `inner` recorded. */
function completed(outer: SpanFacts, inner: SpanFacts): SpanFacts {
  const out: { -readonly [K in keyof SpanFacts]: SpanFacts[K] } = { ...outer };
  if (out.inputText === undefined && inner.inputText !== undefined) out.inputText = inner.inputText;
  if (out.outputText === undefined && inner.outputText !== undefined) out.outputText = inner.outputText;
  if (out.usage === undefined && inner.usage !== undefined) out.usage = inner.usage;
  if (out.issuedCalls.length === 0 && inner.issuedCalls.length > 0) out.issuedCalls = inner.issuedCalls;
  if (out.historyCalls.length === 0 && inner.historyCalls.length > 0) out.historyCalls = inner.historyCalls;
  if (out.consumedCallIds.length === 0 && inner.consumedCallIds.length > 0) out.consumedCallIds = inner.consumedCallIds;
  if (out.endedOnToolCall === undefined && inner.endedOnToolCall !== undefined) out.endedOnToolCall = inner.endedOnToolCall;
  if (out.toolCallId === undefined && inner.toolCallId !== undefined) out.toolCallId = inner.toolCallId;
  if (out.toolArgs === undefined && inner.toolArgs !== undefined) out.toolArgs = inner.toolArgs;
  return out;
}
