/**
 * read_committed on the real broker, through the product's Kafka client: two producers'
 * transactions interleaved in one partition and both aborted, a consumer group whose committed
 * offset points at the second one's first record. kafkajs 2.2.4's own filter delivers that record
 * (src/kafka/kafkajs-aborted-filter.ts explains why); the product's consumer must not.
 */
import { describe, expect, it } from 'vitest';
import { client, createTopics, readTopics, unique } from './support/kafka-io.js';

const td = new TextDecoder();

describe('read_committed through KafkajsClient', () => {
  it('delivers no record of an aborted transaction when a fetch starts inside two interleaved aborted ones', async () => {
    const c = client('it-read-committed');
    const topic = unique('rc');
    const groupId = unique('rc-grp');
    await createTopics(c, [topic], 1);
    const tx = (id: string) => c.createTransactionalProducer({ transactionalId: unique(id) });
    const [a, b, done] = [tx('rc-a'), tx('rc-b'), tx('rc-c')];
    for (const p of [a, b, done]) await p.connect();
    try {
      const ta = await a.transaction();
      await ta.send([{ topic, key: 'a', value: 'a0' }, { topic, key: 'a', value: 'a1' }]); // offsets 0, 1
      const tb = await b.transaction();
      await tb.send([{ topic, key: 'b', value: 'b0' }, { topic, key: 'b', value: 'b1' }]); // offsets 2, 3
      await ta.abort(); // marker at 4
      await tb.abort(); // marker at 5
      // A committed record, and the group's offset set to 2 (b0) in the same transaction.
      const tc = await done.transaction();
      await tc.send([{ topic, key: 'c', value: 'c0' }]);
      await tc.sendOffsets(groupId, [{ topic, partition: 0, offset: '2' }]);
      await tc.commit();
    } finally {
      for (const p of [a, b, done]) await p.disconnect();
    }
    // as the group whose committed offset is 2: the fetch starts at b0, inside both aborted transactions
    const fromTwo = await readTopics(c, [topic], (rs) => rs.some((r) => td.decode(r.value!) === 'c0'), 30_000, 1_000, groupId);
    expect(fromTwo.map((r) => td.decode(r.value!))).toEqual(['c0']);
    // and a reader from the beginning sees only the committed record too
    const all = await readTopics(c, [topic], (rs) => rs.length >= 1, 30_000, 1_000);
    expect(all.map((r) => td.decode(r.value!))).toEqual(['c0']);
  });
});
