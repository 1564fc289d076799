/** What `creditEpisode` consumes: one closed episode after convention mapping. */
import { z } from 'zod';
import { AgentSchema, AgentStepSchema, EvaluationSchema } from '../model/agents.js';
import { CloseReasonSchema } from '../model/episode.js';

export const CreditInputSchema = z.object({
  episodeId: z.string(),
  revision: z.number().int().min(0),
  traceIds: z.array(z.string()),
  steps: z.array(AgentStepSchema),
  agents: z.array(AgentSchema),
  evaluation: EvaluationSchema.optional(),
  closeReason: CloseReasonSchema,
  lateSpans: z.number().int().min(0),
  duplicateSpans: z.number().int().min(0),
  /** Warnings from earlier stages (conventions, episodes), carried into the outcome's diagnostics. */
  warnings: z.array(z.string()).optional(),
});
export type CreditInput = z.infer<typeof CreditInputSchema>;

/** `creditEpisode`'s input is not a `CreditInput`; the message names each bad field and what it takes. */
export class CreditInputError extends Error {
  override readonly name = 'CreditInputError';
  readonly retriable = false;
}

/** At most this many problems are listed (a wrong list of 10 000 steps gives one line each). */
const MAX_PROBLEMS = 8;

/**
 * `input` checked against `CreditInputSchema` at the library boundary: a JavaScript caller's
 * `creditEpisode({})` reported "episode undefined: no-evaluation", and a missing `steps` or an
 * evaluation without `name` a TypeError from deep inside ("items is not iterable"). Throws
 * `CreditInputError` naming every bad field (up to eight). processEpisode builds its inputs
 * itself and does not come through here (the Kafka job's per-episode path stays unchecked).
 */
export function checkCreditInput(input: unknown): asserts input is CreditInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new CreditInputError(`creditEpisode: expected a CreditInput object { episodeId, revision, traceIds, steps, agents, evaluation, closeReason, lateSpans, duplicateSpans } (src/credit/input.ts; processEpisode builds one from an Episode), got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const parsed = CreditInputSchema.safeParse(input);
  if (parsed.success) return;
  // a NaN or infinite score is the documented DegenerateEpisodeError 'non-finite-score' (an
  // evaluator that failed), not a caller's mistake: zod's number refuses it, creditEpisode reports it
  const score = (input as { evaluation?: { score?: unknown } }).evaluation?.score;
  const issues = parsed.error.issues.filter((i) => !(typeof score === 'number' && i.path.length === 2 && i.path[0] === 'evaluation' && i.path[1] === 'score'));
  if (issues.length === 0) return;
  const lines = issues.slice(0, MAX_PROBLEMS).map((issue) => `input.${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || '(input)'}: ${issue.message}`);
  if (issues.length > MAX_PROBLEMS) lines.push(`… and ${issues.length - MAX_PROBLEMS} more`);
  throw new CreditInputError(`creditEpisode: the input is not a CreditInput (src/credit/input.ts CreditInputSchema; processEpisode builds one from an Episode):\n  ${lines.join('\n  ')}`);
}
