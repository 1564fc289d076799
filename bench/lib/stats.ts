/** Small descriptive statistics for benchmark results (pure). */

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Geometric mean of positive numbers (NaN if any is ≤ 0 or the list is empty). */
export function geomean(xs: readonly number[]): number {
  if (xs.length === 0 || xs.some((x) => !(x > 0))) return Number.NaN;
  return Math.exp(mean(xs.map(Math.log)));
}

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = xs.slice().sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Mean squared error between an estimate and the truth (same length). */
export function mse(estimate: readonly number[], truth: readonly number[]): number {
  if (estimate.length !== truth.length) throw new Error(`mse: length ${estimate.length} ≠ ${truth.length}`);
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += ((estimate[i] as number) - (truth[i] as number)) ** 2;
  return s / truth.length;
}

export function maxAbsError(estimate: readonly number[], truth: readonly number[]): number {
  if (estimate.length !== truth.length) throw new Error(`maxAbsError: length ${estimate.length} ≠ ${truth.length}`);
  let m = 0;
  for (let i = 0; i < truth.length; i++) m = Math.max(m, Math.abs((estimate[i] as number) - (truth[i] as number)));
  return m;
}
