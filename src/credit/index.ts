/** Public API of the credit engine (see docs/credit.md). */
export type { AnytimeRun, EstimateOptions, EstimateStatus, Game, ShapleyEstimate, ShapleyEstimator } from './types.js';
export * from './errors.js';
export { CachedGame, type CachedGameOptions } from './games/cached-game.js';
export { coalitionKey, coalitionFromMask, fullCoalition, emptyCoalition, allBut } from './games/coalition.js';
export { exactShapley, ExactEstimator, shapleyWeights, type ExactOptions } from './shapley/exact.js';
export { PermutationEstimator, PermutationRun, DEFAULT_SAMPLING_BUDGET, type PermutationEstimatorOptions } from './shapley/permutation.js';
export { KernelEstimator, KernelRun, type KernelEstimatorOptions } from './shapley/kernel.js';
export { estimateShapley, type EstimateShapleyOptions } from './shapley/estimate.js';
export { leaveOneOut, type LeaveOneOut } from './shapley/leave-one-out.js';
