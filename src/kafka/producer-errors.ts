/**
 * Errors after which an idempotent producer's sequence state no longer matches the broker's.
 *
 * Seen on the real broker: after the broker was killed and restarted while a send was in flight,
 * every later send of the same kafkajs idempotent producer failed with OUT_OF_ORDER_SEQUENCE_NUMBER
 * for as long as the test waited (2 minutes); the at-least-once pipeline stalled. Only a new
 * producer (a new producer id, sequences from 0) can send again. Recognised by the kafkajs error
 * `type` and by the Kafka error names other clients use, through `cause` chains.
 */
import { errorChain } from './error-chain.js';

const PRODUCER_STATE_TYPES = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);
const PRODUCER_STATE_TEXT = /out of order sequence|OutOfOrderSequence|UnknownProducerId|unknown producer id|InvalidProducerEpoch/i;

export function isProducerStateError(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if (typeof e.type === 'string' && PRODUCER_STATE_TYPES.has(e.type)) return true;
    if (typeof e.name === 'string' && PRODUCER_STATE_TEXT.test(e.name)) return true;
    if (typeof e.message === 'string' && PRODUCER_STATE_TEXT.test(e.message)) return true;
  }
  return false;
}
