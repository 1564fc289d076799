/**
 * Logs evaluations that expired waiting for their episode's spans. The metric
 * (`evaluations_expired_total`) alone left users wondering why an evaluation they sent changed
 * nothing: its trace's spans never reached agent-credit (another exporter endpoint, a sampler that
 * dropped them, a trace id that names no run). One line per `everyMs` at most, with the count since
 * the last line. `expiredTotal` is the assembler's counter; one that went down is a new assembler's.
 */
export function expiredEvaluationsReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  ttlMs: number,
  everyMs = 30_000,
  now: () => number = Date.now,
): (expiredTotal: number | undefined) => void {
  let seen = 0;
  let unreported = 0;
  let loggedAtMs = Number.NEGATIVE_INFINITY;
  return (expiredTotal) => {
    if (expiredTotal === undefined) return;
    if (expiredTotal < seen) seen = 0; // a fresh assembler (the Kafka job makes one per group join)
    unreported += expiredTotal - seen;
    seen = expiredTotal;
    const t = now();
    if (unreported === 0 || t - loggedAtMs < everyMs) return; // held back ones go out with a later tick
    logger?.warn(
      { expired: unreported, expiredTotal },
      `evaluation(s) expired after waiting ${ttlMs} ms (episodes.pendingEvaluationTtlMs) for spans of their trace: check that the evaluated app exports its spans to agent-credit (same endpoint or topic, not sampled out) and that each evaluation carries its run's trace id`,
    );
    loggedAtMs = t;
    unreported = 0;
  };
}
