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
import { DEFAULTS, MAX_TIMER_MS } from '../config/defaults.js';
import { didYouMean } from '../config/errors.js';
import { DegenerateEpisodeError } from '../credit/errors.js';
import { evaluationsFromLogs } from '../conventions/index.js';
import { assemblerHooksFor, EpisodeAssembler, systemClock, type Clock, type EvaluationHookOptions, type EpisodeAssemblerOptionsInput } from '../episodes/index.js';
import type { CreditEvent } from '../events/schemas.js';
import type { Episode } from '../model/episode.js';
import { CreditWorkerPool, maxHeapMbProblem } from '../runtime/credit-workers/pool.js';
import { processCheckedEpisode as defaultProcessEpisode, type ProcessEpisodeOptions } from '../runtime/process-episode.js';
import { callApp } from './app-callback.js';
import { checkProcessOptions, checkType, InProcessOptionsError } from './check-options.js';
import { CreditSpanProcessor, CreditSpanProcessorOptionsSchema, type CreditSpanProcessorDeps, type CreditSpanProcessorOptions } from './credit-span-processor.js';

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
  /**
   * Worker threads that run credit (default 0: on the app's thread, where one large episode
   * blocks the event loop for its whole computation — ~330 ms for 8,000 messages). Needs
   * data-only `processOptions` (no `credit.gameFactory`, `credit.prefixScorer` or `now`: functions
   * do not cross to a thread) and the built-in `processEpisode`.
   */
  creditWorkers?: number;
  /** With `creditWorkers`: ms one episode may take in a worker before that worker is replaced and the episode fails (`onError`; the other episodes it held are re-run on the replacement). Default 30000. */
  creditTimeoutMs?: number;
  /**
   * With `creditWorkers`: MB of JS heap each worker may use (V8's old generation), as the jobs'
   * `runtime.creditWorkerMaxHeapMb` — default 1024, 0 = V8's default, else at least 64. A worker
   * that reaches it is replaced and the episode it was crediting fails (`onError`); without a
   * limit an episode or value function that kept memory grew the app's whole process.
   */
  creditWorkerMaxHeapMb?: number;
}

/** Why `processOptions` cannot go to worker threads, or undefined when they can. */
function notForWorkers(options: CreateCreditSpanProcessorOptions): string | undefined {
  if (options.processEpisode !== undefined) return 'processEpisode: a custom function runs on the app\'s thread only';
  const credit = options.processOptions?.credit as Record<string, unknown> | undefined;
  for (const key of ['gameFactory', 'prefixScorer'] as const) if (credit?.[key] !== undefined) return `processOptions.credit.${key}: a function does not cross to a worker thread`;
  if (options.processOptions?.now !== undefined) return 'processOptions.now: a function does not cross to a worker thread';
  return undefined;
}

async function startWorkers(options: CreateCreditSpanProcessorOptions, processOptions: ProcessEpisodeOptions, size: number, recordSkipped: (episode: Episode, reason: string | undefined) => void): Promise<CreditWorkerPool> {
  const { onSkipped, now: _now, ...data } = processOptions;
  return CreditWorkerPool.start({
    size,
    processOptions: data as Record<string, unknown>,
    taskTimeoutMs: options.creditTimeoutMs ?? 30_000,
    // the jobs' limit (runtime.creditWorkerMaxHeapMb): the app's workers had none
    maxHeapMb: options.creditWorkerMaxHeapMb ?? DEFAULTS.runtime.creditWorkerMaxHeapMb,
    settings: { workers: 'creditWorkers', timeout: 'creditTimeoutMs', heap: 'creditWorkerMaxHeapMb' },
    selfTracing: false,
    // a failing error handler (a throw, or an async one's rejection) must not break the app
    onWorkerRestart: (reason) => callApp(() => options.onError?.(new Error(`credit worker: ${reason}`), undefined)),
    onSkipped: (episode: Episode, message: string, skipped: { reason?: string }) => {
      recordSkipped(episode, skipped.reason);
      onSkipped?.(episode, skippedError(episode, message, skipped.reason));
    },
  });
}

/**
 * `processOptions` as the credit stage gets them: the app's `onSkipped` guarded (callApp), its
 * failure — a throw, or an async one's rejection — going to `onError` with the episode. Unguarded,
 * with `creditWorkers` a throw was uncaught in the worker's reply handler (the app crashed, and that
 * episode's credit never settled, so `shutdown()` never resolved), and a rejection was unhandled in
 * either mode (Node ends the process on one).
 */
function stageOptionsOf(options: ProcessEpisodeOptions | undefined, onError: CreateCreditSpanProcessorOptions['onError']): ProcessEpisodeOptions {
  const onSkipped = options?.onSkipped;
  if (onSkipped === undefined) return options ?? {};
  const failed = (episode: Episode) => (err: unknown) => callApp(() => onError?.(new Error(`processOptions.onSkipped failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }), episode));
  return { ...options, onSkipped: (episode, why) => callApp(() => onSkipped(episode, why), failed(episode)) };
}

/** The worker's skipped-episode reason as the `DegenerateEpisodeError` the app's `onSkipped` gets on its thread. */
function skippedError(episode: Episode, message: string, reason: string | undefined): DegenerateEpisodeError {
  const err = new DegenerateEpisodeError((reason ?? 'no-evaluation') as DegenerateEpisodeError['reason'], episode.episodeId, '');
  err.message = message;
  return err;
}

/** The processor's own options, handed on to `CreditSpanProcessor`. */
const PROCESSOR_OPTIONS = Object.keys(CreditSpanProcessorOptionsSchema.shape);
/** Every option `createCreditSpanProcessor` takes (src/inprocess/README.md): its own, then the processor's. */
const CREATE_OPTIONS = ['onCredit', 'onError', 'episodes', 'processOptions', 'processEpisode', 'clock', 'creditWorkers', 'creditTimeoutMs', 'creditWorkerMaxHeapMb', ...PROCESSOR_OPTIONS];

export async function createCreditSpanProcessor(options: CreateCreditSpanProcessorOptions): Promise<CreditSpanProcessor> {
  if (options === null || typeof options !== 'object') throw new InProcessOptionsError('createCreditSpanProcessor: expected an options object with at least onCredit: (events, episode) => void');
  const { onCredit, onError, episodes, processOptions, processEpisode, clock, creditWorkers, creditTimeoutMs, creditWorkerMaxHeapMb, ...processorOptions } = options;
  // checked here against every option: the processor's own check listed only its six, so a
  // misspelt creditWorkers or episodes was answered with a list that left them out (and after
  // the workers had started)
  const unknown = Object.keys(processorOptions).find((k) => !PROCESSOR_OPTIONS.includes(k));
  if (unknown !== undefined) {
    // the config file's sections: { credit: { estimator: 'exact' } } was answered "did you mean onCredit?"
    const nested = ['credit', 'conventions'].includes(unknown) ? ` — ${unknown} options go in processOptions: { ${unknown}: { … } }` : didYouMean(unknown, CREATE_OPTIONS);
    throw new InProcessOptionsError(`${unknown}: unknown option${nested} — accepted: ${CREATE_OPTIONS.join(', ')}`);
  }
  // a missing onCredit failed every episode later, silently without onError
  if (typeof onCredit !== 'function') throw new InProcessOptionsError(`onCredit: expected an (events, episode) => void | Promise<void> callback, got ${onCredit === null ? 'null' : typeof onCredit} — it receives each closed episode's credit events`);
  checkType('onError', onError, 'function', 'an (error, episode) => void callback');
  checkType('processEpisode', processEpisode, 'function', 'an (episode, options) => Promise<CreditEvent[]> function');
  checkProcessOptions(processOptions);
  if (creditWorkers !== undefined && !(Number.isInteger(creditWorkers) && creditWorkers >= 0 && creditWorkers <= 16)) throw new InProcessOptionsError(`creditWorkers: expected a whole number from 0 (credit on the app's thread) to 16, got ${JSON.stringify(creditWorkers)}`);
  // at most MAX_TIMER_MS: a longer Node.js timer fires after 1 ms (every episode "timed out")
  if (creditTimeoutMs !== undefined && !(Number.isInteger(creditTimeoutMs) && creditTimeoutMs >= 1 && creditTimeoutMs <= MAX_TIMER_MS)) throw new InProcessOptionsError(`creditTimeoutMs: expected a whole number of ms from 1 to ${MAX_TIMER_MS} (≈ 24.8 days, the longest Node.js timer), got ${JSON.stringify(creditTimeoutMs)}`);
  const workerCount = creditWorkers ?? 0;
  if (workerCount > 0) {
    const why = notForWorkers(options);
    if (why) throw new InProcessOptionsError(`creditWorkers: ${workerCount} cannot be used here — ${why}; set creditWorkers: 0 (credit on the app's thread) or give data-only options`);
  }
  if (creditTimeoutMs !== undefined && workerCount === 0) throw new InProcessOptionsError('creditTimeoutMs: only applies with creditWorkers ≥ 1 (credit on the app\'s thread cannot be interrupted); set creditWorkers or drop creditTimeoutMs');
  // the pool's own rule (the jobs' runtime.creditWorkerMaxHeapMb), checked before any thread starts
  const heapProblem = creditWorkerMaxHeapMb === undefined ? undefined : typeof creditWorkerMaxHeapMb !== 'number' ? `creditWorkerMaxHeapMb: expected a number of MB, got ${creditWorkerMaxHeapMb === null ? 'null' : typeof creditWorkerMaxHeapMb}` : maxHeapMbProblem(creditWorkerMaxHeapMb, 'creditWorkerMaxHeapMb');
  if (heapProblem !== undefined) throw new InProcessOptionsError(heapProblem);
  if (creditWorkerMaxHeapMb !== undefined && workerCount === 0) throw new InProcessOptionsError('creditWorkerMaxHeapMb: only applies with creditWorkers ≥ 1 (credit on the app\'s thread shares the app\'s heap); set creditWorkers or drop creditWorkerMaxHeapMb');
  // checked before any thread starts: bad assembler options throw here
  const assembler = new EpisodeAssembler(episodes ?? {}, clock ?? systemClock, assemblerHooksFor(processOptions?.evaluationName, hookOptionsOf(processOptions)));
  const run = processEpisode ?? defaultProcessEpisode;
  // why each episode gave no events, for stats().episodesWithoutCreditByReason (the jobs' reason
  // label): reported through onSkipped — in this thread, worker or not — before its credit settles
  const skippedReasons = new WeakMap<Episode, string>();
  const recordSkipped = (episode: Episode, reason: string | undefined) => void (reason !== undefined && skippedReasons.set(episode, reason));
  const appStageOptions = stageOptionsOf(processOptions, onError);
  // a custom processEpisode gets the options as the app gave them (no onSkipped of ours when it gave none)
  const stageOptions: ProcessEpisodeOptions =
    processEpisode !== undefined && appStageOptions.onSkipped === undefined
      ? appStageOptions
      : {
          ...appStageOptions,
          onSkipped: (episode, err) => {
            recordSkipped(episode, err.reason);
            appStageOptions.onSkipped?.(episode, err);
          },
        };
  const workers = workerCount > 0 ? await startWorkers(options, appStageOptions, workerCount, recordSkipped) : undefined;
  // each worker gets its next episode queued while it computes one (unless concurrency is set)
  if (workers && processorOptions.concurrency === undefined) processorOptions.concurrency = Math.min(64, 2 * workerCount);
  try {
    return new CreditSpanProcessor(
      {
        assembler,
        processEpisode: workers ? (episode) => workers.process(episode) : (episode) => run(episode, stageOptions),
        onCredit,
        onError,
        evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
        skippedReasonOf: (episode) => skippedReasons.get(episode),
        ...(workers ? { workers } : {}),
      },
      processorOptions,
    );
  } catch (err) {
    await workers?.close(); // a bad processor option: the started threads go too
    throw err;
  }
}

/** The process options the assembler's evaluation hooks read (`assemblerHooksFor`): root score attribute and label table. */
function hookOptionsOf(o: ProcessEpisodeOptions | undefined): EvaluationHookOptions {
  const labelScores = (o?.credit as { labelScores?: Record<string, number> } | undefined)?.labelScores;
  return {
    ...(o?.rootScoreAttribute !== undefined ? { rootScoreAttribute: o.rootScoreAttribute } : {}),
    ...(labelScores !== undefined ? { labelScores } : {}),
  };
}
