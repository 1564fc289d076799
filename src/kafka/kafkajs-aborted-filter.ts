/**
 * A correct read_committed filter for kafkajs 2.2.4, installed in place of its own
 * (`src/consumer/filterAbortedMessages.js`) before kafkajs loads (src/kafka/kafkajs-module.ts).
 *
 * Why: a read_committed fetch returns, beside the records, the aborted transactions that overlap
 * them (producer id + first offset, in offset order). kafkajs steps into at most ONE aborted
 * transaction per record (`if`, where the Java client's `consumeAbortedTransactionsUpTo` loops),
 * so when a fetch starts past the first offset of one aborted transaction and at the first record
 * of another — two producers' transactions interleaved, both aborted — the second one's first
 * record is delivered as if committed. It happened to this project's exactly-once test reader
 * (records of transactions aborted by a re-claimed transactional id came through), and would
 * happen to the pipeline reading transactionally written input.
 *
 * Unlike the produce fast paths this is not optional (no environment switch): it is a fix.
 */
import path from 'node:path';
import { kafkajsRoot } from './kafkajs-internals.js';

/** The kafkajs version whose internals this replaces; any other version is left alone. */
const KAFKAJS_ABORTED_FILTER_VERSION = '2.2.4';
const MODULE = 'src/consumer/filterAbortedMessages.js';

/** The subset of kafkajs's decoded message this filter reads. */
export interface FetchedMessage {
  readonly offset: string;
  readonly key?: Buffer | Uint8Array | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string; readonly inTransaction: boolean };
}

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/**
 * An ABORT marker: a control record whose key is version 0 (int16), type 0 = ABORT (int16).
 * kafkajs checks the key alone, so a data record keyed with four zero bytes (an integer key 0
 * from Java's IntegerSerializer) ended the aborted transaction it belonged to.
 */
function isAbortMarker(m: FetchedMessage): boolean {
  const k = m.key;
  return m.isControlRecord === true && !!k && k.length === 4 && k[0] === 0 && k[1] === 0 && k[2] === 0 && k[3] === 0;
}

/**
 * Removes the records of aborted transactions, as the Java client does: before each record, every
 * aborted transaction starting at or below its offset marks its producer aborted; the producer's
 * ABORT marker ends that. Markers themselves are kept (kafkajs drops control records after).
 */
export function filterAbortedMessages<M extends FetchedMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: readonly AbortedTransaction[] | null }): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const aborted = new Set<string>();
  let next = 0;
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    while (next < pending.length && offset >= BigInt(pending[next]!.firstOffset)) aborted.add(String(pending[next++]!.producerId));
    const producerId = String(m.batchContext.producerId);
    if (isAbortMarker(m)) {
      aborted.delete(producerId);
      return true;
    }
    return !(m.batchContext.inTransaction && aborted.has(producerId));
  });
}

export type AbortedFilterReport = { installed: true } | { installed: false; reason: string };
/** By kafkajs installation (root directory): an application may load its own copy besides ours. */
const reports = new Map<string, AbortedFilterReport>();
/** The first install's result: the product's own kafkajs (kafkajs-module.ts installs on import). */
let report: AbortedFilterReport | undefined;

/**
 * Puts `filterAbortedMessages` into `req`'s module cache for the kafkajs that `req` resolves.
 * Call before that kafkajs is first loaded: e.g. an application reading agent-credit's output
 * with its own kafkajs 2.2.4 calls `installKafkajsAbortedFilter(createRequire(import.meta.url))`
 * before importing kafkajs. Idempotent per kafkajs installation.
 */
export function installKafkajsAbortedFilter(req: NodeJS.Require): AbortedFilterReport {
  const found = kafkajsRoot(req, KAFKAJS_ABORTED_FILTER_VERSION);
  let result: AbortedFilterReport;
  if ('reason' in found) result = { installed: false, reason: found.reason };
  else {
    result = reports.get(found.root) ?? installAt(req, found.root);
    reports.set(found.root, result);
  }
  report ??= result;
  return result;
}

function installAt(req: NodeJS.Require, root: string): AbortedFilterReport {
  const file = path.join(root, MODULE);
  if (req.cache[path.join(root, 'src/consumer/batch.js')] !== undefined) {
    return { installed: false, reason: 'kafkajs was loaded before the read_committed fix; its consumer keeps the original filter' };
  }
  req(file);
  req.cache[file]!.exports = filterAbortedMessages;
  return { installed: true };
}

/** What the first `installKafkajsAbortedFilter` call (the product's own kafkajs) did; undefined before it. */
export function kafkajsAbortedFilterReport(): AbortedFilterReport | undefined {
  return report;
}
