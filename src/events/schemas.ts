/**
 * The events agent-credit publishes. These zod schemas are the single source of truth:
 * `agent-credit schema` writes them as JSON Schema to `schemas/`, and a test fails when the
 * committed files are stale. Bump SCHEMA_VERSION on any change (semver: additive = minor).
 *
 * These schemas describe exactly what this version emits (closed objects, this schema_version, the
 * enum values it knows): the test suite holds every emitted event to that. The published files in
 * `schemas/` are the consumer contract derived from them (src/cli/schema-files.ts): any 1.x
 * schema_version, objects open to fields a later minor version adds, enums open to values it adds.
 *
 * Field names are snake_case because the events leave the process (Kafka, JSON lines) and are
 * read by trainers in any language.
 */
import { z } from 'zod';
import { EvaluationSourceSchema, StepKindSchema } from '../model/agents.js';
import { CloseReasonSchema } from '../model/episode.js';

/**
 * 1.1.0: `failure_role: critic` (additive). 1.2.0: `evaluation.explanation` and
 * `game.message_effects` on episode_credit, `causal_inputs` on message_reward (additive).
 * 1.3.0: the published schemas accept any 1.x schema_version, unknown fields and unknown enum
 * values (README, Events: versions); `kind`, `close_reason` and `evaluation.source` are enums (the
 * model's: one list) instead of open strings.
 */
export const SCHEMA_VERSION = '1.3.0';

/** The major version: the published schemas accept any schema_version `<major>.x.y`. */
export const SCHEMA_MAJOR = Number(SCHEMA_VERSION.split('.')[0]);

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

export const EstimatorInfoSchema = z.object({
  /** e.g. `exact`, `closed-form`, `permutation`, `kernel` */
  name: z.string(),
  /** exact = every coalition or the closed form; approximate = sampled with intervals; partial = budget/time ran out or the game failed, values are the best estimate so far */
  status: z.enum(['exact', 'approximate', 'partial']),
  evaluations: z.number().int().min(0).describe('value-function evaluations the result rests on'),
  budget: z.number().int().min(0).optional(),
  target_half_width: z.number().min(0).optional(),
  confidence: z.number().gt(0).lt(1).optional(),
  note: z.string().optional().describe('why a result is partial, when it is'),
});

export const GameInfoSchema = z.object({
  kind: z.enum(['provenance', 'http', 'module']),
  removal_protocol: z.enum(['mask', 'null', 'replay']),
  players: z.enum(['agents', 'messages']),
  /**
   * How marginal_effect (δ_m) was obtained: `closed-form` (the game's own leave-one-out),
   * `leave-one-out` (|M|+1 coalitions evaluated), `shapley` (message-level Shapley), `none` (no
   * message game, or it failed: δ_m = 0, message rewards are an equal split of agent credit plus
   * failure transfers; the warnings say why).
   */
  message_effects: z.enum(['closed-form', 'leave-one-out', 'shapley', 'none']),
});

export const EvaluationUsedSchema = z.object({
  name: z.string(),
  score: z.number(),
  label: z.string().optional(),
  /** Where the verdict was read (the model's EvaluationSourceSchema). */
  source: EvaluationSourceSchema,
  /** The evaluator's explanation (gen_ai.evaluation.explanation), at most EXPLANATION_MAX_BYTES (2048) bytes: a longer one is cut, ending in "…". */
  explanation: z.string().optional(),
});

export const EventHeaderSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  /** Deterministic: sha256(episode id, [trace_ids[0] for a conversation's episode], revision, event type, method, subject) truncated to 32 hex chars. Consumers de-duplicate on it. */
  event_id: Hex(32),
  episode_id: z.string(),
  /** 0 for the first close of an episode; higher for corrections after late spans. */
  episode_revision: z.number().int().min(0),
  trace_ids: z.array(Hex(32)),
  /** Wall-clock ms when the credit was computed. Not part of event_id. */
  emitted_at_ms: z.number().int(),
});

export const AgentCreditSchema = z.object({
  agent_id: z.string(),
  agent_name: z.string(),
  /** Shapley value phi_i; credits sum to system_value - baseline. */
  credit: z.number(),
  ci_low: z.number(),
  ci_high: z.number(),
  /** v(N) - v(N \ {i}): cheap diagnostic reported beside Shapley. */
  leave_one_out: z.number().optional(),
  steps: z.number().int().min(0),
});

export const FirstErrorSchema = z.object({
  step_id: Hex(16),
  agent_id: z.string(),
  /** Why this step was chosen, e.g. `status=error`, `exception event`, `evaluator flag`, `prefix value drop 0.8→0.2`. */
  evidence: z.array(z.string()),
  /** Other steps equally likely to be the first error (reported, not hidden). */
  ties: z.array(Hex(16)),
});

export const EpisodeCreditSchema = EventHeaderSchema.extend({
  event_type: z.literal('episode_credit'),
  /** The model's CloseReasonSchema; `revoked` is never emitted (such an episode is dropped). */
  close_reason: CloseReasonSchema,
  outcome: z.enum(['success', 'failure']),
  evaluation: EvaluationUsedSchema,
  /** R = v(N), normalized to [0,1] unless configured otherwise. */
  system_value: z.number(),
  /** b = v(empty) */
  baseline: z.number(),
  success_threshold: z.number(),
  game: GameInfoSchema,
  estimator: EstimatorInfoSchema,
  agents: z.array(AgentCreditSchema),
  first_error: FirstErrorSchema.optional(),
  messages: z.number().int().min(0),
  preference_pairs: z.number().int().min(0),
  diagnostics: z.object({
    warnings: z.array(z.string()),
    late_spans: z.number().int().min(0),
    duplicate_spans: z.number().int().min(0),
    /** max |r_m| allowed: C * (R_max - R_min) */
    reward_bound: z.number(),
  }),
});
export type EpisodeCredit = z.infer<typeof EpisodeCreditSchema>;

export const RewardComponentsSchema = z.object({
  /** phi_i / |M_i| */
  credit_share: z.number(),
  /** delta_m - mean_k delta_k over the agent's messages */
  marginal: z.number(),
  /** part of marginal from redundancy (no effect / duplicate content), <= 0 */
  redundancy: z.number(),
  /** part of marginal from sabotage/harm (delta_m < 0), <= 0 */
  sabotage: z.number(),
  /** failure case: blame transfer (<= 0) */
  blame: z.number(),
  /** failure case: repair transfer (>= 0) */
  repair: z.number(),
  /** conservation-preserving shrink applied to respect the bound (0 when none) */
  shrink: z.number(),
});

export const MessageRewardSchema = EventHeaderSchema.extend({
  event_type: z.literal('message_reward'),
  step_id: Hex(16),
  trace_id: Hex(32),
  parent_step_id: Hex(16).optional(),
  /**
   * Steps whose output this one read (span parentage, links, tool-call ids, the previous step of
   * its turn): the causal graph credit and blame follow. A tool step's inputs include the LLM call
   * that issued it. Some are not messages (the agent-invocation span that is its parent) and have
   * no message_reward. Absent when it read none.
   */
  causal_inputs: z.array(Hex(16)).optional(),
  agent_id: z.string(),
  agent_name: z.string(),
  /** The model's StepKindSchema; the pipeline rewards `llm`, `tool` and `handoff` steps. */
  kind: StepKindSchema,
  name: z.string(),
  start_time_unix_nano: z.string(),
  /** r_m: sums to agent credit over the agent's messages. Use as process reward / turn-level advantage. */
  reward: z.number(),
  /** delta_m: the message's own marginal effect (leave-one-out in the message game). */
  marginal_effect: z.number(),
  components: RewardComponentsSchema,
  agent_credit: z.number(),
  outcome: z.enum(['success', 'failure']),
  /** failure episodes: role of this step */
  failure_role: z.enum(['first-error', 'dependent', 'repair', 'critic', 'before-error', 'unrelated']).optional(),
  estimator: EstimatorInfoSchema,
});
export type MessageReward = z.infer<typeof MessageRewardSchema>;

export const PairStepSchema = z.object({
  step_id: Hex(16),
  agent_id: z.string(),
  name: z.string(),
  /** The model's StepKindSchema; the pipeline rewards `llm`, `tool` and `handoff` steps. */
  kind: StepKindSchema,
  output: z.string().optional(),
  output_digest: z.string().optional(),
});

export const PreferencePairSchema = EventHeaderSchema.extend({
  event_type: z.literal('preference_pair'),
  trace_id: Hex(32),
  /** Agent whose policy the pair trains (the author of the rejected step). */
  agent_id: z.string(),
  context: z.object({
    parent_step_id: Hex(16).optional(),
    sub_task: z.string().optional(),
    input: z.string().optional(),
    input_digest: z.string().optional(),
  }),
  chosen: PairStepSchema.optional(),
  rejected: PairStepSchema,
  /** Reward difference chosen - rejected; when rejected-only, how far below 0 the rejected reward is (max(0, -reward): 0 when it is not negative). */
  margin: z.number(),
  /** True when no corrective attempt exists: a rejected-only sample. */
  rejected_only: z.boolean(),
  reason: z.string(),
});
export type PreferencePair = z.infer<typeof PreferencePairSchema>;

export const CreditEventSchema = z.discriminatedUnion('event_type', [
  EpisodeCreditSchema,
  MessageRewardSchema,
  PreferencePairSchema,
]);
export type CreditEvent = z.infer<typeof CreditEventSchema>;
