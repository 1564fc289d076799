/**
 * agent-credit's package entry (`import … from 'agent-credit'`): what an app or a research script
 * needs most. Each area also has its own entry with everything it exports:
 * `agent-credit/inprocess`, `/credit`, `/events`, `/runtime`, `/episodes`, `/conventions`, `/otlp`,
 * `/config`, `/kafka`, `/scenarios`.
 */
export { createCreditSpanProcessor, CreditSpanProcessor, IngestError, OnCreditError, UnjoinableEvaluationError, EvaluationTimeUnitError, InProcessOptionsError, type CreateCreditSpanProcessorOptions, type CreditSpanProcessorOptions, type CreditSpanProcessorStats } from './inprocess/index.js';
export { processEpisode, creditInputOf, type ProcessEpisodeOptions } from './runtime/process-episode.js';
export { creditEpisode, estimateShapley, exactShapley, CreditOptionsSchema, CreditInputSchema, type CreditOptions, type CreditOptionsInput, type CreditInput, type CreditOutcome, type Game, type ShapleyEstimate } from './credit/index.js';
export { CreditEventSchema, EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema, SCHEMA_VERSION, type CreditEvent, type EpisodeCredit, type MessageReward, type PreferencePair } from './events/index.js';
export { EpisodeAssembler, assemblerHooksFor } from './episodes/index.js';
export { decodeTraces, decodeLogs, OtlpDecodeError, type OtlpEncoding } from './otlp/index.js';
export { evaluationsFromLogs, stepsFromSpans } from './conventions/index.js';
export type { Episode } from './model/episode.js';
export type { Span, LogRecord } from './model/telemetry.js';
export type { Agent, AgentStep, Evaluation, StepKind } from './model/agents.js';
