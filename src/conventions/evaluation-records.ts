/**
 * A separate stream of evaluation records (e.g. an `evaluations` Kafka topic written by a judge
 * service): JSON objects joined to episodes by trace id or conversation id.
 *
 * Record (snake_case, like everything that crosses the process boundary):
 * `{ trace_id?: 32 hex, conversation_id?: string, span_id?: 16 hex, name: string,
 *    score?: number | string | boolean, label?: string, explanation?: string, time_unix_nano?: string | number }`
 * (`score` read as an OTLP verdict's is, evaluations.ts `scoreReading`: a number, a numeric string
 * "0.8", a percent string "80%", true / false as 1 / 0)
 * (`time_unix_nano`: decimal string, exact; or a JSON number, exact only below 2^53)
 * At least one of `trace_id` / `conversation_id`, and at least one of `score` / `label` (a
 * label-only record is scored by labels.ts). Hex ids are accepted in any case and lowercased.
 * A payload is one record, a JSON array of records, or JSON lines. Other keys are ignored, but not
 * one that looks like a misspelling of an absent field (`misspeltField`).
 */
import { z } from 'zod';
import { didYouMean } from '../config/errors.js';
import type { Episode } from '../model/episode.js';
import type { Evaluation } from '../model/agents.js';
import { DEFAULT_LABEL_SCORES, scoreOfLabel } from './labels.js';
import { misspeltKey, scoreReading } from './evaluations.js';
import { boundedId, capName, MAX_EXPLANATION_BYTES, truncateUtf8 } from './text.js';
import { evaluationTimeWarning } from './evaluation-time.js';

/**
 * A hex id, lower-cased; all zeros is no id (undefined), as OTLP reads a log record's all-zero
 * trace and span ids: a judge that took them from an invalid span context (evaluating outside any
 * span — OpenTelemetry's INVALID_SPAN_CONTEXT) sent trace_id 0…0, and its record was accepted and
 * never joined — naming a response id too, it was counted unjoinable (no span records that
 * response in trace 0…0), naming nothing else it waited out pendingEvaluationTtlMs.
 */
const hexId = (n: number) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${n}}$`), { error: (iss) => `${n} hex chars${hexIdGot(iss.input, n)}` })
    .transform((s) => (/^0+$/.test(s) ? undefined : s.toLowerCase()));

/**
 * What a refused id was, and the fix when it is a known other spelling of one: a trace id stored as
 * a UUID (`8-4-4-4-12`) or with `0x` was refused with only "32 hex chars", which it seemed to be.
 */
function hexIdGot(input: unknown, n: number): string {
  if (typeof input !== 'string') return '';
  const shown = input.length > 40 ? `${JSON.stringify(input.slice(0, 40))}…` : JSON.stringify(input);
  const digits = input.replace(/^0x/i, '').replace(/-/g, '');
  const fix = digits.length === n && /^[0-9a-fA-F]+$/.test(digits) ? ` — send it as ${n} hex digits, without ${input.includes('-') ? 'dashes' : '0x'} (as OTel's spanContext() gives it)` : '';
  return `, got ${shown} (${input.length} chars)${fix}`;
}

/**
 * Version of the evaluation record format (schemas/evaluation-record.schema.json): 1.1.0 added
 * `response_id`; 1.2.0 accepts `time_unix_nano` as any JSON number up to 2^64 (was: integers up
 * to 2^53, ~104 days after 1970, which refused `time.time_ns()` from a Python judge); 1.3.0
 * accepts `score` in every form an OTLP verdict's score takes — a numeric string, a percent
 * string, a boolean (was: JSON numbers only).
 */
export const EVALUATION_RECORD_SCHEMA_VERSION = '1.3.0';

/**
 * Why a score is refused, and what to send. It took JSON numbers only, while the same judge's
 * verdict as an OTLP log record was read with "0.8", "80%" or true: a record with
 * `"score": "0.8"` or `{"score": true}` (a pass/fail check) was refused (400, dead letter).
 */
function scoreError(input: unknown): string {
  const forms = 'a number, a numeric string ("0.8"), a percent string ("80%") or a boolean';
  if (typeof input === 'string') {
    const got = `${forms}, got the string ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`;
    // written as a number ("1e999"), only too large for a double: "goes in label" was the wrong fix
    return SCORE_TEXT.test(input) ? `${got}, a number too large for a double (a finite number is needed)` : `${got} — a verdict in words goes in label`;
  }
  // a JSON number too large for a double (1e999) is parsed as Infinity
  if (typeof input === 'number') return `${forms}, got ${input} (a finite number is needed)`;
  return `${forms}, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input === 'object' ? 'an object' : typeof input}`;
}

/**
 * Why a score given as a string is refused, as a record's is (the message after `score: `), or
 * undefined when it reads as one: decimal text (SCORE_TEXT) that is a finite number. addEvaluations
 * asks it too, so the in-process path takes the strings these records take — it read "0x50" as 80
 * (JavaScript's Number()) where a record holding it is refused.
 */
export function scoreStringError(s: string): string | undefined {
  return SCORE_TEXT.test(s) && scoreReading(s).score !== undefined ? undefined : scoreError(s);
}

/** A score as text (for the JSON Schema): a decimal number, a percent sign after it allowed ("0.8", "80%"). */
const SCORE_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*%?\s*$/;

/** Largest double ≤ the uint64 maximum (OTLP's fixed64 fields): 2^64 − 2048. */
const MAX_UNIX_NANO = 18446744073709549568;

export const EvaluationRecordSchema = z
  .object({
    trace_id: hexId(32).optional(),
    conversation_id: z.string().min(1).optional(),
    span_id: hexId(16).optional(),
    /** `gen_ai.response.id` of the evaluated model response (joins to the LLM span that recorded it). */
    response_id: z.string().min(1).optional(),
    // zod's own "Invalid input: expected string, received undefined" named neither the field's
    // meaning nor the fix (a judge posting `evaluation_name`, or a score as a string)
    name: z.string({ error: (iss) => (iss.input === undefined ? 'needs the evaluation\'s name, e.g. "task_success" (as gen_ai.evaluation.name names an OTLP verdict)' : undefined) }).min(1),
    score: z
      .union([z.number(), z.string().regex(SCORE_TEXT, { error: (iss) => scoreError(iss.input) }), z.boolean()], { error: (iss) => scoreError(iss.input) })
      // the pattern is for the JSON Schema; what reads the score decides (1e999 is Infinity: no score)
      .refine((v) => scoreReading(v).score !== undefined, { error: (iss) => scoreError(iss.input) })
      .optional(),
    label: z.string().min(1).optional(),
    explanation: z.string().optional(),
    // A JSON number above 2^53 (every real timestamp in ns) is parsed to the nearest double:
    // exact to ~256 ns, plenty to order a judge's verdicts; a decimal string is exact.
    time_unix_nano: z.union([z.string().regex(/^\d{1,20}$/), z.number().nonnegative().multipleOf(1, 'whole nanoseconds since the epoch (a fraction looks like seconds or ms)').max(MAX_UNIX_NANO)]).optional(),
  })
  .refine((r) => r.trace_id !== undefined || r.conversation_id !== undefined || r.response_id !== undefined, {
    message: 'needs trace_id, conversation_id or response_id to join it to an episode (a trace_id of all zeros is none: an invalid span context)',
    path: ['trace_id'],
  })
  .refine((r) => r.score !== undefined || r.label !== undefined, { message: 'needs score or label', path: ['score'] });
export type EvaluationRecord = z.infer<typeof EvaluationRecordSchema>;

export interface EvaluationRecordError {
  /** Index of the record in the payload (line number − 1 for JSON lines). */
  readonly index: number;
  readonly message: string;
}

export interface ParsedEvaluationRecords {
  readonly evaluations: Evaluation[];
  readonly errors: EvaluationRecordError[];
  /**
   * Valid records taken with a doubt, each with why: a `time_unix_nano` that looks like seconds,
   * milliseconds or microseconds (evaluation-time.ts) — taken as given, nanoseconds.
   */
  readonly warnings: EvaluationRecordError[];
  /** The payload held more than `maxRecords` records and was refused whole (nothing parsed). */
  readonly tooMany?: true;
}

export interface EvaluationRecordOptions {
  /** Time for records without `time_unix_nano` (e.g. the Kafka record timestamp), unix ns. */
  readonly receivedAtUnixNano: bigint;
  readonly labelScores?: Readonly<Record<string, number>>;
  /** Most records one payload may hold (default MAX_EVALUATION_RECORDS); more refuse the payload whole. */
  readonly maxRecords?: number;
  /** Why a valid record cannot be used by the caller (it is then reported in `errors` with this reason), or undefined. */
  readonly refuse?: (evaluation: Evaluation) => string | undefined;
}

/**
 * Records per payload (one HTTP request, one Kafka record): a judge sends a few per run. Each is
 * parsed and validated on the event loop: before the cap, a 15 MB body of `{}` lines (5M records)
 * held the process for 52 s — health checks included (security review).
 */
export const MAX_EVALUATION_RECORDS = 10_000;

/** One validated record → Evaluation (source `evaluations-stream`). */
export function evaluationFromRecord(r: EvaluationRecord, opts: EvaluationRecordOptions): Evaluation {
  const ev: Evaluation = {
    name: capName(r.name),
    source: 'evaluations-stream',
    timeUnixNano: r.time_unix_nano === undefined ? opts.receivedAtUnixNano : BigInt(r.time_unix_nano),
  };
  const given = scoreReading(r.score);
  const score = given.score ?? scoreOfLabel(r.label, opts.labelScores ?? DEFAULT_LABEL_SCORES);
  if (score !== undefined) ev.score = score;
  if (r.score === undefined && score !== undefined) ev.scoreFromLabel = true;
  // "80%": a fraction of its name's normalization range, as for an OTLP verdict
  if (given.fraction === true) ev.scoreIsFraction = true;
  if (r.label !== undefined) ev.label = capName(r.label);
  if (r.explanation !== undefined) ev.explanation = truncateUtf8(r.explanation, MAX_EXPLANATION_BYTES);
  if (r.time_unix_nano === undefined) ev.timeFromReceipt = true;
  if (r.trace_id !== undefined) ev.traceId = r.trace_id;
  if (r.span_id !== undefined) ev.spanId = r.span_id;
  if (r.conversation_id !== undefined) ev.conversationId = boundedId(r.conversation_id);
  if (r.response_id !== undefined) ev.responseId = boundedId(r.response_id);
  return ev;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Parses a payload of evaluation records. Invalid records are reported in `errors` (with the
 * reason, for a dead-letter topic) and skipped; valid ones are returned. Never throws.
 */
export function parseEvaluationRecords(data: string | Uint8Array, opts: EvaluationRecordOptions): ParsedEvaluationRecords {
  const text = typeof data === 'string' ? data : utf8.decode(data);
  const items: { index: number; value: unknown; error?: string }[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return { evaluations: [], errors: [{ index: 0, message: 'empty payload' }], warnings: [] };
  const max = opts.maxRecords ?? MAX_EVALUATION_RECORDS;
  const tooMany = (): ParsedEvaluationRecords => ({ evaluations: [], errors: [{ index: 0, message: `more than ${max} records in one payload: send at most ${max} per request or Kafka record` }], warnings: [], tooMany: true });
  let whole: unknown;
  let wholeOk = false;
  try {
    whole = JSON.parse(trimmed) as unknown;
    wholeOk = true;
  } catch {
    /* maybe JSON lines */
  }
  if (wholeOk) {
    if (Array.isArray(whole) && whole.length > max) return tooMany();
    if (Array.isArray(whole)) whole.forEach((value, index) => items.push({ index, value }));
    else items.push({ index: 0, value: whole });
  } else {
    // counted before any line is parsed (lines of the trimmed text: a final newline is no record)
    let lines = 1;
    for (let i = trimmed.indexOf('\n'); i >= 0 && lines <= max; i = trimmed.indexOf('\n', i + 1)) lines++;
    if (lines > max) return tooMany();
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        items.push({ index, value: JSON.parse(line) as unknown });
      } catch (e) {
        items.push({ index, value: undefined, error: `not JSON: ${(e as Error).message}` });
      }
    });
  }
  const evaluations: Evaluation[] = [];
  const errors: EvaluationRecordError[] = [];
  const warnings: EvaluationRecordError[] = [];
  for (const item of items) {
    if (item.error !== undefined) {
      errors.push({ index: item.index, message: item.error });
      continue;
    }
    const parsed = EvaluationRecordSchema.safeParse(item.value);
    const typo = parsed.success ? misspeltField(item.value as Record<string, unknown>) : undefined;
    if (typo !== undefined) errors.push({ index: item.index, message: typo });
    else if (parsed.success) {
      const ev = evaluationFromRecord(parsed.data, opts);
      const refused = opts.refuse?.(ev);
      if (refused === undefined) {
        evaluations.push(ev);
        const doubt = evaluationTimeWarning(ev);
        if (doubt !== undefined) warnings.push({ index: item.index, message: doubt.message });
      } else errors.push({ index: item.index, message: refused });
    } else {
      const issue = parsed.error.issues[0]!;
      errors.push({ index: item.index, message: `${issue.path.join('.') || 'record'}: ${issue.message}${camelCaseHint(item.value)}` });
    }
  }
  return { evaluations, errors, warnings };
}

/** OTLP/JSON spells ids in camelCase (traceId); these records use snake_case, and unknown keys are ignored. */
const CAMEL_KEYS: Readonly<Record<string, string>> = { traceId: 'trace_id', spanId: 'span_id', conversationId: 'conversation_id', responseId: 'response_id', timeUnixNano: 'time_unix_nano' };

function camelCaseHint(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '';
  const found = Object.keys(value).filter((k) => k in CAMEL_KEYS);
  if (found.length > 0) return ` (found ${found.join(', ')}: the keys are snake_case — ${found.map((k) => CAMEL_KEYS[k]).join(', ')})`;
  // a misspelt key is ignored as any unknown one: {"socre": 0.8} was refused as "score: needs score or label", the typo unnamed
  const known = Object.keys(EvaluationRecordSchema.shape);
  for (const k of Object.keys(value)) {
    if (known.includes(k)) continue;
    const near = didYouMean(k, known);
    if (near !== '') return ` (found ${k}${near})`;
  }
  return '';
}

/** The JSON type each optional field takes, for telling a misspelling of it from an extra field. */
const OPTIONAL_FIELD_TYPES: Readonly<Record<string, readonly string[]>> = {
  trace_id: ['string'],
  conversation_id: ['string'],
  span_id: ['string'],
  response_id: ['string'],
  score: ['number', 'boolean', 'string'],
  label: ['string'],
  explanation: ['string'],
  time_unix_nano: ['string', 'number'],
};

/**
 * Why a record that is valid without it names a key that looks like one of its absent optional
 * fields (`spanid`, `spanId`, `explaination`, `time_unix_nanos`) holding a value that field would
 * take, or undefined. Unknown keys are otherwise ignored (extra metadata, newer producers), but
 * such a one was read as missing: `{"trace_id", "spanId", "name", "score"}` — a verdict on one
 * step — became the verdict on the whole run, and a misspelt `time_unix_nano` took the time of
 * receipt. A key whose value is of another type (`"labels": {…}`) is still taken as extra.
 */
function misspeltField(value: Record<string, unknown>): string | undefined {
  const near = misspeltKey(value, (k) => k in EvaluationRecordSchema.shape, OPTIONAL_FIELD_TYPES);
  return near && `found ${near.key}${near.hint} The record is refused rather than read without it (keys are snake_case and case-sensitive: schemas/evaluation-record.schema.json)`;
}

/**
 * Episode ids an evaluation joins to: `<trace id>` (trace-keyed episodes) and
 * `conv:<conversation id>` (conversation-keyed, see model/episode.ts), whichever it carries.
 */
export function episodeIdsOfEvaluation(ev: Pick<Evaluation, 'traceId' | 'conversationId'>): string[] {
  const ids: string[] = [];
  if (ev.traceId !== undefined) ids.push(ev.traceId);
  if (ev.conversationId !== undefined) ids.push(`conv:${ev.conversationId}`);
  return ids;
}

/**
 * Whether an evaluation read from an episode's own spans belongs to it: all do but one naming only
 * a conversation (OpenInference session-scoped feedback, `session.…`), which judges that
 * conversation — a trace-keyed episode, or another conversation's, is not it (as a record naming
 * only a conversation never joins a trace-keyed episode: src/episodes).
 */
export function spanEvaluationOfEpisode(ev: Pick<Evaluation, 'traceId' | 'spanId' | 'conversationId'>, episode: Pick<Episode, 'episodeId' | 'traceIds'>): boolean {
  return ev.traceId !== undefined || ev.spanId !== undefined || ev.conversationId === undefined || evaluationMatchesEpisode(ev, episode);
}

/** True when the evaluation belongs to the episode (by episode id or one of its trace ids). */
export function evaluationMatchesEpisode(ev: Pick<Evaluation, 'traceId' | 'conversationId'>, episode: Pick<Episode, 'episodeId' | 'traceIds'>): boolean {
  if (ev.traceId !== undefined && (episode.episodeId === ev.traceId || episode.traceIds.includes(ev.traceId))) return true;
  return ev.conversationId !== undefined && episode.episodeId === `conv:${ev.conversationId}`;
}
