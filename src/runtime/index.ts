/**
 * Public API of the runtime: one closed episode → credit events (`processEpisode`), the Kafka
 * job's pipeline (`KafkaPipeline`), credit worker threads (`CreditWorkerPool`) and the estimator
 * comparison (`compareEstimators`). The local jobs' pipeline (`LocalPipeline`: the OTLP/HTTP
 * receiver and file replay of `agent-credit run` / `replay`) is not in this entry: its sinks
 * (src/sinks) have none; the CLI wires it, and it is reachable only through
 * src/runtime/local-pipeline.ts (docs/contracts.md).
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
