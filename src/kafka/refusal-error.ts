/**
 * The Kafka consumer stopped for good on what a restart cannot fix: a setting the brokers refuse
 * (the session timeout, the transaction timeout) or an ACL this principal lacks (Read on the
 * consumer group) — KafkaPipeline's health().refused. A configuration problem: `run` exits with
 * code 2, as for a missing input topic or an unreadable TLS file, its message naming the setting
 * to change or the ACL to grant. Staying up not live, the job read nothing until a liveness probe
 * restarted it into the same refusal — and without a probe (docker run, systemd) for ever.
 */
export class KafkaRefusalError extends Error {
  override readonly name = 'KafkaRefusalError';
  constructor(
    message: string,
    readonly refused: 'setting' | 'acl',
  ) {
    super(message);
  }
}

/**
 * Why a restart does not help, for the not-live log line of `run` (`named`: its `reason` field)
 * and of `view` (its `error` field) — one wording for both.
 */
export function noRestartAdvice(refused: 'setting' | 'acl', named: 'reason' | 'error'): string {
  return refused === 'acl'
    ? `the brokers refuse this principal the consumer group — a restart fails the same way until the ACL the ${named} names is granted`
    : `the brokers refuse a setting — a restart fails the same way until the setting the ${named} names is changed`;
}
