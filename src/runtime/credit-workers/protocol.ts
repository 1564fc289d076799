/**
 * Messages between the credit worker pool (./pool.ts) and its workers (./worker.ts). Episodes
 * and events cross by structured clone (bigint, Uint8Array and plain objects survive it).
 */
import type { AppConfig } from '../../config/schema.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { Episode } from '../../model/episode.js';
import type { ObservedStats } from '../../telemetry/self-metrics.js';

export interface WorkerInit {
  /** The parsed configuration: each worker builds its own game (judge client, module) from it. */
  config: AppConfig;
  /** URL of ./worker.ts (or .js) for the TypeScript bootstrap (./boot.mjs). */
  entryUrl?: string;
}

/** Pool → worker: an episode to credit, or "flush your telemetry and stop taking work". */
export type PoolMessage = { kind: 'task'; id: number; episode: Episode } | { kind: 'close' };

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string }
  | { kind: 'closed' }
  /** The worker began `id`: its timeout counts from here, not from the wait in the worker's queue. */
  | { kind: 'started'; id: number }
  /** `json[i]` is `JSON.stringify(events[i])`, made in the worker (src/events/event-json.ts). */
  | { kind: 'done'; id: number; events: CreditEvent[]; json: string[]; gameStats?: ObservedStats; skipped?: string }
  | { kind: 'failed'; id: number; name: string; message: string };
