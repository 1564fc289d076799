/**
 * What a convention mapper reads off one span, before the episode-level passes (agent
 * resolution, causal linking) turn it into an `AgentStep`. Internal to this folder.
 */
import type { Convention, StepKind } from '../model/agents.js';
import type { Span } from '../model/telemetry.js';
import type { ToolCallRef } from './messages.js';
import type { SpanTree } from './span-tree.js';

export interface SpanFacts {
  readonly convention: Convention;
  readonly kind: StepKind;
  /** Agent named by the span's own attributes (may be a placeholder; filtered later). */
  readonly agentName?: string;
  readonly agentId?: string;
  /**
   * True when an `agent` span's name came only from the span name (no agent attribute): such a
   * span may be a workflow root rather than an agent (quirk handled in agents.ts).
   */
  readonly agentNameFromSpanName?: boolean;
  /** An agent span that is a LangGraph agent's graph node (langgraph.ts, L1): its result passes on to the next node (L2). */
  readonly langGraphAgent?: boolean;
  readonly toolName?: string;
  /** The tool name as the span recorded it, when `toolName` is another (CrewAI W2: the name the model called it by). */
  readonly recordedToolName?: string;
  readonly toolCallId?: string;
  /** Canonical tool arguments (tool steps). */
  readonly toolArgs?: string;
  /** OpenInference `graph.node.id` / `graph.node.parent_id` (agent graph edges). */
  readonly graphNodeId?: string;
  readonly graphParentNodeId?: string;
  /**
   * A tool step whose work below it is another agent's (CrewAI's delegation tools, crewai.ts W1): the steps
   * under its span belong to this agent; the tool step itself stays its caller's.
   */
  readonly delegatesTo?: string;
  readonly handoffFrom?: string;
  readonly handoffTo?: string;
  /** Full texts (truncated only when the step is built; digests use the full text). */
  readonly inputText?: string;
  readonly outputText?: string;
  readonly usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number };
  /** Tool calls this step's output requested (LLM steps). */
  readonly issuedCalls: readonly ToolCallRef[];
  /** Tool calls seen in the step's input history: ids, names and args, issuer unknown. */
  readonly historyCalls: readonly ToolCallRef[];
  /** Ids of tool results this step's input contains. */
  readonly consumedCallIds: readonly string[];
  /**
   * LLM steps: the response ended asking for tool calls (`gen_ai.response.finish_reasons` holds
   * `tool_calls`), known even when the calls themselves were not recorded (no message content).
   */
  readonly endedOnToolCall?: boolean;
}

/** The facts of an episode's spans, looked up by span id (the episode passes read them so). */
export interface SpanFactsLookup {
  get(spanId: string): SpanFacts | undefined;
}

/** `SpanFactsLookup` that the refining passes (LangGraph, CrewAI, Mastra, LlamaIndex, re-recorded calls) also write. */
export interface SpanFactsTable extends SpanFactsLookup {
  set(spanId: string, facts: SpanFacts): void;
}

/**
 * The facts of an episode's spans in an array by each span's position in the tree's order
 * (`SpanTree.position`, the map the other passes find spans by): a span id → facts Map of its own
 * was built for every episode (~20 sets, its table grown three times) only to be read by id.
 */
export class FactsByPosition implements SpanFactsTable {
  /** Facts by position: `at[i]` is `tree.ordered[i]`'s. */
  readonly at: SpanFacts[];
  private readonly tree: SpanTree;

  /** `at`: one entry per span of `tree.ordered`, in its order. */
  constructor(tree: SpanTree, at: SpanFacts[]) {
    this.tree = tree;
    this.at = at;
  }

  get(spanId: string): SpanFacts | undefined {
    const i = this.tree.position(spanId);
    return i === undefined ? undefined : this.at[i];
  }

  /** Replaces a span's facts; a span id the episode does not hold has none to replace (nothing reads it). */
  set(spanId: string, facts: SpanFacts): void {
    const i = this.tree.position(spanId);
    if (i !== undefined) this.at[i] = facts;
  }
}

/** One convention: a pure function recognising the spans it knows, `undefined` for the rest. */
export type ConventionMapper = (span: Span) => SpanFacts | undefined;

export const NO_CALLS: readonly ToolCallRef[] = Object.freeze([]);
export const NO_IDS: readonly string[] = Object.freeze([]);

/** Usage object without undefined members (exactOptionalPropertyTypes-friendly), or undefined when empty. */
export function usageOf(
  inputTokens: number | undefined,
  outputTokens: number | undefined,
  costUsd: number | undefined,
): SpanFacts['usage'] {
  // undefined without building the object when nothing was recorded, and no key list to count
  // what was (a key array per span read)
  if (inputTokens === undefined && outputTokens === undefined && costUsd === undefined) return undefined;
  const u: { inputTokens?: number; outputTokens?: number; costUsd?: number } = {};
  if (inputTokens !== undefined) u.inputTokens = inputTokens;
  if (outputTokens !== undefined) u.outputTokens = outputTokens;
  if (costUsd !== undefined) u.costUsd = costUsd;
  return u;
}

/** Drops keys whose value is undefined (the model schemas use optional, not `| undefined`). */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  // for-in over a plain literal: own keys in insertion order, without Object.entries' pair arrays.
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}
