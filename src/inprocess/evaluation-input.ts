/**
 * What `CreditSpanProcessor.addEvaluations` takes from app code: an `Evaluation` (src/model) whose
 * `source` and `timeUnixNano` may be left out, hex ids in any case. Checked here: before, the call
 * accepted anything — an upper-case trace id never joined, a string score was skipped later with
 * a confusing message, and a missing `source` produced events that failed the package's own
 * event schema.
 */
import { z } from 'zod';
import { scoreStringError } from '../conventions/evaluation-records.js';
import { misspeltKey, scoreReading } from '../conventions/evaluations.js';
import { DEFAULT_LABEL_SCORES, scoreOfLabel } from '../conventions/labels.js';
import { boundedId, capName, MAX_EXPLANATION_BYTES, truncateUtf8 } from '../conventions/text.js';
import { EvaluationSchema, type Evaluation } from '../model/agents.js';

/**
 * `score` takes every form a verdict's score takes on the other paths (OTLP attributes, the records
 * of POST /v1/evaluations): a number, a numeric string ("0.8"), a percent string ("80%": a fraction
 * of the evaluation's `credit.normalization` range) or a boolean (true = 1). It took numbers only,
 * so a judge's `"0.8"` passed on as it came was refused here while the same verdict posted was read.
 * `scoreIsFraction` stays: with a number score it marks it as a fraction of the range, as the
 * package's decoders mark a "80%" they read (an Evaluation they return, handed on here, keeps it).
 */
export type EvaluationInput = Omit<Evaluation, 'source' | 'timeUnixNano' | 'score' | 'scoreFromLabel'> &
  Partial<Pick<Evaluation, 'source' | 'timeUnixNano'>> & { score?: number | string | boolean };

export class EvaluationInputError extends Error {
  override readonly name = 'EvaluationInputError';
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

const WithVerdict = EvaluationSchema.refine((e) => e.score !== undefined || e.label !== undefined, { message: 'needs score (a number) or label (see credit.labelScores)', path: ['score'] }).refine(
  (e) => e.traceId !== undefined || e.conversationId !== undefined || e.responseId !== undefined,
  { message: 'needs traceId (32 hex), conversationId or responseId to join it to an episode (a traceId of all zeros is none: an invalid span context)', path: ['traceId'] },
);

/**
 * The fields an entry takes and the JS types of their values, for telling a misspelt field from
 * an extra one (the app's own metadata on the object, taken and ignored as before). Misspelt, a
 * field was read as missing: `{ name, score, traceId, span_id }` — the records' snake_case, on
 * one step — became the verdict on the whole run, and `trace_id` gave "needs traceId" without
 * saying that it was there, spelt otherwise.
 */
const INPUT_FIELD_TYPES: Readonly<Record<string, readonly string[]>> = {
  name: ['string'],
  score: ['number', 'string', 'boolean'],
  label: ['string'],
  explanation: ['string'],
  traceId: ['string'],
  spanId: ['string'],
  conversationId: ['string'],
  responseId: ['string'],
  source: ['string'],
  timeUnixNano: ['bigint', 'number', 'string'],
};

/** Why a key of `given` looks like one of its absent fields spelt otherwise (`span_id`, `lable`), or undefined. */
function misspeltField(given: Record<string, unknown>): string | undefined {
  const near = misspeltKey(given, (k) => k in INPUT_FIELD_TYPES, INPUT_FIELD_TYPES);
  if (near === undefined) return undefined;
  const snake = near.key.includes('_') ? ' (the keys are camelCase here; the records of POST /v1/evaluations are snake_case)' : '';
  return `${near.key}: not a field of an evaluation${near.hint}${snake} — refused rather than read without it`;
}

/**
 * The evaluations as the assembler takes them: ids lower-cased, `source` `evaluations-stream` and
 * `timeUnixNano` now (marked receipt-timed) when not given. Throws `EvaluationInputError` naming
 * every bad entry (index, field, what it takes) and adds none of them.
 */
export function evaluationsFromInput(input: readonly EvaluationInput[], nowMs: number): Evaluation[] {
  if (!Array.isArray(input)) throw new EvaluationInputError(`addEvaluations: expected an array of evaluations, got ${input === null ? 'null' : typeof input}`);
  const out: Evaluation[] = [];
  const problems: string[] = [];
  input.forEach((given, i) => {
    if (given === null || typeof given !== 'object') {
      problems.push(`evaluations[${i}]: expected an object { name, score | label, traceId | conversationId | responseId, … }`);
      return;
    }
    const misspelt = misspeltField(given as Record<string, unknown>);
    if (misspelt !== undefined) {
      problems.push(`evaluations[${i}].${misspelt}`);
      return;
    }
    const e: Record<string, unknown> = { ...given };
    // scoreFromLabel marks a score as already normalized, so it is not taken on the app's word: it
    // stays only where decoding set it — a number score that is what the built-in table gives its
    // label (an Evaluation from evaluationsFromLogs / parseEvaluationRecords, handed on). Dropped
    // there too, credit.labelScores never re-scored that label and its score went through
    // credit.normalization: label 'pass' scored 1 of {0, 100}, a failed run.
    if (!(e.scoreFromLabel === true && typeof e.score === 'number' && typeof e.label === 'string' && scoreOfLabel(e.label, DEFAULT_LABEL_SCORES) === e.score)) delete e.scoreFromLabel;
    // A string or boolean score says itself whether it is a fraction ("80%"); a number keeps the
    // mark it came with — an Evaluation from parseEvaluationRecords or evaluationsFromLogs holds
    // "80%" as 0.8 marked so, and dropping the mark read it as 0.8 on a {0, 100} range (a failure).
    if (typeof e.score !== 'number') delete e.scoreIsFraction;
    if (typeof e.score === 'string' || typeof e.score === 'boolean') {
      // the strings the records of POST /v1/evaluations take, refused in their words
      const refused = typeof e.score === 'string' ? scoreStringError(e.score) : undefined;
      if (refused !== undefined) {
        problems.push(`evaluations[${i}].score: ${refused}`);
        return;
      }
      const read = scoreReading(e.score);
      e.score = read.score;
      if (read.fraction === true) e.scoreIsFraction = true;
    }
    if (typeof e.traceId === 'string') e.traceId = e.traceId.toLowerCase();
    if (typeof e.spanId === 'string') e.spanId = e.spanId.toLowerCase();
    // all zeros is no id (an invalid span context: the app judged outside any span), as OTLP reads it
    if (e.traceId === ZERO_TRACE_ID) delete e.traceId;
    if (e.spanId === ZERO_SPAN_ID) delete e.spanId;
    // held as every other path holds them (conventions/text.ts boundedId)
    if (typeof e.conversationId === 'string') e.conversationId = boundedId(e.conversationId);
    if (typeof e.responseId === 'string') e.responseId = boundedId(e.responseId);
    // names and labels bounded, the explanation cut, as decoding bounds them on every other path
    // (an evaluation name of 100 kB was held per episode and copied into each episode_credit)
    if (typeof e.name === 'string') e.name = capName(e.name);
    if (typeof e.label === 'string') e.label = capName(e.label);
    if (typeof e.explanation === 'string') e.explanation = truncateUtf8(e.explanation, MAX_EXPLANATION_BYTES);
    if (e.source === undefined) e.source = 'evaluations-stream';
    // a label without a score is scored as decoding scores one (processOptions.credit.labelScores re-scores it)
    if (e.score === undefined && typeof e.label === 'string') {
      const score = scoreOfLabel(e.label, DEFAULT_LABEL_SCORES);
      if (score !== undefined) {
        e.score = score;
        e.scoreFromLabel = true;
      }
    }
    if (e.timeUnixNano === undefined) {
      e.timeUnixNano = BigInt(Math.trunc(nowMs)) * 1_000_000n;
      e.timeFromReceipt = true;
    }
    const parsed = WithVerdict.safeParse(e);
    if (parsed.success) out.push(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`evaluations[${i}].${issue.path.join('.') || '(entry)'}: ${describe(issue)}`);
  });
  if (problems.length > 0) throw new EvaluationInputError(`addEvaluations: ${problems.length} problem(s), nothing added:\n  ${problems.join('\n  ')}`);
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.path[0] === 'timeUnixNano') return `${issue.message} — a bigint of unix nanoseconds (e.g. BigInt(Date.now()) * 1_000_000n), or leave it out`;
  if (issue.path[0] === 'name' && issue.code === 'invalid_type') return `${issue.message} — the evaluation's name, e.g. 'task_success' (as gen_ai.evaluation.name names an OTLP verdict)`;
  if (issue.path[0] === 'score' && issue.code === 'invalid_type') {
    return `${issue.message} — a number, a numeric string ("0.8"), a percent string ("80%") or a boolean, or leave it out and give a label ('pass' / 'fail')`;
  }
  return issue.message;
}
