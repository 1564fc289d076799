/**
 * `http` game: a counterfactual judge over HTTP (architecture.md, Credit → Game 2).
 *
 * For a coalition S, the episode's messages are POSTed to the team's evaluator with the
 * messages of players outside S removed (`mask`: dropped from the list) or neutralised
 * (`null`: kept in place, `masked: true`, content replaced by a neutral placeholder), and the
 * evaluator answers `{ score }`. v(S) = that score.
 *
 * Wire contract (JSON, documented by the zod schemas below):
 *   POST {url}         JudgeRequest         → 200 JudgeResponse        `{ score: number }`
 *   POST {batchUrl}    JudgeBatchRequest    → 200 JudgeBatchResponse   `{ scores: number[] }` (same order)
 * `batchUrl` defaults to `{url}/batch`; with `batch: 'auto'` a 404/405/501 on the first batch
 * call switches the client to parallel single calls for good.
 *
 * Cost control: an LRU cache of coalition values keyed by episode id + a digest of its messages (a
 * correction of the episode with late messages is another list) + removal protocol +
 * evaluation name + player kind + the messages the coalition keeps (a judge is expensive and must
 * be deterministic for a given request), in-flight de-duplication, a concurrency limit with a bounded wait queue, a per-call
 * timeout (AbortSignal), retries with exponential backoff and full jitter on 5xx/429/timeouts/
 * network errors — a 429/503 with Retry-After is not called again before the time it names, at most
 * MAX_RETRY_AFTER_MS (see `holdUntil`) —, and a per-game evaluation budget. Failures surface as `JudgeError` (with
 * `retriable` and `kind`) so the estimator can return a partial, flagged result instead of stalling.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { MAX_TIMER_MS } from '../../config/defaults.js';
import { fetchBlockedPort } from '../../http/fetch-ports.js';
import type { AgentStep } from '../../model/agents.js';
import type { Game } from '../types.js';
import { describeValue } from './cached-game.js';

const RemovalProtocolSchema = z.enum(['mask', 'null']);
export type RemovalProtocol = z.infer<typeof RemovalProtocolSchema>;

/** One message of the episode as the judge sees it. */
const JudgeMessageSchema = z.object({
  step_id: z.string(),
  agent_id: z.string(),
  /** AgentStep kind: llm, tool, handoff */
  kind: z.string(),
  /** span name */
  name: z.string(),
  /** Output text; null when not captured. Under `null` removal, masked messages carry the placeholder. */
  content: z.string().nullable(),
  /** True only under `null` removal, for messages of players outside the coalition. */
  masked: z.boolean(),
});
export type JudgeMessage = z.infer<typeof JudgeMessageSchema>;

export const JudgeRequestSchema = z.object({
  episode_id: z.string(),
  /** Players kept (agent ids, or step ids when players are messages). */
  coalition: z.array(z.string()),
  removal_protocol: RemovalProtocolSchema,
  /** In causal/time order. Under `mask` only the kept messages are sent. */
  messages: z.array(JudgeMessageSchema),
  /** The evaluation to reproduce, e.g. `task_success`. */
  evaluation_name: z.string(),
});
export type JudgeRequest = z.infer<typeof JudgeRequestSchema>;

const JudgeResponseSchema = z.object({ score: z.number().finite() });
export type JudgeResponse = z.infer<typeof JudgeResponseSchema>;

export const JudgeBatchRequestSchema = z.object({ requests: z.array(JudgeRequestSchema).min(1) });
export type JudgeBatchRequest = z.infer<typeof JudgeBatchRequestSchema>;
const JudgeBatchResponseSchema = z.object({ scores: z.array(z.number().finite()) });

/**
 * fetch refuses URLs with credentials ("Request cannot be constructed from a URL that includes credentials"): said at start, not per call.
 * So it does other schemes than http(s): `ftp://…` or `file://…` passed (z.url() takes any scheme) and every call failed with "fetch failed".
 */
const judgeUrl = () =>
  z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL of the judge endpoint, e.g. http://localhost:8000/judge' }).refine((u) => {
    if (!URL.canParse(u)) return true; // z.url() reports it
    const url = new URL(u);
    return url.username === '' && url.password === '';
  }, 'a URL with user:password@ is refused by fetch: give the credentials in judge.headers (e.g. Authorization: Basic …)')
    .superRefine((u, ctx) => {
      const port = fetchBlockedPort(u);
      if (port !== undefined) ctx.addIssue({ code: 'custom', message: port });
    });

export const HttpJudgeOptionsSchema = z.object({
  /** Evaluator endpoint receiving one JudgeRequest per POST. */
  url: judgeUrl(),
  /** Batch endpoint; default `{url}/batch` (the path, before any query). */
  batchUrl: judgeUrl().optional(),
  /** `auto`: try the batch endpoint, fall back to parallel singles if it is missing. */
  batch: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Max coalitions per batch request. */
  maxBatchSize: z.number().int().min(1).max(1024).default(32),
  removalProtocol: RemovalProtocolSchema.default('mask'),
  /** Content of masked messages under `null` removal. */
  nullPlaceholder: z.string().default('(no response)'),
  /**
   * `agents`: the judge scores coalitions of agents (agent credit φ_i); message rewards then split
   * φ_i without a message-level δ_m. `messages`: the runtime also builds a message game (players =
   * messages) from the same judge for δ_m — |M| + 1 more calls per episode for leave-one-out.
   * A game built directly with `game()` has these players unless its episode names others.
   */
  players: z.enum(['agents', 'messages']).default('agents'),
  evaluationName: z.string().default('task_success'),
  /**
   * Per HTTP attempt, milliseconds; at most MAX_TIMER_MS (≈ 24.8 days, the longest Node.js timer:
   * AbortSignal.timeout of a longer one fires after 1 ms, so every call "did not answer").
   * 4 000 by default: two attempts fit in the episode's credit.timeoutMs (10 000), so a call that
   * hangs is retried in time. At 10 000, as it was, the episode's deadline — started first — always
   * cut the first attempt, and `retries` never applied to a timeout.
   */
  timeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).default(4_000),
  /** Retries after the first attempt (so at most retries+1 attempts per request). */
  retries: z.number().int().min(0).max(20).default(3),
  /** Backoff before retry k (k = 0, 1, ...): random in [0, min(maxBackoffMs, backoffMs * 2^k)]. */
  backoffMs: z.number().int().min(0).max(MAX_TIMER_MS).default(100),
  maxBackoffMs: z.number().int().min(0).max(MAX_TIMER_MS).default(5_000),
  /** Max HTTP requests in flight for this client. */
  concurrency: z.number().int().min(1).max(1024).default(4),
  /** Max requests waiting for a slot; beyond it calls fail fast (`overloaded`). */
  maxQueue: z.number().int().min(0).default(10_000),
  /**
   * Max judge evaluations (cache misses) per game; unlimited when absent. An episode has one game
   * (the agent game), two with `players: messages` (the message game, which the prefix values also
   * use, has its own budget).
   */
  budget: z.number().int().min(0).optional(),
  /** Cached coalition values (entries). */
  cacheSize: z.number().int().min(1).default(100_000),
  /**
   * Sent with every call (credentials: `Authorization`, `x-api-key`). A value with a line break or
   * NUL inside — `Basic $(… | base64)` wraps at 76 columns — is refused here: fetch throws
   * `Headers.append: "<the value>" is an invalid header value.`, which every call then reported as
   * "judge unreachable" (retried), and that message went into the events' warnings and the log
   * with the credential in it. fetch itself trims spaces and line breaks at either end.
   */
  headers: z
    .record(
      z.string(),
      z.string().refine((v) => !/[\r\n\0]/.test(v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')), 'a header value cannot hold a line break or NUL inside it (an HTTP request cannot carry it): write it on one line — e.g. base64 -w0 for a Basic credential'),
    )
    .default({}),
  /** Largest judge answer read (bytes); a longer one fails the call (`invalid-response`). */
  maxResponseBytes: z.number().int().min(1024).default(4 * 1024 * 1024),
});
export type HttpJudgeOptions = z.input<typeof HttpJudgeOptionsSchema>;
type ResolvedOptions = z.output<typeof HttpJudgeOptionsSchema>;

export type JudgeErrorKind = 'timeout' | 'http' | 'network' | 'invalid-response' | 'budget' | 'overloaded' | 'aborted';

/** A failed judge evaluation. `retriable` says whether a later attempt may succeed. */
export class JudgeError extends Error {
  constructor(
    message: string,
    readonly kind: JudgeErrorKind,
    readonly retriable: boolean,
    readonly status?: number,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'JudgeError';
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
  /** Ms the judge asked to wait before the next call (Retry-After of a 429/503, at most MAX_RETRY_AFTER_MS), when it said. */
  readonly retryAfterMs?: number;
}

/** Counters for metrics; monotonic over the client's life. */
export interface HttpJudgeStats {
  /** HTTP requests sent, retries included. */
  calls: number;
  /** Batch requests among `calls`. */
  batchCalls: number;
  /** Coalition values obtained from the judge (cache misses that succeeded). */
  evaluations: number;
  cacheHits: number;
  retries: number;
  /** Coalition evaluations that failed for good (after retries). */
  failures: number;
  /** Attempts that hit the per-call timeout. */
  timeouts: number;
  /** Evaluations refused because the game's budget was spent. */
  budgetExhausted: number;
  inFlight: number;
  queued: number;
}

/** The episode a game is built for: its id and its steps (only rewardable steps are messages). */
export interface JudgeEpisode {
  readonly episodeId: string;
  readonly steps: readonly AgentStep[];
  /** Player order; default: agents in order of first step (or rewardable step ids). */
  readonly players?: readonly string[];
  /** What the players are: agent ids or message (rewardable step) ids. Default: the client's `players` option. */
  readonly playerKind?: 'agents' | 'messages';
}

/** A `Game` whose values come from the judge, with a batched `valueMany`. */
export interface HttpJudgeGame extends Game {
  value(coalition: Uint8Array): Promise<number>;
  /** Values of several coalitions; one batch request per `maxBatchSize` misses when supported. */
  valueMany(coalitions: readonly Uint8Array[]): Promise<number[]>;
  /** Judge evaluations this game has spent (budget accounting). */
  readonly evaluationsUsed: number;
}

type Fetch = typeof globalThis.fetch;

/**
 * The longest a Retry-After holds off the judge (ms): a longer one is held this long, then calls
 * go out again (and a judge still refusing them names the time again). A rate limit's Retry-After
 * is seconds; hours (a daily quota, a proxy's maintenance page) would stop all credit for that long.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Shared client: one per configured judge, shared by all episodes' games so that the cache,
 * the concurrency limit and the counters are global.
 */
export class HttpJudgeClient {
  readonly options: ResolvedOptions;
  private readonly cache: LRUCache<string, number>;
  private readonly inflight = new Map<string, Promise<number>>();
  private readonly waiters: (() => void)[] = [];
  private active = 0;
  private batchSupported: boolean | undefined;
  private readonly batchUrl: string;
  private readonly counters: HttpJudgeStats = { calls: 0, batchCalls: 0, evaluations: 0, cacheHits: 0, retries: 0, failures: 0, timeouts: 0, budgetExhausted: 0, inFlight: 0, queued: 0 };
  private lastFailure: string | undefined;
  /**
   * Epoch ms before which the judge asked not to be called (Retry-After of a 429 or 503), shared by
   * every episode's calls. Before, Retry-After was ignored: each call was retried after 0–100,
   * 0–200, 0–400 ms and every new episode called again, so a rate-limited judge that asked for 30 s
   * got four requests per call and more from each episode that followed.
   */
  private holdUntil = 0;
  private holdStatus = 429;
  /** Ms the judge asked for with the Retry-After behind `holdUntil`, when longer than MAX_RETRY_AFTER_MS (the message says so). */
  private holdAskedMs: number | undefined;

  constructor(
    options: HttpJudgeOptions,
    private readonly deps: {
      fetch?: Fetch;
      random?: () => number;
      sleep?: (ms: number) => Promise<void>;
      /** Called after any counter of `stats()` changed: a credit worker publishes them at once (src/runtime/credit-workers/shared-stats.ts). */
      onCount?: () => void;
    } = {},
  ) {
    const parsed = HttpJudgeOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`invalid http judge option "${issue.path.join('.')}": ${issue.message}`);
    }
    this.options = parsed.data;
    this.batchUrl = this.options.batchUrl ?? batchUrlOf(this.options.url);
    this.cache = new LRUCache({ max: this.options.cacheSize });
    if (this.options.batch === 'never') this.batchSupported = false;
  }

  /** One more of counter `key`, told to `deps.onCount`. */
  private count(key: Exclude<keyof HttpJudgeStats, 'inFlight' | 'queued'>): void {
    this.counters[key]++;
    this.deps.onCount?.();
  }

  stats(): HttpJudgeStats {
    return { ...this.counters, inFlight: this.active, queued: this.waiters.length };
  }

  /** The message of the last evaluation that failed for good (`failures`), or undefined. Names the judge by `shownUrl`. */
  lastError(): string | undefined {
    return this.lastFailure;
  }

  /** A game over `episode` (players = agents or rewardable messages, per options). */
  game(episode: JudgeEpisode, gameOptions: { budget?: number; signal?: AbortSignal } = {}): HttpJudgeGame {
    return new JudgeGame(this, episode, gameOptions.budget ?? this.options.budget, gameOptions.signal);
  }

  /** @internal cache lookup shared by games */
  cached(key: string): number | undefined {
    const v = this.cache.get(key);
    if (v !== undefined) this.count('cacheHits');
    return v;
  }

  /** @internal */
  pending(key: string): Promise<number> | undefined {
    const p = this.inflight.get(key);
    if (p) this.count('cacheHits');
    return p;
  }

  /** @internal evaluates uncached requests, batching when possible; fills the cache. */
  evaluate(entries: readonly { key: string; request: JudgeRequest }[], signal?: AbortSignal): Promise<number>[] {
    const promises = new Map<string, Promise<number>>();
    const seen = new Set<string>();
    const fresh: { key: string; request: JudgeRequest }[] = [];
    for (const e of entries) {
      if (seen.has(e.key)) continue;
      seen.add(e.key);
      fresh.push(e);
    }
    const useBatch = fresh.length > 1 && this.batchSupported !== false;
    if (useBatch) {
      // While batch support is unknown, the first chunk probes it and the others wait for the answer.
      let probe: Promise<unknown> | undefined;
      for (let i = 0; i < fresh.length; i += this.options.maxBatchSize) {
        const chunk = fresh.slice(i, i + this.options.maxBatchSize);
        const run = () => this.runBatch(chunk.map((c) => c.request), signal);
        const all = probe ? probe.then(run, run) : run();
        if (!probe && this.batchSupported === undefined) probe = all;
        chunk.forEach((c, j) => promises.set(c.key, all.then((scores) => scores[j]!)));
      }
    } else {
      for (const e of fresh) promises.set(e.key, this.runSingle(e.request, signal));
    }
    for (const [key, p] of promises) {
      const tracked = p.then(
        (score) => {
          this.count('evaluations');
          this.cache.set(key, score);
          this.inflight.delete(key);
          return score;
        },
        (err: unknown) => {
          // cut by its episode's credit giving up (credit.timeoutMs), not a failure of the judge
          if (!(err instanceof JudgeError && err.kind === 'aborted')) {
            this.count('failures');
            this.lastFailure = (err as Error)?.message ?? String(err);
          }
          this.inflight.delete(key);
          throw err;
        },
      );
      // Callers attach handlers; this keeps an unobserved rejection from crashing the process.
      tracked.catch(() => undefined);
      this.inflight.set(key, tracked);
      promises.set(key, tracked);
    }
    return entries.map((e) => promises.get(e.key)!);
  }

  /** @internal */
  noteBudgetExhausted(): void {
    this.count('budgetExhausted');
  }

  private async runSingle(request: JudgeRequest, signal?: AbortSignal): Promise<number> {
    const body = await this.postWithRetry(this.options.url, request, signal, false);
    const parsed = JudgeResponseSchema.safeParse(body);
    if (!parsed.success) throw new JudgeError(`judge ${shownUrl(this.options.url)} answered without a finite "score": ${parsed.error.issues[0]!.message}`, 'invalid-response', false);
    return parsed.data.score;
  }

  private async runBatch(requests: JudgeRequest[], signal?: AbortSignal): Promise<number[]> {
    if (this.batchSupported === false) return Promise.all(requests.map((r) => this.runSingle(r, signal)));
    const url = this.batchUrl;
    try {
      const body = await this.postWithRetry(url, { requests } satisfies JudgeBatchRequest, signal, true);
      const parsed = JudgeBatchResponseSchema.safeParse(body);
      if (!parsed.success || parsed.data.scores.length !== requests.length) {
        // what was wrong with it: "must answer { scores: number[8] }" alone left a judge that sent
        // "NaN" strings, nulls or 7 scores to guess which
        const got = parsed.success ? `it answered ${parsed.data.scores.length} score(s)` : `it answered ${batchAnswerProblem(body)}`;
        throw new JudgeError(`judge batch ${shownUrl(url)} must answer { scores: number[${requests.length}] } (finite numbers, in the requests' order): ${got}`, 'invalid-response', false);
      }
      this.batchSupported = true;
      return parsed.data.scores;
    } catch (err) {
      const missing = err instanceof JudgeError && err.kind === 'http' && (err.status === 404 || err.status === 405 || err.status === 501);
      if (missing && this.options.batch === 'auto' && this.batchSupported !== true) {
        this.batchSupported = false;
        return Promise.all(requests.map((r) => this.runSingle(r, signal)));
      }
      throw err;
    }
  }

  private async postWithRetry(url: string, payload: unknown, signal: AbortSignal | undefined, batch: boolean): Promise<unknown> {
    const { retries, backoffMs, maxBackoffMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.waitForHold(url);
        return await this.withSlot(() => this.post(url, payload, signal, batch));
      } catch (err) {
        const retriable = err instanceof JudgeError && err.retriable;
        // asked to wait longer than this client waits between attempts: a retry would be refused
        const heldTooLong = err instanceof JudgeError && err.retryAfterMs !== undefined && err.retryAfterMs > maxBackoffMs;
        if (!retriable || heldTooLong || attempt >= retries || signal?.aborted) throw err;
        this.count('retries');
        const cap = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
        await (this.deps.sleep ?? sleep)((this.deps.random ?? Math.random)() * cap);
      }
    }
  }

  /**
   * Waits out a Retry-After the judge gave (`holdUntil`) when it ends within `maxBackoffMs`, the
   * longest this client waits between attempts; a longer one fails the call at once, not sent:
   * the judge said it would refuse it.
   */
  private async waitForHold(url: string): Promise<void> {
    const wait = this.holdUntil - Date.now();
    if (wait <= 0) return;
    if (wait > this.options.maxBackoffMs) {
      const asked = this.holdAskedMs !== undefined ? `: ${Math.ceil(this.holdAskedMs / 1000)} s, held to ${MAX_RETRY_AFTER_MS / 1000} s, the longest this client holds off a judge` : '';
      throw new JudgeError(
        `judge ${shownUrl(url)} asked (HTTP ${this.holdStatus} with Retry-After${asked}) not to be called for ${Math.ceil(wait / 1000)} s more: not called — more than credit.judge.maxBackoffMs (${this.options.maxBackoffMs} ms; library: HttpJudgeClient option "maxBackoffMs") to wait; raise its rate limit or lower credit.judge.concurrency`,
        'http',
        false,
        this.holdStatus,
      );
    }
    await (this.deps.sleep ?? sleep)(wait);
  }

  private async post(url: string, payload: unknown, signal: AbortSignal | undefined, batch: boolean): Promise<unknown> {
    // given up while it waited for a slot: not sent
    if (signal?.aborted) throw new JudgeError(`judge call to ${shownUrl(url)} aborted by caller`, 'aborted', false);
    this.count('calls');
    if (batch) this.count('batchCalls');
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await (this.deps.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.options.headers },
        body: JSON.stringify(payload),
        signal: combined,
        // Not followed: fetch re-sent judge.headers (an api key under any name but Authorization)
        // to wherever the Location pointed, another host included, and a 301/302/303 turned the
        // POST into a GET without the request, so the judge answered something unrelated.
        redirect: 'manual',
      });
    } catch (err) {
      throw this.classifyAbort(err, url, signal, timeout);
    }
    if (res.status >= 300 && res.status < 400) {
      void res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      let to = '';
      try {
        if (location !== null) to = ` to ${shownUrl(new URL(location, url).href)}`;
      } catch {
        /* an unparsable Location: the status says enough */
      }
      throw new JudgeError(
        `judge ${shownUrl(url)} answered HTTP ${res.status}, a redirect${to}: redirects are not followed (they would send judge.headers to another address); set judge.url${batch ? ' / judge.batchUrl' : ''} to the address that answers`,
        'http',
        false,
        res.status,
      );
    }
    let text: string;
    try {
      text = await readCapped(res, this.options.maxResponseBytes);
    } catch (err) {
      if (err instanceof JudgeError) throw err;
      if (signal?.aborted || timeout.aborted) throw this.classifyAbort(err, url, signal, timeout);
      // The judge answered (a status line came) and the connection closed before the body's end:
      // reported as "unreachable … check credit.judge.url, or start the judge", which sent the
      // user after an address and a process that were both fine.
      throw new JudgeError(
        `judge ${shownUrl(url)} answered HTTP ${res.status} but the connection closed before the answer's end: ${networkReason(err)} — the judge (or a proxy in front of it) dropped it mid-answer; its logs say why`,
        'network',
        true,
        res.status,
        { cause: err },
      );
    }
    if (!res.ok) {
      const retriable = res.status >= 500 || res.status === 429 || res.status === 408;
      const askedMs = res.status === 429 || res.status === 503 ? retryAfterOf(res.headers.get('retry-after')) : undefined;
      // Held MAX_RETRY_AFTER_MS at most: a judge (or a proxy in front of it, a daily quota) that
      // answered `Retry-After: 86400` stopped every judge call for a day — each episode partial,
      // the same failure logged every 30 s — and the first answer after its quota reset came a day late.
      const retryAfterMs = askedMs !== undefined ? Math.min(askedMs, MAX_RETRY_AFTER_MS) : undefined;
      const capped = askedMs !== undefined && askedMs > MAX_RETRY_AFTER_MS;
      if (retryAfterMs !== undefined && Date.now() + retryAfterMs > this.holdUntil) {
        this.holdUntil = Date.now() + retryAfterMs;
        this.holdStatus = res.status;
        this.holdAskedMs = capped ? askedMs : undefined;
      }
      // to the tenth of a second: a `Retry-After: 1.5` read "2 s"
      const asked = askedMs !== undefined ? ` (Retry-After: ${Math.ceil(askedMs / 100) / 10} s${capped ? `, held to ${MAX_RETRY_AFTER_MS / 1000} s, the longest this client holds off a judge` : ''})` : '';
      throw new JudgeError(`judge ${shownUrl(url)} answered HTTP ${res.status}${asked}${text ? `: ${text.slice(0, 200)}` : ''}`, 'http', retriable, res.status, retryAfterMs !== undefined ? { retryAfterMs } : undefined);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      // an empty body (a handler that never wrote its answer, a 204) read "answered non-JSON: " and nothing after
      const shown = text.trim() === '' ? `an empty body (HTTP ${res.status}): it must answer JSON ${batch ? '{ scores }' : '{ score }'}` : text.slice(0, 120);
      throw new JudgeError(`judge ${shownUrl(url)} answered non-JSON: ${shown}`, 'invalid-response', false, res.status, { cause: err });
    }
  }

  private classifyAbort(err: unknown, url: string, signal: AbortSignal | undefined, timeout: AbortSignal): JudgeError {
    if (signal?.aborted) return new JudgeError(`judge call to ${shownUrl(url)} aborted by caller`, 'aborted', false, undefined, { cause: err });
    if (timeout.aborted) {
      this.count('timeouts');
      return new JudgeError(`judge ${shownUrl(url)} did not answer within ${this.options.timeoutMs} ms (credit.judge.timeoutMs; library: HttpJudgeClient option "timeoutMs")`, 'timeout', true, undefined, { cause: err });
    }
    return new JudgeError(`judge ${shownUrl(url)} unreachable: ${networkReason(err)} — check credit.judge.url (library: HttpJudgeClient option "url"), or start the judge`, 'network', true, undefined, { cause: err });
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) {
      if (this.waiters.length >= this.options.maxQueue) {
        throw new JudgeError(`judge client overloaded: ${this.waiters.length} calls waiting (credit.judge.maxQueue; library: HttpJudgeClient option "maxQueue")`, 'overloaded', true);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter; otherwise release it.
      if (next) next();
      else this.active--;
    }
  }
}

/** What a batch answer that is not `{ scores: number[] }` holds instead, shortly. */
function batchAnswerProblem(body: unknown): string {
  const scores = (body as { scores?: unknown } | null)?.scores;
  if (!Array.isArray(scores)) return `no "scores" array (${describeValue(body).slice(0, 120)})`;
  const at = scores.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  return `scores[${at}] = ${describeValue(scores[at]).slice(0, 80)}, not a finite number`;
}

/** The asctime form of an HTTP-date (RFC 9110 §5.6.7), the one without a zone. */
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]?\d \d\d:\d\d:\d\d \d{4}$/i;

/**
 * Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in ms from `now`, at most
 * MAX_TIMER_MS; undefined when absent or neither — the call then backs off as after any failure.
 *
 * delay-seconds is a non-negative integer, but a decimal (`1.5`, as some rate limiters send) is
 * honoured, rounded up to the ms: the wait it asks for is plain, and ignoring it would call the
 * judge again within the backoff's few ms. Anything else that is not an HTTP-date (`-1`, `1,5`,
 * `5s`) is ignored. Before, all of these fell through to Date.parse, which reads `1.5`, `-1` or
 * `1,5` as days of 2001 — in the past, a wait of 0 — so the judge was called again at once.
 */
export function retryAfterOf(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Math.ceil(Number(text) * 1000), MAX_TIMER_MS);
  // Each HTTP-date form (IMF-fixdate, RFC 850, asctime) names its month; Date.parse alone takes
  // far more than HTTP-dates (`x 5` is a day of 2001).
  if (!/\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i.test(text)) return undefined;
  // An HTTP-date is GMT in each form, and asctime's (`Sun Nov  6 08:49:37 1994`) names no zone:
  // Date.parse read it in the process's time zone — east of Greenwich a wait in the past (0), west
  // of it hours more than asked. Its zone is written for it.
  const at = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), MAX_TIMER_MS) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });
}

/** Player order by default: agents in order of their first message, or rewardable step ids. */
export function defaultPlayers(steps: readonly AgentStep[], players: 'agents' | 'messages'): string[] {
  const messages = steps.filter((s) => s.rewardable);
  if (players === 'messages') return messages.map((s) => s.stepId);
  return [...new Set(messages.map((s) => s.agentId))];
}

/** Builds the judge request for `coalition` (pure). */
export function judgeRequestFor(
  episode: JudgeEpisode,
  players: readonly string[],
  coalition: Uint8Array,
  options: Pick<ResolvedOptions, 'removalProtocol' | 'nullPlaceholder' | 'players' | 'evaluationName'>,
): JudgeRequest {
  const kept = new Set(players.filter((_, i) => coalition[i] === 1));
  const messages: JudgeMessage[] = [];
  const ordered = [...episode.steps].filter((s) => s.rewardable).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
  for (const s of ordered) {
    const keep = kept.has(options.players === 'agents' ? s.agentId : s.stepId);
    if (!keep && options.removalProtocol === 'mask') continue;
    messages.push({
      step_id: s.stepId,
      agent_id: s.agentId,
      kind: s.kind,
      name: s.name,
      content: keep ? (s.outputText ?? null) : options.nullPlaceholder,
      masked: !keep,
    });
  }
  return { episode_id: episode.episodeId, coalition: [...kept], removal_protocol: options.removalProtocol, messages, evaluation_name: options.evaluationName };
}

function maskKey(coalition: Uint8Array, n: number): string {
  if (coalition.length !== n) throw new Error(`coalition has ${coalition.length} entries, the game has ${n} players`);
  let hex = '';
  for (let i = 0; i < n; i += 4) {
    let nibble = 0;
    for (let j = 0; j < 4 && i + j < n; j++) if (coalition[i + j] === 1) nibble |= 1 << j;
    hex += nibble.toString(16);
  }
  return hex;
}

class JudgeGame implements HttpJudgeGame {
  readonly id: string;
  readonly players: readonly string[];
  private readonly kind: 'agents' | 'messages';
  /** For each message in request order, the index of the player that keeps it (−1: none). */
  private readonly keeperOf: Int32Array;
  /** Digest of the messages in request order (ids and contents), part of every cache key. */
  private readonly layout: string;
  private used = 0;

  constructor(
    private readonly client: HttpJudgeClient,
    private readonly episode: JudgeEpisode,
    private readonly budget: number | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.id = episode.episodeId;
    this.kind = episode.playerKind ?? client.options.players;
    this.players = episode.players ?? defaultPlayers(episode.steps, this.kind);
    const index = new Map(this.players.map((p, i) => [p, i] as const));
    const ordered = judgeRequestFor(episode, [], new Uint8Array(0), { ...client.options, removalProtocol: 'null', players: this.kind }).messages;
    this.keeperOf = Int32Array.from(ordered, (m) => index.get(this.kind === 'agents' ? m.agent_id : m.step_id) ?? -1);
    // The bitmask below names positions in this episode's message list, and a correction
    // (lateSpanPolicy: correct) re-credits the same episode id with late messages in that list: the
    // same positions are other messages there, so without this digest revision 1 read revision 0's
    // cached scores of other transcripts. Games over the same steps (agent and message game) share it.
    const text = new Map(episode.steps.map((st) => [st.stepId, st.outputText ?? ''] as const));
    const h = createHash('sha256');
    for (const m of ordered) h.update(`${m.step_id}\u0000${m.agent_id}\u0000${m.kind}\u0000${m.name}\u0000${text.get(m.step_id) ?? ''}\u0001`);
    this.layout = h.digest('base64url').slice(0, 22);
  }

  /**
   * Cache key of a coalition: the messages it keeps, and the player kind — an agent and a message
   * coalition keeping the same messages send the same transcript but not the same `coalition`
   * field (agent ids vs step ids), and a judge may read it.
   */
  private keyOf(coalition: Uint8Array): string {
    if (coalition.length !== this.players.length) throw new Error(`coalition has ${coalition.length} entries, the game has ${this.players.length} players`);
    const kept = new Uint8Array(this.keeperOf.length);
    for (let j = 0; j < kept.length; j++) kept[j] = this.keeperOf[j]! >= 0 && coalition[this.keeperOf[j]!] === 1 ? 1 : 0;
    const o = this.client.options;
    return `${this.id}\u0000${this.layout}\u0000${o.removalProtocol}\u0000${o.evaluationName}\u0000${this.kind}\u0000${maskKey(kept, kept.length)}`;
  }

  get evaluationsUsed(): number {
    return this.used;
  }

  /**
   * v(coalition). Calls made in the same synchronous stretch (e.g. an estimator's loop, or a
   * caching wrapper's concurrent calls) are grouped into one `valueMany`, so they share batch
   * requests without the caller knowing about batching.
   */
  value(coalition: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queued.push({ coalition, resolve, reject });
      if (this.queued.length === 1) queueMicrotask(() => this.flushQueued());
    });
  }

  /**
   * Values of several coalitions. Misses within the budget are evaluated (and cached) even when
   * others exceed it; the result then rejects with a `budget` JudgeError.
   */
  async valueMany(coalitions: readonly Uint8Array[]): Promise<number[]> {
    // Wait for every evaluation (so affordable ones land in the cache), then report the first failure.
    const settled = await Promise.allSettled(this.settle(coalitions));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<number>).value);
  }

  private queued: { coalition: Uint8Array; resolve: (v: number) => void; reject: (e: unknown) => void }[] = [];

  private flushQueued(): void {
    const batch = this.queued;
    this.queued = [];
    let each: Promise<number>[];
    try {
      each = this.settle(batch.map((b) => b.coalition));
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    each.forEach((p, i) => p.then(batch[i]!.resolve, batch[i]!.reject));
  }

  /** One promise per coalition: cache hit, shared in-flight call, new evaluation, or budget rejection. */
  private settle(coalitions: readonly Uint8Array[]): Promise<number>[] {
    const o = this.client.options;
    const results: Promise<number>[] = [];
    const misses: { index: number; key: string; request: JudgeRequest }[] = [];
    const missKeys = new Set<string>();
    for (const [index, coalition] of coalitions.entries()) {
      const key = this.keyOf(coalition);
      const hit = this.client.cached(key) ?? this.client.pending(key);
      if (hit !== undefined) {
        results[index] = Promise.resolve(hit);
        continue;
      }
      if (!missKeys.has(key)) {
        if (this.budget !== undefined && this.used >= this.budget) {
          this.client.noteBudgetExhausted();
          results[index] = Promise.reject(new JudgeError(`judge evaluation budget of ${this.budget} spent for episode ${this.id} (credit.judge.budget; library: HttpJudgeClient option "budget")`, 'budget', false));
          continue;
        }
        this.used++;
        missKeys.add(key);
      }
      misses.push({ index, key, request: judgeRequestFor(this.episode, this.players, coalition, { ...o, players: this.kind }) });
    }
    const pending = this.client.evaluate(misses, this.signal);
    misses.forEach((m, i) => (results[m.index] = pending[i]!));
    return results;
  }
}

/**
 * Why fetch could not reach the judge. undici says only "fetch failed" and keeps the reason in
 * `cause` (getaddrinfo ENOTFOUND host, connect ECONNREFUSED, a TLS error such as an https URL on a
 * plain-http port or a certificate the CA list does not hold): every such judge was reported as
 * "unreachable: fetch failed", while `agent-credit check` named ECONNREFUSED / ENOTFOUND.
 */
function networkReason(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const cause = (err as { cause?: { message?: unknown; code?: unknown } } | undefined)?.cause;
  const causeText = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : typeof cause?.code === 'string' ? cause.code : undefined;
  return causeText !== undefined && causeText !== message ? `${message} (${causeText.split('\n')[0]})` : message;
}

/**
 * A judge URL as messages show it: no query (an `?api_key=`) and no credentials. Judge errors go
 * into `episode_credit.diagnostics.warnings` — stdout, Kafka, the live page — and the full URL
 * leaked its key there (security review).
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(judge url)';
  }
}

/** `{url}/batch`: on the path, keeping the query (before, `/score?api_key=K` became `/score?api_key=K/batch`). */
function batchUrlOf(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/batch`;
  return u.href;
}

/** The body as text, refusing more than `max` bytes (declared or read): a judge must not exhaust memory. */
async function readCapped(res: Response, max: number): Promise<string> {
  const tooLong = () => new JudgeError(`judge answer longer than ${max} bytes (credit.judge.maxResponseBytes; library: HttpJudgeClient option "maxResponseBytes")`, 'invalid-response', false, res.status);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLong();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLong();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
