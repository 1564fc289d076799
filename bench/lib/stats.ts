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

/** A two-sided interval [lo, hi]. */
export interface Interval {
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95: the 2.5% and 97.5% percentiles). */
  level?: number;
  /** Uniform in [0, 1): the resampling's randomness (a seeded generator, so intervals are reproducible). */
  next: () => number;
}

/**
 * Percentile bootstrap interval of a statistic of `size` units (e.g. seeds): each resample draws
 * `size` unit indices with replacement and evaluates `statistic` on them; the interval is the
 * (1 − level)/2 and (1 + level)/2 quantiles (linear interpolation) of the resampled values. NaN
 * resamples are dropped; NaN bounds if none is left or `size` is 0. With few units the percentile
 * interval is too narrow (it cannot reach beyond the values the units allow), so treat it as a
 * statement about seed-to-seed spread, not as a calibrated confidence interval.
 */
export function bootstrapInterval(size: number, statistic: (indices: readonly number[]) => number, opts: BootstrapOptions): Interval {
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(size > 0) || !(resamples > 0) || !(level > 0 && level < 1)) return { lo: Number.NaN, hi: Number.NaN };
  const values: number[] = [];
  const idx = new Array<number>(size);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < size; i++) idx[i] = Math.min(size - 1, Math.floor(opts.next() * size));
    const v = statistic(idx);
    if (!Number.isNaN(v)) values.push(v);
  }
  if (values.length === 0) return { lo: Number.NaN, hi: Number.NaN };
  return { lo: quantile(values, (1 - level) / 2), hi: quantile(values, (1 + level) / 2) };
}
