/**
 * A pool of worker threads that run `processEpisode` (conventions → credit → events), so credit
 * — CPU bound, and the slowest stage — uses more than the one core the consumer loop runs on.
 * Config `runtime.creditWorkers` (0 = in the main thread, `auto` = cores − 1).
 *
 * - Each worker builds its own game from the configuration (an http judge client and its cache
 *   per worker, a module game loaded per worker). Value-function counters (calls, failures,
 *   timeouts, retries) are summed over the workers, and the last failure is kept for the warning.
 *   Each worker writes its counters, as they change, to memory shared with this thread
 *   (./shared-stats.ts), read again once it has stopped: a worker that dies (out of memory, a
 *   crash, the timeout) loses none of them — sent with each reply, everything it had counted
 *   since its last reply was lost. Not counted, as nothing says it: a judge call still waiting for
 *   its answer when its worker died (neither answered nor failed; its episode is re-run or fails),
 *   and the out-of-scale values of an episode that had not finished (counted when it is re-run).
 * - An episode goes to the worker with the fewest tasks in flight. Results are identical to the
 *   in-thread path (same function, same options; the episode crosses by structured clone).
 *   `process` answers the event objects; `credit` (the Kafka job) only each event's facts and the
 *   events' JSON bytes in one transferred buffer (src/events/credited-events.ts), which the
 *   consumer thread takes without deserializing and collecting whole events.
 * - Never a stall: a task that exceeds `taskTimeoutMs` terminates its worker (a stuck value
 *   function cannot be interrupted otherwise) and fails with that reason (the runtime sends it
 *   to the DLQ); a fresh worker takes the slot's place. The other episodes the stopped worker
 *   held did nothing wrong: they are re-run on the replacement, each with its time budget
 *   restarted. A crashed worker is replaced the same way (all its episodes re-run).
 * - Not retried forever: an episode whose worker is stopped `maxWorkerDeaths` times while running
 *   it (a crash it causes, or neighbours that time out while it runs) fails, with a reason that
 *   says so. Only episodes the worker had started count (a queued one was not running, so it
 *   neither caused nor suffered it) — except after a crash with none started: then every one held
 *   counts, so a worker that dies before it says it started anything cannot loop forever.
 * - A crash with several episodes started (an async value function — a judge — runs every episode
 *   its worker holds at once) does not say which one caused it: none is counted, and those
 *   episodes are suspects, re-run on the replacement one at a time, each alone on its worker, so
 *   the next crash names its culprit; the worker's other episodes wait until the suspects are
 *   done. Before, each such crash counted against every episode in flight, and an episode that
 *   crashed its worker took those beside it down with it (all failed at the third crash).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MAX_CREDIT_WORKER_HEAP_MB, MIN_CREDIT_WORKER_HEAP_MB } from '../../config/defaults.js';
import type { AppConfig } from '../../config/schema.js';
import { unpackEvents, type CreditedEvents } from '../../events/credited-events.js';
import { rememberEventJson } from '../../events/event-json.js';
import type { CreditEvent } from '../../events/schemas.js';
import type { Episode } from '../../model/episode.js';
import type { ObservedStats } from '../../telemetry/self-metrics.js';
import type { PoolMessage, SkippedReply, WorkerInit, WorkerProcessOptions, WorkerReply } from './protocol.js';
import { readSharedStats, sharedStatsBuffer } from './shared-stats.js';

export interface CreditWorkerPoolOptions {
  /** Worker threads (≥ 1). */
  size: number;
  /** The job's configuration: each worker builds the configured game (judge, module) from it. */
  config?: AppConfig;
  /** Or, for the in-process API: data-only `processEpisode` options (built-in games). Exactly one of the two. */
  processOptions?: WorkerProcessOptions;
  /** Ms one episode may take before its worker is replaced (runtime.creditTimeoutMs). */
  taskTimeoutMs: number;
  /**
   * MB of JS heap each worker may use (runtime.creditWorkerMaxHeapMb: V8's old generation); unset
   * or 0 = V8's default, else at least MIN_CREDIT_WORKER_HEAP_MB (`start` refuses less, naming
   * `settings.heap` or `maxHeapMb`). A worker that reaches it is replaced and the episode it ran fails.
   */
  maxHeapMb?: number;
  /**
   * Whether each worker starts its own self-tracing SDK when OTEL_* asks for it (default true, the
   * jobs). The in-process API passes false: there OTEL_* are the app's settings, and each worker
   * exported agent-credit's spans under the app's service name.
   */
  selfTracing?: boolean;
  /** The settings the pool's messages name (default the job's `runtime.creditWorkers` / `runtime.creditTimeoutMs` / `runtime.creditWorkerMaxHeapMb`). */
  settings?: { workers: string; timeout: string; heap?: string };
  /** Ms to wait for a worker to load (module games, judge setup). */
  startTimeoutMs?: number;
  onWorkerRestart?: (reason: string) => void;
  /** Environment of the workers (default: this process's); OTEL_* here turn on their self-tracing. */
  env?: NodeJS.ProcessEnv;
  /** Ms between attempts to start a worker that could not be started (default 5000). */
  retryStartMs?: number;
  /** An episode credited to no events because it is degenerate (processEpisode's onSkipped), with the reason. */
  onSkipped?: (episode: Episode, reason: string, skipped: SkippedReply) => void;
  /**
   * Times an episode's worker may be stopped (replaced after another episode's timeout, or
   * crashed) while it holds the episode before the episode fails instead of being re-run (default 3).
   */
  maxWorkerDeaths?: number;
}

/**
 * What is wrong with a `maxHeapMb` (named `key` in the message), or undefined when it can be used:
 * the rule of `runtime.creditWorkerMaxHeapMb` — 0 (V8's default) or a whole number of MB from
 * MIN_CREDIT_WORKER_HEAP_MB. The pool checks it too: given to `CreditWorkerPool.start` by a
 * library caller, 8 started workers that each ran out of memory as they loaded, retried every 5 s.
 */
export function maxHeapMbProblem(maxHeapMb: number | undefined, key: string): string | undefined {
  if (maxHeapMb === undefined || maxHeapMb === 0) return undefined;
  if (Number.isInteger(maxHeapMb) && maxHeapMb >= MIN_CREDIT_WORKER_HEAP_MB && maxHeapMb <= MAX_CREDIT_WORKER_HEAP_MB) return undefined;
  return `${key}: expected 0 (V8's default heap limit) or a whole number of MB from ${MIN_CREDIT_WORKER_HEAP_MB} to ${MAX_CREDIT_WORKER_HEAP_MB}, got ${String(maxHeapMb)} — a credit worker needs about 24 MB of heap to start and credit an episode: below ${MIN_CREDIT_WORKER_HEAP_MB} none could start`;
}

/** `auto` → cores − 1 (at least 1, at most 16); a number is taken as is. */
export function resolveCreditWorkers(setting: number | 'auto', cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, Math.min(16, cores - 1)) : setting;
}

/**
 * Episodes to keep in credit at once with `workers` worker threads: each worker needs a few
 * queued so it never waits on the main thread (busy decoding or publishing) for its next one.
 */
export function creditConcurrencyFor(configured: number, workers: number): number {
  return workers > 0 ? Math.max(configured, 16 * workers) : configured;
}

interface Task {
  id: number;
  episode: Episode;
  /** The worker replies with packed events (`credit`), not event objects (`process`). */
  packed: boolean;
  resolve: (result: CreditEvent[] | CreditedEvents) => void;
  reject: (err: Error) => void;
  /**
   * Armed when the worker starts the task (a 'started' reply), so time queued behind other
   * episodes (or waiting for a replacement worker to start) does not count.
   */
  timer?: NodeJS.Timeout;
  /** The current worker has started it (a 'started' reply). */
  started?: boolean;
  /** Times a worker holding this task was stopped (replaced or crashed) and the task re-queued. */
  deaths: number;
  /** Sent to the slot's current worker. */
  sent?: boolean;
  /** In flight when a worker crashed with other episodes started: runs alone until it settles (see the module comment). */
  suspect?: boolean;
}

/** One worker position; its worker is replaced in place when it dies or gets stuck. */
interface Slot {
  worker: Worker;
  /** False until the worker has built its game; tasks wait in `tasks` and are sent on ready. */
  ready: boolean;
  tasks: Map<number, Task>;
  /** The value-function counters of the slot's current worker, which it writes (./shared-stats.ts). */
  shared?: SharedArrayBuffer;
  /** Those of replaced workers still being terminated: they may count until they have stopped. */
  retiring: Set<SharedArrayBuffer>;
  /** Value-function counters of this slot's replaced workers (and the pool's own), so totals never go backwards. */
  retiredStats?: ObservedStats;
  /** Why the slot's worker could not be started; set while it is out of rotation. */
  failed?: string;
}



/** Why a worker was replaced: `runtime.creditTimeoutMs` ran out, it crashed (an error, an exit), or it reached its heap limit. */
export type WorkerRestartReason = 'timeout' | 'crash' | 'out-of-memory';

export class CreditWorkerPoolError extends Error {
  override readonly name = 'CreditWorkerPoolError';
  /** The workers could not build what a setting names (credit.module.path's module): a configuration error, as in the main thread. */
  readonly setting: boolean;
  constructor(message: string, options: { setting?: boolean } = {}) {
    super(message);
    this.setting = options.setting ?? false;
  }
}

const here = import.meta.url;
const fromSources = here.endsWith('.ts');
const entryUrl = new URL(fromSources ? './worker.ts' : './worker.js', here);
const bootUrl = new URL('./boot.mjs', here);

export class CreditWorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private restarts = 0;
  /** `restarts` by why the worker was replaced (the restarts counter's `reason` label). */
  private readonly restartsBy: Record<WorkerRestartReason, number> = { timeout: 0, crash: 0, 'out-of-memory': 0 };
  /** The last value-function failure any worker reported. */
  private lastValueFunctionError: string | undefined;

  private constructor(private readonly options: CreditWorkerPoolOptions) {}

  private get retryStartMs(): number {
    return this.options.retryStartMs ?? 5_000;
  }

  private get settings(): { workers: string; timeout: string; heap?: string } {
    return this.options.settings ?? { workers: 'runtime.creditWorkers', timeout: 'runtime.creditTimeoutMs', heap: 'runtime.creditWorkerMaxHeapMb' };
  }

  /** Starts `size` workers and waits until each has built its game (a bad module path fails here). */
  static async start(options: CreditWorkerPoolOptions): Promise<CreditWorkerPool> {
    const workersKey = options.settings?.workers ?? 'runtime.creditWorkers';
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new CreditWorkerPoolError(`${workersKey}: a pool needs at least 1 worker (got ${options.size}); use 0 to credit in the main thread`);
    }
    // Bundled into an app (esbuild, webpack, …), this module sits in the bundle, and the worker
    // module it starts — a file of the installed package beside it — is not there: every worker
    // failed with "Cannot find module '<bundle dir>/worker.js'", which did not say why or what to do.
    if (!existsSync(fromSources ? bootUrl : entryUrl)) {
      throw new CreditWorkerPoolError(
        `${workersKey}: the credit worker module ${fileURLToPath(entryUrl)} is not there — agent-credit looks bundled into the app (esbuild, webpack, …), and its worker threads load their module from the installed package: keep agent-credit external to the bundle (esbuild --external:agent-credit, webpack externals), or set ${workersKey}: 0 (credit on the main thread)`,
      );
    }
    const heapProblem = maxHeapMbProblem(options.maxHeapMb, options.settings?.heap ?? 'maxHeapMb');
    if (heapProblem !== undefined) throw new CreditWorkerPoolError(heapProblem, { setting: true });
    if ((options.config === undefined) === (options.processOptions === undefined)) {
      throw new CreditWorkerPoolError('CreditWorkerPool.start: give exactly one of `config` (the job\'s configuration) and `processOptions` (in-process, data only)');
    }
    const pool = new CreditWorkerPool(options);
    try {
      const started = await Promise.allSettled(Array.from({ length: options.size }, () => pool.spawn()));
      for (const r of started) if (r.status === 'fulfilled') pool.slots.push(r.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** conventions → credit → events for one episode, in a worker. */
  process(episode: Episode): Promise<CreditEvent[]> {
    return this.run(episode, false) as Promise<CreditEvent[]>;
  }

  /**
   * `process`, for a thread that only routes, publishes and counts the events (the Kafka
   * runtime): their facts and JSON bytes cross instead of the event objects, which this thread
   * would otherwise deserialize and collect (src/events/credited-events.ts).
   */
  credit(episode: Episode): Promise<CreditedEvents> {
    return this.run(episode, true) as Promise<CreditedEvents>;
  }

  private run(episode: Episode, packed: boolean): Promise<CreditEvent[] | CreditedEvents> {
    if (this.closed) return Promise.reject(new CreditWorkerPoolError('credit worker pool is closed'));
    // Slots whose replacement failed are out of rotation until a retry starts them again.
    let slot: Slot | undefined;
    for (const s of this.slots) if (s.failed === undefined && (slot === undefined || s.tasks.size < slot.tasks.size)) slot = s;
    if (slot === undefined) {
      const why = this.slots.find((s) => s.failed !== undefined)?.failed ?? 'none started';
      return Promise.reject(new CreditWorkerPoolError(`no credit worker is running (${why}); retrying every ${this.retryStartMs / 1000} s — fix the cause (see the credit worker errors in the log) or set ${this.settings.workers}: 0`));
    }
    const chosen = slot;
    const id = this.nextId++;
    return new Promise<CreditEvent[] | CreditedEvents>((resolve, reject) => {
      const task: Task = { id, episode, packed, resolve, reject, deaths: 0 };
      chosen.tasks.set(id, task);
      holdWhileBusy(chosen);
      this.dispatch(chosen);
      // not sent while a replacement is starting (it sends this task when ready, or fails it if it
      // cannot start: startTimeoutMs, so start-up time never counts against runtime.creditTimeoutMs),
      // nor while the slot runs suspects of a crash one at a time
    });
  }

  /**
   * Sends the slot's unsent tasks to its worker once it is ready: all of them, or while any task
   * is a suspect of a crash, one suspect at a time with nothing else in flight.
   */
  private dispatch(slot: Slot): void {
    if (!slot.ready) return;
    let suspect: Task | undefined;
    let inFlight = false;
    for (const t of slot.tasks.values()) {
      if (t.sent) inFlight = true;
      if (t.suspect && suspect === undefined) suspect = t;
    }
    if (suspect !== undefined) {
      if (!inFlight) this.sendOrFail(slot, suspect);
      return;
    }
    for (const t of [...slot.tasks.values()]) if (!t.sent) this.sendOrFail(slot, t);
  }

  private sendOrFail(slot: Slot, t: Task): void {
    try {
      send(slot, t);
      t.sent = true;
    } catch (err) {
      // Not clonable (DataCloneError): this episode fails alone, nothing stays in flight.
      slot.tasks.delete(t.id);
      clearTimeout(t.timer);
      holdWhileBusy(slot);
      t.reject(err as Error);
      if (t.suspect) this.dispatch(slot);
    }
  }

  /** (Re)starts `task`'s timeout: when it fires, that task fails and the slot's worker is replaced (its other tasks re-run). */
  private armTimeout(slot: Slot, task: Task): void {
    clearTimeout(task.timer);
    task.timer = setTimeout(() => this.timedOut(slot, task), this.options.taskTimeoutMs);
    task.timer.unref();
  }

  /** `task` ran past the timeout: it fails alone; its worker is replaced and the other episodes it held re-run on the new one. */
  private timedOut(slot: Slot, task: Task): void {
    if (slot.tasks.get(task.id) !== task) return;
    slot.tasks.delete(task.id);
    task.suspect = false;
    const limit = `took longer than ${this.options.taskTimeoutMs} ms (${this.settings.timeout})`;
    task.reject(new CreditWorkerPoolError(`processEpisode ${limit}; its credit worker was replaced`));
    this.replace(slot, `episode ${task.episode.episodeId}: processEpisode ${limit}`, 'timeout', { culpritKnown: true });
  }

  /** The heap limit as messages name it: its setting and value. */
  private heapLimit(): string {
    const mb = this.options.maxHeapMb ?? 0;
    // 0 or unset: no limit was given, the worker reached V8's own — "(0 MB)" named a limit there was not
    if (mb <= 0) return `its JS heap reached V8's default limit (${this.settings.heap ?? 'maxHeapMb'} is 0: none set)`;
    return `its JS heap reached ${this.settings.heap ?? 'the heap limit'} (${mb} MB)`;
  }

  /** What to do about the limit: raise it, or set one above V8's default when none is set. */
  private heapAdvice(): string {
    const setting = this.settings.heap ?? 'the limit';
    return (this.options.maxHeapMb ?? 0) > 0 ? `raise ${setting}` : `set ${setting} above V8's default heap limit`;
  }

  /**
   * The slot's worker reached its heap limit (Node stopped it: ERR_WORKER_OUT_OF_MEMORY). The
   * episode it was crediting, when it was crediting one, fails at once with that reason — a retry
   * on a fresh worker would grow to the limit again — and counts as a value-function failure for a
   * judge or module game (the metrics and the failing-value-function warning read it); the worker
   * is replaced and the episodes it held are re-run. With several started (an async value
   * function) the culprit is unknown: they re-run one at a time (`replace`), so the next time it
   * is known.
   */
  private outOfMemory(slot: Slot): void {
    const started = [...slot.tasks.values()].filter((t) => t.started === true);
    const reason = `credit worker out of memory: ${this.heapLimit()}`;
    if (started.length !== 1) {
      this.replace(slot, reason, 'out-of-memory');
      return;
    }
    const task = started[0]!;
    slot.tasks.delete(task.id);
    clearTimeout(task.timer);
    task.suspect = false;
    const game = this.options.config?.credit.game;
    const pluggable = game === 'http' || game === 'module';
    const raise = this.heapAdvice();
    const what = pluggable
      ? `the value function (credit.game: ${game}) keeps or allocates memory without bound, or the episode is too large for the limit: fix the leak or ${raise}`
      : `the episode is too large for the limit: ${raise}`;
    const message = `its credit worker ran out of memory crediting this episode: ${this.heapLimit()} — ${what}; the worker was replaced`;
    if (pluggable) {
      slot.retiredStats = addStats(slot.retiredStats, { valueFunctionFailures: 1 });
      this.lastValueFunctionError = `credit worker out of memory (episode ${task.episode.episodeId}): ${this.heapLimit()}`;
    }
    task.reject(new CreditWorkerPoolError(message));
    this.replace(slot, `episode ${task.episode.episodeId}: ${reason}`, 'out-of-memory', { culpritKnown: true });
  }

  /**
   * Workers, tasks in flight, replaced workers (in all, and by why: `restartsByReason` sums to
   * `restarts`), the value-function counters summed over workers, and the last value-function failure.
   */
  stats(): { workers: number; inFlight: number; restarts: number; restartsByReason: Readonly<Record<WorkerRestartReason, number>>; gameStats?: ObservedStats; lastValueFunctionError?: string } {
    let inFlight = 0;
    // a built-in game (provenance, the in-process API's) has no value-function counters
    const game = this.options.config?.credit.game;
    let gameStats: ObservedStats | undefined = game === 'http' || game === 'module' ? {} : undefined;
    for (const s of this.slots) {
      inFlight += s.tasks.size;
      if (gameStats === undefined) continue;
      for (const b of [s.shared, ...s.retiring]) if (b) gameStats = addStats(gameStats, readSharedStats(b));
      if (s.retiredStats) gameStats = addStats(gameStats, s.retiredStats);
    }
    return {
      workers: this.slots.length,
      inFlight,
      restarts: this.restarts,
      restartsByReason: { ...this.restartsBy },
      ...(gameStats ? { gameStats } : {}),
      ...(this.lastValueFunctionError !== undefined ? { lastValueFunctionError: this.lastValueFunctionError } : {}),
    };
  }

  /** Fails what is in flight, lets each worker flush its self-tracing (≤ 2 s), and terminates them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.ready) await flushWorker(s.worker, 2_000);
        await this.stopWorker(s, 'credit worker pool closed');
      }),
    );
  }

  /** A new slot with a started worker (`start` awaits it: see startWorker's `awaited`); resolves when it is ready. */
  private spawn(): Promise<Slot> {
    const slot: Slot = { worker: undefined as unknown as Worker, ready: false, tasks: new Map(), retiring: new Set() };
    return this.startWorker(slot, { awaited: true }).then(() => slot);
  }

  /**
   * Starts a worker for `slot`; on ready, sends the tasks that waited for it. `awaited`: a caller
   * waits for this start (CreditWorkerPool.start), so it keeps the process alive until the start
   * settles — the worker is unref'd, and a worker that dies while it starts (out of memory under
   * maxHeapMb, a module that exits as it loads) is reported by its exit, which an event loop with
   * nothing else in it never delivered: a script whose only work was `await CreditWorkerPool.start`
   * ended with code 13 (an unsettled top-level await) instead of the start's error. A replacement
   * starting for an idle pool keeps nothing alive, as before: no one waits for it.
   */
  private startWorker(slot: Slot, { awaited = false }: { awaited?: boolean } = {}): Promise<void> {
    const stage = this.options.config !== undefined ? { config: this.options.config } : { processOptions: this.options.processOptions! };
    // a fresh block per worker: the one before it is folded into the slot's totals once it has stopped (retire)
    slot.shared = sharedStatsBuffer();
    const init: WorkerInit = { ...stage, entryUrl: entryUrl.href, stats: slot.shared, ...(this.options.selfTracing === false ? { selfTracing: false } : {}) };
    const maxHeapMb = this.options.maxHeapMb ?? 0;
    const worker = new Worker(fromSources ? bootUrl : entryUrl, {
      workerData: init,
      name: 'agent-credit-credit',
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(maxHeapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}),
    });
    // An idle worker does not keep the process alive; one with tasks does (see holdWhileBusy).
    worker.unref();
    slot.worker = worker;
    slot.ready = false;
    holdWhileBusy(slot);
    const startTimeoutMs = this.options.startTimeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const fail = (message: string, setting = false) => {
        clearTimeout(startTimer);
        // given up for good, its listeners with it: a 'ready' already on its way (the start timeout
        // fired first) made the slot ready again, and the exit of this terminated worker then passed
        // for a crash of a running one — a second replacement started beside the pool's retry
        void terminate(worker);
        reject(new CreditWorkerPoolError(message, { setting }));
      };
      // cleared on every way the start settles (ready, or fail)
      const startTimer = setTimeout(() => fail(`a credit worker did not start within ${startTimeoutMs} ms`), startTimeoutMs);
      if (!awaited) startTimer.unref();
      worker.on('message', (m: WorkerReply) => {
        if (m.kind === 'ready') {
          clearTimeout(startTimer);
          slot.ready = true;
          this.dispatch(slot);
          holdWhileBusy(slot);
          resolve();
        } else if (m.kind === 'closed') {
          return; // answered in flushWorker
        } else if (m.kind === 'started') {
          const t = slot.tasks.get(m.id);
          if (t) {
            t.started = true;
            this.armTimeout(slot, t);
          }
        } else if (m.kind === 'fatal') {
          fail(`a credit worker could not build the configured credit stage: ${m.message}`, m.name === 'ModuleGameError');
        } else {
          const t = slot.tasks.get(m.id);
          if (!t) return; // already failed by a timeout
          slot.tasks.delete(m.id);
          holdWhileBusy(slot);
          clearTimeout(t.timer);
          // a suspect that settled on its own worker: the next one (or the others) go
          if (t.suspect) this.dispatch(slot);
          if (m.valueFunctionError !== undefined) this.lastValueFunctionError = m.valueFunctionError;
          if (m.kind === 'done' || m.kind === 'credited') {
            if (m.skipped !== undefined) this.options.onSkipped?.(t.episode, m.skipped.message, m.skipped);
            if (m.kind === 'credited') {
              t.resolve(unpackEvents(m.packed));
            } else {
              m.events.forEach((e, i) => rememberEventJson(e, m.json[i]!));
              t.resolve(m.events);
            }
          } else {
            const err = new Error(m.message);
            err.name = m.name;
            t.reject(err);
          }
        }
      });
      worker.on('error', (err) => {
        const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        if (!slot.ready) fail(oom ? `a credit worker ran out of memory while starting: ${this.heapLimit()} — ${this.heapAdvice()}` : `a credit worker failed to start: ${err.message}`);
        else if (oom) this.outOfMemory(slot);
        else this.replace(slot, `credit worker crashed: ${err.message}`, 'crash');
      });
      worker.on('exit', (code) => {
        if (!slot.ready) fail(`a credit worker exited with code ${code} before it was ready`);
        else if (slot.worker === worker) this.replace(slot, `credit worker exited with code ${code}`, 'crash');
      });
    });
  }

  /** Fails the slot's tasks with `reason` and terminates its worker. */
  private async stopWorker(slot: Slot, reason: string): Promise<void> {
    for (const t of slot.tasks.values()) {
      clearTimeout(t.timer);
      t.reject(new CreditWorkerPoolError(reason));
    }
    slot.tasks.clear();
    await terminate(slot.worker);
  }

  /**
   * Replaces a stuck or crashed worker in place. The tasks it held stay in the slot and are sent
   * to the fresh worker when it is ready (their timeouts restart when it starts them), except one
   * whose workers have now been stopped `maxWorkerDeaths` times while running it: that one fails,
   * saying so. A death counts against the tasks the worker had started; `culpritKnown` false (a
   * crash) and none started: against every task held; a crash with several started: against none
   * of them — they become suspects, re-run one at a time (dispatch), so the next crash names its
   * culprit.
   */
  private replace(slot: Slot, reason: string, why: WorkerRestartReason, { culpritKnown = false }: { culpritKnown?: boolean } = {}): void {
    // A slot not yet in `slots` is one whose worker was ready while `start` still waits for the
    // others: it is replaced too — left out, a worker that died then stayed in rotation, and the
    // episodes sent to it waited for ever (no 'started', so no timeout). A slot whose start failed
    // has no listeners left (`fail` terminates its worker), and a failed `start` closes the pool.
    if (this.closed) return;
    this.restarts++;
    this.restartsBy[why]++;
    const maxDeaths = this.options.maxWorkerDeaths ?? 3;
    const tasks = [...slot.tasks.values()];
    const started = tasks.filter((t) => t.started === true).length;
    const countAll = !culpritKnown && started === 0;
    const unclear = !culpritKnown && started > 1;
    let requeued = 0;
    let failed = 0;
    for (const t of tasks) {
      clearTimeout(t.timer);
      delete t.timer;
      t.sent = false;
      if (unclear && t.started === true) t.suspect = true;
      const counts = countAll || (t.started === true && !unclear);
      t.started = false;
      if (counts) t.deaths++;
      if (t.deaths >= maxDeaths) {
        slot.tasks.delete(t.id);
        failed++;
        t.reject(new CreditWorkerPoolError(`its credit worker was stopped ${t.deaths} times while it held this episode (last: ${reason}); not retried again`));
      } else {
        requeued++;
      }
    }
    const held = [requeued > 0 ? `${requeued} episode(s) it held are re-run on the replacement` : '', failed > 0 ? `${failed} failed after their worker was stopped ${maxDeaths} times` : '']
      .filter(Boolean)
      .join('; ');
    this.options.onWorkerRestart?.(`${reason}; its credit worker was replaced${held ? `; ${held}` : ''}`);
    this.retire(slot);
    this.startWorker(slot).catch((err: unknown) => this.outOfRotation(slot, (err as Error).message));
  }

  /**
   * Terminates the slot's worker; its value-function counters are read once more when it has
   * stopped — a worker stopped at the timeout may still be counting until then — and added to the
   * slot's totals. Meanwhile `stats()` reads them where the worker writes them.
   */
  private retire(slot: Slot): void {
    const shared = slot.shared;
    delete slot.shared;
    if (shared !== undefined) slot.retiring.add(shared);
    void terminate(slot.worker).then(() => {
      if (shared === undefined) return;
      slot.retiring.delete(shared);
      slot.retiredStats = addStats(slot.retiredStats, readSharedStats(shared));
    });
  }

  /**
   * A worker that could not be (re)started: its waiting tasks fail, the slot takes no work (the
   * other workers carry on; with none left, `process` fails fast), and a new start is tried every
   * `retryStartMs` — a value function whose service is down for a while does not end the pool.
   */
  private outOfRotation(slot: Slot, message: string): void {
    if (this.closed) return;
    slot.failed = message;
    for (const t of slot.tasks.values()) {
      clearTimeout(t.timer);
      t.reject(new CreditWorkerPoolError(`no credit worker: ${message}`));
    }
    slot.tasks.clear();
    this.options.onWorkerRestart?.(`replacing a credit worker failed: ${message}; retrying in ${this.retryStartMs / 1000} s`);
    const retry = setTimeout(() => {
      if (this.closed) return;
      this.startWorker(slot).then(
        () => {
          delete slot.failed;
          this.options.onWorkerRestart?.('a credit worker is running again');
        },
        (err: unknown) => this.outOfRotation(slot, (err as Error).message),
      );
    }, this.retryStartMs);
    retry.unref();
  }
}

/** Terminates `w`, ignoring whatever it still says. */
async function terminate(w: Worker): Promise<void> {
  w.removeAllListeners();
  w.on('error', () => undefined);
  await w.terminate().catch(() => undefined);
}

/** Asks a worker to flush its telemetry; resolves on its answer or after `timeoutMs`. */
function flushWorker(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve();
    }
    function onMessage(m: WorkerReply) {
      if (m.kind === 'closed') done();
    }
    worker.on('message', onMessage);
    worker.postMessage({ kind: 'close' } satisfies PoolMessage);
  });
}

/** A worker keeps the process alive exactly while it has tasks: a replay's last episodes finish, an idle pool lets the process exit. */
function holdWhileBusy(slot: Slot): void {
  if (slot.tasks.size > 0) slot.worker.ref();
  else slot.worker.unref();
}

function send(slot: Slot, task: Task): void {
  const req: PoolMessage = { kind: 'task', id: task.id, episode: task.episode, ...(task.packed ? { packed: true } : {}) };
  slot.worker.postMessage(req);
}

function addStats(a: ObservedStats | undefined, b: ObservedStats): ObservedStats {
  if (!a) return { ...b };
  const out: Record<string, number> = { ...(a as Record<string, number>) };
  for (const [k, v] of Object.entries(b as Record<string, number>)) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
  return out as ObservedStats;
}
