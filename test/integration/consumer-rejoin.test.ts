/**
 * `KafkaConsumer.rejoin()` on the real broker (kafkajs: stop() leaves the group, run() joins a
 * new generation): the partitions are assigned again and read from the committed offset. The
 * pipeline uses it after a transactional producer was fenced by its own replacement.
 */
import { describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../src/kafka/client.js';
import { client, createTopics, produce, unique } from './support/kafka-io.js';
import { waitFor } from './support/pipeline-harness.js';

describe('KafkaConsumer.rejoin', () => {
  it('assigns the partitions again and resumes from the committed offset', async () => {
    const c = client();
    const topic = unique('rejoin');
    await createTopics(c, [topic], 1);
    await produce(c, Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}`, partition: 0 })));

    const consumer = c.createConsumer({ groupId: unique('grp'), sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitMs: 100 });
    const assignments: TopicPartition[][] = [];
    const seen: { offset: string; generation: number }[] = [];
    await consumer.connect();
    await consumer.subscribe([topic], { fromBeginning: true });
    await consumer.run({
      onAssignment: (a) => void assignments.push([...a]),
      onBatch: async (batch, control) => {
        for (const r of batch.records) {
          seen.push({ offset: r.offset, generation: assignments.length });
          control.resolveOffset(r.offset);
        }
      },
    });
    try {
      await waitFor(() => seen.length >= 10, 30_000, 'first read');
      await consumer.commit([{ topic, partition: 0, offset: '6' }]);
      await consumer.rejoin();
      await waitFor(() => assignments.length >= 2 && seen.filter((s) => s.generation === 2).length >= 4, 30_000, 'read after the rejoin');
      expect(assignments[1]).toEqual([{ topic, partition: 0 }]);
      expect(seen.filter((s) => s.generation === 2).map((s) => s.offset)).toEqual(['6', '7', '8', '9']);
    } finally {
      await consumer.disconnect();
    }
  });
});
