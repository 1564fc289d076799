import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { recordBytes } from '../../src/kafka/produce-chunks.js';
import { KeyPartitioner, placedFirstPartitioner, placeRecord, topicMessages, unacknowledged } from '../../src/kafka/kafkajs-placement.js';

/** Partition metadata as a kafkajs producer holds it for a healthy topic on a 3-broker cluster. */
function clusterMetadata(partitions: number): PartitionMetadata[] {
  return Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: partitionId % 3,
    replicas: [partitionId % 3, (partitionId + 1) % 3],
    isr: [partitionId % 3, (partitionId + 1) % 3],
  }));
}

describe('KeyPartitioner', () => {
  it('places every key where a kafkajs producer with Partitioners.DefaultPartitioner places it', () => {
    const kp = new KeyPartitioner();
    // A fresh partitioner per case, called the way kafkajs's producer calls it while sending.
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))),
        fc.integer({ min: 1, max: 128 }),
        fc.constantFrom('rewards', 'episodes'),
        (key, partitions, topic) => {
          const kafkajs = Partitioners.DefaultPartitioner()({ topic, partitionMetadata: clusterMetadata(partitions), message: { key, value: 'v' } });
          expect(kp.partition(topic, key, partitions)).toBe(kafkajs);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the same answers when keys repeat, across partition counts (its memo of string keys)', () => {
    const kp = new KeyPartitioner();
    for (let round = 0; round < 2; round++) {
      for (const key of ['planner', 'coder', 'critic', 'tester']) {
        for (let n = 1; n <= 64; n++) {
          const kafkajs = Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata: clusterMetadata(n), message: { key, value: 'v' } });
          expect(kp.partition(round === 0 ? 'a' : 'b', key, n)).toBe(kafkajs);
        }
      }
    }
  });

  it('matches the Java client (murmur2 of the UTF-8 key, sign bit cleared, modulo the partition count)', () => {
    // Kafka Utils.murmur2 values (as pinned by Akka's Murmur2Spec against the Java client).
    const javaMurmur2: Record<string, number> = { '1': -1993445489, '12': 126087238, '123': -267702483, '1234': -1614185708, '12345': -1188365604 };
    const kp = new KeyPartitioner();
    for (const [key, hash] of Object.entries(javaMurmur2)) {
      for (const n of [1, 3, 12, 100]) {
        expect(kp.partition('t', key, n)).toBe((hash & 0x7fffffff) % n);
        expect(kp.partition('t', Buffer.from(key), n)).toBe((hash & 0x7fffffff) % n);
      }
    }
  });
});

describe('placedFirstPartitioner', () => {
  it("gives every message the partition kafkajs's DefaultPartitioner gives it: its own when set, else by key, else round robin over the partitions with a leader", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b))),
            partition: fc.oneof(fc.constant(null), fc.constant(undefined), fc.nat(20)),
          }),
          { maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 12 }),
        fc.nat(3),
        (messages, partitions, leaderless) => {
          const partitionMetadata = clusterMetadata(partitions).map((p, i) => (i < Math.min(leaderless, partitions - 1) ? { ...p, leader: -1 } : p)); // one led partition at least
          const ours = placedFirstPartitioner();
          const kafkajs = Partitioners.DefaultPartitioner();
          const got = messages.map(({ key, partition }) => ours({ topic: 't', partitionMetadata, message: { key, value: 'v', partition: partition as number } }));
          const want = messages.map(({ key, partition }) => kafkajs({ topic: 't', partitionMetadata, message: { key, value: 'v', partition: partition as number } }));
          // the rest exactly; null-key messages go round robin from a random start: each the next partition with a leader
          const unplaced = (i: number) => messages[i]!.partition == null && messages[i]!.key == null;
          expect(got.filter((_, i) => !unplaced(i))).toEqual(want.filter((_, i) => !unplaced(i)));
          const led = partitionMetadata.filter((p) => p.leader >= 0).map((p) => p.partitionId);
          for (const picks of [got.filter((_, i) => unplaced(i)), want.filter((_, i) => unplaced(i))]) {
            for (let j = 1; j < picks.length; j++) expect(led.indexOf(picks[j]!)).toBe((led.indexOf(picks[j - 1]!) + 1) % led.length);
            for (const p of picks) expect(led).toContain(p);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('placeRecord', () => {
  const kp = new KeyPartitioner();

  it('sizes a record by recordBytes, or takes the bytes it carries without measuring it again (event records, measured for sinks.kafka.maxRecordBytes)', () => {
    const r = { topic: 't', key: 'k', value: 'välue', headers: { 'content-type': 'application/json' } };
    expect(placeRecord(r, 4, kp).bytes).toBe(recordBytes(r));
    // a carried size is trusted (its contract: recordBytes of the record); another number shows it is the one taken
    expect(placeRecord({ ...r, bytes: 12_345 }, 4, kp).bytes).toBe(12_345);
  });

  it('keeps a partition the caller set, even with a key', () => {
    const p = placeRecord({ topic: 't', key: '12', value: 'v', partition: 7 }, 12, kp);
    expect(p).toMatchObject({ partition: 7, explicit: true, message: { partition: 7 } });
  });

  it('places keyed records by key when the partition count is known, and leaves the rest to kafkajs', () => {
    expect(placeRecord({ topic: 't', key: '12', value: 'v' }, 12, kp)).toMatchObject({ partition: kp.partition('t', '12', 12), explicit: false });
    for (const p of [placeRecord({ topic: 't', key: null, value: 'v' }, 12, kp), placeRecord({ topic: 't', key: 'k', value: 'v' }, undefined, kp)]) {
      expect(p.partition).toBeUndefined();
      expect('partition' in p.message).toBe(false);
    }
  });

  it('hands bytes to kafkajs as Buffers over the same memory and keeps string headers as they are', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 4, 9]);
    const value = backing.subarray(1, 5);
    const headers = { 'content-type': 'application/json', raw: new Uint8Array([5]) };
    const p = placeRecord({ topic: 't', key: new Uint8Array([1]), value, headers }, 4, kp);
    expect(Buffer.isBuffer(p.message.value)).toBe(true);
    expect((p.message.value as Buffer).buffer).toBe(backing.buffer);
    expect([...(p.message.value as Buffer)]).toEqual([1, 2, 3, 4]);
    expect(p.message.headers).toEqual({ 'content-type': 'application/json', raw: Buffer.from([5]) });
    const strings = { a: 'x' };
    expect(placeRecord({ topic: 't', key: 'k', value: 'v', headers: strings }, 4, kp).message.headers).toBe(strings);
  });

  it('groups messages per topic for sendBatch, in input order', () => {
    const placed = [
      placeRecord({ topic: 'a', key: '1', value: 'x' }, 2, kp),
      placeRecord({ topic: 'b', key: '2', value: 'y' }, 2, kp),
      placeRecord({ topic: 'a', key: '3', value: 'z' }, 2, kp),
    ];
    expect(topicMessages(placed).map((t) => [t.topic, t.messages.map((m) => m.value)])).toEqual([
      ['a', ['x', 'z']],
      ['b', ['y']],
    ]);
  });
});

describe('unacknowledged', () => {
  it('finds the placed records whose partition kafkajs did not acknowledge (it skips partitions it has no metadata for)', () => {
    const kp = new KeyPartitioner();
    const a = placeRecord({ topic: 't', key: 'k', value: 'v', partition: 0 }, 4, kp);
    const b = placeRecord({ topic: 't', key: 'k', value: 'v', partition: 5 }, 4, kp);
    const c = placeRecord({ topic: 'u', key: 'k', value: 'v', partition: 0 }, 4, kp);
    const unplaced = placeRecord({ topic: 't', key: null, value: 'v' }, 4, kp);
    const acks = [
      { topicName: 't', partition: 0, errorCode: 0 },
      { topicName: 'u', partition: 1, errorCode: 0 },
    ];
    expect(unacknowledged([a, b, c, unplaced], acks)).toEqual([b, c]);
  });
});
