import { describe, expect, it } from 'vitest';
import { KafkaSourceConfigSchema } from '../../src/sources/kafka/config.js';
import { KafkaTelemetrySource } from '../../src/sources/kafka/kafka-source.js';
import { FakeKafka } from './fake-kafka.js';

describe('KafkaTelemetrySource pausing', () => {
  const config = KafkaSourceConfigSchema.parse({ brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs' });
  const assignment = [{ topic: 'spans', partition: 0 }, { topic: 'spans', partition: 1 }, { topic: 'logs', partition: 0 }];

  /** A started source on the fake consumer, assigned and paused for backpressure; `handled`: the sizes of the batches it handed on. */
  async function pausedSource() {
    const fake = new FakeKafka();
    const source = new KafkaTelemetrySource(config, fake);
    const handled: number[] = [];
    await source.start({ onBatch: async (b) => void handled.push(b.size), onAssignment: () => {} });
    fake.assign(assignment);
    source.pause();
    return { fake, source, handled };
  }

  it('a held-back partition stays paused in the consumer until the next assignment; backpressure never pauses the consumer', async () => {
    const fake = new FakeKafka();
    const source = new KafkaTelemetrySource(config, fake);
    await source.start({ onBatch: async () => {}, onAssignment: () => {} });
    fake.assign(assignment);
    source.holdBack({ topic: 'spans', partition: 0 });
    expect([...fake.paused]).toEqual(['spans/0']);
    source.pause(); // backpressure: batches wait in the source, the consumer is not paused
    expect(source.isPaused()).toBe(true);
    expect([...fake.paused]).toEqual(['spans/0']);
    source.resume();
    expect(source.isPaused()).toBe(false);
    expect([...fake.paused]).toEqual(['spans/0']);
    fake.assign(assignment); // a new group assignment: everything is fetched again
    expect([...fake.paused]).toEqual([]);
    // held back while paused by backpressure: the next assignment resumes both
    source.holdBack({ topic: 'spans', partition: 1 });
    source.pause();
    fake.assign(assignment);
    expect([...fake.paused]).toEqual([]);
    expect(source.isPaused()).toBe(false);
  });

  // kafkajs's fetch loop sleeps maxWaitMs when every partition is paused, and a resume does not
  // wake it: backpressure holds the batch in hand instead, so the consumer fetches nothing more
  // and goes on the moment the source resumes.
  it('holds a batch handed over while paused until resume, and hands it on then', async () => {
    const { fake, source, handled } = await pausedSource();
    let delivered = false;
    const delivery = fake.deliver('spans', 0, [{ offset: 0, value: 'x' }, { offset: 1, value: 'y' }]).then(() => (delivered = true));
    await new Promise((r) => setTimeout(r, 250)); // past a few of the gate's checks
    expect(handled).toEqual([]);
    expect(delivered).toBe(false);
    source.resume();
    await delivery;
    expect(handled).toEqual([2]);
  });

  it('a new assignment opens the gate too', async () => {
    const { fake, handled } = await pausedSource();
    const delivery = fake.deliver('spans', 0, [{ offset: 0, value: 'x' }]);
    await new Promise((r) => setTimeout(r, 20));
    fake.assign(assignment);
    await delivery;
    expect(handled).toEqual([1]);
  });

  it('a held batch is dropped unhandled, nothing resolved, when the consumer stops or the partition moves; it heartbeats while held', async () => {
    const { fake, source, handled } = await pausedSource();
    for (const ends of ['stop', 'stale'] as const) {
      let running = true;
      let stale = false;
      let heartbeats = 0;
      const resolved: string[] = [];
      const control = { heartbeat: async () => void heartbeats++, isRunning: () => running, isStale: () => stale, resolveOffset: (o: string) => void resolved.push(o) };
      const held = fake.handlers!.onBatch({ topic: 'spans', partition: 0, records: [], highWatermark: '1' }, control);
      await new Promise((r) => setTimeout(r, 250));
      expect(heartbeats, ends).toBeGreaterThan(0);
      if (ends === 'stop') running = false;
      else stale = true;
      await held;
      expect(handled, ends).toEqual([]);
      expect(resolved, ends).toEqual([]);
      expect(source.isPaused(), ends).toBe(true);
    }
  });
});
