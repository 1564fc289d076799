/**
 * The sampling estimators by their option name (`credit.estimator`, `estimateShapley`'s
 * `approximate`, `agent-credit compare --estimators`): one list, so a new sampler is named once.
 */
export const SAMPLERS = ['permutation', 'kernel', 'unbiased-kernel', 'regression-adjusted', 'tree-msr', 'svarm'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export function isSamplerName(name: string): name is SamplerName {
  return (SAMPLERS as readonly string[]).includes(name);
}

/** Where tree-MSR's point estimate comes from (TreeMsrEstimatorOptions.fit, credit.treeMsrFit). */
export const TREE_MSR_FITS = ['in-sample', 'cross-fitted'] as const;
export type TreeMsrFit = (typeof TREE_MSR_FITS)[number];
