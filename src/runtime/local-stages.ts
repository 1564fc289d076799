/**
 * Builds the stages a local run needs from the configuration: the EpisodeAssembler
 * (src/episodes), `processEpisode` (src/runtime/process-episode.ts, conventions → credit →
 * events) with the configured credit options bound, and the log-evaluation reader
 * (src/conventions).
 *
 * `processEpisode` is loaded lazily so the CLI's other commands (schema, --help, config
 * checks) work even when the credit stage fails to load; a missing module is reported with
 * what to do.
 */
import type { AppConfig } from '../config/schema.js';
import { evaluationsFromLogs } from '../conventions/index.js';
import { EpisodeAssembler, systemClock, type Clock } from '../episodes/index.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Episode } from '../model/episode.js';
import type { LocalPipelineDeps } from './local-pipeline.js';

export type ProcessEpisodeFn = (episode: Episode, creditOptions: unknown) => Promise<CreditEvent[]>;

/** Loads `processEpisode` from src/runtime/process-episode.ts (docs/contracts.md signature). */
export async function loadProcessEpisode(): Promise<ProcessEpisodeFn> {
  // A variable specifier keeps this file compiling while the module is being written.
  const specifier = './process-episode.js';
  let mod: { processEpisode?: unknown };
  try {
    mod = (await import(specifier)) as { processEpisode?: unknown };
  } catch (err) {
    throw new Error(`cannot load src/runtime/process-episode.ts (the conventions → credit → events step): ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.processEpisode !== 'function') throw new Error('src/runtime/process-episode.ts does not export processEpisode(episode, creditOptions)');
  return mod.processEpisode as ProcessEpisodeFn;
}

export interface LocalStages {
  assembler: EpisodeAssembler;
  processEpisode: (episode: Episode) => Promise<CreditEvent[]>;
  evaluationsFromLogs: LocalPipelineDeps['evaluationsFromLogs'];
}

export async function buildLocalStages(config: AppConfig, clock: Clock = systemClock, processEpisode?: ProcessEpisodeFn): Promise<LocalStages> {
  const run = processEpisode ?? (await loadProcessEpisode());
  const creditOptions = config.credit;
  return {
    assembler: new EpisodeAssembler(config.episodes, clock),
    processEpisode: (episode) => run(episode, creditOptions),
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
  };
}
