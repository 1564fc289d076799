/**
 * The contract the exactly-once pipeline builds on (src/kafka/client.ts KafkaTransactionalProducer):
 * `connect()` claims the transactional id — fences any older producer with that id and returns
 * only once that producer's open transaction is finished. The pipeline reads a partition's
 * committed offset and replay metadata right after `connect()`; if the zombie's last transaction
 * (events + offsets) could still commit after that read, the new owner would replay episodes
 * whose events that transaction publishes, and publish them again. kafkajs's own `connect()`
 * initialises only an idempotent producer id; its transactional id is claimed on the first
 * `transaction()` — too late for that read.
 */
import { describe, expect, it } from 'vitest';
import { client, createTopics, readTopics, sleep, unique } from './support/kafka-io.js';

describe('transactional producer connect()', { timeout: 60_000 }, () => {
  it('fences the previous producer with the same id and ends its open transaction before returning', async () => {
    const c = client('fencing');
    const topic = unique('fence');
    const groupId = unique('fence-grp');
    await createTopics(c, [topic], 1);
    const transactionalId = unique('fence-tx');

    const zombie = c.createTransactionalProducer({ transactionalId });
    await zombie.connect();
    const tx = await zombie.transaction();
    await tx.send([{ topic, key: 'k', value: new TextEncoder().encode('from the zombie') }]);
    await tx.sendOffsets(groupId, [{ topic, partition: 0, offset: '1', metadata: 'zombie' }]);

    const successor = c.createTransactionalProducer({ transactionalId });
    await successor.connect();

    // The zombie's transaction is over (aborted by the fence): committing it now must fail ...
    await expect(tx.commit()).rejects.toThrow(/old epoch|fenced/i);
    // ... its offsets were never committed ...
    const admin = await c.admin();
    try {
      const committed = await admin.fetchCommittedOffsets(groupId, [topic]);
      expect(committed.find((o) => o.partition === 0)?.offset ?? '-1').toBe('-1');
    } finally {
      await admin.disconnect();
    }
    // ... and a read_committed reader never sees its record, but sees the successor's.
    const next = await successor.transaction();
    await next.send([{ topic, key: 'k', value: new TextEncoder().encode('from the successor') }]);
    await next.commit();
    await sleep(200);
    const records = await readTopics(c, [topic], (rs) => rs.length >= 1, 20_000, 1_000);
    expect(records.map((r) => new TextDecoder().decode(r.value!))).toEqual(['from the successor']);
    await successor.disconnect();
    await zombie.disconnect().catch(() => undefined);
  });
});
