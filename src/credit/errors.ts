/**
 * Typed errors of the credit engine. Each says whether retrying can help (kafkajs style) and what
 * to do about it.
 */

/** A `CachedGame` refused an evaluation because its evaluation budget is spent. Estimators catch it. */
export class BudgetExhaustedError extends Error {
  override readonly name = 'BudgetExhaustedError';
  readonly retriable = true;
  constructor(
    readonly budget: number,
    readonly used: number,
  ) {
    super(`evaluation budget exhausted (${used}/${budget} evaluations); raise the budget or continue the run with more`);
  }
}

/** Exact enumeration was asked for a game with too many players. */
export class TooManyPlayersError extends Error {
  override readonly name = 'TooManyPlayersError';
  readonly retriable = false;
  constructor(
    readonly players: number,
    readonly maxPlayers: number,
  ) {
    super(
      `exact Shapley needs 2^${players} coalition values, above the limit of ${maxPlayers} players; ` +
        `use estimateShapley (it samples above the limit) or a sampler (SvarmEstimator, PermutationEstimator, KernelEstimator, UnbiasedKernelEstimator, RegressionAdjustedEstimator, TreeMsrEstimator), or raise maxPlayers`,
    );
  }
}

/** The game's value function threw or returned a non-finite number. */
export class GameEvaluationError extends Error {
  override readonly name = 'GameEvaluationError';
  readonly retriable = true;
  constructor(
    readonly gameId: string,
    readonly coalitionKey: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`game ${gameId} failed on coalition ${coalitionKey}: ${message}`, options);
  }
}

/** The run was aborted (timeout or caller's signal). */
export class EstimationAbortedError extends Error {
  override readonly name = 'EstimationAbortedError';
  readonly retriable = true;
  constructor(reason?: unknown) {
    super(`estimation aborted${reason instanceof Error ? `: ${reason.message}` : reason !== undefined ? `: ${String(reason)}` : ''}`);
  }
}

/**
 * Why `creditEpisode` refused an episode. (A normalization range that cannot map a score — min ≥ max,
 * not finite — is refused with the options, as a `CreditOptionsError`, before any episode.)
 * `no-agents`: no evaluation, and no span an agent or LLM convention reads (a health check, a
 * start-up trace: nothing to credit) — processEpisode's, not creditEpisode's own.
 */
export type DegenerateReason = 'no-evaluation' | 'non-finite-score' | 'unknown-label' | 'no-agents';

/**
 * The episode cannot be credited as given (no usable evaluation, a NaN score, ...). Not retriable
 * with the same input: fix the producer or the options named in the message.
 */
export class DegenerateEpisodeError extends Error {
  override readonly name = 'DegenerateEpisodeError';
  readonly retriable = false;
  constructor(
    readonly reason: DegenerateReason,
    readonly episodeId: string,
    detail: string,
  ) {
    super(`episode ${episodeId}: ${reason}: ${detail}`);
  }
}

/** Invalid `creditEpisode` options; the message names the key (`credit.estimator: expected one of …`). */
export class CreditOptionsError extends Error {
  override readonly name = 'CreditOptionsError';
}
