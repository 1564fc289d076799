/**
 * Episode assembly: spans + evaluations → closed `Episode`s (src/model/episode.ts).
 * See README.md for options and the close, root, late-span and watermark rules.
 */
export { EpisodeAssembler, type ConversationIdOf, type EpisodeAssemblerHooks } from './assembler.js';
export { assemblerHooksFor, type EvaluationHookOptions } from './evaluation-hooks.js';
export { carriesSystemScore, type SpanScoreOptions } from './span-scores.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export {
  EpisodeAssemblerOptionsSchema,
  EpisodeOptionsError,
  LateSpanPolicySchema,
  resolveEpisodeAssemblerOptions,
  type EpisodeAssemblerOptions,
  type EpisodeAssemblerOptionsInput,
  type LateSpanPolicy,
} from './options.js';
export { EpisodeAssemblerStatsSchema, type EpisodeAssemblerStats } from './stats.js';
export { estimateSpanBytes } from './span-bytes.js';
export { compareOffsets } from './offsets.js';
