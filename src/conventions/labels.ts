/**
 * Label-only evaluations. `gen_ai.evaluation.score.label` is free text ("pass", "fail",
 * "relevant", ...; the registry says implementations SHOULD document their values). When an
 * evaluation has a label and no numeric score, these labels (case-insensitive, trimmed) give the
 * score: success-like labels → 1, failure-like labels → 0. Any other label leaves the score
 * undefined (the credit stage then cannot use it and says so). Callers may pass their own table.
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
