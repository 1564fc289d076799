/**
 * Throttled warnings for evaluations that are lost: counted as they happen, logged at most once
 * per `everyMs` with the count since the last line (a flood of them must not flood the log).
 */

/** Adds to a count; returns the count to log now (and starts again), or undefined while within `everyMs` of the last line. */
export function throttledCount(everyMs = 30_000, now: () => number = Date.now): (n: number) => number | undefined {
  let unreported = 0;
  let loggedAtMs = Number.NEGATIVE_INFINITY;
  return (n) => {
    unreported += n;
    const t = now();
    if (unreported === 0 || t - loggedAtMs < everyMs) return undefined; // held back ones go out with a later call
    loggedAtMs = t;
    const out = unreported;
    unreported = 0;
    return out;
  };
}

/**
 * `throttledCount` over a cumulative counter read from an assembler: the increase since the last
 * call. A total that went down is a fresh assembler's (the Kafka job makes one per group join).
 */
function throttledTotal(everyMs: number, now: () => number): (total: number | undefined) => number | undefined {
  let seen = 0;
  const due = throttledCount(everyMs, now);
  return (total) => {
    if (total === undefined) return undefined;
    if (total < seen) seen = 0;
    const n = due(total - seen);
    seen = total;
    return n;
  };
}

/** A reporter over a cumulative counter: at most once per `everyMs`, `warn(count since the last line, total)`. */
function totalReporter(everyMs: number, now: () => number, warn: (count: number, total: number) => void): (total: number | undefined) => void {
  const due = throttledTotal(everyMs, now);
  return (total) => {
    const count = due(total);
    if (count !== undefined) warn(count, total!);
  };
}

/**
 * Logs evaluations that expired waiting for their episode's spans. The metric
 * (`evaluations_expired_total`) alone left users wondering why an evaluation they sent changed
 * nothing: its trace's spans never reached agent-credit (another exporter endpoint, a sampler that
 * dropped them, a trace id that names no run) — or, on Kafka, its spans came before a restart and
 * their episode had closed without a verdict: the new process never reads them again. `expiredTotal` is the assembler's counter; one that
 * went down is a new assembler's.
 */
export function expiredEvaluationsReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  ttlMs: number,
  everyMs = 30_000,
  now: () => number = Date.now,
): (expiredTotal: number | undefined) => void {
  return totalReporter(everyMs, now, (expired, expiredTotal) =>
    logger?.warn(
      { expired, expiredTotal },
      `evaluation(s) expired after waiting ${ttlMs} ms (episodes.pendingEvaluationTtlMs) for spans of their trace: check that the evaluated app exports its spans to agent-credit (same endpoint or topic, not sampled out) and that each evaluation carries its run's trace id — or the spans did arrive, but their episode closed without a verdict before a restart or rebalance, and a closed episode's spans are not read again (README, Limits)`,
    ),
  );
}

/**
 * Of the assembler's `expiredEvaluations` (both drops, as the metric counts them), those that
 * waited out `pendingEvaluationTtlMs`: the TTL's line (`expiredEvaluationsReporter`) takes these,
 * `overLimitEvaluationsReporter` the rest.
 */
export function expiredPastTtl(stats: { readonly expiredEvaluations?: number; readonly evaluationsDroppedOverLimit?: number } | undefined): number | undefined {
  return stats?.expiredEvaluations === undefined ? undefined : stats.expiredEvaluations - (stats.evaluationsDroppedOverLimit ?? 0);
}

/**
 * Logs evaluations dropped because `episodes.maxPendingEvaluations` were already waiting for their
 * spans (assembler stat `evaluationsDroppedOverLimit`; `expiredEvaluations` counts them too, and the
 * metric `evaluations_expired_total`). They were logged as "expired after waiting 60000 ms": a
 * backlog that read the verdicts ahead of their runs dropped thousands within seconds, and the line
 * named the TTL to raise, not the limit. `total` is the assembler's counter (one that went down is
 * a new assembler's).
 */
export function overLimitEvaluationsReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  maxPending: number,
  everyMs = 30_000,
  now: () => number = Date.now,
): (total: number | undefined) => void {
  return totalReporter(everyMs, now, (dropped, droppedTotal) =>
    logger?.warn(
      { dropped, droppedTotal },
      `evaluation(s) dropped unjoined: ${maxPending} (episodes.maxPendingEvaluations) were already waiting for the spans of their runs, and the oldest go first — evaluations read far ahead of their spans (a backlog: README, Limits) or spans that never reach agent-credit: raise episodes.maxPendingEvaluations, and check that the evaluated app exports its spans here; their runs close without credit, saying so`,
    ),
  );
}

/**
 * Logs evaluations the assembler could not join to anything (assembler stat
 * `unjoinableEvaluations`): no trace id, no conversation id usable for the key mode, no response
 * id. On Kafka this was only a counter; the OTLP/HTTP receiver logs the records it refuses itself
 * (they never reach the assembler, so nothing is logged twice).
 */
export function unjoinableEvaluationsReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  everyMs = 30_000,
  now: () => number = Date.now,
): (total: number | undefined) => void {
  return totalReporter(everyMs, now, (unjoinable, unjoinableTotal) =>
    logger?.warn(
      { unjoinable, unjoinableTotal },
      "evaluation(s) without trace id, gen_ai.conversation.id (with episodes.keyBy: conversation) or gen_ai.response.id dropped: emit them inside the evaluated span's context (a log record takes the active span's trace and span id), or name the response they evaluate",
    ),
  );
}

/**
 * Logs late run-level evaluations of another name than the run's verdict (assembler stat
 * `lateEvaluationsOtherName`; only counted while `evaluation.name` is unset). The verdict is then
 * the first name that scored the run, so with several judges on one run (task success, tone) the
 * fastest decides, and a slower task verdict is not used at all — a review measured a failed run
 * kept as a "success" by a tone score that came first. At most once per `everyMs` (10 min).
 */
export function otherNameVerdictsReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  everyMs = 600_000,
  now: () => number = Date.now,
): (total: number | undefined) => void {
  return totalReporter(everyMs, now, (count, total) =>
    logger?.warn(
      { count, total },
      'late evaluation(s) scored a closed run under another name than its verdict and were not used: with evaluation.name unset the first name that scores a run is its verdict, so with several judges the fastest one decides — set evaluation.name (AGENT_CREDIT_EVALUATION_NAME) to your task verdict\'s name',
    ),
  );
}
