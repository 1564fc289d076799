/**
 * In-process credit: an OpenTelemetry SpanProcessor for Node agent apps (no Kafka needed).
 */
export { CreditSpanProcessor, CreditSpanProcessorOptionsSchema, IngestError, OnCreditError, UnjoinableEvaluationError, EvaluationTimeUnitError, type CreditSpanProcessorOptions, type CreditSpanProcessorDeps, type CreditSpanProcessorStats, type InProcessAssembler, WITHOUT_CREDIT_REASONS, type WithoutCreditReason } from './credit-span-processor.js';
export { SpanConverter, convertAttributes, hrTimeToNanos } from './convert.js';
export { createCreditSpanProcessor, type CreateCreditSpanProcessorOptions, type ProcessEpisodeWithOptions } from './create.js';
export { checkProcessOptions, InProcessOptionsError } from './check-options.js';
export { evaluationsFromInput, EvaluationInputError, type EvaluationInput } from './evaluation-input.js';
export type { Evaluation } from '../model/agents.js';
