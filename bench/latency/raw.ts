/**
 * Baseline for section 3: the broker's own produce → consume latency at a steady rate, with bare
 * kafkajs clients on the same broker (each record carries its send time; the consumer, joined
 * before the first send, records receive time − send time).
 */
import type { Producer } from 'kafkajs';
import { kafkaClient } from '../pipeline/broker.js';

export interface SteadyLoad {
  /** Records per second. */
  rate: number;
  seconds: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Calls `send(i)` at a steady rate (tick i due at i/rate s); returns the tick start times (performance.now()). */
export async function steadyTicks(load: SteadyLoad, send: (i: number) => Promise<void>): Promise<number[]> {
  const total = Math.round(load.rate * load.seconds);
  const start = performance.now();
  const sent: number[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / load.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(performance.now());
    await send(i);
  }
  return sent;
}

/** Sends `payload(i)` to `topic` at a steady rate, each record stamped with its send time. */
async function steadySend(producer: Producer, topic: string, load: SteadyLoad, payload: (i: number) => { key: string; value: Buffer }): Promise<number[]> {
  return steadyTicks(load, async (i) => {
    const m = payload(i);
    await producer.send({ topic, acks: -1, messages: [{ key: m.key, value: m.value, headers: { 'bench-sent-ms': String(performance.timeOrigin + performance.now()) } }] });
  });
}

export async function rawLatency(brokers: string, load: SteadyLoad): Promise<number[]> {
  const kafka = kafkaClient(brokers, 'bench-latency-raw');
  const topic = `bench_latency_raw_${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  const latencies: number[] = [];
  let joined!: () => void;
  const joinedP = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  const total = Math.round(load.rate * load.seconds);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const sent = Number(message.headers?.['bench-sent-ms']?.toString());
      latencies.push(performance.timeOrigin + performance.now() - sent);
      if (latencies.length >= total) resolveDone();
    },
  });
  await joinedP;
  await sleep(500);
  await steadySend(producer, topic, load, (i) => ({ key: `k${i}`, value: Buffer.alloc(256, i & 0xff) }));
  const timeout = sleep(30_000).then(() => undefined);
  await Promise.race([done, timeout]);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return latencies;
}
