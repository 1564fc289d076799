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
 * Async for forward compatibility (stages that load resources); it does no I/O today.
 */
import { evaluationsFromLogs } from '../conventions/index.js';
import { assemblerHooksFor, EpisodeAssembler, systemClock, type Clock, type EpisodeAssemblerOptionsInput } from '../episodes/index.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Episode } from '../model/episode.js';
import { processEpisode as defaultProcessEpisode, type ProcessEpisodeOptions } from '../runtime/process-episode.js';
import { checkProcessOptions, checkType, InProcessOptionsError } from './check-options.js';
import { CreditSpanProcessor, type CreditSpanProcessorDeps, type CreditSpanProcessorOptions } from './credit-span-processor.js';

export type ProcessEpisodeWithOptions = (episode: Episode, options: ProcessEpisodeOptions) => Promise<CreditEvent[]>;

export interface CreateCreditSpanProcessorOptions extends CreditSpanProcessorOptions {
  onCredit: CreditSpanProcessorDeps['onCredit'];
  onError?: CreditSpanProcessorDeps['onError'];
  /** EpisodeAssembler options (close policy, caps); see src/episodes/README.md. */
  episodes?: EpisodeAssemblerOptionsInput;
  /** Options of `processEpisode` (`{ credit, conventions, evaluationName, rootScoreAttribute }`). Default `{}`. */
  processOptions?: ProcessEpisodeOptions;
  /** Default: `processEpisode` of src/runtime/process-episode.ts (tests inject their own). */
  processEpisode?: ProcessEpisodeWithOptions;
  /** Assembler clock (ms); default wall clock. */
  clock?: Clock;
}

export async function createCreditSpanProcessor(options: CreateCreditSpanProcessorOptions): Promise<CreditSpanProcessor> {
  if (options === null || typeof options !== 'object') throw new InProcessOptionsError('createCreditSpanProcessor: expected an options object with at least onCredit: (events, episode) => void');
  const { onCredit, onError, episodes, processOptions, processEpisode, clock, ...processorOptions } = options;
  // a missing onCredit failed every episode later, silently without onError
  if (typeof onCredit !== 'function') throw new InProcessOptionsError(`onCredit: expected an (events, episode) => void | Promise<void> callback, got ${onCredit === null ? 'null' : typeof onCredit} — it receives each closed episode's credit events`);
  checkType('onError', onError, 'function', 'an (error, episode) => void callback');
  checkType('processEpisode', processEpisode, 'function', 'an (episode, options) => Promise<CreditEvent[]> function');
  checkProcessOptions(processOptions);
  const run = processEpisode ?? defaultProcessEpisode;
  const assembler = new EpisodeAssembler(episodes ?? {}, clock ?? systemClock, assemblerHooksFor(processOptions?.evaluationName, processOptions?.rootScoreAttribute !== undefined ? { rootScoreAttribute: processOptions.rootScoreAttribute } : {}));
  return new CreditSpanProcessor(
    {
      assembler,
      processEpisode: (episode) => run(episode, processOptions ?? {}),
      onCredit,
      onError,
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    },
    processorOptions,
  );
}
