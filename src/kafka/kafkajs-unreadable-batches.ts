/**
 * Unreadable record batches become one record the pipeline can dead-letter, instead of failing
 * the whole fetch. Installed in place of kafkajs 2.2.4's record batch decoder
 * (`src/protocol/recordBatch/v0/decoder.js`) before kafkajs loads (src/kafka/kafkajs-module.ts).
 *
 * Why: kafkajs decodes a fetch response's record batches in one pass; a batch whose records do
 * not decode — a compressed payload that does not decompress (bytes corrupted on disk or in
 * transit), a codec id it does not know, a record running past the batch's end — throws out of
 * the whole response. No record of the partition then reaches the application: kafkajs retries,
 * restarts the consumer (every instance of the group rebalances and replays), and the partition
 * never moves past the batch. The Java consumer raises the error to the application, which can
 * seek past it; kafkajs gives no such handle.
 *
 * What happens instead: such a batch is delivered as ONE record at the batch's last offset, marked
 * with `UNREADABLE_BATCH` (the reason), whose value is the whole batch as the broker sent it
 * (header included: offsets, codec, CRC). The consumer (kafkajs-client.ts) passes the reason on as
 * `ConsumedRecord.unreadable`; the pipeline sends the record to the dead-letter topic and resolves
 * its offset, which moves the partition past the batch. Nothing is lost: the dead letter holds the
 * bytes. The reason says whether the batch's CRC32C matches (a mismatch: the stored or sent bytes
 * are damaged; a match: the producer wrote a payload this consumer cannot read).
 *
 * A truncated batch at the end of a response (the broker cuts responses at the fetch size) is
 * normal and left to kafkajs. A batch whose length field itself is damaged cannot be told from that
 * and is not handled here. Like the read_committed fix this is not optional: it only changes what
 * would otherwise be a failed fetch.
 */
import path from 'node:path';
import { CodecUnavailableError } from './compression-codecs.js';
import { crc32c } from './kafkajs-fast-paths.js';
import { kafkajsRoot } from './kafkajs-internals.js';

const KAFKAJS_UNREADABLE_BATCHES_VERSION = '2.2.4';
const MODULE = 'src/protocol/recordBatch/v0/decoder.js';
/** The fetch decoder that loads MODULE at its own load: it must not be loaded before the install. */
const DEPENDENT = 'src/protocol/requests/fetch/v4/decodeMessages.js';

/** Property of kafkajs's message object that marks a stand-in for an unreadable batch (value: the reason). */
export const UNREADABLE_BATCH: unique symbol = Symbol.for('agent-credit.kafkajs.unreadable-batch');

/** kafkajs's `Decoder`, the members this module reads. */
interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}
type BatchDecoder = (fetchDecoder: KafkajsDecoder) => Promise<{ records: unknown[] } & Record<string, unknown>>;

// Record batch v2 layout (KIP-98): offsets of the header fields from the batch's start.
const LENGTH_AT = 8; // int32: bytes after this field
const CRC_AT = 17; // uint32 CRC32C of everything from ATTRIBUTES_AT to the batch's end
const ATTRIBUTES_AT = 21;
const RECORDS_AT = 61;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/**
 * Wraps kafkajs's batch decoder: a batch whose header was read (so the response stays aligned on
 * the next batch) but whose records failed becomes one stand-in record, as described above.
 */
function unreadableBatchesDecoder(original: BatchDecoder): BatchDecoder {
  return async (fetchDecoder) => {
    const start = fetchDecoder.offset;
    const buffer = fetchDecoder.buffer;
    const framed = isFramed(buffer, start);
    if (framed) {
      const codec = buffer.readInt16BE(start + ATTRIBUTES_AT) & 0x07;
      if (codec >= CODECS.length) {
        // kafkajs would read the compressed bytes as plain records (garbage, or a failed fetch)
        fetchDecoder.offset = batchEnd(buffer, start);
        return standIn(buffer, start, `unknown compression codec id ${codec} in the batch's attributes`);
      }
    }
    try {
      return await original(fetchDecoder);
    } catch (err) {
      if (!framed || !isDataError(err)) throw err;
      fetchDecoder.offset = batchEnd(buffer, start);
      return standIn(buffer, start, `its records do not decode: ${(err as Error | undefined)?.message ?? String(err)}`);
    }
  };
}

/** Where the batch at `start` ends: offset and length fields (12 bytes), then `length` bytes. */
const batchEnd = (buffer: Buffer, start: number): number => start + 12 + buffer.readInt32BE(start + LENGTH_AT);

/**
 * Whether the batch at `start` is complete and its framing is sane: a header, a length that covers
 * at least the header and ends within the response, a last offset not before the first. Anything
 * else — the truncated last batch of a response, or a damaged length — is left to kafkajs (a
 * stand-in for a batch whose length is wrong would misread what follows, or not move at all).
 */
function isFramed(buffer: Buffer, start: number): boolean {
  if (buffer.length - start < RECORDS_AT) return false;
  const end = batchEnd(buffer, start);
  return end >= start + RECORDS_AT && end <= buffer.length && buffer.readInt32BE(start + ATTRIBUTES_AT + 2) >= 0;
}

/**
 * Whether a decode failure is the data's (corrupt compression, records that do not parse, too
 * large when decompressed) rather than this process's: a codec library that does not load or a
 * failed allocation must not turn good batches into dead letters the partition moves past.
 */
function isDataError(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  if (err.name === 'KafkaJSPartialMessageError' || err.name === 'KafkaJSNotImplemented' || err instanceof CodecUnavailableError) return false;
  return !/allocation failed|out of memory|Cannot create a string longer/i.test(err.message);
}

/** The batch as one record at its last offset, in the shape kafkajs's record decoder returns. */
function standIn(buffer: Buffer, start: number, what: string): { records: unknown[] } & Record<string, unknown> {
  const end = batchEnd(buffer, start);
  const firstOffset = buffer.readBigInt64BE(start);
  const attributes = buffer.readInt16BE(start + ATTRIBUTES_AT);
  const lastOffsetDelta = buffer.readInt32BE(start + ATTRIBUTES_AT + 2);
  const lastOffset = (firstOffset + BigInt(lastOffsetDelta)).toString();
  const storedCrc = buffer.readUInt32BE(start + CRC_AT);
  const crcOk = crc32c(buffer.subarray(start + ATTRIBUTES_AT, end)) === storedCrc;
  const codec = CODECS[attributes & 0x07] ?? `id ${attributes & 0x07}`;
  const reason =
    `unreadable record batch at offsets ${firstOffset}..${lastOffset} (${codec} compression): ${what}; ` +
    (crcOk
      ? 'its CRC32C matches, so the bytes are as the producer wrote them (a payload this consumer cannot read)'
      : 'its CRC32C does not match: the batch was damaged on the broker or in transit') +
    '. The record value is the whole batch as the broker sent it (record batch v2, header included); the partition continues after it';
  const recordContext = {
    firstOffset: firstOffset.toString(),
    firstTimestamp: buffer.readBigInt64BE(start + 27).toString(),
    partitionLeaderEpoch: buffer.readInt32BE(start + 12),
    inTransaction: (attributes & 0x10) > 0,
    isControlBatch: (attributes & 0x20) > 0,
    lastOffsetDelta,
    producerId: buffer.readBigInt64BE(start + 43).toString(),
    producerEpoch: buffer.readInt16BE(start + 51),
    firstSequence: buffer.readInt32BE(start + 53),
    maxTimestamp: buffer.readBigInt64BE(start + 35).toString(),
    timestampType: (attributes & 0x08) > 0 ? 1 : 0,
  };
  const magicByte = buffer.readInt8(start + 16);
  const records: unknown[] = [];
  if (recordContext.isControlBatch) {
    // A control batch holds one marker, COMMIT or ABORT. Taken as ABORT (key: version 0, type 0):
    // if its producer's transaction is aborted, ABORT is what it is, and the records after it are
    // not dropped as still aborted; otherwise it ends nothing. Control records are never delivered.
    records.push({ magicByte, attributes: 0, timestamp: recordContext.firstTimestamp, offset: lastOffset, key: Buffer.alloc(4), value: null, headers: {}, isControlRecord: true, batchContext: { ...recordContext, magicByte } });
  }
  if (!recordContext.isControlBatch || !crcOk) {
    // The bytes for the dead-letter topic. With a CRC mismatch the header's flags are not trusted
    // either: delivered as a plain record outside any transaction, so it is never filtered away.
    const context = crcOk ? recordContext : { ...recordContext, inTransaction: false, isControlBatch: false };
    records.push({
      magicByte,
      attributes: 0,
      timestamp: recordContext.firstTimestamp,
      offset: lastOffset,
      key: null,
      value: Buffer.from(buffer.subarray(start, end)),
      headers: {},
      isControlRecord: false,
      batchContext: { ...context, magicByte },
      [UNREADABLE_BATCH]: reason,
    });
  }
  return { ...recordContext, records };
}

export type UnreadableBatchesReport = { installed: true } | { installed: false; reason: string };
const reports = new Map<string, UnreadableBatchesReport>();

/**
 * Puts the wrapped batch decoder into `req`'s module cache for the kafkajs that `req` resolves.
 * Call before that kafkajs is first loaded. Idempotent per kafkajs installation.
 */
export function installKafkajsUnreadableBatches(req: NodeJS.Require): UnreadableBatchesReport {
  const found = kafkajsRoot(req, KAFKAJS_UNREADABLE_BATCHES_VERSION);
  if ('reason' in found) return { installed: false, reason: found.reason };
  const known = reports.get(found.root);
  if (known) return known;
  let result: UnreadableBatchesReport;
  if (req.cache[path.join(found.root, DEPENDENT)] !== undefined) {
    result = { installed: false, reason: 'kafkajs was loaded before the unreadable-batch handling; a bad batch fails its whole fetch' };
  } else {
    const file = path.join(found.root, MODULE);
    const original = req(file) as BatchDecoder;
    req.cache[file]!.exports = unreadableBatchesDecoder(original);
    result = { installed: true };
  }
  reports.set(found.root, result);
  return result;
}
