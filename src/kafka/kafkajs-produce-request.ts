/**
 * kafkajs 2.2.4's Produce v3 request (used for v3–v7) and its request framing
 * (`src/protocol/request.js`), encoded into one buffer each instead of one per record, batch,
 * partition and topic. Installed by kafkajs-fast-paths.ts, with the same opt-out.
 *
 * Why: kafkajs builds an uncompressed request as nested Encoders — every record in its own, copied
 * into the batch body, the body copied after the CRC header, that copied behind the batch's
 * offset, then into the partition's, the topic's, the request's, the framed request's: each byte
 * of a record value is copied about eight times, through buffers that grow by doubling. For the
 * benchmark fleet (25 MB of events) that was ~390 MB of buffers and the largest CPU cost of
 * publishing.
 *
 * What changes, and why the bytes cannot: the same fields are written in the same order with the
 * same Encoder methods into one Encoder sized up front; the three lengths that kafkajs knows only
 * after encoding a nested part (the partition's record set size, the batch length, the CRC-32C of
 * the batch body) are written in place once their part is complete, with the values kafkajs
 * computes from that part's bytes. Timestamps (including the string `sort()` kafkajs uses to pick
 * the first and last) and the per-partition `Date.now()` are taken exactly as kafkajs takes them.
 * Compressed batches go to the kafkajs original unchanged. test/kafka/kafkajs-fast-paths.test.ts
 * compares both with the originals on random input.
 */

import { writeUtf8 } from './utf8.js';

type Bytes = Buffer | string | null | undefined;
export type HeaderValue = Buffer | string | undefined;

/**
 * Appends a record's headers to `keys` / `values` as kafkajs flattens them (an array value: one
 * header per element, in order; a hole of a sparse array is none); returns how many were appended.
 */
export function flattenHeaders(headers: Record<string, HeaderValue | HeaderValue[]>, keys: string[], values: HeaderValue[]): number {
  const before = keys.length;
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (Array.isArray(v)) {
      // indices, not for…of: kafkajs flattens with flatMap, which skips the holes of a sparse array
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) continue;
        keys.push(k);
        values.push(v[i]);
      }
    } else {
      keys.push(k);
      values.push(v);
    }
  }
  return keys.length - before;
}

/** The Encoder members used here (kafkajs's Encoder with the fast-path prototype patches). */
export interface ProduceEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  size(): number;
  writeInt8(v: number): ProduceEncoder;
  writeInt16(v: number): ProduceEncoder;
  writeInt32(v: number): ProduceEncoder;
  writeInt64(v: unknown): ProduceEncoder;
  writeString(v: string | null | undefined): ProduceEncoder;
  writeVarInt(v: number): ProduceEncoder;
  writeVarLong(v: unknown): ProduceEncoder;
  writeVarIntString(v: string | null | undefined): ProduceEncoder;
  writeVarIntBytes(v: Bytes): ProduceEncoder;
  writeEncoder(v: ProduceEncoder): ProduceEncoder;
}

export interface ProduceEncoderClass {
  new (initialSize?: number): ProduceEncoder;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
  sizeOfVarIntBytes(v: Bytes): number;
}

interface Message {
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
  timestamp?: string | number | null;
}

interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: Message[] }[] }[];
}

interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<ProduceEncoder>;
}

export interface ProduceDeps {
  Encoder: ProduceEncoderClass;
  crc32c(buf: Uint8Array): number;
  /** kafkajs `utils/long` (`fromInt`). */
  Long: { fromInt(v: number): unknown };
  /** The kafkajs original, for compressed batches. */
  original(args: ProduceArgs): ProduceRequest;
}

const PRODUCE_API_KEY = 0;
const COMPRESSION_NONE = 0;
const COMPRESSION_CODEC_MASK = 0x07;
const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;

/** |v| < 2^30: zig-zag-64 equals zig-zag-32 (as in kafkajs-fast-paths.ts). */
const smallInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > -0x40000000 && v < 0x40000000;

/**
 * An Encoder whose buffer has exactly `bytes` (kafkajs rounds up to a power of two: up to twice
 * the memory, and external memory is what makes V8 schedule full GCs). A wrong estimate only
 * costs a growth step: every write still checks the space it needs.
 */
function exactEncoder(Encoder: ProduceEncoderClass, bytes: number): ProduceEncoder {
  const e = new Encoder(0);
  e.buf = Buffer.allocUnsafe(bytes);
  return e;
}

/**
 * Bytes left free in front of a Produce payload for its framing (size, API key and version,
 * correlation id, client id): createRequest writes the frame there instead of copying the payload
 * (up to a request's 2 MiB) behind it into a new buffer. A longer client id takes the copy.
 */
const FRAME_HEADROOM = 256;

/** Produce payload encoders → the buffer their `buf` was cut from, FRAME_HEADROOM bytes earlier. */
const framedPayloads = new WeakMap<ProduceEncoder, Buffer>();

/**
 * Writing a varint asks for 5 free bytes (writeUVarInt's ensureAvailable) whatever it then writes:
 * a payload ending in a short varint (a record without headers: its header count) would otherwise
 * grow — copy — the whole buffer at its last byte.
 */
const VARINT_SLACK = 4;

/** An exactEncoder whose buffer has FRAME_HEADROOM free bytes in front of it (registered in framedPayloads). */
function payloadEncoder(Encoder: ProduceEncoderClass, bytes: number): ProduceEncoder {
  const whole = Buffer.allocUnsafe(FRAME_HEADROOM + bytes + VARINT_SLACK);
  const e = new Encoder(0);
  e.buf = whole.subarray(FRAME_HEADROOM);
  framedPayloads.set(e, whole);
  return e;
}

/**
 * The headroom in front of `payload` when it is still there and fits a frame of `frameBytes`:
 * an encoder whose estimate fell short grew into a new buffer without it.
 */
function headroomFor(payload: ProduceEncoder, frameBytes: number): Buffer | undefined {
  const whole = framedPayloads.get(payload);
  if (whole === undefined || frameBytes > FRAME_HEADROOM) return undefined;
  const buf = payload.buf;
  return buf.buffer === whole.buffer && buf.byteOffset === whole.byteOffset + FRAME_HEADROOM ? whole : undefined;
}

/** kafkajs's measure of a record's key or value (`Encoder.sizeOfVarIntBytes`): -1 for null, else `Buffer.byteLength`. */
const byteLengthOrNull = (v: Bytes): number => (v == null ? -1 : Buffer.byteLength(v));

/**
 * kafkajs `Encoder.writeVarIntBytes` of a string whose UTF-8 length `size` was measured already:
 * the same length prefix and bytes without measuring it again (every key, value and header
 * string of a batch is measured once for the sizes and was measured again by each write).
 * Anything else (Buffers, null) takes kafkajs's own path.
 */
function writeMeasured(e: ProduceEncoder, v: Bytes, size: number): void {
  if (typeof v !== 'string') {
    e.writeVarIntBytes(v);
    return;
  }
  e.writeVarInt(size);
  e.ensureAvailable(size);
  writeUtf8(e.buf, v, e.offset, size);
  e.offset += size;
}

/** UTF-8 bytes of a string field for the size estimate (anything else is left to writeString). */
const stringBytes = (s: unknown): number => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);

/** A replacement for kafkajs `protocol/requests/produce/v3/request.js`. */
export function produceRequestV3({ Encoder, crc32c, Long, original }: ProduceDeps): (args: ProduceArgs) => ProduceRequest {
  const sizeOfVarLong = (v: unknown) => (smallInt(v) ? Encoder.sizeOfVarInt(v) : Encoder.sizeOfVarLong(v));

  /** One partition's records measured (kafkajs `partitionsEncoder` + `Record` sizing), before anything is written. */
  interface PartitionPlan {
    readonly firstTimestamp: unknown;
    readonly maxTimestamp: unknown;
    readonly deltas: unknown[];
    readonly bodySizes: number[];
    /** `Buffer.byteLength` of each record's key and value (-1 for null), as measured: writePartition does not measure again. */
    readonly keySizes: number[];
    readonly valueSizes: number[];
    readonly headerCounts: number[];
    readonly headerKeys: string[];
    readonly headerValues: HeaderValue[];
    readonly headerKeySizes: number[];
    readonly headerValueSizes: number[];
    /** Bytes of the partition's entry in the request: partition, record set size, batch. */
    readonly bytes: number;
  }

  function measurePartition(messages: readonly Message[]): PartitionPlan {
    const dateNow = Date.now();
    const messageTimestamps = messages
      .map((m) => m.timestamp)
      .filter((timestamp) => timestamp != null)
      .sort();
    const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps;
    const firstTimestamp = timestamps[0]!;
    const maxTimestamp = timestamps[timestamps.length - 1]!;
    const n = messages.length;
    const deltas: unknown[] = new Array(n);
    const bodySizes: number[] = new Array(n);
    const keySizes: number[] = new Array(n);
    const valueSizes: number[] = new Array(n);
    const headerCounts: number[] = new Array(n);
    const headerKeys: string[] = [];
    const headerValues: HeaderValue[] = [];
    const headerKeySizes: number[] = [];
    const headerValueSizes: number[] = [];
    let recordsSize = 0;
    for (let i = 0; i < n; i++) {
      const { key, value, headers = {}, timestamp } = messages[i]!;
      const timestampDelta = ((timestamp || dateNow) as number) - (firstTimestamp as number);
      deltas[i] = timestampDelta;
      // headers flattened as kafkajs does (an array value: one header per element)
      const before = headerKeys.length;
      const count = flattenHeaders(headers, headerKeys, headerValues);
      // the same size arithmetic as kafkajs (including its Buffer.byteLength on each value)
      let headersSize = Encoder.sizeOfVarInt(count);
      for (let h = before; h < headerKeys.length; h++) {
        const keySize = Buffer.byteLength(headerKeys[h]!);
        const valueSize = Buffer.byteLength(headerValues[h] as string);
        headerKeySizes.push(keySize);
        headerValueSizes.push(valueSize);
        headersSize += Encoder.sizeOfVarInt(keySize) + keySize;
        headersSize += headerValues[h] === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize;
      }
      // kafkajs `Encoder.sizeOfVarIntBytes`, keeping the byte lengths
      const keySize = byteLengthOrNull(key);
      const valueSize = byteLengthOrNull(value);
      keySizes[i] = keySize;
      valueSizes[i] = valueSize;
      const sizeOfBody = 1 + sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(i) + sizeOfVarIntBytes(keySize) + sizeOfVarIntBytes(valueSize) + headersSize;
      bodySizes[i] = sizeOfBody;
      headerCounts[i] = count;
      recordsSize += Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody;
    }
    // partition, record set size, first offset, batch length, leader epoch, magic, CRC, batch header (36 B), record count
    const bytes = 4 + 4 + 8 + 4 + 4 + 1 + 4 + 36 + 4 + recordsSize;
    return { firstTimestamp, maxTimestamp, deltas, bodySizes, keySizes, valueSizes, headerCounts, headerKeys, headerValues, headerKeySizes, headerValueSizes, bytes };
  }

  /** kafkajs `Encoder.sizeOfVarIntBytes` from the byte length it measures (-1: null). */
  const sizeOfVarIntBytes = (size: number): number => (size < 0 ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(size) + size);

  /** One partition's entry (kafkajs `partitionsEncoder` + `RecordBatch` + `Record`), written at `e.offset`. */
  function writePartition(e: ProduceEncoder, partition: number, messages: readonly Message[], plan: PartitionPlan, firstSequence: number, transactional: boolean, producerId: unknown, producerEpoch: number): void {
    const n = messages.length;
    e.writeInt32(partition);
    const recordSetSizeAt = e.offset;
    e.writeInt32(0).writeInt64(Long.fromInt(0)); // kafkajs RecordBatch's default firstOffset
    const batchLengthAt = e.offset;
    e.writeInt32(0);
    const batchStart = e.offset;
    e.writeInt32(0).writeInt8(MAGIC_BYTE); // partitionLeaderEpoch 0
    const crcAt = e.offset;
    e.writeInt32(0);
    const bodyStart = e.offset;
    e.writeInt16((COMPRESSION_NONE & COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL_MASK : 0))
      .writeInt32(n - 1)
      .writeInt64(plan.firstTimestamp)
      .writeInt64(plan.maxTimestamp)
      .writeInt64(producerId)
      .writeInt16(producerEpoch)
      .writeInt32(firstSequence)
      .writeInt32(n);
    const { deltas, bodySizes, keySizes, valueSizes, headerCounts, headerKeys, headerValues, headerKeySizes, headerValueSizes } = plan;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const { key, value } = messages[i]!;
      e.writeVarInt(bodySizes[i]!).writeInt8(0).writeVarLong(deltas[i]).writeVarInt(i);
      writeMeasured(e, key, keySizes[i]!);
      writeMeasured(e, value, valueSizes[i]!);
      e.writeVarInt(headerCounts[i]!);
      for (const end = h + headerCounts[i]!; h < end; h++) {
        writeMeasured(e, headerKeys[h], headerKeySizes[h]!); // kafkajs writeVarIntString: the same bytes for a string
        writeMeasured(e, headerValues[h], headerValueSizes[h]!);
      }
    }
    // the three values kafkajs knows only after encoding the nested parts
    const buf = e.buf;
    buf.writeUInt32BE(crc32c(buf.subarray(bodyStart, e.offset)), crcAt);
    buf.writeInt32BE(e.offset - batchStart, batchLengthAt);
    buf.writeInt32BE(e.offset - recordSetSizeAt - 4, recordSetSizeAt);
  }

  return (args) => {
    const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, compression = COMPRESSION_NONE, topicData } = args;
    // kafkajs's RecordBatch takes its uncompressed path only for exactly None
    if (compression !== COMPRESSION_NONE) return original(args);
    return {
      apiKey: PRODUCE_API_KEY,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => {
        // measured first (kafkajs takes Date.now() per partition in the same order), then written into one buffer
        const plans = topicData.map(({ partitions }) => partitions.map(({ messages }) => measurePartition(messages)));
        let bytes = 2 + stringBytes(transactionalId) + 2 + 4 + 4;
        for (let t = 0; t < topicData.length; t++) {
          bytes += 2 + stringBytes(topicData[t]!.topic) + 4;
          for (const plan of plans[t]!) bytes += plan.bytes;
        }
        const e = payloadEncoder(Encoder, bytes);
        e.writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeInt32(topicData.length);
        for (let t = 0; t < topicData.length; t++) {
          const { topic, partitions } = topicData[t]!;
          e.writeString(topic).writeInt32(partitions.length);
          for (let p = 0; p < partitions.length; p++) {
            // kafkajs RecordBatch's default firstSequence (0) when the caller has none
            const { partition, messages, firstSequence = 0 } = partitions[p]!;
            writePartition(e, partition, messages, plans[t]![p]!, firstSequence, !!transactionalId, producerId, producerEpoch);
          }
        }
        return e;
      },
    };
  };
}

interface RequestArgs {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode(): Promise<ProduceEncoder> };
}

/**
 * A replacement for kafkajs `protocol/request.js`: size, header and payload written into one
 * Encoder sized for them (kafkajs copies the payload into a header Encoder, then that into a
 * size-prefixed one). A Produce payload encoded above is not copied at all: the frame goes into
 * the headroom in front of it, and the request is that region of the same buffer.
 */
export function createRequest(Encoder: ProduceEncoderClass): (args: RequestArgs) => Promise<ProduceEncoder> {
  return async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }) => {
    const payload = await encode();
    // writeString(clientId): 2-byte length, then the bytes (none for null)
    const headerSize = 2 + 2 + 4 + 2 + (clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8'));
    // not an Encoder: writeEncoder below throws kafkajs's own error
    const payloadSize = payload != null && Buffer.isBuffer(payload.buf) ? payload.size() : 0;
    const whole = payload != null ? headroomFor(payload, 4 + headerSize) : undefined;
    if (whole !== undefined) {
      const e = new Encoder(0);
      e.buf = whole.subarray(FRAME_HEADROOM - 4 - headerSize, FRAME_HEADROOM + payloadSize);
      writeFrame(e, headerSize + payloadSize, apiKey, apiVersion, correlationId, clientId);
      e.offset += payloadSize; // the payload is already in place behind the frame
      return e;
    }
    return writeFrame(exactEncoder(Encoder, 4 + headerSize + payloadSize), headerSize + payloadSize, apiKey, apiVersion, correlationId, clientId).writeEncoder(payload);
  };
}

/** kafkajs's request frame: size (of what follows it), API key and version, correlation id, client id. */
function writeFrame(e: ProduceEncoder, size: number, apiKey: number, apiVersion: number, correlationId: number, clientId: string | null | undefined): ProduceEncoder {
  return e.writeInt32(size).writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeString(clientId);
}
