/**
 * System (and step) evaluations read from telemetry:
 * - `gen_ai.evaluation.result` events as OTel log records (GenAI semconv `model/gen-ai/events.yaml`,
 *   semconv ≥ v1.38, "Evaluation Event"): event name in `LogRecord.event_name` or, from older SDKs, in the
 *   `event.name` attribute; attributes `gen_ai.evaluation.name` (required),
 *   `gen_ai.evaluation.score.value`, `gen_ai.evaluation.score.label`,
 *   `gen_ai.evaluation.explanation`; the record's trace/span ids name the evaluated span.
 *   Attributes placed in a map body (pre-1.x event API) are read too.
 * - the legacy form: a span event with that name on the evaluated span;
 * - OpenInference EVALUATOR spans (`evaluation.{name,score,label,explanation}` or
 *   `annotation.*`): they evaluate the span their one link names, else their parent span;
 * - OpenInference feedback attributes (spec/annotations.md, openinference-feedback.ts) on any span:
 *   `[trace.|session.]{annotations,evaluations}.<i>.{annotation,evaluation}.*`, inline or on an
 *   EVALUATOR carrier span;
 * - a configurable attribute on the root span (e.g. `agent_credit.score`).
 * Label-only evaluations get a score from labels.ts (pass/true → 1, fail/false → 0).
 * An evaluation event with `error.type` (the evaluator itself failed, v1.38 events.yaml) is no
 * verdict and is skipped. An event's `gen_ai.response.id` is kept as `responseId`: an event without
 * span context (the semconv's alternative when the span is not available) is joined to the LLM
 * span that recorded that response id (src/episodes, EpisodeAssembler).
 */
import { didYouMean } from '../config/errors.js';
import type { Evaluation } from '../model/agents.js';
import type { AttributeValue, Attributes, LogRecord, Span } from '../model/telemetry.js';
import { eventNameOf, firstStr, isRecord, num, str, textOf, toNumber } from './attributes.js';
import { conversationIdOfAttributes } from './conversation.js';
import { DEFAULT_LABEL_SCORES, scoreOfLabel } from './labels.js';
import { defaultScoreRange, isLowerIsBetterMetric } from './metric-direction.js';
import { feedbackOf, type Feedback } from './openinference-feedback.js';
import { isResponseFetch, RESPONSE_ID_ATTRIBUTE, responseIdOf } from './response-ids.js';
import { SpanTree } from './span-tree.js';
import { boundedId, capName, MAX_EXPLANATION_BYTES, truncateUtf8 } from './text.js';

export const EVALUATION_EVENT_NAME = 'gen_ai.evaluation.result';

export interface EvaluationReadOptions {
  /** Label → score table for label-only evaluations; default labels.ts `DEFAULT_LABEL_SCORES`. */
  readonly labelScores?: Readonly<Record<string, number>>;
  /** Name given to evaluations that carry no name (the attribute is required by the spec). Default `unnamed`. */
  readonly defaultName?: string;
}

export interface SpanEvaluationOptions extends EvaluationReadOptions {
  /** Root-span attribute holding a system score (number, numeric string, boolean, or label), e.g. `agent_credit.score`. */
  readonly rootScoreAttribute?: string;
  /** Evaluation name for the root attribute; default: the attribute key. */
  readonly rootScoreName?: string;
}

interface Fields {
  name?: string;
  score?: number;
  /** The score was a percent string ("80%"): a fraction of its name's range (`Evaluation.scoreIsFraction`). */
  fraction?: boolean;
  label?: string;
  explanation?: string;
  /**
   * A score attribute was there but held no score (NaN, ±Infinity — ragas's failed metrics —, text
   * that is no number): the evaluation is kept without a score, so its run is skipped saying its
   * verdict has no finite score, not that no verdict came (and waits for none past it).
   */
  unreadableScore?: true;
}

function genaiFields(attrs: Attributes): Fields {
  return {
    name: str(attrs, 'gen_ai.evaluation.name'),
    ...scoreOf(attrs, ['gen_ai.evaluation.score.value']),
    label: str(attrs, 'gen_ai.evaluation.score.label'),
    explanation: str(attrs, 'gen_ai.evaluation.explanation'),
  };
}

/**
 * A score as evaluators send it: a finite number, a numeric string (`"0.8"`), a percent string
 * (`"80%"` → 0.8), or a boolean as 1 / 0. The semantic conventions type
 * `gen_ai.evaluation.score.value` as a double and OpenInference's `score` as an integer or float
 * (spec/annotations.md), but a Python judge's `score=True` becomes a bool attribute, evaluators
 * that return `{"score": true}` (a pass/fail check) write it so into an EVALUATOR span's
 * `output.value`, and evaluators that format their score send `"80%"`: before, such a verdict was
 * dropped (or read as an unknown label) and the run had no credit. A percent is a fraction of 1
 * here; the evaluation that holds it says so (`scoreIsFraction`), and credit reads it as that
 * fraction of its name's `normalization` range ("80%" on {min: 0, max: 100} is 80). Anything
 * else (NaN, Infinity, `"NaN%"`, `"1e999%"`, an array, an object): undefined — the value is then
 * no score, as a non-finite numeric string always was.
 */
export function scoreValue(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.endsWith('%')) {
      const n = toNumber(t.slice(0, -1));
      return n === undefined ? undefined : n / 100;
    }
    return toNumber(t);
  }
  return typeof v === 'number' ? toNumber(v) : undefined;
}

/** Whether `v` is a score written as a percent string ("80%"): `scoreValue` divided it by 100. */
function isPercentScore(v: unknown): boolean {
  return typeof v === 'string' && v.trim().endsWith('%') && scoreValue(v) !== undefined;
}

/**
 * `v` as a score (`scoreValue`), and whether it was a percent string: how every verdict's score is
 * read — OTLP attributes here, JSON evaluation records (evaluation-records.ts) too.
 */
export function scoreReading(v: unknown): { score?: number; fraction?: boolean } {
  const score = scoreValue(v);
  if (score === undefined) return {};
  return isPercentScore(v) ? { score, fraction: true } : { score };
}

/**
 * The first key of `given` outside `known` that looks like one of `fields` absent from `given`,
 * spelt otherwise, and holds a value of a type that field takes (`fields`: field → `typeof`
 * values), with didYouMean's hint (" — did you mean span_id?"); undefined when there is none.
 * The evaluation records' check (evaluation-records.ts) and addEvaluations' (inprocess/
 * evaluation-input.ts) both ask it, so the two read an extra key alike. Under `score`, a string
 * counts only when it reads as a score (`"scorer": "gpt-4o"` is the judge's name), a boolean only
 * without a label beside it (`{"label": "pass", "store": true}`: the label is the pass/fail
 * already, the flag the judge's own).
 */
export function misspeltKey(given: Record<string, unknown>, known: (key: string) => boolean, fields: Readonly<Record<string, readonly string[]>>): { key: string; hint: string } | undefined {
  const names = Object.keys(fields);
  for (const [key, v] of Object.entries(given)) {
    if (known(key)) continue;
    const absent = names.filter((f) => given[f] === undefined && fields[f]!.includes(typeof v) && (f !== 'score' || mayBeMisspeltScore(v, given.label)));
    const hint = didYouMean(key, absent);
    if (hint !== '') return { key, hint };
  }
  return undefined;
}

function mayBeMisspeltScore(v: unknown, label: unknown): boolean {
  if (typeof v === 'string') return scoreReading(v).score !== undefined;
  if (typeof v === 'boolean') return typeof label !== 'string';
  return true;
}

/** The first score (`scoreValue`) among `keys`, and whether it was a percent string; `unreadableScore` when one was set but none is a score. */
function scoreOf(attrs: Attributes, keys: readonly string[]): Pick<Fields, 'score' | 'fraction' | 'unreadableScore'> {
  let unreadable = false;
  for (const k of keys) {
    const v = attrs[k];
    const r = scoreReading(v);
    if (r.score !== undefined) return r;
    if (v !== undefined && v !== null) unreadable = true;
  }
  return unreadable ? { unreadableScore: true } : {};
}

function build(
  f: Fields,
  base: Omit<Evaluation, 'name' | 'score' | 'label' | 'explanation'>,
  opts: EvaluationReadOptions | undefined,
): Evaluation | undefined {
  const score = f.score ?? scoreOfLabel(f.label, opts?.labelScores ?? DEFAULT_LABEL_SCORES);
  if (score === undefined && f.label === undefined && f.unreadableScore !== true) return undefined; // nothing to use
  const ev: Evaluation = { name: capName(f.name ?? opts?.defaultName ?? 'unnamed'), ...base };
  if (score !== undefined) ev.score = score;
  if (f.score === undefined && score !== undefined) ev.scoreFromLabel = true;
  if (f.score !== undefined && f.fraction === true) ev.scoreIsFraction = true;
  if (f.label !== undefined) ev.label = capName(f.label);
  if (f.explanation !== undefined) ev.explanation = truncateUtf8(f.explanation, MAX_EXPLANATION_BYTES);
  if (ev.traceId === undefined) delete ev.traceId;
  if (ev.spanId === undefined) delete ev.spanId;
  if (ev.conversationId === undefined) delete ev.conversationId;
  if (ev.responseId === undefined) delete ev.responseId;
  return ev;
}

function bodyAttributes(body: AttributeValue | undefined): Attributes {
  return isRecord(body) ? body : {};
}

/** Evaluations among log records; records of other events are ignored. Never throws. */
export function evaluationsFromLogs(logs: readonly LogRecord[], opts?: EvaluationReadOptions): Evaluation[] {
  const out: Evaluation[] = [];
  for (const log of logs) {
    if (eventNameOf(log) !== EVALUATION_EVENT_NAME) continue;
    const attrs: Attributes = { ...bodyAttributes(log.body), ...log.attributes };
    if (attrs['error.type'] !== undefined) continue; // the evaluator failed: no verdict
    const ev = build(
      genaiFields(attrs),
      {
        traceId: log.traceId,
        spanId: log.spanId,
        conversationId: conversationIdOfAttributes(attrs),
        responseId: boundedId(str(attrs, RESPONSE_ID)),
        source: 'log-event',
        // OTLP allows time_unix_nano = 0 ("unknown"); the recorded fixtures have it: use observed time.
        timeUnixNano: log.timeUnixNano > 0n ? log.timeUnixNano : log.observedTimeUnixNano,
      },
      opts,
    );
    if (ev) out.push(ev);
  }
  return out;
}

function evaluatorFields(span: Span): Fields {
  const a = span.attributes;
  const f: Fields = {
    name: firstStr(a, ['evaluation.name', 'annotation.name', 'gen_ai.evaluation.name']),
    ...scoreOf(a, ['evaluation.score', 'annotation.score', 'gen_ai.evaluation.score.value']),
    label: firstStr(a, ['evaluation.label', 'annotation.label', 'gen_ai.evaluation.score.label']),
    explanation: firstStr(a, ['evaluation.explanation', 'annotation.explanation', 'gen_ai.evaluation.explanation']),
  };
  if (f.score === undefined && f.label === undefined) {
    // Evaluators that only record their result as output.value: a number, a {score,label,explanation} JSON, or a short label.
    const out = textOf(a['output.value'])?.trim();
    if (out !== undefined) {
      const n = scoreReading(out);
      if (n.score !== undefined) Object.assign(f, n);
      else if (out.startsWith('{')) {
        try {
          const o = JSON.parse(out) as Record<string, unknown>;
          // the JSON's score is read as a score attribute is: {"score": true} of a pass/fail check is 1
          const score = scoreReading(o['score']);
          if (score.score !== undefined) Object.assign(f, score);
          if (typeof o['label'] === 'string') f.label = o['label'];
          if (typeof o['explanation'] === 'string') f.explanation ??= o['explanation'];
        } catch {
          /* not JSON: no result */
        }
      } else if (out.length <= 64) f.label = out;
    }
  }
  f.name ??= span.name;
  return f;
}

/**
 * Evaluations carried by spans: `gen_ai.evaluation.result` span events, OpenInference EVALUATOR
 * spans, and the root-span score attribute when configured. Never throws.
 */
export function evaluationsFromSpans(spans: readonly Span[], opts?: SpanEvaluationOptions): Evaluation[] {
  return evaluationsFromTree(new SpanTree(spans), opts);
}

/** `evaluationsFromSpans` over an already built tree of the episode's spans (built once per episode). */
export function evaluationsFromTree(tree: SpanTree, opts?: SpanEvaluationOptions): Evaluation[] {
  const out: Evaluation[] = [];
  for (const span of tree.ordered) {
    // The span's conversation id is looked up only for the evaluations it carries (most spans carry none).
    // by index: most spans hold the decoder's shared frozen empty list, and a for…of meeting both
    // frozen and ordinary arrays allocates an iterator result per step (see renderTranscript in messages.ts)
    for (let k = 0; k < span.events.length; k++) {
      const e = span.events[k]!;
      if (e.name !== EVALUATION_EVENT_NAME || e.attributes['error.type'] !== undefined) continue;
      const ev = build(
        genaiFields(e.attributes),
        {
          traceId: span.traceId,
          spanId: span.spanId,
          conversationId: conversationIdOfAttributes(e.attributes) ?? conversationIdOfAttributes(span.attributes),
          source: 'span-event',
          timeUnixNano: e.timeUnixNano,
        },
        opts,
      );
      if (ev) out.push(ev);
    }
    const isEvaluator = str(span.attributes, 'openinference.span.kind')?.toUpperCase() === 'EVALUATOR';
    const feedback = feedbackOf(span.attributes);
    if (feedback.length > 0) {
      for (const fb of feedback) {
        const ev = feedbackEvaluation(tree, span, isEvaluator, fb, opts);
        if (ev) out.push(ev);
      }
    } else if (isEvaluator) {
      const ev = build(
        evaluatorFields(span),
        {
          traceId: span.traceId,
          spanId: evaluatorTarget(tree, span) ?? span.spanId,
          conversationId: conversationIdOfAttributes(span.attributes),
          source: 'evaluator-span',
          timeUnixNano: span.endTimeUnixNano,
        },
        opts,
      );
      if (ev) out.push(ev);
    }
    if (opts?.rootScoreAttribute !== undefined && tree.isRoot(span.spanId)) {
      const raw = span.attributes[opts.rootScoreAttribute];
      // the attribute is configured to hold a score: a boolean there is one (true → 1)
      const reading = scoreReading(raw);
      const label = reading.score === undefined && typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
      const unreadable = reading.score === undefined && label === undefined && raw !== undefined && raw !== null;
      const ev = build(
        { name: opts.rootScoreName ?? opts.rootScoreAttribute, ...reading, label, ...(unreadable ? { unreadableScore: true as const } : {}) },
        { traceId: span.traceId, spanId: span.spanId, conversationId: conversationIdOfAttributes(span.attributes), source: 'root-attribute', timeUnixNano: span.endTimeUnixNano },
        opts,
      );
      if (ev) out.push(ev);
    }
  }
  return out;
}

/**
 * The span an EVALUATOR span evaluates. Post-hoc OpenInference carriers name their target by their one
 * span link (spec/annotations.md: parentage "MUST NOT be used to identify the feedback target"); a
 * carrier without one, and the older EVALUATOR spans, evaluate their parent. A link to a span this
 * episode does not hold (a carrier in another trace) names no target here: undefined.
 */
function evaluatorTarget(tree: SpanTree, span: Span): string | undefined {
  if (span.links.length === 1) {
    const link = span.links[0]!;
    return tree.byId.get(link.spanId)?.traceId === link.traceId ? link.spanId : undefined;
  }
  return tree.parentOf(span.spanId) ?? span.parentSpanId;
}

/**
 * One OpenInference feedback result (openinference-feedback.ts) as an evaluation of what its scope
 * names: span scope → the carrying span (inline) or the EVALUATOR carrier's target; trace scope →
 * the run (no span id: `evaluatesRun`), of the carrying span's trace or the trace its link names;
 * session scope → the run of the conversation the carrying span's `session.id` names. A carrier
 * whose target is outside this episode is skipped: another trace's verdict must not score this one.
 */
function feedbackEvaluation(tree: SpanTree, span: Span, isEvaluator: boolean, fb: Feedback, opts: EvaluationReadOptions | undefined): Evaluation | undefined {
  const f = fb.fields;
  const fields: Fields = { name: str(f, 'name'), ...scoreOf(f, ['score']), label: str(f, 'label'), explanation: str(f, 'explanation') };
  const base = { source: 'evaluator-span' as const, timeUnixNano: span.endTimeUnixNano };
  const link = isEvaluator && span.links.length === 1 ? span.links[0]! : undefined;
  if (fb.scope === 'session') {
    const conversationId = boundedId(str(span.attributes, 'session.id'));
    return conversationId === undefined ? undefined : build(fields, { ...base, conversationId }, opts);
  }
  if (fb.scope === 'trace') {
    const traceId = link?.traceId ?? span.traceId;
    if (traceId !== span.traceId && tree.byId.get(link!.spanId)?.traceId !== traceId) return undefined;
    return build(fields, { ...base, traceId }, opts);
  }
  const target = isEvaluator ? evaluatorTarget(tree, span) : span.spanId;
  if (target === undefined) return undefined;
  return build(fields, { ...base, traceId: tree.byId.get(target)?.traceId ?? span.traceId, spanId: target, conversationId: conversationIdOfAttributes(span.attributes) }, opts);
}

/** A score range of one evaluation name (the credit stage's `normalization.<name>`), as far as step flags read it. */
export interface EvaluationScoreRange {
  readonly min: number;
  readonly max: number;
  /** false: lower is better (DeepEval hallucination, toxicity, bias: 0 is best). */
  readonly higherIsBetter?: boolean | undefined;
}

/** τ of the run verdict when none is configured for its name (the credit stage's `defaultSuccessThreshold` default). */
export const DEFAULT_SUCCESS_THRESHOLD = 0.5;

/**
 * How the credit stage reads a verdict (its `successThreshold`, `defaultSuccessThreshold` and
 * `normalize`), so that a step verdict is read by the same rule as the run's.
 */
export interface EvaluationThresholds {
  /** τ per evaluation name, on the scale R is on (normalized unless `normalize: false`). */
  readonly successThreshold?: Readonly<Record<string, number>> | undefined;
  /** τ for names without one; default `DEFAULT_SUCCESS_THRESHOLD` (0.5). */
  readonly defaultSuccessThreshold?: number | undefined;
  /** false: R (and τ) in the range's units instead of [0, 1]. Default true. */
  readonly normalize?: boolean | undefined;
}

/**
 * Whether an evaluation says its target failed. Used to flag steps (`flaggedErroneous`) that a
 * span-level evaluation failed: a flag makes the step harmful (a −h term in the provenance game, a
 * capped negative reward — in successful runs too) and a candidate first error, so it must mean
 * "the evaluator says this step failed", not "this step scored below average".
 * - A label in the label table (pass/fail, Phoenix's rails — `hallucinated`, `toxic`, `irrelevant`
 *   — or a score decoding took from one) is the evaluator's own verdict, already oriented and
 *   normalized: it flags when its score is below τ (`successThreshold[name]`, else
 *   `defaultSuccessThreshold`, 0.5; in the range's units with `normalize: false`). It is read first.
 * - A score of a name the credit stage is told about — `scoreRanges[name]`
 *   (`credit.normalization.<name>`) or `successThreshold[name]` — is read by the rule that makes a
 *   run a failure: turned the right way up (`higherIsBetter: false` reflects it within its range,
 *   `min + max − score`), mapped from its range to [0, 1] and clamped (or kept in the range's
 *   units with `normalize: false`), flagged when that R is below τ of its name.
 * - A score of any other name flags only at 0 or below — its evaluator's worst verdict (a binary
 *   judge's 0, `{"score": false}`) —, or at 1 or above for the lower-is-better names DeepEval and
 *   Phoenix share (toxicity, bias, hallucination: `isLowerIsBetterMetric`). Its range, direction and pass mark are unknown: span-level
 *   metrics come many at once (answer relevancy, faithfulness, toxicity, hallucination), with
 *   thresholds of their own (DeepEval: 0.7 relevancy, a toxicity *maximum* of 0.5) and half of
 *   them lower-is-better; the run's τ (0.5 by default) applied to them flagged a relevancy of 0.4
 *   and every clean toxicity score below 0.5, which moved a failed run's first error from the tool
 *   call that raised to the first LLM call and made a successful run's clean steps harmful.
 *   Configure the name (`successThreshold.<name>`, `normalization.<name>`) to flag it below τ.
 */
export function isFailingEvaluation(
  ev: Evaluation,
  labelScores: Readonly<Record<string, number>> = DEFAULT_LABEL_SCORES,
  scoreRanges?: Readonly<Record<string, EvaluationScoreRange>>,
  thresholds?: EvaluationThresholds,
): boolean {
  const configuredRange = scoreRanges !== undefined && Object.hasOwn(scoreRanges, ev.name) ? scoreRanges[ev.name] : undefined;
  const range = configuredRange ?? defaultScoreRange(ev.name);
  const normalize = thresholds?.normalize ?? true;
  const perName = thresholds?.successThreshold;
  const ownThreshold = perName !== undefined && Object.hasOwn(perName, ev.name) ? perName[ev.name] : undefined;
  const threshold = ownThreshold ?? thresholds?.defaultSuccessThreshold ?? DEFAULT_SUCCESS_THRESHOLD;
  // a label's score, and a score decoding took from a label, are already normalized and oriented (credit-episode.ts scoreOf)
  const fromLabel = scoreOfLabel(ev.label, labelScores) ?? (ev.scoreFromLabel === true ? ev.score : undefined);
  let R: number;
  if (fromLabel !== undefined) {
    const normalized = Math.min(1, Math.max(0, fromLabel));
    R = normalize ? normalized : range.min + normalized * (range.max - range.min);
  } else if (ev.score !== undefined && Number.isFinite(ev.score)) {
    // a name nothing is configured for: only its worst verdict flags (the rule before 708b78a) —
    // 1 for the lower-is-better metrics evaluators name alike, else 0
    if (configuredRange === undefined && ownThreshold === undefined) return isLowerIsBetterMetric(ev.name) ? ev.score >= 1 : ev.score <= 0;
    // a percent ("80%") is a fraction of its range (credit-episode.ts scoreOf)
    const score = ev.scoreIsFraction === true ? range.min + ev.score * (range.max - range.min) : ev.score;
    const oriented = range.higherIsBetter === false ? range.min + range.max - score : score;
    R = normalize ? (oriented - range.min) / (range.max - range.min) : oriented;
    R = normalize ? Math.min(1, Math.max(0, R)) : Math.min(range.max, Math.max(range.min, R));
  } else return false;
  return R < threshold;
}


/**
 * The system-level evaluation of an episode: one that evaluates the run (`evaluatesRun`), with a
 * finite score, of the configured name; the latest one of that name wins (a re-evaluation
 * supersedes). With no name configured, the name is the one of the earliest such evaluation (by
 * its time, then arrival): a run judged `task_success` and later also `tone_politeness` keeps its
 * task verdict — before, the latest of any name won, and the tone score reopened the failed run
 * as a success. Span-level evaluations of inner spans are not system scores: they flag steps.
 */
export function systemEvaluation(
  tree: SpanTree,
  evaluations: readonly Evaluation[],
  evaluationName?: string,
): Evaluation | undefined {
  // A verdict of the run's final response, by its response id, scores the run only when nothing
  // evaluates the run itself and the evaluation is named (evaluatesFinalResponse): unnamed, any
  // per-response metric (toxicity, relevance) of the last response would become the run's score.
  return verdictBy(tree, evaluations, evaluationName, evaluatesRun) ?? (evaluationName === undefined ? undefined : verdictBy(tree, evaluations, evaluationName, evaluatesFinalResponse));
}

function verdictBy(
  tree: SpanTree,
  evaluations: readonly Evaluation[],
  evaluationName: string | undefined,
  evaluatesRun: (tree: SpanTree, e: Evaluation) => boolean,
): Evaluation | undefined {
  let name = evaluationName;
  if (name === undefined) {
    let first: Evaluation | undefined;
    for (const e of evaluations) {
      if (e.score !== undefined && (first === undefined || e.timeUnixNano < first.timeUnixNano) && evaluatesRun(tree, e)) first = e;
    }
    if (first === undefined) return undefined;
    name = first.name;
  }
  let best: Evaluation | undefined;
  for (const e of evaluations) {
    if (e.name !== name) continue;
    if (!evaluatesRun(tree, e)) continue;
    if (e.score === undefined) continue;
    if (best === undefined || e.timeUnixNano >= best.timeUnixNano) best = e;
  }
  return best;
}

/**
 * Whether an evaluation scores the whole run: it names no span, or a run-level span
 * (`isRunLevelSpan`). Others flag a step.
 */
export function evaluatesRun(tree: SpanTree, e: Evaluation): boolean {
  return e.spanId === undefined || (tree.byId.has(e.spanId) && isRunLevelSpan(tree, e.spanId));
}

/**
 * An evaluation that named only a model response (`gen_ai.response.id`, joined to the LLM span
 * that recorded it) and that response is the run's final one: no span recording a response id
 * ends later than the spans recording this one. An LLM judge of the final answer usually sees the answer, not the trace; before, its
 * verdict flagged the last step and the run got no credit. Taken as the run's verdict only when no
 * evaluation scores the run itself and it has the configured `evaluation.name` (`systemEvaluation`;
 * unnamed, a per-response metric would score runs); the assembler does not close on it (a
 * per-response judge would close runs before their task verdict): the run waits
 * `episodes.awaitEvaluationMs` for a run-level one first.
 */
export function evaluatesFinalResponse(tree: SpanTree, e: Evaluation): boolean {
  return e.responseId !== undefined && e.spanId !== undefined && finalResponseSpans(tree).has(e.spanId);
}

const finalResponses = new WeakMap<SpanTree, ReadonlySet<string>>();
function finalResponseSpans(tree: SpanTree): ReadonlySet<string> {
  let out = finalResponses.get(tree);
  if (out === undefined) {
    let last: bigint | undefined;
    const ids = new Set<string>();
    // A fetch of a response is not that response (response-ids.ts): it counts only for an id no
    // span of the episode generated (the generating call was not instrumented).
    const generated = new Set<string>();
    for (const s of tree.ordered) {
      const id = responseIdOf(s);
      if (id !== undefined && !isResponseFetch(s)) generated.add(id);
    }
    for (const s of tree.ordered) {
      const id = responseIdOf(s);
      if (id === undefined || (isResponseFetch(s) && generated.has(id))) continue;
      if (last === undefined || s.endTimeUnixNano > last) {
        last = s.endTimeUnixNano;
        ids.clear();
      }
      if (s.endTimeUnixNano === last) ids.add(s.spanId);
    }
    // Every span that recorded a final response is final: one call recorded twice (the provider
    // SDK's span inside the framework's, rerecorded-calls.ts D1) records one response id, and the
    // assembler joins a verdict to the span noted first when it waited for the response (the
    // inner one, which ends first) and to the latest noted when it came after both — the run got
    // its credit or none by the order its telemetry arrived in.
    const finals = new Set<string>();
    for (const id of ids) finals.add(responseIdOf(tree.byId.get(id)!)!);
    for (const s of tree.ordered) {
      const id = responseIdOf(s);
      if (id !== undefined && finals.has(id) && !(isResponseFetch(s) && generated.has(id))) ids.add(s.spanId);
    }
    finalResponses.set(tree, (out = ids));
  }
  return out;
}

const RESPONSE_ID = RESPONSE_ID_ATTRIBUTE;

/**
 * A root as the tree sees them — no parent, a parent outside the episode (real instrumentations
 * nest several root-level workflow spans; all count as "the run"), or where a cycle was broken —
 * or a wrapper of one: the only child of a run-level span, under the same name or under a span of
 * the app rather than the agents (`isAppPlumbing`: an HTTP server span). OpenInference nests
 * "Agent workflow" (AGENT) → "Agent workflow" (CHAIN) and the conventions treat both as the
 * workflow; a verdict on the inner one gave the run no credit ("all of inner spans"). Under a
 * span of the app with several children, the run is the one child that holds every span of an
 * agent convention below it, itself included (`agentChildOf`): the app's request checks the caller
 * or reads its database beside the agents (Express records its middleware there), and those spans
 * are the app's, not the run's. The child need carry no such attribute itself, as an only child
 * need not: a framework's own top span may have none (Pydantic AI 1.x's `agent run`).
 */
export function isRunLevelSpan(tree: SpanTree, spanId: string): boolean {
  let id = spanId;
  for (let hops = 0; hops < 16; hops++) {
    const parent = tree.parentOf(id);
    if (parent === undefined) return true;
    const p = tree.byId.get(parent)!;
    const span = tree.byId.get(id)!;
    if (tree.childCount(parent) === 1 ? p.name !== span.name && !isAppPlumbing(p) : !(isAppPlumbing(p) && agentChildOf(tree, parent) === id)) return false;
    id = parent;
  }
  return false;
}

/** Per tree, per app span: its one child holding agent spans (null: none, or several). */
const agentChildren = new WeakMap<SpanTree, Map<string, string | null>>();

/**
 * The child of `parentId` that every span of an agent convention below `parentId` is in (itself
 * or below it), or null when they are in several children (an LLM call the app makes beside the
 * agents: which child is the run is not known) or there are none. Linear over the episode, once
 * per app span asked about.
 */
function agentChildOf(tree: SpanTree, parentId: string): string | null {
  let byParent = agentChildren.get(tree);
  if (byParent === undefined) agentChildren.set(tree, (byParent = new Map()));
  const cached = byParent.get(parentId);
  if (cached !== undefined) return cached;
  let only: string | null = null;
  for (const s of tree.ordered) {
    if (s.spanId === parentId || !hasAgentAttribute(s) || !tree.isAncestor(parentId, s.spanId)) continue;
    let child = s.spanId;
    for (let up = tree.parentOf(child); up !== undefined && up !== parentId; up = tree.parentOf(up)) child = up;
    if (only !== null && only !== child) {
      only = null;
      break;
    }
    only = child;
  }
  byParent.set(parentId, only);
  return only;
}

/**
 * Attribute prefixes of the agent conventions (GenAI semconv, OpenInference, OpenLLMetry, the
 * Vercel AI SDK, Google ADK, Mastra) and of OpenInference's un-prefixed keys.
 */
/** OTLP SpanKind SERVER, CLIENT, PRODUCER and CONSUMER. */
const SERVER_KIND = 2;
const CLIENT_KIND = 3;
const PRODUCER_KIND = 4;
const CONSUMER_KIND = 5;

const AGENT_ATTRIBUTE_PREFIXES = ['gen_ai.', 'openinference.', 'traceloop.', 'llm.', 'ai.', 'gcp.vertex.agent.', 'mastra.', 'agent.', 'graph.', 'tool.', 'input.', 'output.'];

/**
 * Attributes by which the JS web frameworks' instrumentations (opentelemetry-js-contrib express,
 * fastify, koa, hapi, restify, connect, nestjs-core; @fastify/otel) mark the INTERNAL spans they
 * wrap a route handler, a middleware or a hook in, and Next.js its own (`next.span_type`: the app
 * router's `executing api route (app) /api/chat` a route handler runs in).
 */
export const WEB_FRAMEWORK_ATTRIBUTES: readonly string[] = ['express.type', 'fastify.type', 'koa.type', 'hapi.type', 'restify.type', 'connect.type', 'nestjs.type', 'next.span_type'];

/**
 * A span of the app around the agents, not of them, none of whose attributes is of an agent
 * convention: a SERVER or CONSUMER span (a request or a message the app handles) — the HTTP
 * server span an auto-instrumented web app opens for the request that runs the agents (Express,
 * Fastify, FastAPI) —; a CLIENT or PRODUCER span (the call or message that brought the request:
 * a web front end's `fetch` to the agents' service, both traced, puts its SERVER and CLIENT spans
 * above that service's); or an INTERNAL span a web framework's instrumentation wraps the route
 * handler in (`WEB_FRAMEWORK_ATTRIBUTES`: Express's `request handler - /chat`, Fastify's
 * `request handler - chatHandler`, @fastify/otel's `handler - chatHandler`, Next.js's
 * `executing api route (app) /api/chat`), between the server span and the agents. The only child of such a span is the run too: a verdict emitted in the
 * context of the top agent span, as the GenAI conventions place it, was taken for a step's and
 * the run got no credit ("all of inner spans"). Other INTERNAL spans are not taken for it: an
 * agent framework's own root may carry none of these attributes (Pydantic AI 1.x's `agent run`).
 * A CLIENT span inside the agents (a tool calling another service) is no wrapper of a run: the
 * walk up from a span below it meets the tool's span, which is the agents'.
 */
export function isAppPlumbing(span: { kind: number; attributes: Readonly<Record<string, unknown>> }): boolean {
  const k = span.kind;
  const app = k === SERVER_KIND || k === CONSUMER_KIND || k === CLIENT_KIND || k === PRODUCER_KIND || WEB_FRAMEWORK_ATTRIBUTES.some((a) => span.attributes[a] !== undefined);
  return app && !hasAgentAttribute(span);
}

/** Whether a span carries an attribute of an agent convention (`AGENT_ATTRIBUTE_PREFIXES`). */
function hasAgentAttribute(span: { attributes: Readonly<Record<string, unknown>> }): boolean {
  for (const key of Object.keys(span.attributes)) if (AGENT_ATTRIBUTE_PREFIXES.some((p) => key.startsWith(p))) return true;
  return false;
}
