/**
 * `createCreditSpanProcessor`: a CreditSpanProcessor wired to the real stages — the
 * EpisodeAssembler (src/episodes), `processEpisode` (src/runtime/process-episode.ts:
 * conventions → credit → events) and `evaluationsFromLogs` (src/conventions).
 *
 * ```ts
 * const credit = await createCreditSpanProcessor({ onCredit: (events) => trainer.push(events) });
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [credit] });
 * const loggerProvider = new LoggerProvider({ processors: [credit.evaluationLogProcessor] });
 * ...
 * await tracerProvider.shutdown(); // credits every open episode, then resolves
 * ```
 */
import { evaluationsFromLogs } from '../conventions/index.js';
import { EpisodeAssembler, systemClock, type Clock, type EpisodeAssemblerOptionsInput } from '../episodes/index.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Episode } from '../model/episode.js';
import { CreditSpanProcessor, type CreditSpanProcessorDeps, type CreditSpanProcessorOptions } from './credit-span-processor.js';

export type ProcessEpisodeWithOptions = (episode: Episode, creditOptions: unknown) => Promise<CreditEvent[]>;

export interface CreateCreditSpanProcessorOptions extends CreditSpanProcessorOptions {
  onCredit: CreditSpanProcessorDeps['onCredit'];
  onError?: CreditSpanProcessorDeps['onError'];
  /** EpisodeAssembler options (close policy, caps); see src/episodes/README.md. */
  episodes?: EpisodeAssemblerOptionsInput;
  /** Credit options handed to `processEpisode` (game, estimator, thresholds). */
  credit?: unknown;
  /** Default: `processEpisode` of src/runtime/process-episode.ts. */
  processEpisode?: ProcessEpisodeWithOptions;
  /** Assembler clock (ms); default wall clock. */
  clock?: Clock;
}

/** Loads src/runtime/process-episode.ts lazily, with an error that says what is missing. */
async function loadProcessEpisode(): Promise<ProcessEpisodeWithOptions> {
  // A variable specifier keeps this module compiling on its own; the runtime module is optional here.
  const specifier = '../runtime/process-episode.js';
  let mod: { processEpisode?: unknown };
  try {
    mod = (await import(specifier)) as { processEpisode?: unknown };
  } catch (err) {
    throw new Error(`createCreditSpanProcessor: cannot load src/runtime/process-episode.ts (conventions → credit → events): ${(err as Error).message}; pass options.processEpisode instead`, { cause: err });
  }
  if (typeof mod.processEpisode !== 'function') throw new Error('createCreditSpanProcessor: src/runtime/process-episode.ts does not export processEpisode(episode, creditOptions)');
  return mod.processEpisode as ProcessEpisodeWithOptions;
}

export async function createCreditSpanProcessor(options: CreateCreditSpanProcessorOptions): Promise<CreditSpanProcessor> {
  const { onCredit, onError, episodes, credit, processEpisode, clock, ...processorOptions } = options;
  const run = processEpisode ?? (await loadProcessEpisode());
  const assembler = new EpisodeAssembler(episodes ?? {}, clock ?? systemClock);
  return new CreditSpanProcessor(
    {
      assembler,
      processEpisode: (episode) => run(episode, credit ?? {}),
      onCredit,
      onError,
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    },
    processorOptions,
  );
}
