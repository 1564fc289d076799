/**
 * `CachedGame`: the one place where a game's value function is called. It memoizes coalition
 * values (CoalitionValues, least recently used evicted; key = game id + coalition bitmask, so
 * values are shared by every estimator of one episode and never across episodes), counts evaluations (cache misses) and hits, enforces an
 * evaluation budget, limits the concurrency of slow async games, de-duplicates in-flight
 * evaluations, and stops on an AbortSignal. It refuses what is not a Game and a game whose players
 * repeat a name (`checkDistinctPlayers`): every estimator goes through it.
 */
import { BudgetExhaustedError, EstimationAbortedError, GameEvaluationError } from '../errors.js';
import type { Game } from '../types.js';
import { checkOptionKeys } from '../shapley/check-options.js';
import { checkDistinctPlayers, coalitionKeyIfBinary } from './coalition.js';
import { CoalitionValues } from './coalition-values.js';

export interface CachedGameOptions {
  /** Max evaluations (cache misses) over the wrapper's life; default unlimited. */
  budget?: number;
  /** Max concurrent in-flight `value` calls of the inner game; default 8. */
  concurrency?: number;
  /**
   * Max cached coalition values; default 65,536 (a 14-player exact run needs 16,384). Bounded with
   * lru-cache's `maxSize` (each entry size 1) rather than `max`: `max` preallocates that many slots
   * at construction, which cost ~5 ms per episode — more than the whole credit computation.
   */
  maxEntries?: number;
  signal?: AbortSignal;
}

/**
 * Refuses options a `CachedGame` cannot run with, naming the option. Before, `maxEntries: 0` failed
 * inside lru-cache ("cannot set sizeCalculation without setting maxSize or maxEntrySize"), a
 * negative budget said "budget exhausted (0/-1 evaluations)" at the first look-up, and a misspelt
 * key (`maxEntires`) was ignored. A concurrency below 1 is refused too (creditEpisode's takes ≥ 1).
 */
function checkCachedGameOptions(options: CachedGameOptions): void {
  checkOptionKeys(options, ['budget', 'concurrency', 'maxEntries', 'signal'], 'CachedGame');
  const { budget, concurrency, maxEntries } = options;
  if (budget !== undefined && !(typeof budget === 'number' && budget >= 0 && (Number.isInteger(budget) || budget === Number.POSITIVE_INFINITY))) {
    throw new RangeError(`CachedGame option budget must be a whole number of evaluations ≥ 0 (or Infinity: no limit), got ${String(budget)}`);
  }
  for (const [key, v] of [['concurrency', concurrency], ['maxEntries', maxEntries]] as const) {
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new RangeError(`CachedGame option ${key} must be a whole number ≥ 1, got ${String(v)}; leave it out for the default`);
  }
}

export class CachedGame implements Game {
  readonly id: string;
  readonly players: readonly string[];
  /**
   * Evaluations of the inner game answered so far (cache misses that gave a value), plus those in
   * flight: a miss is counted when it is issued (the budget holds in-flight ones too) and taken
   * back when it gives no value — it failed, its run gave up on it (the signal aborted, or another
   * evaluation of its valueMany failed), or it never started. Before, those stayed counted: an
   * exact run of 6 agents cut by credit.timeoutMs after 4 calls (2 answered) reported
   * `estimator.evaluations: 64` — "evaluations the result rests on" in the events.
   */
  evaluations = 0;
  hits = 0;
  budget: number;
  private readonly cache: CoalitionValues;
  /** Evaluations under way by key; made with the first (a synchronous game, the closed forms never have one). */
  private inflight: Map<string, Promise<number>> | undefined;
  private readonly concurrency: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly signal: AbortSignal | undefined;
  readonly closedForm?: () => readonly number[];

  constructor(
    readonly inner: Game,
    options: CachedGameOptions = {},
  ) {
    checkDistinctPlayers(inner); // first: a TypeError naming what is missing, not one from reading it
    this.id = inner.id;
    this.players = inner.players;
    checkCachedGameOptions(options);
    this.budget = options.budget ?? Number.POSITIVE_INFINITY;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.cache = new CoalitionValues(options.maxEntries ?? 65_536);
    this.signal = options.signal;
    if (inner.closedForm) this.closedForm = () => inner.closedForm!();
  }

  /** Reuse `game` when it is already a CachedGame (shared cache), else wrap it. */
  static wrap(game: Game, options: CachedGameOptions = {}): CachedGame {
    return game instanceof CachedGame ? game : new CachedGame(game, options);
  }

  /** Coalition values held in the cache now (evaluated, not evicted). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * Smallest and largest coalition value held in the cache now (undefined when it holds none).
   * Walks the cache: for reporting a result (a sampled run's interval of no information), not for
   * a sampling loop.
   */
  valueRange(): { min: number; max: number } | undefined {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of this.cache.values()) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return min <= max ? { min, max } : undefined;
  }

  get remaining(): number {
    return this.budget - this.evaluations;
  }

  /** Raises the budget by `extra` evaluations (anytime estimators' `continue`). */
  addBudget(extra: number): void {
    this.budget = this.evaluations + Math.max(0, this.remaining) + Math.max(0, extra);
  }

  setBudget(budget: number): void {
    this.budget = budget;
  }

  /**
   * The cache key. An entry other than 0/1 is refused: the key reads entries as members when
   * non-zero, but games need not (a module game takes `=== 1`), so [2, 0, 0] was evaluated as ∅ by
   * such a game and cached as {0} — every later {0} got ∅'s value.
   */
  private key(coalition: Uint8Array): string {
    // The cache key is the coalition's bitmask: a mask of another length would be stored under a
    // key of this game (a 3-entry empty mask and the 4-player ∅ are both `0`) and poison the cache.
    // Checked here, so peek() refuses it too (it named "player undefined" for an entry past the end).
    if (coalition.length !== this.players.length) {
      throw new RangeError(`game ${this.id} has ${this.players.length} players, the coalition has ${coalition.length} entries: a coalition is a 0/1 Uint8Array with one entry per player, indexed like game.players`);
    }
    const mask = coalitionKeyIfBinary(coalition);
    if (mask === undefined) {
      const at = coalition.findIndex((x) => x !== 0 && x !== 1);
      throw new RangeError(`game ${this.id}: coalition entry ${at} (player ${JSON.stringify(this.players[at])}) is ${coalition[at]}: a coalition is a 0/1 Uint8Array with one entry per player, indexed like game.players (1 = in the coalition)`);
    }
    return `${this.id}:${mask}`;
  }

  /** Cached value, or undefined (counts nothing). */
  peek(coalition: Uint8Array): number | undefined {
    return this.cache.get(this.key(coalition));
  }

  /**
   * v(coalition). Synchronous when cached or when the inner game is synchronous; throws
   * `BudgetExhaustedError` before a miss beyond the budget, `GameEvaluationError` when the game fails.
   */
  value(coalition: Uint8Array): number | Promise<number> {
    return this.valueIn(coalition, undefined);
  }

  /** `value`; `call`: the `valueMany` it belongs to, whose waiting evaluations stop once one of them failed. */
  private valueIn(coalition: Uint8Array, call: { failed?: unknown } | undefined): number | Promise<number> {
    const key = this.key(coalition);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    const pending = this.inflight?.get(key);
    if (pending) {
      this.hits++;
      return pending;
    }
    if (this.signal?.aborted) throw new EstimationAbortedError(this.signal.reason);
    if (this.evaluations >= this.budget) throw new BudgetExhaustedError(this.budget, this.evaluations);
    this.evaluations++;
    let out: number | Promise<number>;
    if (this.active < this.concurrency && this.waiting.length === 0) {
      this.active++;
      try {
        out = this.inner.value(coalition);
      } catch (err) {
        this.release();
        this.evaluations--;
        throw new GameEvaluationError(this.id, key, (err as Error)?.message ?? String(err), { cause: err });
      }
      if (typeof out === 'number') this.release();
      else if (isThenable(out)) out = Promise.resolve(out).finally(() => this.release());
      else {
        // a value function returning a string, undefined, … got `out.finally is not a function`
        this.release();
        return this.storeAnswer(key, out);
      }
    } else {
      out = this.queued(coalition, call);
    }
    if (typeof out === 'number') return this.storeAnswer(key, out);
    const p = this.track(key, out);
    (this.inflight ??= new Map()).set(key, p);
    return p;
  }

  /**
   * Values of many coalitions, evaluated concurrently up to the concurrency limit. When the misses
   * exceed the remaining budget, the affordable ones are evaluated (and cached, so a continued run
   * reuses them) and then `BudgetExhaustedError` is thrown.
   */
  async valueMany(coalitions: readonly Uint8Array[]): Promise<number[]> {
    const out = new Array<number>(coalitions.length);
    const pending: Promise<void>[] = [];
    let budgetError: unknown;
    // Once one evaluation failed the call throws: those still waiting for a slot are not started
    // (an exact run over a judge that is down sent every coalition, each with its retries).
    const call: { failed?: unknown } = {};
    const noteFailure = (err: unknown) => {
      call.failed ??= err;
      throw err;
    };
    for (let i = 0; i < coalitions.length; i++) {
      let v: number | Promise<number>;
      try {
        v = this.valueIn(coalitions[i]!, call);
      } catch (err) {
        if (err instanceof BudgetExhaustedError) {
          budgetError = err;
          continue;
        }
        await Promise.allSettled(pending);
        throw err;
      }
      if (typeof v === 'number') out[i] = v;
      else pending.push(v.then((x) => void (out[i] = x), noteFailure));
    }
    if (pending.length > 0) {
      const settled = await Promise.allSettled(pending);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    if (budgetError) throw budgetError;
    return out;
  }

  private store(key: string, v: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new GameEvaluationError(this.id, key, `value is ${describeValue(v)}, expected a finite number (or a Promise of one)`);
    }
    this.cache.set(key, v);
    return v;
  }

  /** `store` for a miss this call counted: taken back from `evaluations` when the answer is refused. */
  private storeAnswer(key: string, v: number): number {
    try {
      return this.store(key, v);
    } catch (err) {
      this.evaluations--;
      throw err;
    }
  }

  private async track(key: string, p: Promise<number>): Promise<number> {
    try {
      const v = await this.abortable(p);
      return this.store(key, v);
    } catch (err) {
      // no value: not an evaluation the result rests on (nor one that spent the budget, if it never started)
      this.evaluations--;
      if (err instanceof GameEvaluationError || err instanceof EstimationAbortedError) throw err;
      throw new GameEvaluationError(this.id, key, (err as Error)?.message ?? String(err), { cause: err });
    } finally {
      this.inflight?.delete(key);
    }
  }

  /**
   * `p`, rejected with `EstimationAbortedError` when the signal aborts first. One 'abort' listener
   * per game while anything is in flight (added with the first pending evaluation, removed with the
   * last): a listener per evaluation put a batch's whole queue on the signal at once (an exact run
   * of a 6-agent module game: 64) and Node warned of a listener leak (MaxListenersExceededWarning)
   * on every such episode.
   */
  private abortable<T>(p: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) {
        // `p` is given up on, but it may still reject (a DeadlineGame rejects the very call that
        // found the time over): unobserved, that rejection reached the process as an unhandled
        // one, which ends a job crediting on its main thread (runtime.creditWorkers 0)
        p.then(undefined, () => undefined);
        return reject(new EstimationAbortedError(signal.reason));
      }
      const abort = (err: EstimationAbortedError) => reject(err);
      const waiters = (this.abortWaiters ??= new Set());
      const onAbort = (this.onAbort ??= () => this.abortAll());
      waiters.add(abort);
      if (waiters.size === 1) signal.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        waiters.delete(abort);
        if (waiters.size === 0) signal.removeEventListener('abort', onAbort);
      };
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  // Made with the first evaluation that waits on a signal: most games never have one.
  private abortWaiters: Set<(err: EstimationAbortedError) => void> | undefined;
  private onAbort: (() => void) | undefined;
  private abortAll(): void {
    const err = new EstimationAbortedError(this.signal?.reason);
    const waiters = [...this.abortWaiters!];
    this.abortWaiters!.clear();
    for (const w of waiters) w(err);
  }

  private async queued(coalition: Uint8Array, call?: { failed?: unknown }): Promise<number> {
    if (this.active >= this.concurrency || this.waiting.length > 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      // Another evaluation of the same valueMany failed, or aborted while waiting (credit.timeoutMs):
      // the run has given up on this value, so the game is not asked for it — before, every
      // coalition still queued (an exact run's 2^n) went on to a slow judge after its episode was
      // abandoned, holding the shared client for the next ones. The slot this waiter was handed
      // goes to the next one, which stops the same way.
      const stop = call?.failed !== undefined ? call.failed : this.signal?.aborted ? new EstimationAbortedError(this.signal.reason) : undefined;
      if (stop !== undefined) {
        this.waiting.shift()?.();
        throw stop;
      }
    }
    this.active++;
    try {
      return await this.inner.value(coalition);
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

function isThenable(x: unknown): x is PromiseLike<number> {
  return typeof (x as PromiseLike<number> | null)?.then === 'function';
}

/** What a value function returned instead of a number, for the error (JSON.stringify throws on a bigint or a cycle). */
export function describeValue(v: unknown): string {
  if (typeof v === 'number' || v == null) return String(v);
  if (typeof v === 'bigint') return `a bigint (${v}n)`;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  return `${typeof v === 'object' ? 'an' : 'a'} ${typeof v} (${text ?? String(v)})`;
}
