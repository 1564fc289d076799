/**
 * Messages between the credit worker pool (./pool.ts) and its workers (./worker.ts). Episodes
 * cross by structured clone (bigint, Uint8Array and plain objects survive it); events either as
 * objects with their JSON (`process`, the in-process API's callbacks want the events) or packed
 * (`credit`, the Kafka runtime: src/events/credited-events.ts — facts, and the JSON's bytes in a
 * transferred buffer).
 */
import type { AppConfig } from '../../config/schema.js';
import type { DegenerateReason } from '../../credit/errors.js';
import type { PackedEvents } from '../../events/credited-events.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { Episode } from '../../model/episode.js';

/**
 * `processEpisode` options that cross to a worker by structured clone: data only (no
 * `gameFactory`, `prefixScorer` or `now` function — the in-process API refuses those with workers).
 */
export interface WorkerProcessOptions {
  credit?: Record<string, unknown>;
  conventions?: Record<string, unknown>;
  evaluationName?: string;
  rootScoreAttribute?: string;
}

/** What a worker builds its credit stage from: the job's configuration, or in-process options. */
export type WorkerStage = { config: AppConfig } | { processOptions: WorkerProcessOptions };

export type WorkerInit = WorkerStage & {
  /** URL of ./worker.ts (or .js) for the TypeScript bootstrap (./boot.mjs). */
  entryUrl?: string;
  /** false: no self-tracing SDK in the worker, whatever OTEL_* says (in-process: those are the app's settings). */
  selfTracing?: boolean;
  /** Where the worker keeps its value-function counters, shared with the pool (./shared-stats.ts): they outlive the worker. */
  stats?: SharedArrayBuffer;
};

/** Pool → worker: an episode to credit, or "flush your telemetry and stop taking work". */
export type PoolMessage = { kind: 'task'; id: number; episode: Episode; /** Reply `credited` (packed events) instead of `done`. */ packed?: boolean } | { kind: 'close' };

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string; name?: string }
  | { kind: 'closed' }
  /** The worker began `id`: its timeout counts from here, not from the wait in the worker's queue. */
  | { kind: 'started'; id: number }
  /** `json[i]` is `JSON.stringify(events[i])`, made in the worker (src/events/event-json.ts). */
  /**
   * `valueFunctionError`: its last value-function failure. Its value-function counters do not
   * cross here: they are in WorkerInit's `stats`, written as they change.
   */
  | { kind: 'done'; id: number; events: CreditEvent[]; json: string[]; valueFunctionError?: string; skipped?: SkippedReply }
  /** The events of a `packed` task: their facts and JSON bytes (`packed.bytes` is transferred). */
  | { kind: 'credited'; id: number; packed: PackedEvents; valueFunctionError?: string; skipped?: SkippedReply }
  | { kind: 'failed'; id: number; name: string; message: string; valueFunctionError?: string };

/** Why an episode yielded no events (processEpisode's onSkipped), as it crosses back. */
export interface SkippedReply {
  message: string;
  /** The `DegenerateEpisodeError`'s reason, when it was one. */
  reason?: DegenerateReason;
}
