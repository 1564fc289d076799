/**
 * Log lines about what happened to closed episodes, rate-limited so a fleet does not get one line
 * per episode: the first few of a kind with their details, then one line per `every` with the
 * running totals. Shared by the OTLP/HTTP and Kafka jobs.
 */
import type { EventFacts } from '../events/credited-events.js';
import type { Episode } from '../model/episode.js';
import type { Logger } from '../telemetry/logger.js';
import { throttledCount } from './expired-evaluations.js';

/** Whether the n-th occurrence (1-based) is logged: the first `firstN`, then every `every`-th. */
const logsOccurrence = (n: number, firstN: number, every: number): boolean => n <= firstN || n % every === 0;

/**
 * `DegenerateEpisodeError` messages read `episode <id>: <reason>: <detail>`; the reason keys the
 * limit, and labels `episodes_without_credit_total` (`no-evaluation`, `no-agents`, …; `other`).
 * `episodeId`: the id the message starts with, passed over whatever it holds — a conversation's
 * (`conv:<gen_ai.conversation.id>`) may hold spaces, and `episode conv:support chat 7: no-agents: …`
 * read as kind `other` when the id was taken for one word.
 */
export function reasonKind(reason: string, episodeId?: string): string {
  const head = episodeId !== undefined ? `episode ${episodeId}: ` : undefined;
  if (head !== undefined && reason.startsWith(head)) return /^([a-z][a-z-]*):/.exec(reason.slice(head.length))?.[1] ?? 'other';
  return /^episode \S+: ([a-z][a-z-]*):/.exec(reason)?.[1] ?? 'other';
}

/**
 * Logs episodes that closed without credit (no system evaluation, a non-finite score, an unmapped label):
 * per kind of reason the first `firstN` with their reason, then one line per `every` of that kind
 * with the totals — so a fleet that judges only a sample of its runs (every unjudged run is one
 * of "no-evaluation") still hears the first episode with an unmapped label or a broken score.
 * Runs whose verdict was dropped waiting for their spans (`evaluationDropped`, a field of the line)
 * are limited apart from the other `no-evaluation` ones, for the same reason.
 *
 * Episodes without agent work (`no-agents`: a health check, a start-up trace) are no problem:
 * each is logged at debug level, and an info line says how many at most once per `agentFreeEveryMs`
 * (the first at once) — 50 health checks a minute per pod were 50 warnings "send a system-level
 * evaluation", which drowned the runs that did lack theirs.
 */
export function skippedEpisodeReporter(
  logger: (Pick<Logger, 'warn'> & Partial<Pick<Logger, 'info' | 'debug'>>) | undefined,
  firstN = 5,
  every = 100,
  agentFreeEveryMs = 600_000,
  now: () => number = Date.now,
): (episode: Episode, reason: string, kind?: string) => void {
  let total = 0;
  const byKind = new Map<string, number>();
  const byLimit = new Map<string, number>();
  const agentFreeDue = throttledCount(agentFreeEveryMs, now);
  let agentFreeLines = 0;
  // `kind`: the error's own reason where the caller has it (the jobs' stages), else read from the message
  return (episode, reason, kind = reasonKind(reason, episode.episodeId)) => {
    total++;
    // a run whose verdict was dropped waiting for its spans (a backlog read the verdicts ahead) is
    // limited apart from those none came for: a fleet judging a sample of its runs would bury it
    const dropped = episode.evaluationDropped;
    const n = (byKind.get(kind) ?? 0) + 1;
    byKind.set(kind, n);
    const limitKey = dropped !== undefined ? `${kind} (${dropped})` : kind;
    const ofLimit = (byLimit.get(limitKey) ?? 0) + 1;
    byLimit.set(limitKey, ofLimit);
    if (kind === 'no-agents') {
      logger?.debug?.({ episodeId: episode.episodeId, closeReason: episode.closeReason, kind, reason }, 'episode without agent spans closed without credit: nothing to credit');
      const count = agentFreeDue(1);
      if (count !== undefined) {
        const since = agentFreeLines++ === 0 ? 'the start' : 'the last such line';
        logger?.info?.(
          { episodes: count, episodesTotal: n, kind, example: reason },
          `${count} episode(s) without any agent or LLM span closed without credit since ${since} (health checks, static files, start-up traces, jobs the app traces beside its agents): nothing to credit, no events, no wait for a verdict; counted in episodes_without_credit_total{reason="no-agents"}, each logged at debug level`,
        );
      }
      return;
    }
    if (logsOccurrence(ofLimit, firstN, every)) {
      logger?.warn({ episodeId: episode.episodeId, closeReason: episode.closeReason, skippedTotal: total, skippedOfKind: n, kind, ...(dropped !== undefined ? { evaluationDropped: dropped } : {}), reason }, 'episode closed without credit events (the reason says why and what to send)');
    }
  };
}

/**
 * Logs credited corrections (revision > 0: a late evaluation or span reopened a closed episode),
 * the first `firstN` then one per `every`, with the new system value and outcome. Without it a
 * slow judge's verdicts arrived as corrections without a word in the log (slow-judge pass).
 */
export function correctionReporter(logger: Pick<Logger, 'info'> | undefined, firstN = 5, every = 100): (episode: Episode, events: readonly EventFacts[]) => void {
  let count = 0;
  return (episode, events) => {
    if (episode.revision === 0 || events.length === 0) return;
    count++;
    if (!logsOccurrence(count, firstN, every)) return;
    const credit = events.find((e) => e.event_type === 'episode_credit');
    // a conversation's next turn is a revision too, but nothing was late: say so (the interop
    // review read "episode corrected: a late evaluation or span reopened it" for every turn)
    const nextTurn = episode.keyMode === 'conversation' && episode.lateSpans === 0;
    logger?.info(
      {
        episodeId: episode.episodeId,
        revision: episode.revision,
        closeReason: episode.closeReason,
        lateSpans: episode.lateSpans,
        evaluations: episode.evaluations.length,
        ...(credit && credit.event_type === 'episode_credit' ? { outcome: credit.outcome, systemValue: credit.system_value } : {}),
        correctionsTotal: count,
      },
      nextTurn
        ? 'conversation continued: a new turn (or a late verdict) reopened it; its events carry episode_revision > 0 and replace the earlier revision'
        : 'episode corrected: a late evaluation or span reopened it; its events carry episode_revision > 0 and replace the earlier revision',
    );
  };
}

/** What `valueFunctionFailureReporter` reads after each episode: the value function's cumulative counters and its last error. */
export interface ValueFunctionHealth {
  /** Evaluations that missed the cache, failed ones included. */
  calls: number;
  /** Evaluations that failed for good (after the judge's retries). */
  failures: number;
  /** The last failure's message (a judge is named without its URL query). */
  lastError?: string;
}

/**
 * Warns when the value function (`credit.game: http` or `module`) fails: at once for the first
 * failure, then at most once per `everyMs` with the failures and calls since the last line, the
 * last error, and what it means for the events. Without it a judge answering 500 to every call,
 * or a module that throws, turned every episode's credit into an equal split marked partial
 * without a word in the log (operator review). Totals that went down start again (a new client).
 */
export function valueFunctionFailureReporter(
  logger: Pick<Logger, 'warn'> | undefined,
  game: string,
  everyMs = 30_000,
  now: () => number = Date.now,
): (health: ValueFunctionHealth | undefined) => boolean {
  const due = throttledCount(everyMs, now);
  let seenFailures = 0;
  let seenCalls = 0;
  let callsAtLine = 0;
  let failuresAtLine = 0;
  let lines = 0;
  // true while failures wait to be logged (held back within everyMs of the last line): the caller
  // asks again later (reportingAfterEach), or they were logged only if another episode followed
  return (health) => {
    if (health === undefined) return false;
    if (health.failures < seenFailures || health.calls < seenCalls) seenFailures = seenCalls = callsAtLine = failuresAtLine = 0;
    const failures = due(health.failures - seenFailures);
    seenFailures = health.failures;
    seenCalls = health.calls;
    if (failures === undefined) return health.failures > failuresAtLine;
    failuresAtLine = health.failures;
    const calls = health.calls - callsAtLine;
    callsAtLine = health.calls;
    const since = lines++ === 0 ? 'the start' : 'the last such line';
    logger?.warn(
      { game, failures, calls, failuresTotal: health.failures, callsTotal: health.calls, ...(health.lastError !== undefined ? { lastError: health.lastError } : {}) },
      `value function failing (credit.game: ${game}): ${failures} of ${calls} evaluation(s) failed since ${since}${health.lastError !== undefined ? `; last error: ${health.lastError}` : ''}; ` +
        `the credit of the episodes it failed for falls back to an equal split (or the samples so far) marked partial (estimator …/equal-split-fallback, status partial; metric value_function_failures_total)`,
    );
    return false;
  };
}
