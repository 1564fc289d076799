/** Counters of the assembler (`EpisodeAssembler.stats()`), for self-telemetry and tests. */
import { z } from 'zod';
import { CloseReasonSchema } from '../model/episode.js';

const n = () => z.number().int().min(0);

export const EpisodeAssemblerStatsSchema = z.object({
  /** Episodes open now. */
  open: n(),
  /** Episodes closed (emitted) since start, by reason; `revoked` counts episodes dropped by `dropPartition` (not emitted). */
  closed: z.record(CloseReasonSchema, n()),
  /** Spans accepted into episodes. */
  spans: n(),
  /** Spans dropped as duplicates (same trace id + span id), open or already-closed episodes. */
  duplicateSpans: n(),
  /** agent-credit's own spans (scope `agent-credit`, its self-tracing) that came back as input: ignored, never an episode. */
  ownSpans: n(),
  /** Spans for an already-closed episode (duplicates excluded). */
  lateSpans: n(),
  /** Evaluations for an already-closed episode. */
  lateEvaluations: n(),
  /**
   * Late evaluations of the run that would not change its verdict — another name than its system
   * evaluation's (e.g. a tone score after the task verdict) — counted, no correction (also in `lateEvaluations`).
   */
  lateEvaluationsUnused: n(),
  /**
   * Of those, the ones `evaluation.name` would have accepted (it is unset): a verdict of another
   * name than the first that scored the run. With several judges the fastest one's name decides;
   * the runtime warns so the user sets `evaluation.name`.
   */
  lateEvaluationsOtherName: n(),
  /** Late spans/evaluations that could not become a correction (policy `count`, the revision no longer retained, or past `correctionWindowMs`). */
  lateUncorrected: n(),
  /** Correction episodes opened (reopened closed episodes). */
  corrections: n(),
  /** Episodes closed with reason `evicted` (state caps). */
  evicted: n(),
  /** Evaluations joined to an episode. */
  evaluations: n(),
  /** Evaluations dropped as duplicates of one the episode holds. */
  duplicateEvaluations: n(),
  /** Evaluations waiting for their first span now. */
  pendingEvaluations: n(),
  /** GenAI content events (message contents logged as events, src/conventions/content-events.ts) joined to their trace's episode; not in `spans`. */
  contentEvents: n(),
  /** Content events dropped as duplicates (the same record read again). */
  duplicateContentEvents: n(),
  /** Content events for a trace whose episode was credited already: counted only, never a correction. */
  lateContentEvents: n(),
  /** Content events waiting for the first span of their trace now (they never open an episode). */
  pendingContentEvents: n(),
  /** Estimated bytes of those (bounded by `maxPendingContentBytes`; not in `bufferedBytes`). */
  pendingContentBytes: n(),
  /** Pending content events dropped: `maxDurationMs` passed since their trace's latest one (their spans never came, e.g. sampled out) or `maxPendingContentEvents` / `maxPendingContentBytes` full. */
  expiredContentEvents: n(),
  /** Pending evaluations dropped: TTL passed or buffer full. */
  expiredEvaluations: n(),
  /**
   * Of those, the ones dropped because `maxPendingEvaluations` were waiting (the oldest key first),
   * not after `pendingEvaluationTtlMs`: the runtimes word the two apart (a backlog read ahead
   * dropped thousands in seconds, logged as "expired after waiting 60000 ms").
   */
  evaluationsDroppedOverLimit: n(),
  /** Evaluations with neither a usable trace id nor conversation id for the key mode, nor a response id. */
  unjoinableEvaluations: n(),
  /** Evaluations that named only a `gen_ai.response.id`, joined to the LLM span that recorded it. */
  evaluationsJoinedByResponseId: n(),
  /** Episodes that waited `awaitEvaluationMs` for an evaluation and closed without one (`root-ended`). */
  evaluationWaitsExpired: n(),
  /** Open episodes now waiting past grace for their system evaluation (`awaitEvaluationMs`). */
  awaitingEvaluation: n(),
  /** Estimated bytes / count of spans in open episodes now. */
  bufferedBytes: n(),
  bufferedSpans: n(),
  /** Estimated bytes of closed revisions retained for corrections. */
  retainedClosedBytes: n(),
});
export type EpisodeAssemblerStats = z.infer<typeof EpisodeAssemblerStatsSchema>;
