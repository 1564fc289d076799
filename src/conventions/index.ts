/**
 * Conventions stage: decoded spans → agent steps (GenAI semconv, OpenInference, OpenLLMetry,
 * Vercel AI SDK) and evaluations (log records, span events, EVALUATOR spans, root attribute,
 * evaluations stream).
 * See README.md in this folder for the rules and the instrumentation quirks they handle.
 */
export { stepsFromSpans, stepsFromTree, factsOf, isRewardableKind, MAPPERS, type StepsFromSpansOptions, type StepsFromSpansResult } from './steps.js';
export { holdsAgentWork } from './agent-work.js';
export { inputDigestOf, outputDigestOf, releaseDeferredDigests } from './step-digests.js';
export {
  evaluationsFromLogs,
  evaluationsFromSpans,
  evaluationsFromTree,
  evaluatesRun,
  evaluatesFinalResponse,
  systemEvaluation,
  isFailingEvaluation,
  type EvaluationScoreRange,
  type EvaluationThresholds,
  DEFAULT_SUCCESS_THRESHOLD,
  EVALUATION_EVENT_NAME,
  type EvaluationReadOptions,
  type SpanEvaluationOptions,
} from './evaluations.js';
export {
  EvaluationRecordSchema,
  evaluationFromRecord,
  parseEvaluationRecords,
  episodeIdsOfEvaluation,
  evaluationMatchesEpisode,
  spanEvaluationOfEpisode,
  type EvaluationRecord,
  type EvaluationRecordError,
  type EvaluationRecordOptions,
  type ParsedEvaluationRecords,
} from './evaluation-records.js';
export { conversationIdOf, conversationIdOfSpans, CONVERSATION_ID_ATTRIBUTES } from './conversation.js';
export { DEFAULT_LABEL_SCORES, normalizedLabelTable, scoredByLabel, scoreOfLabel } from './labels.js';
export { ConventionsOptionsSchema, resolveConventionsOptions, type ConventionsOptions } from './options.js';
export { aiSdkMapper, AI_SDK_AGENT_ATTRIBUTE } from './ai-sdk.js';
export { genaiMapper } from './genai.js';
export { openinferenceMapper } from './openinference.js';
export { openllmetryMapper } from './openllmetry.js';
export type { SpanFacts, ConventionMapper } from './span-facts.js';
export { SpanTree } from './span-tree.js';
export { contentSpansFromLogs, isContentEvent, isContentSpan, mergeContentSpans, CONTENT_EVENT_SCOPE, type ContentSpanOptions, type MergedContent } from './content-events.js';
