/**
 * `source.kafka.sessionTimeoutMs` against the brokers' `group.min.session.timeout.ms` …
 * `group.max.session.timeout.ms` (Kafka's defaults 6000 … 1800000): outside them every group
 * join is refused (INVALID_SESSION_TIMEOUT), and kafkajs's consumer crashes for good with "The
 * session timeout is not within the range allowed by the broker", which names no setting of this
 * job. `check` compares the setting with the brokers' range; `run` names the setting in the crash.
 */

/** Kafka's own defaults of the brokers' range, for a message that cannot read theirs. */
export const KAFKA_DEFAULT_SESSION_RANGE = { min: 6_000, max: 1_800_000 } as const;

/** Whether a consumer's error is the brokers refusing its session timeout. */
export function isSessionTimeoutRefusal(error: string | undefined): boolean {
  return error !== undefined && /session timeout is not within the range allowed by the broker|INVALID_SESSION_TIMEOUT/i.test(error);
}

/** What is wrong and the fix, naming the setting; `range` the brokers' when known. */
export function sessionTimeoutOutsideRange(sessionTimeoutMs: number, range?: { min: number; max: number }): string {
  const r = range ?? KAFKA_DEFAULT_SESSION_RANGE;
  const where = range ? `the brokers' group.min.session.timeout.ms ${r.min} … group.max.session.timeout.ms ${r.max}` : `the brokers' group.min.session.timeout.ms … group.max.session.timeout.ms (Kafka's defaults ${r.min} … ${r.max})`;
  const to = Math.min(Math.max(30_000, r.min), r.max);
  return `source.kafka.sessionTimeoutMs ${sessionTimeoutMs} is outside ${where}: they refuse the consumer group join, and nothing is read — set source.kafka.sessionTimeoutMs within it (e.g. ${to}, with heartbeatIntervalMs about a third of it), or widen the brokers' range`;
}
