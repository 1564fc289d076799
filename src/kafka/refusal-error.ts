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
