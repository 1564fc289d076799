/**
 * Headers of consumed records (src/kafka/kafkajs-client.ts consumedHeaders): Kafka allows a header
 * without a value, which kafkajs's record decoder gives as `null` (its types say it never is). The
 * dead letter of an undecodable record with such a header threw while measuring its size — on
 * every redelivery of the batch.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { consumedHeaders } from '../../src/kafka/kafkajs-client.js';
import type { ConsumedRecord } from '../../src/kafka/client.js';
import { deadLetterRecord } from '../../src/sinks/kafka/event-records.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  writeInt8(v: number): KafkajsEncoder;
  writeVarInt(v: number): KafkajsEncoder;
  writeVarLong(v: number): KafkajsEncoder;
  writeVarIntBytes(v: Buffer | null): KafkajsEncoder;
  writeVarIntString(v: string): KafkajsEncoder;
  writeEncoder(e: KafkajsEncoder): KafkajsEncoder;
  size(): number;
  buffer: Buffer;
}

/** One record's bytes as a producer that sends value-less headers writes them, decoded by kafkajs's own record decoder. */
function kafkajsDecoded(headers: readonly [string, string | null][]): { headers: Record<string, unknown> } {
  const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkajsEncoder;
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
  const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (d: unknown, ctx: object) => { headers: Record<string, unknown> };
  const body = new Encoder().writeInt8(0).writeVarLong(0).writeVarInt(0).writeVarIntBytes(null).writeVarIntBytes(Buffer.from('not otlp')).writeVarInt(headers.length);
  for (const [k, v] of headers) body.writeVarIntString(k).writeVarIntBytes(v === null ? null : Buffer.from(v));
  const record = new Encoder().writeVarInt(body.size()).writeEncoder(body);
  const decoder = new Decoder(record.buffer) as { readVarInt(): number };
  decoder.readVarInt(); // the length prefix, as kafkajs's batch decoder reads it
  return decodeRecord(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
}

describe('consumed record headers', () => {
  it('a value-less header (kafkajs: null) becomes an empty value; repeated keys keep the last value', () => {
    const decoded = kafkajsDecoded([
      ['no-value', null],
      ['repeated', 'first'],
      ['repeated', null],
      ['content-type', 'application/x-protobuf'],
    ]);
    expect(decoded.headers['no-value']).toBeNull(); // what kafkajs hands over
    const headers = consumedHeaders(decoded.headers as never);
    expect(headers['no-value']).toEqual(new Uint8Array(0));
    expect(headers.repeated).toEqual(new Uint8Array(0));
    expect(Buffer.from(headers['content-type']!).toString()).toBe('application/x-protobuf');
  });

  it('the dead letter of an undecodable record with a value-less header is written, the header kept (empty)', () => {
    const decoded = kafkajsDecoded([['no-value', null]]);
    const record: ConsumedRecord = { topic: 'otlp_spans', partition: 0, offset: '7', key: null, value: Buffer.from('not otlp'), headers: consumedHeaders(decoded.headers as never), timestampMs: 0 };
    const dead = deadLetterRecord(record, 'undecodable', 'agent-credit-dlq', 1 << 20);
    expect(dead.headers?.['no-value']).toEqual(new Uint8Array(0));
    expect(Buffer.from(dead.value as Uint8Array).toString()).toBe('not otlp');
    // kafkajs's header as it was handed over made the dead letter throw
    expect(() => deadLetterRecord({ ...record, headers: decoded.headers as never }, 'undecodable', 'agent-credit-dlq', 1 << 20)).toThrow(TypeError);
  });
});
