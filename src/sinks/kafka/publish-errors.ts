/**
 * What a failed publish (transaction or send to the output topics) says about its cause, in the
 * settings' terms: the kinds of failure that retrying cannot end, because the cluster refuses
 * every attempt the same way until a setting or the cluster is changed. Told by Kafka error
 * type/code (kafkajs `KafkaJSProtocolError`), through `cause` chains (kafkajs's retry wrapper).
 */
import { errorChain } from '../../kafka/error-chain.js';
import type { KafkaSinkConfig } from './config.js';
import { outputTopicConfig } from './kafka-event-sink.js';

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const TOO_LARGE_CODES = new Set([10, 18]);
const NO_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION']);
const NO_TOPIC_CODES = new Set([3]);
const DENIED = new Set(['TOPIC_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED']);
const DENIED_CODES = new Set([29, 30, 31, 53]);
const TX_TIMEOUT = 'INVALID_TRANSACTION_TIMEOUT';
const TX_TIMEOUT_CODE = 50;
const METADATA_TOO_LARGE = 'OFFSET_METADATA_TOO_LARGE';
const METADATA_TOO_LARGE_CODE = 12;
// The partition leader had fewer in-sync replicas than the topic's min.insync.replicas and the
// producers write with acks=all (idempotent and transactional producers must): kafkajs retries
// it, and it lasts while a broker is away or for good when min.insync.replicas is above the
// replicas the topic has.
const NOT_ENOUGH_REPLICAS = new Set(['NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND']);
const NOT_ENOUGH_REPLICAS_CODES = new Set([19, 20]);
/** The exactly-once producers' transaction timeout when sinks.kafka.transactionTimeoutMs is unset (the client's default). */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

type Kind = 'too-large' | 'no-topic' | 'denied' | 'tx-timeout' | 'metadata-too-large' | 'not-enough-replicas';

function kindOf(err: unknown): Kind | undefined {
  for (const e of errorChain(err)) {
    if (typeof e !== 'object') break;
    const type = typeof e.type === 'string' ? e.type : undefined;
    const code = typeof e.code === 'number' ? e.code : undefined;
    if ((type && TOO_LARGE.has(type)) || (code !== undefined && TOO_LARGE_CODES.has(code))) return 'too-large';
    if ((type && NO_TOPIC.has(type)) || (code !== undefined && NO_TOPIC_CODES.has(code))) return 'no-topic';
    if ((type && DENIED.has(type)) || (code !== undefined && DENIED_CODES.has(code))) return 'denied';
    if (type === TX_TIMEOUT || code === TX_TIMEOUT_CODE) return 'tx-timeout';
    if (type === METADATA_TOO_LARGE || code === METADATA_TOO_LARGE_CODE) return 'metadata-too-large';
    if ((type && NOT_ENOUGH_REPLICAS.has(type)) || (code !== undefined && NOT_ENOUGH_REPLICAS_CODES.has(code))) return 'not-enough-replicas';
  }
  return undefined;
}

/**
 * The brokers refused an offset commit's metadata (OFFSET_METADATA_TOO_LARGE: longer than their
 * `offset.metadata.max.bytes`, 4096 by default, which the replay filter is sized for). Every later
 * commit carries the same metadata and fails the same way until it is written shorter.
 */
export function isOffsetMetadataTooLarge(err: unknown): boolean {
  return kindOf(err) === 'metadata-too-large';
}

/**
 * The fix when the broker refused the exactly-once producers' transaction timeout
 * (INVALID_TRANSACTION_TIMEOUT: above the brokers' `transaction.max.timeout.ms`, which kafkajs's
 * message misnames max.transaction.timeout.ms); undefined for other errors. Every transactional
 * producer is refused at its claim (InitProducerId), so nothing is published until one changes.
 */
export function transactionTimeoutHint(err: unknown, transactionTimeoutMs: number): string | undefined {
  if (kindOf(err) !== 'tx-timeout') return undefined;
  return `the brokers refuse the transaction timeout of the exactly-once producers, sinks.kafka.transactionTimeoutMs ${transactionTimeoutMs} ms: it is above their transaction.max.timeout.ms (kafkajs's message calls it max.transaction.timeout.ms) — set sinks.kafka.transactionTimeoutMs to at most the brokers' transaction.max.timeout.ms, or raise that on every broker, or set sinks.kafka.delivery: at-least-once`;
}

/**
 * The fix for a publish failure that retrying cannot end, naming the settings; undefined for others.
 * `missing`: the output topics the cluster says do not exist now (undefined: not known). A topic
 * deleted while running fails every transaction, on most partitions with an error that does not
 * name it, and `createTopics` acts only at start.
 */
export function publishFailureHint(err: unknown, sink: Pick<KafkaSinkConfig, 'topics' | 'maxRecordBytes'> & { createTopics?: boolean; transactionTimeoutMs?: number; partitions?: number }, missing?: readonly string[]): string | undefined {
  const topics = Object.values(sink.topics).join(', ');
  if (missing && missing.length > 0) {
    const restart = sink.createTopics === false ? '' : ' — or restart the job: sinks.kafka.createTopics creates missing output topics, but only at start';
    // as the job creates them (outputTopicSpecs): without --partitions the brokers' default count
    // (often 1), and without a raised max.message.bytes the next start's check refused the topic
    const config = Object.entries(outputTopicConfig(sink) ?? {}).map(([k, v]) => ` --config ${k}=${v}`).join('');
    const create = `kafka-topics.sh --create --topic ${missing[0]}${sink.partitions !== undefined ? ` --partitions ${sink.partitions}` : ''}${config}`;
    return `output topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist (deleted while running?): recreate ${missing.length > 1 ? 'them' : 'it'} as the job creates ${missing.length > 1 ? 'them' : 'it'} (${create}${sink.partitions !== undefined ? ': sinks.kafka.partitions' : ''}${config ? ', max.message.bytes for sinks.kafka.maxRecordBytes' : ''})${restart}; publishing resumes by itself once ${missing.length > 1 ? 'they exist' : 'it exists'}`;
  }
  switch (kindOf(err)) {
    case 'too-large':
      return `a record is larger than an output topic accepts (its max.message.bytes, or the broker's message.max.bytes): keep sinks.kafka.maxRecordBytes (${sink.maxRecordBytes}) below the max.message.bytes of every output topic (${topics}), the dead-letter topic included, or raise theirs`;
    case 'no-topic':
      return `an output topic does not exist (${topics}): create it (sinks.kafka.createTopics: true creates missing output topics, but only at start)`;
    case 'denied':
      return `this client may not write to the output topics (${topics}) or use its transactional ids / consumer group: check its ACLs`;
    case 'tx-timeout':
      return transactionTimeoutHint(err, sink.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS);
    case 'metadata-too-large':
      return `the brokers refuse the offset commit's metadata (the replay filter, written shorter after each refusal): their offset.metadata.max.bytes is too small even for its shortest form — raise it (Kafka's default 4096)`;
    case 'not-enough-replicas':
      return `an output topic's partition has fewer in-sync replicas than its min.insync.replicas, and this job writes with acks=all (its idempotent and exactly-once producers must): bring the topic's replicas back in sync (a broker down?), or set the topic's min.insync.replicas (or the brokers' default) to at most its replication factor (${topics}; kafka-topics.sh --describe shows both); publishing resumes by itself once enough replicas are in sync`;
    default:
      return undefined;
  }
}
