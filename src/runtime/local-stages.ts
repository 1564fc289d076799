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
import type { ProcessEpisodeOptions } from './process-episode.js';

export type ProcessEpisodeFn = (episode: Episode, options: ProcessEpisodeOptions) => Promise<CreditEvent[]>;

/** The processEpisode options a configuration selects. */
export function processOptionsOf(config: AppConfig): ProcessEpisodeOptions {
  return {
    credit: config.credit as ProcessEpisodeOptions['credit'],
    conventions: config.conventions,
    ...(config.evaluation.name !== undefined ? { evaluationName: config.evaluation.name } : {}),
    ...(config.evaluation.rootScoreAttribute !== undefined ? { rootScoreAttribute: config.evaluation.rootScoreAttribute } : {}),
  };
}

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
  const options = processOptionsOf(config);
  return {
    assembler: new EpisodeAssembler(config.episodes, clock),
    processEpisode: (episode) => run(episode, options),
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
  };
}
