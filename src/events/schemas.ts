/**
 * The events agent-credit publishes. These zod schemas are the single source of truth:
 * `agent-credit schema` writes them as JSON Schema to `schemas/`, and a test fails when the
 * committed files are stale. Bump SCHEMA_VERSION on any change (semver: additive = minor, a
 * description-only change = patch).
 *
 * Every field's meaning is in `.describe()`, not in a doc comment: the description is what a
 * trainer in another language reads, in the JSON Schema (consumer review: the files carried 0–2
 * descriptions each).
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
 * model's: one list) instead of open strings; every field has a description.
 * 1.3.1: descriptions only (a patch): `first_error.evidence` lists the evidence the engine writes —
 * it named an `exception event` never written (an exception sets `status=error: …`) and not the
 * agent-invocation flag.
 * 1.4.0: `failure_role: independent-error` (additive): a later erroneous step that does not read t*
 * was `unrelated`, with no blame.
 * 1.4.1: descriptions only (a patch): `ci_low`/`ci_high` of a partial result whose note says
 * `interval not estimated` are the interval of no information (they were ±1e-12 around the credit).
 * 1.5.0: `repairs_step_id` on message_reward (additive): which error a `repair` or `critic` corrects,
 * t* or an independent error — the events did not say.
 */
export const SCHEMA_VERSION = '1.5.0';

/** The major version: the published schemas accept any schema_version `<major>.x.y`. */
export const SCHEMA_MAJOR = Number(SCHEMA_VERSION.split('.')[0]);

/** True for a `schema_version` of this major version (`<major>.x.y`), as the published schemas accept; another major may mean something else by the same fields. */
export function isThisMajorVersion(v: unknown): v is string {
  return typeof v === 'string' && Number(v.split('.')[0]) === SCHEMA_MAJOR;
}

/** The event types this version emits (`event_type`). */
export const EVENT_TYPES: ReadonlySet<string> = new Set(['episode_credit', 'message_reward', 'preference_pair']);

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
const SpanId = (what: string) => Hex(16).describe(`${what} (16 lowercase hex chars: the OTel span id)`);
const TraceId = (what: string) => Hex(32).describe(`${what} (32 lowercase hex chars: the OTel trace id)`);

const OUTCOME = 'success when R ≥ success_threshold (τ), else failure';
const Outcome = (extra = '') => z.enum(['success', 'failure']).describe(`${OUTCOME}${extra}`);

const KIND =
  'Role of the step, as the instrumentation convention recognised it: `llm` (a model call: the policy output to train), `tool` (a tool execution), `handoff` (a hand-off to another agent); `agent`, `chain`, `evaluator`, `other` are structure, which the pipeline does not reward. Filter `kind == "llm"` for policy outputs.';
const StepKind = () => StepKindSchema.describe(KIND);

const DIGEST =
  'First 16 hex chars of sha256 over the UTF-8 bytes of the full text agent-credit extracted from the span, taken before the cut at conventions.maxTextBytes: the text beside it is that text, possibly cut. So sha256 of an uncut text matches the digest, and a mismatch means the text was cut. The text is rendered from the span by convention-specific code (an LLM call: one `role: text` line per message and `role: → tool(args)` per tool call, joined by \\n; its output: the assistant texts joined by \\n, or `→ tool(args)` lines; a tool execution: its arguments / result attribute as sent; a non-string attribute as JSON): that rendering is not part of the contract, so do not recompute digests from your own spans — compare digests with digests (equal digest = same content).';

export const EstimatorInfoSchema = z
  .object({
    name: z.string().describe('Estimator of the agent credits, e.g. `exact`, `closed-form`, `permutation`, `kernel`, `none` (empty episode).'),
    status: z
      .enum(['exact', 'approximate', 'partial'])
      .describe('exact = every coalition or the closed form; approximate = sampled, with intervals (ci_low, ci_high at `confidence`); partial = the budget or time ran out, or the game failed: the values are the best estimate so far (`note` says why). Weight uncertain signals less.'),
    evaluations: z.number().int().min(0).describe('Value-function evaluations the result rests on.'),
    budget: z.number().int().min(0).optional().describe('The configured budget of value-function evaluations (credit.budget).'),
    target_half_width: z.number().min(0).optional().describe('The confidence-interval half-width sampling aimed for (credit.targetHalfWidth), in units of R.'),
    confidence: z.number().gt(0).lt(1).optional().describe('Confidence level of ci_low/ci_high (credit.confidence), in (0, 1).'),
    note: z.string().optional().describe('Why a result is partial, when it is.'),
  })
  .describe('How the agent credits were estimated; the same object on every event of the episode.');

export const GameInfoSchema = z
  .object({
    kind: z.enum(['provenance', 'http', 'module']).describe('The game (value function) credit comes from: `provenance` (built in: the run scored by which agents’ outputs reach the final answer), `http` (a judge service), `module` (a pluggable value function).'),
    removal_protocol: z.enum(['mask', 'null', 'replay']).describe('How a coalition without some players is scored: `mask` (their outputs masked), `null` (replaced by a null placeholder), `replay` (the run replayed without them).'),
    players: z.enum(['agents', 'messages']).describe('Players of the game agent credit comes from: `agents`, the only value this version emits (`messages` is reserved).'),
    message_effects: z
      .enum(['closed-form', 'leave-one-out', 'shapley', 'none'])
      .describe(
        'How marginal_effect (δ_m) was obtained: `closed-form` (the game’s own leave-one-out), `leave-one-out` (|M|+1 coalitions evaluated), `shapley` (message-level Shapley), `none` (no message game, or it failed: δ_m = 0, message rewards are an equal split of agent credit (a failed or flagged step still held below 0) plus failure transfers; the warnings say why).',
      ),
  })
  .describe('The game agent credit was computed in.');

export const EvaluationUsedSchema = z
  .object({
    name: z.string().describe('Name of the verdict used (gen_ai.evaluation.name), e.g. `task_success`.'),
    score: z
      .number()
      .describe(
        'R as used: the verdict’s score normalized to [0, 1] by normalization.<name> (default range [0, 1]) and clamped to it (a warning in diagnostics says when it was clamped), or the labelScores value of a label-only verdict. Equal to system_value; not the raw score.',
      ),
    raw_score: z
      .number()
      .optional()
      .describe('The verdict’s score as the evaluator sent it, before normalization and clamping (absent for a label-only verdict). `score` is what credit used; compare the two to see a clamped or rescaled verdict.'),
    label: z.string().optional().describe('The verdict’s label (gen_ai.evaluation.score.label), e.g. `pass`, when it had one. The outcome follows the score, not the label: a score above the success threshold with label `fail` is a success (a warning says so).'),
    source: EvaluationSourceSchema.describe(
      'Where the verdict was read: `log-event` (a gen_ai.evaluation.result log record), `span-event` (an evaluation event on a span), `evaluator-span` (an evaluator span’s attributes), `root-attribute` (a score attribute on the root span), `evaluations-stream` (an evaluations topic record or POST /v1/evaluations).',
    ),
    explanation: z.string().optional().describe('The evaluator’s explanation (gen_ai.evaluation.explanation), at most 2048 UTF-8 bytes: a longer one is cut, ending in "…".'),
  })
  .describe('The system verdict the episode was credited against.');

export const EventHeaderSchema = z.object({
  schema_version: z.literal(SCHEMA_VERSION).describe('Version of the event schema (semver). A consumer accepts any version of the major it was built for and ignores fields and enum values it does not know (README, Events).'),
  event_id: Hex(32).describe(
    'Deterministic id: first 32 hex chars of sha256 over (episode_id, [trace_ids[0] for a conversation’s episode], episode_revision, event_type, method = game/removal_protocol/estimator, subject = the step id, the pair’s step ids, or nothing for episode_credit), each followed by a NUL. A replay or re-delivery gives the same id: de-duplicate on it. The schema version is not part of it.',
  ),
  episode_id: z.string().describe('The episode: its trace id (trace mode), or `conv:<conversation id>` (conversation mode).'),
  episode_revision: z
    .number()
    .int()
    .min(0)
    .describe(
      '0 for the first credited close of an episode; raised by every correction: late spans, a late (newer) verdict, an episode that closed without a verdict and gets its first, and in conversation mode each next turn. A later revision replaces every event of the earlier ones (key on episode_id, and trace_ids[0] in conversation mode, and keep the highest) — but in conversation mode an earlier turn’s preference pairs and failure roles are not repeated when a later turn passes (README, Events).',
    ),
  trace_ids: z.array(Hex(32)).describe('The traces of the episode (32 lowercase hex chars each): one in trace mode; in conversation mode its turns, [0] the one that opened the episode.'),
  emitted_at_ms: z.number().int().describe('Wall-clock time the credit was computed, Unix epoch milliseconds. Not part of event_id.'),
});

export const AgentCreditSchema = z
  .object({
    agent_id: z.string().describe('Stable agent identity: the agent id attribute when the telemetry has one, else the agent name.'),
    agent_name: z.string().describe('The agent’s name, for display.'),
    credit: z.number().describe('Shapley value φ_i of the agent in the game; credits sum to system_value − baseline (efficiency), in units of R.'),
    ci_low: z.number().describe('Lower end of φ_i’s confidence interval at estimator.confidence (= credit when exact). When estimator.status is partial and estimator.note says `interval not estimated`, none was: this is then the interval of no information, credit ± (the range of the values seen, at least |system_value − baseline| + the score scale (1 normalized; max − min of the score range with normalize off), + |credit|) — weight such a credit as unknown.'),
    ci_high: z.number().describe('Upper end of φ_i’s confidence interval at estimator.confidence (= credit when exact). When estimator.status is partial and estimator.note says `interval not estimated`, none was: this is then the interval of no information, credit ± (the range of the values seen, at least |system_value − baseline| + the score scale (1 normalized; max − min of the score range with normalize off), + |credit|) — weight such a credit as unknown.'),
    leave_one_out: z.number().optional().describe('v(N) − v(N \\ {i}): the run’s value lost without this agent; a cheap diagnostic beside Shapley, not conserved.'),
    steps: z.number().int().min(0).describe('The agent’s rewarded steps (its message_reward events).'),
  })
  .describe('One agent’s credit.');

export const FirstErrorSchema = z
  .object({
    step_id: SpanId('The first erroneous step in causal/time order'),
    agent_id: z.string().describe('Agent of that step.'),
    evidence: z
      .array(z.string())
      .describe(
        'Why this step was chosen, as written: `status=error` or `status=error: <message>` (an error status, which an exception event also gives: the message is the span’s status message, else the exception’s type and message), `evaluator flag` (a failing step-level verdict on it), `evaluator flag on agent invocation "<span name>" (its last LLM call)` (a failing verdict on the agent invocation whose last LLM call it is — `evaluator flag on agent invocation "<span name>" (its last message)` when it holds none; `evaluator flag on <kind> span "<span name>" (its last LLM call)` for another span that is no message, <kind> being its step kind: chain or other), `prefix value drop 0.80→0.20` (v_≤t fell), or `failed output (no earlier error evidence)` (nothing was erroneous: the run’s output, a guess).',
      ),
    ties: z.array(Hex(16)).describe('Other steps (span ids) equally likely to be the first error: reported, not hidden.'),
  })
  .describe('Failed episodes: the first error t*, which gets the largest blame and is the rejected side of the preference pairs.');

export const EpisodeCreditSchema = EventHeaderSchema.extend({
  event_type: z.literal('episode_credit').describe('One per credited episode revision.'),
  close_reason: CloseReasonSchema.describe(
    'Why the episode closed: `root-ended` (root span ended and the grace passed), `evaluation-arrived` (its verdict arrived, when configured to close on it), `idle` (no span for episodes.idle), `max-duration`, `max-spans`, `max-bytes` (size caps), `evicted` (state caps: the oldest episode closed to make room), `shutdown` (pipeline stopping). `revoked` (Kafka partition revoked) is never emitted: such an episode is dropped and rebuilt by the new owner.',
  ),
  outcome: Outcome(),
  evaluation: EvaluationUsedSchema,
  system_value: z.number().describe('R = v(N): the run’s value, the verdict’s score normalized to [0, 1] (unless credit.normalize is off).'),
  baseline: z.number().describe('b = v(∅): the value of the run without any agent (credit.baseline, 0 by default). Agent credits sum to R − b.'),
  success_threshold: z.number().describe('τ for this verdict name (credit.successThreshold, 0.5 by default): R ≥ τ is a success.'),
  game: GameInfoSchema,
  estimator: EstimatorInfoSchema,
  agents: z.array(AgentCreditSchema).describe('Every agent of the episode with its credit; Σ credit = system_value − baseline.'),
  first_error: FirstErrorSchema.optional(),
  messages: z.number().int().min(0).describe('Number of message_reward events of this revision.'),
  preference_pairs: z.number().int().min(0).describe('Number of preference_pair events of this revision.'),
  diagnostics: z
    .object({
      warnings: z.array(z.string()).describe('What to know before training on this episode (clamped scores, impossible sign rules, partial estimates, …); empty when none.'),
      late_spans: z.number().int().min(0).describe('Spans that arrived after the episode first closed (each such arrival makes a revision).'),
      duplicate_spans: z.number().int().min(0).describe('Spans received more than once (ignored).'),
      reward_bound: z.number().describe('Max |reward| of a message_reward: C · (R_max − R_min) (credit.boundC, 1 by default).'),
    })
    .describe('Data quality of the episode.'),
}).describe('Per-episode credit: the verdict, the agents’ Shapley credits, the first error of a failed run.');
export type EpisodeCredit = z.infer<typeof EpisodeCreditSchema>;

export const RewardComponentsSchema = z
  .object({
    credit_share: z.number().describe('φ_i / |M_i|: the agent’s credit split evenly over its messages.'),
    marginal: z.number().describe('δ_m − mean δ over the agent’s messages, plus sign transfers; sums to 0 over the agent’s messages.'),
    redundancy: z.number().describe('Part of `marginal` from redundancy (no effect or duplicate content), ≤ 0. Not added again: included in marginal.'),
    sabotage: z.number().describe('Part of `marginal` from harm (δ_m < 0, or flagged), ≤ 0. Not added again: included in marginal.'),
    blame: z.number().describe('Failed runs: blame transfer, ≤ 0 (largest on the first error, decaying along the steps that depend on it); 0 in successful runs.'),
    repair: z.number().describe('Failed runs: repair transfer, ≥ 0 (corrective attempts, half that for critics; also the offset of blame within the agent); 0 in successful runs.'),
    shrink: z.number().describe('Conservation-preserving shrink toward credit_share that keeps |reward| ≤ reward_bound; exactly 0 when nothing shrank.'),
  })
  .describe('reward = credit_share + marginal + blame + repair + shrink (to rounding); redundancy and sabotage are parts of marginal.');

export const MessageRewardSchema = EventHeaderSchema.extend({
  event_type: z.literal('message_reward').describe('One per rewarded step (LLM call, tool execution, hand-off) of the episode revision.'),
  step_id: SpanId('The step: its span id; join (trace_id, step_id) with your spans for the text'),
  trace_id: TraceId('Trace of the step'),
  parent_step_id: SpanId('Nearest ancestor span that is a step').optional(),
  causal_inputs: z
    .array(Hex(16))
    .optional()
    .describe(
      'Steps (span ids) whose output this one read — span parentage, links, tool-call ids, the previous step of its turn: the causal graph credit and blame follow. A tool step’s inputs include the LLM call that issued it. Some are not messages (the agent-invocation span that is its parent) and have no message_reward. Absent when it read none.',
    ),
  agent_id: z.string().describe('Agent of the step (see episode_credit.agents).'),
  agent_name: z.string().describe('The agent’s name, for display.'),
  kind: StepKind(),
  name: z.string().describe('Span name, for display (at most 256 bytes).'),
  start_time_unix_nano: z.string().describe('Start of the span, Unix epoch nanoseconds as a decimal string (int64 exceeds a JSON number’s precision).'),
  reward: z
    .number()
    .describe('r_m: the step’s share of its agent’s credit; Σ reward over the agent’s messages = agent_credit (within 1e-9), |reward| ≤ reward_bound. Use as process reward / turn-level advantage; in failed runs read failure_role and the preference pairs too.'),
  marginal_effect: z.number().describe('δ_m: the message’s own marginal effect (leave-one-out in the message game, see episode_credit.game.message_effects); 0 when message_effects is `none`.'),
  components: RewardComponentsSchema,
  agent_credit: z.number().describe('φ_i of the step’s agent (as in episode_credit.agents).'),
  outcome: Outcome(' (of the episode)'),
  failure_role: z
    .enum(['first-error', 'dependent', 'repair', 'critic', 'independent-error', 'before-error', 'unrelated'])
    .optional()
    .describe(
      'Failed runs: the step’s role — `first-error` (t*), `dependent` (read t*’s result), `repair` (a corrective attempt), `critic` (read the error and was read by a repair), `independent-error` (a later erroneous step t*’s blame does not reach: blamed less than t*), `before-error`, `unrelated`. Absent in successful runs.',
    ),
  repairs_step_id: SpanId('Failed runs, failure_role `repair` or `critic` only (since 1.5.0): the error this step corrects (a repair) or passed on to its fix (a critic) — episode_credit.first_error.step_id (t*), or the step_id of an `independent-error`, whose repairs form no preference pair').optional(),
  estimator: EstimatorInfoSchema,
}).describe('Per-step reward: a process reward / turn-level advantage for the step’s agent. No message text: join (trace_id, step_id) with your spans.');
export type MessageReward = z.infer<typeof MessageRewardSchema>;

export const PairStepSchema = z
  .object({
    step_id: SpanId('The step'),
    agent_id: z.string().describe('Agent of the step (the same on both sides of a pair).'),
    name: z.string().describe('Span name, for display.'),
    kind: StepKind(),
    input: z
      .string()
      .optional()
      .describe(
        'Chosen side only, and only when it answered another prompt than the rejected step (its input_digest differs from context.input_digest — a retry that read the error was given a longer transcript): its own input, cut like context.input. DPO needs one prompt for both sides: use this one for the chosen answer, or keep only pairs whose digests are equal.',
      ),
    input_digest: z.string().optional().describe(`Digest of the step’s own input (the rejected side’s equals context.input_digest). ${DIGEST}`),
    output: z.string().optional().describe('The step’s output text, cut at conventions.maxTextBytes (2048 bytes by default) keeping its start, with a trailing "…" when cut. Absent when the instrumentation recorded none.'),
    output_digest: z.string().optional().describe(`Digest of the step’s output. ${DIGEST}`),
  })
  .describe('One side of a preference pair.');

export const PreferencePairSchema = EventHeaderSchema.extend({
  event_type: z.literal('preference_pair').describe('One per corrective attempt of the first error by its own agent, or one rejected-only sample when there is none (failed runs).'),
  trace_id: TraceId('Trace of the rejected step'),
  agent_id: z.string().describe('Agent whose policy the pair trains: the author of the rejected step (and of the chosen one).'),
  context: z
    .object({
      parent_step_id: SpanId('Parent step of the rejected step').optional(),
      sub_task: z.string().optional().describe('What the rejected step was doing: its tool name, else its span name.'),
      input: z.string().optional().describe('The rejected step’s input (its prompt: the transcript it was given), cut at conventions.maxTextBytes keeping its end (the latest messages), with a leading "…" when cut.'),
      input_digest: z.string().optional().describe(`Digest of the rejected step’s input. ${DIGEST}`),
    })
    .describe('What the rejected step answered to.'),
  chosen: PairStepSchema.optional().describe('The corrective attempt (absent when rejected_only).'),
  rejected: PairStepSchema.describe('The first error t*.'),
  margin: z
    .number()
    .describe('chosen.reward − rejected.reward (of their message_reward events); when rejected_only, how far below 0 the rejected reward is: max(0, −reward), 0 when it is not negative.'),
  rejected_only: z.boolean().describe('True when the agent made no corrective attempt: a rejected-only sample (no `chosen`).'),
  reason: z.string().describe('Human-readable: the first error’s evidence and what corrected it, or why there is no chosen side.'),
}).describe('A DPO-style sample from a failed run: in this context the agent should have answered like `chosen`, not like `rejected`.');
export type PreferencePair = z.infer<typeof PreferencePairSchema>;

export const CreditEventSchema = z
  .discriminatedUnion('event_type', [EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema])
  .describe('Any event agent-credit publishes; route on event_type.');
export type CreditEvent = z.infer<typeof CreditEventSchema>;
