/** The log line of a graceful stop (`agent-credit run`, SIGTERM/SIGINT/SIGHUP). */

/**
 * What a graceful stop does, per source: the OTLP/HTTP job closes its open episodes and credits
 * them; the Kafka job does not (their records stay uncommitted and are replayed by the next run).
 */
export function stoppingMessage(kind: 'kafka' | 'otlp-http'): string {
  return kind === 'kafka'
    ? 'stopping: finishing the credit work in flight and committing it; open episodes are not closed (the next run replays them from the committed offsets)'
    : 'stopping: closing open episodes and flushing';
}
