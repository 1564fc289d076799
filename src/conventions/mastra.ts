/**
 * M1 — Mastra's agent loop as its OpenTelemetry exporter writes it.
 *
 * Sources (checked by running them): mastra-ai/mastra `@mastra/core` 1.71.0, `@mastra/observability` 1.17.9
 * (`model-tracing.ts`: MODEL_GENERATION → MODEL_STEP → MODEL_INFERENCE → MODEL_CHUNK; tool executions are children
 * of MODEL_STEP, siblings of MODEL_INFERENCE, whose span ends with the step, after them), `@mastra/otel-exporter`
 * 1.4.0 (`gen-ai-semantics.ts`): GenAI spans — `invoke_agent <agent>` (`gen_ai.agent.name`), `model_generation
 * <model>`, `agent_step <agent>` (`gen_ai.operation.name = agent_step`, `mastra.span.type = model_step`, the step's
 * messages in `mastra.model_step.input`, its result `{text, toolCalls: [{toolCallId, toolName, args}]}` in
 * `mastra.model_step.output`), `chat <model>` (the MODEL_INFERENCE span: `gen_ai.agent.name`, no input messages,
 * `gen_ai.output.messages` from `convertMastraMessagesToGenAIMessages`, which keeps only the `text` and drops the
 * tool calls), `execute_tool <tool>` (`gen_ai.tool.{name,call.id,call.arguments,call.result}`; a sub-agent is the
 * tool `agent-<id>` with the sub-agent's `invoke_agent` inside it).
 *
 * So the chat span records neither the calls it issued nor, in the next step, the results it read, and it ends
 * after the tools ran (C4 cannot order them). Rule: the chat span of a model step issued the tool calls of that
 * step's `mastra.model_step.output`, and the chat span of the next model step of the same generation (Mastra's
 * loop continues with those results) consumed their ids — each only where the span recorded none itself.
 */
import type { Span } from '../model/telemetry.js';
import { isRecord, parsedJsonText } from './attributes.js';
import { canonicalArgs, type ToolCallRef } from './messages.js';
import type { SpanFactsTable } from './span-facts.js';
import type { SpanTree } from './span-tree.js';

const STEP_TYPE = 'model_step';
const STEP_OUTPUT = 'mastra.model_step.output';

function stepCalls(span: Span): ToolCallRef[] {
  const raw = span.attributes[STEP_OUTPUT];
  if (typeof raw !== 'string' || !raw.includes('toolCallId')) return [];
  const v = parsedJsonText(raw);
  const calls = isRecord(v) ? v['toolCalls'] : undefined;
  if (!Array.isArray(calls)) return [];
  const out: ToolCallRef[] = [];
  for (const c of calls) {
    if (!isRecord(c) || typeof c['toolCallId'] !== 'string' || c['toolCallId'] === '') continue;
    const ref: { id: string; name?: string; args?: string } = { id: c['toolCallId'] };
    if (typeof c['toolName'] === 'string') ref.name = c['toolName'];
    const args = canonicalArgs(c['args'] ?? c['input']);
    if (args !== undefined) ref.args = args;
    out.push(ref);
  }
  return out;
}

/** M1 over one episode: rewrites `facts` of Mastra chat spans in place. */
export function refineMastraSteps(tree: SpanTree, facts: SpanFactsTable): void {
  // model steps by their parent (the generation), in order; each step's first LLM child
  let steps: Map<string, Span[]> | undefined;
  for (const s of tree.ordered) {
    if (s.attributes['mastra.span.type'] !== STEP_TYPE) continue;
    const p = tree.parentOf(s.spanId) ?? '';
    let list = (steps ??= new Map()).get(p);
    if (list === undefined) steps.set(p, (list = []));
    list.push(s);
  }
  if (steps === undefined) return;
  const llmOf = new Map<string, string>();
  for (const s of tree.ordered) {
    const p = tree.parentOf(s.spanId);
    if (p === undefined || llmOf.has(p) || facts.get(s.spanId)!.kind !== 'llm') continue;
    if (tree.byId.get(p)?.attributes['mastra.span.type'] === STEP_TYPE) llmOf.set(p, s.spanId);
  }
  for (const list of steps.values()) {
    for (let i = 0; i < list.length; i++) {
      const calls = stepCalls(list[i]!);
      if (calls.length === 0) continue;
      const issuer = llmOf.get(list[i]!.spanId);
      if (issuer !== undefined) {
        const f = facts.get(issuer)!;
        if (f.issuedCalls.length === 0) facts.set(issuer, { ...f, issuedCalls: calls });
      }
      const next = i + 1 < list.length ? llmOf.get(list[i + 1]!.spanId) : undefined;
      if (next !== undefined) {
        const f = facts.get(next)!;
        if (f.consumedCallIds.length === 0) facts.set(next, { ...f, consumedCallIds: calls.map((c) => c.id!) });
      }
    }
  }
}
