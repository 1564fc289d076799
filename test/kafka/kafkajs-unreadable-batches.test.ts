/**
 * kafkajs's fetch decoding with the unreadable-batch handling installed (as the product loads
 * kafkajs): record batches built by kafkajs's own encoder, one of them damaged, decoded by
 * kafkajs's own fetch-response decoder.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/kafka/kafkajs-module.js';
import { crc32c } from '../../src/kafka/kafkajs-fast-paths.js';
import { installKafkajsUnreadableBatches, UNREADABLE_BATCH } from '../../src/kafka/kafkajs-unreadable-batches.js';

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

  it('a batch whose length field is damaged is left to kafkajs (an error, not a loop or a stand-in over the next batch)', async () => {
    for (const length of [-12, 20]) {
      const b = Buffer.from(await batch(40, ['r'], GZIP));
      b.writeInt32BE(length, 8);
      await expect(decodeMessages(messageSet([b, await batch(41, ['s'])]))).rejects.toThrow();
    }
    const negativeDelta = Buffer.from(await batch(50, ['t'], GZIP));
    negativeDelta.writeInt32BE(-5, 23);
    negativeDelta.fill(0x55, RECORDS_AT + 4, RECORDS_AT + 14);
    await expect(decodeMessages(messageSet([negativeDelta]))).rejects.toThrow();
  });

  it('a codec library that cannot be loaded fails the fetch (the installation is at fault, not the batch): no dead letter', async () => {
    const { KAFKAJS_CODECS, CodecUnavailableError } = await import('../../src/kafka/compression-codecs.js');
    const b = await batch(60, ['u', 'v'], 2); // snappy
    const codec = KAFKAJS_CODECS.snappy as { decompress: (b: Buffer) => Promise<Buffer> };
    const decompress = codec.decompress;
    codec.decompress = async () => {
      throw new CodecUnavailableError("snappy-compressed data: the 'snappy' package could not be loaded (test)");
    };
    try {
      await expect(decodeMessages(messageSet([b]))).rejects.toThrow(/could not be loaded/);
    } finally {
      codec.decompress = decompress;
    }
    expect((await decodeMessages(messageSet([b]))).map((m) => String(m['value']))).toEqual(['u', 'v']);
  });

  it('an unreadable control batch (intact CRC) ends its aborted transaction like an ABORT marker: the committed records after it come through', async () => {
    const Long = internal<{ fromInt(n: number): unknown }>('utils/long.js');
    const txBatch = async (firstOffset: number, values: string[]) => {
      const records = values.map((v, i) => Record({ offsetDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(v) }));
      return (await RecordBatch({ firstOffset: Long.fromInt(firstOffset), lastOffsetDelta: values.length - 1, records, transactional: true, producerId: Long.fromInt(7) })).buffer;
    };
    const aborted = await txBatch(0, ['x0', 'x1']);
    const marker = Buffer.from(await txBatch(2, ['m']));
    marker.writeInt16BE(marker.readInt16BE(21) | 0x20, 21); // control batch
    marker.writeInt32BE(9, RECORDS_AT - 4); // claims 9 records, holds 1: does not decode
    marker.writeUInt32BE(crc32c(marker.subarray(21)), 17);
    const committed = await txBatch(3, ['c3', 'c4']);
    const Batch = internal<new (topic: string, fetchedOffset: string, data: unknown) => { messages: Array<Record<string, unknown>> }>('consumer/batch.js');
    const messages = await decodeMessages(messageSet([aborted, marker, committed]));
    const fetched = new Batch('t', '0', { partition: 0, highWatermark: '5', messages, abortedTransactions: [{ producerId: '7', firstOffset: '0' }] });
    expect(fetched.messages.map((m) => String(m['value']))).toEqual(['c3', 'c4']);
  });

  it('with a CRC mismatch the header is not trusted: the batch reaches the dead-letter topic even when flagged control or in an aborted transaction', async () => {
    const Long = internal<{ fromInt(n: number): unknown }>('utils/long.js');
    const records = [Record({ offsetDelta: 0, key: Buffer.from('k'), value: Buffer.from('d') })];
    const b = Buffer.from((await RecordBatch({ compression: GZIP, firstOffset: Long.fromInt(0), records, transactional: true, producerId: Long.fromInt(8) })).buffer);
    b.writeInt16BE(b.readInt16BE(21) | 0x20, 21); // the control bit flipped by the damage
    b.fill(0x55, RECORDS_AT + 4, RECORDS_AT + 14);
    const Batch = internal<new (topic: string, fetchedOffset: string, data: unknown) => { messages: Array<Record<string | symbol, unknown>> }>('consumer/batch.js');
    const fetched = new Batch('t', '0', { partition: 0, highWatermark: '1', messages: await decodeMessages(messageSet([b])), abortedTransactions: [{ producerId: '8', firstOffset: '0' }] });
    expect(fetched.messages).toHaveLength(1);
    expect(fetched.messages[0]![UNREADABLE_BATCH]).toContain('CRC32C does not match');
  });

  it('a batch cut short at the end of a response (the fetch size) is still left to kafkajs: the records before it, no stand-in', async () => {
    const a = await batch(0, ['a0', 'a1'], GZIP);
    const b = await batch(2, ['b2', 'b3'], GZIP);
    const messages = await decodeMessages(messageSet([a, b.subarray(0, b.length - 7)]));
    expect(messages.map((m) => m['offset'])).toEqual(['0', '1']);
    expect(messages.some((m) => m[UNREADABLE_BATCH] !== undefined)).toBe(false);
  });
});

describe('an app that imports agent-credit/kafka and uses kafkajs itself', () => {
  it('gets the stand-ins in its own consumers (one kafkajs copy) — and README says so and how to tell them', async () => {
    // this test's kafkajs is the one the product loaded (as an app's is when npm shares the copy)
    const damaged = Buffer.from(await batch(0, ['a', 'b'], GZIP));
    damaged.fill(0x55, RECORDS_AT + 4, RECORDS_AT + 14);
    const messages = await decodeMessages(messageSet([damaged]));
    expect(messages).toHaveLength(1);
    expect(messages[0]![UNREADABLE_BATCH]).toMatch(/CRC32C/);
    // README told a downstream reader only of the aborted-transaction filter
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const bullet = readme.slice(readme.indexOf('- **Reading the output with kafkajs**'), readme.indexOf('- **When**'));
    expect(bullet).toContain('message[UNREADABLE_BATCH]');
    expect(bullet).toMatch(/the app's own, when npm shares one copy/);
  });
});
