/**
 * Options and expectations of generated scenarios (zod: the one source of these types).
 */
import { z } from 'zod';
import { didYouMean } from '../config/errors.js';
import { SpanIdSchema } from '../model/telemetry.js';

/** `invalid <what> option "<key>": …` for a failed parse of scenario or fleet options; an unknown key with the one meant. */
export function scenarioOptionError(what: string, issue: z.core.$ZodIssue, accepted: readonly string[]): Error {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new Error(`invalid ${what} option "${key}": unknown option${didYouMean(key, accepted)} — accepted: ${accepted.join(', ')}`);
  }
  // no path: the options themselves are no object — `generateScenario()` said `invalid scenario option "": …`, naming no option
  if (issue.path.length === 0) return new Error(`invalid ${what} options: ${issue.message} — pass an object of options (accepted: ${accepted.join(', ')})`);
  return new Error(`invalid ${what} option "${issue.path.join('.')}": ${issue.message}`);
}

/**
 * - `success`: cooperation; every agent's output is used downstream.
 * - `redundant`: one extra agent (`researcher`) whose work nobody uses and whose tool call
 *   duplicates an earlier one.
 * - `saboteur`: one extra agent (`optimizer`) whose change breaks the tests; the reviewer reverts
 *   it; the score is lowered but stays a pass.
 * - `error-retry`: a tool call fails (error status + exception event); a retry of the same tool
 *   by the same agent succeeds; the run passes.
 * - `failure`: the first error (a failed tool call) is never repaired; the score is below 0.5.
 * - `late-repair`: the first error (a failed tool call) is retried at once and the retry succeeds,
 *   but the retry spent the agent's turn budget: it runs the tests and hands off without writing its functions, and the
 *   score is below 0.5 — a failed run with a corrective attempt (a two-sided preference pair).
 */
export const ScenarioKindSchema = z.enum(['success', 'redundant', 'saboteur', 'error-retry', 'failure', 'late-repair']);
export type ScenarioKind = z.infer<typeof ScenarioKindSchema>;
export const SCENARIO_KINDS = ScenarioKindSchema.options;

/** Instrumentation convention the spans are written in. */
export const ScenarioConventionSchema = z.enum(['genai', 'openinference', 'openllmetry']);
export type ScenarioConvention = z.infer<typeof ScenarioConventionSchema>;
export const SCENARIO_CONVENTIONS = ScenarioConventionSchema.options;

export const ScenarioOptionsSchema = z.object({
  kind: ScenarioKindSchema,
  convention: ScenarioConventionSchema,
  /** Any integer; same seed (and options) → byte-identical output. */
  seed: z.number().int(),
  /**
   * Total number of distinct agents in the run. Minimum 3 (planner, coder, reviewer), 4 for
   * `redundant`/`saboteur` (which add researcher/optimizer). Extra agents are more coders
   * (`coder_2`, `coder_3`, ...). Default: the minimum.
   */
  agents: z.number().int().min(3).max(64).optional(),
  /** Implementation steps (functions written) per coder. Default 2. */
  steps: z.number().int().min(1).max(64).optional(),
  /** Start of the run, unix ms. Default: 2026-01-01T00:00:00Z plus a seeded offset within a day. */
  baseTimeMs: z.number().int().min(0).optional(),
  /**
   * How step-level evaluation events name the step they judge: `span-context` (the log record
   * carries its trace and span id; default), or `response-id` (no span context, only the LLM
   * response's `gen_ai.response.id`, as an evaluator that saw the model output but not the trace
   * writes it; steps without a response id keep their span context). `response-id` needs a
   * convention whose LLM spans record response ids (genai, openllmetry).
   */
  stepEvaluationsBy: z.enum(['span-context', 'response-id']).optional(),
})
  // a misspelt option ({ agent: 5 }) was dropped without a word: a run other than the one asked for
  .strict()
  .refine((o) => o.stepEvaluationsBy !== 'response-id' || o.convention !== 'openinference', {
  message: "'response-id' needs a convention whose LLM spans record gen_ai.response.id (genai, openllmetry); openinference does not",
  path: ['stepEvaluationsBy'],
});
export type ScenarioOptions = z.input<typeof ScenarioOptionsSchema>;
/** The keys `generateScenario` takes. */
export const SCENARIO_OPTION_KEYS: readonly string[] = Object.keys(ScenarioOptionsSchema.shape);

/** Ground truth of a generated run, for tests and benchmarks. */
export const ScenarioExpectationSchema = z.object({
  kind: ScenarioKindSchema,
  convention: ScenarioConventionSchema,
  /** Agent names in order of first appearance. */
  agents: z.array(z.string()),
  /** Agent whose work harms the result (saboteur kind). */
  saboteur: z.string().optional(),
  /** Agent whose work nobody uses (redundant kind). */
  redundant: z.string().optional(),
  /**
   * Steps failed by a step-level `gen_ai.evaluation.result` event (saboteur: the reviewer's verdict
   * on the harmful change). These events come before the system evaluation in `logRecords`.
   */
  flaggedSpanIds: z.array(SpanIdSchema),
  /** Span id of the first erroneous step (error-retry, failure, late-repair). */
  firstErrorSpanId: SpanIdSchema.optional(),
  /** Span id of the step that repairs the first error (error-retry, late-repair). */
  fixSpanId: SpanIdSchema.optional(),
  /** System evaluation in [0, 1]: the `gen_ai.evaluation.score.value` emitted. */
  score: z.number().min(0).max(1),
  label: z.enum(['pass', 'fail']),
  /**
   * What the task requires: the score is the fraction of these substrings present in the run's
   * messages minus one share per forbidden substring present (see `scoreContents`). The
   * reference judge scores coalitions with the same rule.
   */
  requiredContent: z.array(z.string()),
  forbiddenContent: z.array(z.string()),
});
export type ScenarioExpectation = z.infer<typeof ScenarioExpectationSchema>;
