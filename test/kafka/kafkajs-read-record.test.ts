/**
 * readRecordAt (kafkajs-read-record.ts) over a stand-in for kafkajs's internal cluster: what it
 * opens when the pipeline reads the spilled replay filters of many partitions at one assignment.
 */
import { describe, expect, it } from 'vitest';
import { readRecordAt, type FetchedRecord } from '../../src/kafka/kafkajs-read-record.js';

/** A cluster factory whose fetches wait for `release`, counting clusters made, connected and disconnected. */
function clusters() {
  const counts = { created: 0, connects: 0, disconnects: 0, open: 0, mostOpen: 0, fetches: 0 };
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const record = (offset: string): FetchedRecord => ({ offset, key: Buffer.from('k'), value: Buffer.from(`v${offset}`), timestamp: '0', batchContext: { producerId: '-1', inTransaction: false } });
  const create = () => {
    counts.created++;
    return {
      connect: async () => {
        counts.connects++;
        counts.mostOpen = Math.max(counts.mostOpen, ++counts.open);
      },
      disconnect: async () => {
        counts.disconnects++;
        counts.open--;
      },
      addTargetTopic: async () => {},
      refreshMetadata: async () => {},
      findLeaderForPartitions: () => ({ '1': [0] }),
      findBroker: async () => ({
        fetch: async (req: object) => {
          counts.fetches++;
          await released;
          const offset = (req as { topics: { partitions: { fetchOffset: string }[] }[] }).topics[0]!.partitions[0]!.fetchOffset;
          return { responses: [{ partitions: [{ lastStableOffset: '1000', highWatermark: '1000', messages: [record(offset)] }] }] };
        },
      }),
    };
  };
  return { create, counts, release };
}

describe('readRecordAt', () => {
  it('reads of many partitions at once share one cluster (its connections), closed once the last read is done — not one cluster, its metadata and broker connections (and SASL handshakes) per partition', async () => {
    const { create, counts, release } = clusters();
    const reads = Array.from({ length: 16 }, (_, i) => readRecordAt(create, { topic: 'side', partition: 0 }, String(i), { timeoutMs: 10_000, maxBytes: 1024 }));
    for (let i = 0; i < 100 && counts.fetches < 16; i++) await new Promise((r) => setTimeout(r, 10));
    expect(counts.fetches).toBe(16);
    expect(counts.mostOpen).toBe(1);
    release();
    const got = await Promise.all(reads);
    expect(got.map((m) => m?.value?.toString())).toEqual(Array.from({ length: 16 }, (_, i) => `v${i}`));
    expect(counts.created).toBe(1);
    expect(counts.open).toBe(0);
    expect(counts.disconnects).toBe(1);

    // a read after that opens a cluster again (none is kept between assignments)
    await readRecordAt(create, { topic: 'side', partition: 0 }, '3', { timeoutMs: 10_000, maxBytes: 1024 });
    expect(counts.created).toBe(2);
    expect(counts.open).toBe(0);
  });
});
