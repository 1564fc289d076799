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
import { assemblerHooksFor, EpisodeAssembler, systemClock, type Clock, type EpisodeAssemblerHooks } from '../episodes/index.js';
import type { CreditEvent } from '../events/schemas.js';
import { creditedFromEvents, type CreditedEvents } from '../events/credited-events.js';
import type { Episode } from '../model/episode.js';
import type { LocalPipelineDeps } from './local-pipeline.js';
import type { ProcessEpisodeOptions } from './process-episode.js';
import { HttpJudgeClient, shownUrl as shownJudgeUrl } from '../credit/games/http-judge.js';
import { loadModuleGame } from '../credit/games/module-game.js';
import type { Game } from '../credit/types.js';
import type { GameFactory } from '../credit/options.js';
import type { Logger } from '../telemetry/logger.js';
import type { ObservedStats } from '../telemetry/self-metrics.js';
import { CreditWorkerPool, creditConcurrencyFor, resolveCreditWorkers, type WorkerRestartReason } from './credit-workers/pool.js';
import { skippedEpisodeReporter, valueFunctionFailureReporter, type ValueFunctionHealth } from './episode-log.js';

export { skippedEpisodeReporter } from './episode-log.js';

export type ProcessEpisodeFn = (episode: Episode, options: ProcessEpisodeOptions) => Promise<CreditEvent[]>;

/**
 * The processEpisode options a configuration selects. `gameFactory` (from `gameFactoryOf`) is
 * the value function of the http/module games; the provenance game needs none.
 */
export function processOptionsOf(config: AppConfig, gameFactory?: GameFactory): ProcessEpisodeOptions {
  const { judge: _judge, module: _module, ...engine } = config.credit;
  return {
    credit: { ...engine, ...(gameFactory ? { gameFactory } : {}) },
    conventions: config.conventions,
    ...(config.evaluation.name !== undefined ? { evaluationName: config.evaluation.name } : {}),
    ...(config.evaluation.rootScoreAttribute !== undefined ? { rootScoreAttribute: config.evaluation.rootScoreAttribute } : {}),
  };
}

/** Assembler hooks for the configured evaluation: its name closes episodes; its root score attribute means nothing to wait for. */
export function assemblerHooksOf(config: AppConfig): EpisodeAssemblerHooks {
  return assemblerHooksFor(config.evaluation.name, {
    labelScores: config.credit.labelScores,
    ...(config.evaluation.rootScoreAttribute !== undefined ? { rootScoreAttribute: config.evaluation.rootScoreAttribute } : {}),
  });
}

/** Loads `processEpisode` from src/runtime/process-episode.ts (docs/contracts.md signature). */
async function loadProcessEpisode(): Promise<ProcessEpisodeFn> {
  // A variable specifier keeps this file compiling while the module is being written.
  const specifier = './process-episode.js';
  let mod: { processCheckedEpisode?: unknown };
  try {
    mod = (await import(specifier)) as { processCheckedEpisode?: unknown };
  } catch (err) {
    throw new Error(`cannot load src/runtime/process-episode.ts (the conventions → credit → events step): ${(err as Error).message}`, { cause: err });
  }
  // the assembler's episodes: processEpisode's episode check (for library callers) is skipped
  if (typeof mod.processCheckedEpisode !== 'function') throw new Error('src/runtime/process-episode.ts does not export processCheckedEpisode(episode, creditOptions)');
  return mod.processCheckedEpisode as ProcessEpisodeFn;
}

export interface ConfiguredGame {
  gameFactory?: GameFactory;
  /** Value-function counters for self-telemetry (http and module games). */
  stats?: () => ObservedStats;
  /** The last value-function failure's message (http and module games). */
  lastError?: () => string | undefined;
}

/**
 * Value-function calls still unanswered when their episode's credit gave up (credit.timeoutMs:
 * the game factory's signal aborts), counted as failures — and as timeouts — with a last error
 * saying so. A judge or
 * module that hangs made every episode's credit an equal split marked partial without a word in
 * the log, and value_function_failures_total stayed 0: the judge client leaves the calls its
 * episode cut (aborted) out of its failures, and a module call that never settles neither returns
 * nor throws.
 */
export class GaveUpCounts {
  failures = 0;
  private last: { message: string; gameErrorThen: string | undefined } | undefined;

  constructor(
    private readonly what: string,
    private readonly timeoutMs: number,
    /** The game's own last failure, to report the more recent of the two. */
    private readonly gameLastError: () => string | undefined,
    /** Called after `failures` changed (gameFactoryOf's `onStatsChange`). */
    private readonly onChange?: () => void,
  ) {}

  /** For one episode's game: `start()` at each call, `done()` when it settles. One 'abort' listener while calls are pending. */
  episode(signal: AbortSignal | undefined): () => { gaveUp: boolean; done: () => void } {
    const pending = new Set<{ gaveUp: boolean }>();
    const onAbort = (): void => {
      if (pending.size === 0) return;
      for (const call of pending) call.gaveUp = true;
      this.failures += pending.size;
      this.onChange?.();
      this.last = {
        message: `${this.what} gave no answer to ${pending.size} call(s) within credit.timeoutMs (${this.timeoutMs} ms), so the episode's credit stopped waiting for it: make it answer sooner (a call that hangs never does), or raise credit.timeoutMs`,
        gameErrorThen: this.gameLastError(),
      };
      pending.clear();
    };
    return () => {
      const call = {
        gaveUp: false,
        done: (): void => {
          if (pending.delete(call) && pending.size === 0) signal?.removeEventListener('abort', onAbort);
        },
      };
      if (signal && !signal.aborted) {
        if (pending.size === 0) signal.addEventListener('abort', onAbort, { once: true });
        pending.add(call);
      }
      return call;
    };
  }

  /** The last failure: this one until the game reports another. */
  lastError(): string | undefined {
    const own = this.gameLastError();
    return this.last !== undefined && own === this.last.gameErrorThen ? this.last.message : own;
  }
}

/**
 * Builds the configured pluggable game: one shared judge client for `http` (its cache,
 * concurrency limit and counters span all episodes), the loaded user function for `module`.
 * `onStatsChange`: called right after any of the counters `stats()` returns changed, in the
 * thread that counted — a credit worker publishes them at once (./credit-workers/shared-stats.ts),
 * so a worker that dies (out of memory, a crash, stopped at runtime.creditTimeoutMs) has lost none.
 */
export async function gameFactoryOf(config: AppConfig, { onStatsChange }: { onStatsChange?: () => void } = {}): Promise<ConfiguredGame> {
  const c = config.credit;
  if (c.game === 'http' && c.judge) {
    const judge = c.judge;
    const client = new HttpJudgeClient(judge, onStatsChange ? { onCount: onStatsChange } : {});
    // the client leaves calls cut by their episode (aborted) out of its failures
    const gaveUp = new GaveUpCounts(`judge ${shownJudgeUrl(judge.url)}`, c.timeoutMs, () => client.lastError(), onStatsChange);
    // values off R's scale (a 0–100 judge), as the episodes' warnings count them
    const offScale = { values: 0 };
    const onValuesOutOfScale = (count: number): void => {
      offScale.values += count;
      onStatsChange?.();
    };
    const watched = (game: Game, signal: AbortSignal | undefined): Game => {
      const start = gaveUp.episode(signal);
      return {
        id: game.id,
        players: game.players,
        value: async (coalition) => {
          const call = start();
          try {
            return await game.value(coalition);
          } finally {
            call.done();
          }
        },
      };
    };
    return {
      // ctx.signal: the episode's credit.timeoutMs — a given-up episode's calls in flight or
      // waiting for one of the client's slots (shared by all episodes) are cut with it, not sent
      // on (with their retries) ahead of the next episodes' calls
      gameFactory: (input, ctx) => ({
        agentGame: watched(client.game({ episodeId: input.episodeId, steps: input.steps, players: ctx.agentIds, playerKind: 'agents' }, ctx.signal ? { signal: ctx.signal } : {}), ctx.signal),
        // judge.players: messages — the same judge scores message coalitions for δ_m
        ...(judge.players === 'messages' ? { messageGame: watched(client.game({ episodeId: input.episodeId, steps: input.steps, players: ctx.messages.map((m) => m.stepId), playerKind: 'messages' }, ctx.signal ? { signal: ctx.signal } : {}), ctx.signal) } : {}),
        kind: 'http',
        removalProtocol: judge.removalProtocol,
        onValuesOutOfScale,
      }),
      stats: () => {
        const s = client.stats();
        return {
          valueFunctionCalls: s.evaluations + s.failures + gaveUp.failures,
          valueFunctionCacheHits: s.cacheHits,
          valueFunctionFailures: s.failures + gaveUp.failures,
          // a call its episode's deadline cut is a timeout too: with credit.timeoutMs and
          // credit.judge.timeoutMs both 10 000 ms (their defaults before 4 000) the deadline, started first, cut
          // every call of a judge that never answers before its own timeout fired, and this stayed 0
          valueFunctionTimeouts: s.timeouts + gaveUp.failures,
          valueFunctionRetries: s.retries,
          valueFunctionOutOfScale: offScale.values,
        };
      },
      lastError: () => gaveUp.lastError(),
    };
  }
  if (c.game === 'module' && c.module) {
    const load = await loadModuleGame(c.module.path, { exportName: c.module.exportName });
    const players = c.module.players;
    // Counts the user function's calls and failures (a throw, a non-finite value) for metrics and
    // the failing-value-function warning; the estimators cache coalition values above this.
    const counts = { calls: 0, failures: 0, outOfScale: 0, lastError: undefined as string | undefined };
    // a call that never settles neither returns nor throws: counted when its episode gives up
    const gaveUp = new GaveUpCounts(`module game ${c.module.path}: value()`, c.timeoutMs, () => counts.lastError, onStatsChange);
    const make = (episode: Parameters<typeof load>[0], signal: AbortSignal | undefined): Game => {
      const game = load(episode);
      const start = gaveUp.episode(signal);
      return {
        id: game.id,
        players: game.players,
        value: async (coalition) => {
          // counted before the user's function runs: a call that ends its worker (out of memory,
          // process.exit, a loop stopped at runtime.creditTimeoutMs) was made
          counts.calls++;
          onStatsChange?.();
          const call = start();
          try {
            return await game.value(coalition);
          } catch (err) {
            // already counted when its episode gave up on it
            if (!call.gaveUp) {
              counts.failures++;
              counts.lastError = (err as Error)?.message ?? String(err);
              onStatsChange?.();
            }
            throw err;
          } finally {
            call.done();
          }
        },
      };
    };
    return {
      stats: () => ({ valueFunctionCalls: counts.calls, valueFunctionFailures: counts.failures + gaveUp.failures, valueFunctionTimeouts: gaveUp.failures, valueFunctionOutOfScale: counts.outOfScale }),
      lastError: () => gaveUp.lastError(),
      gameFactory: (input, ctx) => {
        const episode = { episodeId: input.episodeId, steps: input.steps, agents: input.agents, ...(input.evaluation ? { evaluation: input.evaluation } : {}) };
        return {
          agentGame: make({ ...episode, players: ctx.agentIds, playerKind: 'agents' }, ctx.signal),
          // module.players: messages — the same function scores message coalitions for δ_m
          ...(players === 'messages' ? { messageGame: make({ ...episode, players: ctx.messages.map((m) => m.stepId), playerKind: 'messages' }, ctx.signal) } : {}),
          kind: 'module',
          onValuesOutOfScale: (count: number) => {
            counts.outOfScale += count;
            onStatsChange?.();
          },
        };
      },
    };
  }
  return {};
}

/** A pool's restarts by reason as the self-metrics read them. */
export function workerRestartObservations(by: Readonly<Record<WorkerRestartReason, number>>): ObservedStats {
  return { creditWorkerRestartsTimeout: by.timeout, creditWorkerRestartsCrash: by.crash, creditWorkerRestartsOutOfMemory: by['out-of-memory'] };
}

export interface LocalStages {
  assembler: EpisodeAssembler;
  processEpisode: (episode: Episode) => Promise<CreditEvent[]>;
  /**
   * `processEpisode` for the Kafka job: the events as facts and JSON (src/events/credited-events.ts).
   * With credit workers only those cross back (CreditWorkerPool.credit), not the event objects.
   */
  creditEpisode: (episode: Episode) => Promise<CreditedEvents>;
  evaluationsFromLogs: LocalPipelineDeps['evaluationsFromLogs'];
  /** Value-function counters when the http or module game is configured. */
  gameStats?: () => ObservedStats;
  /** Credit worker threads (runtime.creditWorkers > 0), else undefined. */
  workers?: CreditWorkerPool;
  /** The credit workers' restarts by reason, for /metrics (agent_credit_credit_worker_restarts_total); only with workers. */
  workerStats?: () => ObservedStats;
  /** Episodes to credit at once: runtime.creditConcurrency, raised to keep the workers fed (creditConcurrencyFor). */
  creditConcurrency: number;
  /**
   * Ms the pipeline waits for one episode's credit. runtime.creditTimeoutMs in this thread; with
   * workers the pool enforces that limit from when a worker starts the episode, and an episode may
   * first wait behind the others queued on its worker, so the pipeline's limit is only a backstop.
   */
  creditTimeoutMs: number;
  /**
   * Why a closed episode gave no credit events, once its credit settled with none: the
   * `DegenerateEpisodeError` reason (`no-evaluation`, `no-agents`, `non-finite-score`,
   * `unknown-label`; `other`) — the `reason` label of `episodes_without_credit_total`.
   */
  skippedReasonOf(episode: Episode): string | undefined;
  /** Releases what the stages hold (the worker threads). */
  close(): Promise<void>;
}

/**
 * The assembler, credit and log reader for a run. Credit runs in `runtime.creditWorkers` worker
 * threads when that is > 0 (or `auto`) and no `processEpisode` override is given (tests), else
 * in this thread. Call `close()` when the run stops.
 */
export async function buildLocalStages(config: AppConfig, clock: Clock = systemClock, processEpisode?: ProcessEpisodeFn, logger?: Pick<Logger, 'warn' | 'info'> & Partial<Pick<Logger, 'debug'>>): Promise<LocalStages> {
  const assembler = new EpisodeAssembler(config.episodes, clock, assemblerHooksOf(config));
  const workers = resolveCreditWorkers(config.runtime.creditWorkers);
  const report = skippedEpisodeReporter(logger);
  // reported (in this thread, worker or not) before the episode's credit settles
  const skippedReasons = new WeakMap<Episode, string>();
  // the DegenerateEpisodeError's own reason (it crosses back from a worker too), not read back from its message
  const onSkipped = (episode: Episode, message: string, reason: string | undefined): void => {
    const kind = reason ?? 'other';
    skippedReasons.set(episode, kind);
    report(episode, message, kind);
  };
  const skippedReasonOf = (episode: Episode): string | undefined => skippedReasons.get(episode);
  if (workers > 0 && processEpisode === undefined) {
    const pool = await CreditWorkerPool.start({
      size: workers,
      config,
      taskTimeoutMs: config.runtime.creditTimeoutMs,
      maxHeapMb: config.runtime.creditWorkerMaxHeapMb,
      onSkipped: (episode, message, skipped) => onSkipped(episode, message, skipped.reason),
      onWorkerRestart: (reason) => logger?.warn({ reason }, 'credit worker pool: worker replaced, failed or back'),
    });
    logger?.info({ creditWorkers: workers }, 'credit runs in worker threads (runtime.creditWorkers)');
    const pluggable = config.credit.game === 'http' || config.credit.game === 'module';
    const concurrency = creditConcurrencyFor(config.runtime.creditConcurrency, workers);
    const reportFailures = pluggable ? valueFunctionFailureReporter(logger, config.credit.game) : undefined;
    const health = (): ValueFunctionHealth => {
      const s = pool.stats();
      return { calls: s.gameStats?.valueFunctionCalls ?? 0, failures: s.gameStats?.valueFunctionFailures ?? 0, ...(s.lastValueFunctionError !== undefined ? { lastError: s.lastValueFunctionError } : {}) };
    };
    const reported = reportingAfterEach(reportFailures, health);
    return {
      assembler,
      processEpisode: (episode) => reported(pool.process(episode)),
      creditEpisode: (episode) => reported(pool.credit(episode)),
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
      ...(pluggable ? { gameStats: () => pool.stats().gameStats ?? {} } : {}),
      workers: pool,
      skippedReasonOf,
      workerStats: () => workerRestartObservations(pool.stats().restartsByReason),
      creditConcurrency: concurrency,
      creditTimeoutMs: config.runtime.creditTimeoutMs * (Math.ceil(concurrency / workers) + 1),
      close: () => pool.close(),
    };
  }
  const run = processEpisode ?? (await loadProcessEpisode());
  const game = await gameFactoryOf(config);
  const options: ProcessEpisodeOptions = { ...processOptionsOf(config, game.gameFactory), onSkipped: (episode, err) => onSkipped(episode, err.message, err.reason) };
  const reportFailures = game.stats ? valueFunctionFailureReporter(logger, config.credit.game) : undefined;
  const health = (): ValueFunctionHealth => {
    const s = game.stats!();
    const lastError = game.lastError?.();
    return { calls: s.valueFunctionCalls ?? 0, failures: s.valueFunctionFailures ?? 0, ...(lastError !== undefined ? { lastError } : {}) };
  };
  const reported = reportingAfterEach(reportFailures, health);
  const processInThread = (episode: Episode) => reported(run(episode, options));
  return {
    assembler,
    processEpisode: processInThread,
    creditEpisode: (episode) => processInThread(episode).then(creditedFromEvents),
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    ...(game.stats ? { gameStats: game.stats } : {}),
    skippedReasonOf,
    creditConcurrency: config.runtime.creditConcurrency,
    creditTimeoutMs: config.runtime.creditTimeoutMs,
    close: async () => undefined,
  };
}

/**
 * Wraps each credit computation so that `report` (a pluggable value function's failure reporter)
 * reads the value function's health once it settles; without a reporter, the computation as is.
 * Failures the reporter holds back (its line is at most once per 30 s) are read again once the 30 s
 * are up, even when no episode follows: they went out only with a later episode's, so the failures
 * of a fleet's last episodes before a pause were never in the log.
 */
function reportingAfterEach(report: ((health: ValueFunctionHealth) => boolean) | undefined, health: () => ValueFunctionHealth, everyMs = 30_000): <T>(p: Promise<T>) => Promise<T> {
  if (!report) return (p) => p;
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    if (!report(health()) || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      check();
    }, everyMs);
    timer.unref?.();
  };
  return (p) => p.finally(check);
}
