/**
 * `sendRecord` and `readRecord` of the kafkajs client on the real broker: where one record was
 * written (in a transaction or not), and that record read back at its offset without a consumer
 * group, read_committed — the side record of a spilled replay filter (src/runtime/watermark.ts,
 * `ac5`) is written and read this way.
 */
import { describe, expect, it } from 'vitest';
import { client, createTopics, unique } from './support/kafka-io.js';

const READ = { timeoutMs: 10_000, maxBytes: 1 << 20 };

describe('KafkajsClient.sendRecord / readRecord', () => {
  it('reads back, at the offset sendRecord gave, the record a committed transaction wrote; none for an aborted one or an offset out of range', async () => {
    const c = client('read-record');
    const topic = unique('read-record');
    await createTopics(c, [topic], 3);
    const tx = c.createTransactionalProducer({ transactionalId: unique('read-record-tx') });
    await tx.connect();
    try {
      // an aborted record first, then a committed one after it on the same partition
      const t1 = await tx.transaction();
      const aborted = await t1.sendRecord!({ topic, key: 'k', value: 'aborted', partition: 1 });
      await t1.abort();
      const t2 = await tx.transaction();
      await t2.send([{ topic, key: 'other', value: 'x', partition: 1 }]);
      const kept = await t2.sendRecord!({ topic, key: 'k', value: 'committed', partition: 1 });
      await t2.commit();
      expect(kept.partition).toBe(1);
      expect(BigInt(kept.offset)).toBeGreaterThan(BigInt(aborted.offset));

      const read = await c.readRecord!({ topic, partition: 1 }, kept.offset, READ);
      expect(read?.offset).toBe(kept.offset);
      expect(Buffer.from(read!.value!).toString()).toBe('committed');
      expect(Buffer.from(read!.key!).toString()).toBe('k');
      expect(await c.readRecord!({ topic, partition: 1 }, aborted.offset, READ)).toBeUndefined();
      expect(await c.readRecord!({ topic, partition: 1 }, '1000000', READ)).toBeUndefined();
    } finally {
      await tx.disconnect();
    }

    // not in a transaction, placed by key
    const p = c.createProducer({ idempotent: true });
    await p.connect();
    try {
      const at = await p.sendRecord!({ topic, key: 'by-key', value: 'plain' });
      const read = await c.readRecord!({ topic, partition: at.partition }, at.offset, READ);
      expect(Buffer.from(read!.value!).toString()).toBe('plain');
    } finally {
      await p.disconnect();
    }
  });

  it('reads a record larger than maxBytes whole (Kafka hands out the first batch at the offset whole): maxBytes bounds what comes after it, not the record', async () => {
    const c = client('read-record-large');
    const topic = unique('read-record-large');
    await createTopics(c, [topic], 1);
    const p = c.createProducer({ idempotent: true });
    await p.connect();
    try {
      const big = 'f'.repeat(300_000);
      const at = await p.sendRecord!({ topic, key: 'g/spans/0', value: big, partition: 0 });
      // later filters of other partitions on the same side partition
      for (let i = 0; i < 3; i++) await p.sendRecord!({ topic, key: `g/spans/${i + 1}`, value: 'x'.repeat(300_000), partition: 0 });
      const read = await c.readRecord!({ topic, partition: 0 }, at.offset, { timeoutMs: 10_000, maxBytes: 1024 });
      expect(read?.offset).toBe(at.offset);
      expect(Buffer.from(read!.value!).toString()).toBe(big);
    } finally {
      await p.disconnect();
    }
  });

  it('rejects, naming the topic, when the topic does not exist', async () => {
    const c = client('read-record-missing');
    await expect(c.readRecord!({ topic: unique('no-such-topic'), partition: 0 }, '0', READ)).rejects.toThrow();
  });
});
