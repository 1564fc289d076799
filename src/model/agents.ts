/**
 * Agent-level model: what the conventions mappers produce from spans and what the credit
 * engine consumes. See ../../README.md and docs/architecture (shared) for the design.
 */
import { z } from 'zod';
import { SpanIdSchema, TraceIdSchema } from './telemetry.js';

/** Which instrumentation convention a step was recognised by. */
export const ConventionSchema = z.enum(['genai', 'openinference', 'openllmetry', 'ai-sdk', 'unknown']);
export type Convention = z.infer<typeof ConventionSchema>;

/**
 * The role of a step. `llm`, `tool` and `handoff` are messages that earn reward;
 * `agent` (an agent invocation) and `chain`/`other` are structure: they carry causality and
 * agent membership but are not rewarded (`rewardable: false`). `evaluator` spans carry
 * evaluations and are never rewarded.
 */
export const StepKindSchema = z.enum(['llm', 'tool', 'handoff', 'agent', 'chain', 'evaluator', 'other']);
export type StepKind = z.infer<typeof StepKindSchema>;

export const AgentStepSchema = z.object({
  /** = span id */
  stepId: SpanIdSchema,
  traceId: TraceIdSchema,
  /** Stable agent identity: the agent id attribute when real, else the agent name. */
  agentId: z.string(),
  agentName: z.string(),
  kind: StepKindSchema,
  /** Whether the step is a message that receives a reward. */
  rewardable: z.boolean(),
  convention: ConventionSchema,
  /** Span name, for display. */
  name: z.string(),
  /** Start and end on the episode's clock: the span's own, moved by `clockOffsetNano` when set. */
  startTimeUnixNano: z.bigint(),
  endTimeUnixNano: z.bigint(),
  /**
   * Clock-skew correction applied to the span's timestamps (ns; the span's own start is
   * `startTimeUnixNano - clockOffsetNano`): set when the span was recorded on another clock (other
   * resource) than its parent and the span tree contradicted its times (conventions/span-tree.ts).
   */
  clockOffsetNano: z.bigint().optional(),
  status: z.object({ ok: z.boolean(), message: z.string().optional() }),
  /** Parent step (nearest ancestor span that is a step), if any. */
  parentStepId: SpanIdSchema.optional(),
  /**
   * Steps whose output this step consumed: parent, span links, tool-call-id matches,
   * previous steps of the same conversation turn. Only ids of steps in the same episode.
   */
  causalInputs: z.array(SpanIdSchema),
  toolName: z.string().optional(),
  toolCallId: z.string().optional(),
  /** For hand-offs: target agent name when the instrumentation records it. */
  handoffTo: z.string().optional(),
  /** Short, stable digest (sha256 hex, first 16 chars) of the step's input/output content when present. */
  inputDigest: z.string().optional(),
  outputDigest: z.string().optional(),
  /** Output text when captured (truncated), for judges and preference pairs. */
  outputText: z.string().optional(),
  inputText: z.string().optional(),
  usage: z
    .object({ inputTokens: z.number().optional(), outputTokens: z.number().optional(), costUsd: z.number().optional() })
    .optional(),
  /** Evaluator flags on this step (e.g. a span-level evaluation labelled fail). */
  flaggedErroneous: z.boolean().optional(),
});
export type AgentStep = z.infer<typeof AgentStepSchema>;

export const AgentSchema = z.object({
  agentId: z.string(),
  agentName: z.string(),
});
export type Agent = z.infer<typeof AgentSchema>;

export const EvaluationSourceSchema = z.enum(['log-event', 'span-event', 'evaluator-span', 'root-attribute', 'evaluations-stream']);

export const EvaluationSchema = z.object({
  /** e.g. `task_success` (gen_ai.evaluation.name) */
  name: z.string(),
  /** gen_ai.evaluation.score.value; may be absent when only a label is given. */
  score: z.number().optional(),
  label: z.string().optional(),
  explanation: z.string().optional(),
  traceId: TraceIdSchema.optional(),
  /** The evaluated span (root span for system-level evaluations). */
  spanId: SpanIdSchema.optional(),
  conversationId: z.string().optional(),
  /**
   * `gen_ai.response.id` of the evaluated model response, for evaluations that name no span (an
   * evaluator that saw the response, not the trace): the assembler resolves it to the LLM span
   * that recorded that response id, as if the record carried that span's context.
   */
  responseId: z.string().optional(),
  source: EvaluationSourceSchema,
  timeUnixNano: z.bigint(),
  /**
   * True when `timeUnixNano` is when agent-credit received the evaluation (its record had no
   * time): a re-delivery then differs only in that time, and is still a duplicate.
   */
  timeFromReceipt: z.boolean().optional(),
  /**
   * True when `score` was read from `label` by the built-in label table at decoding: the credit
   * stage maps such labels again by the configured `credit.labelScores` (src/runtime/process-episode.ts).
   */
  scoreFromLabel: z.boolean().optional(),
  /**
   * True when `score` was read from a percent string ("80%" → 0.8): a fraction of the evaluation's
   * range, which the credit stage maps into `normalization.<name>` (min + score · (max − min))
   * before reading it as any other score — "80%" on {min: 0, max: 100} is 80, not 0.8.
   */
  scoreIsFraction: z.boolean().optional(),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;
