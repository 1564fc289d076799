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
  let seen = 0;
  const due = throttledCount(everyMs, now);
  return (expiredTotal) => {
    if (expiredTotal === undefined) return;
    if (expiredTotal < seen) seen = 0; // a fresh assembler (the Kafka job makes one per group join)
    const expired = due(expiredTotal - seen);
    seen = expiredTotal;
    if (expired === undefined) return;
    logger?.warn(
      { expired, expiredTotal },
      `evaluation(s) expired after waiting ${ttlMs} ms (episodes.pendingEvaluationTtlMs) for spans of their trace: check that the evaluated app exports its spans to agent-credit (same endpoint or topic, not sampled out) and that each evaluation carries its run's trace id — or the spans did arrive, but their episode closed without a verdict before a restart or rebalance, and a closed episode's spans are not read again (README, Limits)`,
    );
  };
}
