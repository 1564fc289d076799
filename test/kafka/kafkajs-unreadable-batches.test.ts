/**
 * kafkajs's fetch decoding with the unreadable-batch handling installed (as the product loads
 * kafkajs): record batches built by kafkajs's own encoder, one of them damaged, decoded by
 * kafkajs's own fetch-response decoder.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/kafka/kafkajs-module.js';
import { crc32c, installKafkajsUnreadableBatches, UNREADABLE_BATCH } from '../../src/kafka/kafkajs-unreadable-batches.js';

const require = createRequire(import.meta.url);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const internal = <T>(file: string): T => require(path.join(root, 'src', file)) as T;

interface Encoder {
  buffer: Buffer;
}
const { RecordBatch } = internal<{ RecordBatch: (o: Record<string, unknown>) => Promise<Encoder> }>('protocol/recordBatch/v0/index.js');
const Record = internal<(o: Record<string, unknown>) => Encoder>('protocol/recordBatch/record/v0/index.js');
const Decoder = internal<new (b: Buffer) => unknown>('protocol/decoder.js');
const decodeMessages = internal<(d: unknown) => Promise<Array<Record<string | symbol, unknown>>>>('protocol/requests/fetch/v4/decodeMessages.js');
const kafkajsCrc32c = internal<(b: Buffer) => number>('protocol/recordBatch/crc32C/index.js');
const GZIP = 1;

/** One record batch as the broker stores and sends it (kafkajs's encoder, a producer's bytes). */
async function batch(firstOffset: number, values: string[], compression = 0): Promise<Buffer> {
  const records = values.map((v, i) => Record({ offsetDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(v) }));
  const Long = internal<{ fromInt(n: number): unknown }>('utils/long.js');
  const enc = await RecordBatch({ compression, firstOffset: Long.fromInt(firstOffset), lastOffsetDelta: values.length - 1, records, firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_000 });
  return enc.buffer;
}

/** The records section of a fetch response partition: int32 size, then the batches. */
function messageSet(batches: Buffer[]): unknown {
  const body = Buffer.concat(batches);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return new Decoder(Buffer.concat([size, body]));
}

const RECORDS_AT = 61;

describe('kafkajs unreadable record batches', () => {
  it('is installed in the product kafkajs', () => {
    expect(installKafkajsUnreadableBatches(require)).toEqual({ installed: true });
  });

  it('a gzip batch that does not decompress becomes one record at its last offset carrying its bytes; the batches around it decode', async () => {
    const a = await batch(0, ['a0', 'a1', 'a2'], GZIP);
    const b = await batch(3, ['b3', 'b4', 'b5'], GZIP);
    const c = await batch(6, ['c6', 'c7']);
    const damaged = Buffer.from(b);
    damaged.fill(0x55, RECORDS_AT + 4, RECORDS_AT + 14); // over the gzip header: corrupt on disk
    const messages = await decodeMessages(messageSet([a, damaged, c]));
    expect(messages.map((m) => m['offset'])).toEqual(['0', '1', '2', '5', '6', '7']);
    expect(messages.filter((m) => m[UNREADABLE_BATCH] === undefined).map((m) => String(m['value']))).toEqual(['a0', 'a1', 'a2', 'c6', 'c7']);
    const standIn = messages[3]!;
    expect(Buffer.compare(standIn['value'] as Buffer, damaged)).toBe(0);
    const reason = standIn[UNREADABLE_BATCH] as string;
    expect(reason).toContain('offsets 3..5 (gzip compression)');
    expect(reason).toContain('CRC32C does not match');
    expect(standIn['isControlRecord']).toBe(false);
  });

  it('a batch with a codec id no client knows is not read as plain records: its CRC matches, so the reason says the producer wrote it so', async () => {
    const b = Buffer.from(await batch(10, ['x', 'y'], GZIP));
    b.writeInt16BE((b.readInt16BE(21) & ~0x07) | 5, 21); // codec id 5
    b.writeUInt32BE(crc32c(b.subarray(21)), 17);
    const messages = await decodeMessages(messageSet([b, await batch(12, ['z'])]));
    expect(messages.map((m) => m['offset'])).toEqual(['11', '12']);
    expect(messages[0]![UNREADABLE_BATCH]).toContain('unknown compression codec id 5');
    expect(messages[0]![UNREADABLE_BATCH]).toContain('CRC32C matches');
  });

  it('a zstd batch that would decompress past the bound (a bomb declaring 1 GiB) becomes a stand-in, nothing allocated', async () => {
    const gz = await batch(30, ['u', 'v'], GZIP);
    // the same header with a zstd payload: one RLE block in a frame declaring 1 GiB of content
    const bomb = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0, ((1_000 << 3) | 3) & 0xff, ((1_000 << 3) | 3) >> 8, 0, 0x41]);
    const b = Buffer.concat([gz.subarray(0, RECORDS_AT), bomb]);
    b.writeInt32BE(b.length - 12, 8);
    b.writeInt16BE((b.readInt16BE(21) & ~0x07) | 4, 21); // zstd
    b.writeUInt32BE(crc32c(b.subarray(21)), 17);
    const messages = await decodeMessages(messageSet([b, await batch(32, ['w'])]));
    expect(messages.map((m) => m['offset'])).toEqual(['31', '32']);
    expect(messages[0]![UNREADABLE_BATCH]).toContain('offsets 30..31 (zstd compression)');
    expect(messages[0]![UNREADABLE_BATCH]).toContain('decompresses to more than 268435456 bytes');
    expect(messages[0]![UNREADABLE_BATCH]).toContain('CRC32C matches');
  });

  it('an uncompressed batch whose records run past its end becomes a stand-in too', async () => {
    const b = Buffer.from(await batch(20, ['p', 'q']));
    b.writeInt32BE(50, RECORDS_AT - 4); // record count 50, only 2 present
    const messages = await decodeMessages(messageSet([b]));
    expect(messages).toHaveLength(1);
    expect(messages[0]!['offset']).toBe('21');
    expect(messages[0]![UNREADABLE_BATCH]).toContain('offsets 20..21 (none compression)');
  });

  it('a batch cut short at the end of a response (the fetch size) is still left to kafkajs: the records before it, no stand-in', async () => {
    const a = await batch(0, ['a0', 'a1'], GZIP);
    const b = await batch(2, ['b2', 'b3'], GZIP);
    const messages = await decodeMessages(messageSet([a, b.subarray(0, b.length - 7)]));
    expect(messages.map((m) => m['offset'])).toEqual(['0', '1']);
    expect(messages.some((m) => m[UNREADABLE_BATCH] !== undefined)).toBe(false);
  });

  it('crc32c equals kafkajs’s CRC-32C', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc32c(bytes) === kafkajsCrc32c(Buffer.from(bytes))),
      { numRuns: 200 },
    );
  });
});
