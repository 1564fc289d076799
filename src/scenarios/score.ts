/**
 * The task score used by generated scenarios and by the reference judge (examples/reference-judge):
 * one pure rule so that the emitted system evaluation equals the judge's value of the full run.
 */

/**
 * `(required present - forbidden present) / required.length`, clamped to [0, 1].
 * An item is present when any content string contains it (case-sensitive substring).
 * Deterministic; `required` must be non-empty.
 */
export function scoreContents(
  contents: readonly string[],
  required: readonly string[],
  forbidden: readonly string[] = [],
): number {
  if (required.length === 0) throw new Error('scoreContents: required content must not be empty');
  const has = (item: string) => contents.some((c) => c.includes(item));
  const present = required.filter(has).length;
  const harmful = forbidden.filter(has).length;
  const raw = (present - harmful) / required.length;
  return Math.min(1, Math.max(0, raw));
}
