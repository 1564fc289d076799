/**
 * Public API of the runtime: one closed episode → credit events (`processEpisode`), and the
 * streaming jobs that drive it (Kafka, OTLP/HTTP, file replay).
 */
export { processEpisode, checkEpisode, EpisodeInputError, creditInputOf, systemEvaluation, whyNoSystemEvaluation, type ProcessEpisodeOptions } from './process-episode.js';
export {
  compareEstimators,
  checkCompareOptions,
  renderCompareReport,
  lowestErrorPerBudget,
  COMPARABLE_ESTIMATORS,
  DEFAULT_COMPARED,
  type ComparableEstimator,
  type CompareOptions,
  type CompareReport,
  type CompareRow,
} from './compare-estimators.js';
export { KafkaPipeline } from './kafka-pipeline.js';
export { CreditWorkerPool, CreditWorkerPoolError } from './credit-workers/pool.js';
