import { z } from 'zod';
import { EvaluationSchema } from './agents.js';
import { SpanSchema } from './telemetry.js';

export const CloseReasonSchema = z.enum([
  'root-ended', // root span ended and `grace` passed with no new span
  'evaluation-arrived', // the episode's evaluation arrived (when configured to close on it)
  'idle', // no span for `idle`
  'max-duration',
  'max-spans',
  'max-bytes',
  'evicted', // state caps hit: the oldest episode was closed to make room
  'shutdown', // pipeline stopping (flush)
  'revoked', // partition revoked: the episode is dropped, not emitted (the new owner rebuilds it)
]);
export type CloseReason = z.infer<typeof CloseReasonSchema>;

export const EpisodeKeyModeSchema = z.enum(['trace', 'conversation']);
export type EpisodeKeyMode = z.infer<typeof EpisodeKeyModeSchema>;

/** Where an episode's records came from, so the runtime can hold back offsets (watermark). */
export const SourcePositionSchema = z.object({
  topic: z.string(),
  partition: z.number().int(),
  /** Kafka offset as decimal string (int64). */
  offset: z.string(),
});
export type SourcePosition = z.infer<typeof SourcePositionSchema>;

export const EpisodeSchema = z.object({
  /** trace id (trace mode) or `conv:<conversation id>` (conversation mode) */
  episodeId: z.string(),
  keyMode: EpisodeKeyModeSchema,
  traceIds: z.array(z.string()),
  spans: z.array(SpanSchema),
  evaluations: z.array(EvaluationSchema),
  closeReason: CloseReasonSchema,
  openedAtMs: z.number(),
  closedAtMs: z.number(),
  /** True when this is a re-emission caused by late spans after an earlier close. */
  correction: z.boolean(),
  /** Version counter: 0 for the first close, +1 for each correction. */
  revision: z.number().int().min(0),
  duplicateSpans: z.number().int().min(0),
  lateSpans: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** First and last positions per source partition that fed this episode. */
  sources: z.array(z.object({ topic: z.string(), partition: z.number().int(), firstOffset: z.string(), lastOffset: z.string() })),
  /**
   * Evaluations keyed to it came before its first span and were dropped while they waited for it
   * (the assembler's pending evaluations): `over-limit` — `episodes.maxPendingEvaluations` were
   * waiting, it was the oldest; `expired` — it waited `episodes.pendingEvaluationTtlMs`. Absent
   * when none was (or the assembler no longer remembers it). A run skipped without a verdict says
   * so: "no evaluation joined it: send one" sent users looking for a verdict they did send.
   */
  evaluationDropped: z.enum(['over-limit', 'expired']).optional(),
});
export type Episode = z.infer<typeof EpisodeSchema>;
