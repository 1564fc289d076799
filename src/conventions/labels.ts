/**
 * Label-only evaluations. `gen_ai.evaluation.score.label` is free text ("pass", "fail",
 * "relevant", ...; the registry says implementations SHOULD document their values). When an
 * evaluation has a label and no numeric score, these labels (case-insensitive, trimmed) give the
 * score: success-like labels → 1, failure-like labels → 0. Any other label leaves the score
 * undefined (the credit stage then cannot use it and says so). Callers may pass their own table.
 *
 * Beside the generic words, the labels real evaluators send whose meaning does not depend on the
 * metric: Arize Phoenix's rails (`factual`/`hallucinated`, `toxic`/`non-toxic`,
 * `relevant`/`unrelated`, `good`/`bad`), the DeepEval evaluator of the OTel GenAI utilities
 * (`Not Hallucinated`/`Hallucinated`, `Not Toxic`/`Toxic`, `Not Biased`/`Biased`,
 * `Relevant`/`Irrelevant`) and the semantic conventions' `not_relevant`. They matter beyond
 * label-only verdicts: a step verdict is read by its label first (`isFailingEvaluation`), and
 * Phoenix scores `hallucinated` and `toxic` **1** (its rails' scores are [1, 0] in rail order), so
 * a `factual` answer (score 0) flagged its step as an error; and a run verdict whose score and
 * label disagree is credited by the score with a warning that says so. Labels whose sign depends on
 * the metric (`positive`/`negative`, `neutral`, `ok`) are left out.
 */
export const DEFAULT_LABEL_SCORES: Readonly<Record<string, number>> = Object.freeze({
  pass: 1,
  passed: 1,
  true: 1,
  yes: 1,
  correct: 1,
  success: 1,
  successful: 1,
  fail: 0,
  failed: 0,
  false: 0,
  no: 0,
  incorrect: 0,
  failure: 0,
  // evaluator-specific labels (see above)
  factual: 1,
  'not hallucinated': 1,
  'non-toxic': 1,
  'not toxic': 1,
  'not biased': 1,
  relevant: 1,
  good: 1,
  hallucinated: 0,
  toxic: 0,
  biased: 0,
  irrelevant: 0,
  unrelated: 0,
  not_relevant: 0,
  bad: 0,
});

export function scoreOfLabel(
  label: string | undefined,
  table: Readonly<Record<string, number>> = DEFAULT_LABEL_SCORES,
): number | undefined {
  if (label === undefined) return undefined;
  const v = table[label.trim().toLowerCase()];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `table` with its keys as `scoreOfLabel` looks labels up: trimmed, lower case (configured tables may say "PASS"). */
export function normalizedLabelTable(table: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k.trim().toLowerCase(), v]));
}

/**
 * Whether an evaluation's score is (to be) read from its label by a label table: it has a label, and
 * no score of its own or one decoding already read from that label (`scoreFromLabel`). Credit
 * re-scores such a verdict by the configured `credit.labelScores` (src/runtime/process-episode.ts),
 * and the assembler asks the same of it (src/episodes/evaluation-hooks.ts).
 */
export function scoredByLabel(e: { label?: string | undefined; score?: number | undefined; scoreFromLabel?: boolean | undefined }): e is { label: string } {
  return e.label !== undefined && (e.score === undefined || e.scoreFromLabel === true);
}
