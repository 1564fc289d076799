/**
 * The real broker for the Kafka parts of the benchmark: KAFKA_BROKERS when set, otherwise one
 * started with the project's launcher (scripts/kafka.ts) and stopped afterwards. Plus the raw
 * kafkajs helpers the baseline uses: load a topic, drain it with a bare consumer.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startKafka } from '../../scripts/kafka.js';
import { cpuBetween, cpuSample, type CpuSample } from '../lib/cpu.js';

export interface Broker {
  brokers: string;
  version: string;
  /** True when this process started it. */
  started: boolean;
  /** The broker JVM's pid when this process started it (for its CPU time). */
  pid?: number;
  stop(): Promise<void>;
}

export async function openBroker(): Promise<Broker> {
  const external = process.env.KAFKA_BROKERS;
  if (external) return { brokers: external, version: process.env.KAFKA_BROKER_VERSION ?? 'external', started: false, stop: async () => {} };
  const k = await startKafka();
  return { brokers: k.brokers, version: k.version, started: true, pid: k.pid, stop: () => k.stop() };
}

export function kafkaClient(brokers: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

export interface LoadRecord {
  key: string;
  value: Uint8Array;
}

/** Creates `topic` with `partitions` partitions (if missing) and produces `records` (acks = all), in chunks. */
export async function loadTopic(brokers: string, topic: string, partitions: number, records: readonly LoadRecord[]): Promise<void> {
  const kafka = kafkaClient(brokers, 'bench-loader');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // requests stay well under the broker's default 1 MiB message.max.bytes
    let batch: { key: string; value: Buffer }[] = [];
    let size = 0;
    const flush = async () => {
      if (batch.length) await producer.send({ topic, acks: -1, messages: batch });
      batch = [];
      size = 0;
    };
    for (const r of records) {
      if (size + r.value.byteLength > 512 * 1024) await flush();
      batch.push({ key: r.key, value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength) });
      size += r.value.byteLength;
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
}

export interface DrainResult {
  records: number;
  bytes: number;
  /** From the first record delivered to the last (excludes group join). */
  seconds: number;
  /** From `run()` to the last record (includes group join). */
  secondsWithJoin: number;
  /** CPU used from the first record to the last, by this process and the broker. */
  cpu: CpuSample;
}

/**
 * The baseline: a bare kafkajs group consumer reading `topics` from the beginning until
 * `expected` records arrived, doing nothing with them (eachBatch, resolve, heartbeat).
 */
export async function drainRaw(brokers: string, topics: readonly string[], expected: number, groupId: string, brokerPid?: number, timeoutMs = 300_000): Promise<DrainResult> {
  const kafka = kafkaClient(brokers, 'bench-raw');
  const consumer: Consumer = kafka.consumer({ groupId, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  let records = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let cpuFirst: CpuSample | undefined;
  let cpuLast: CpuSample | undefined;
  const t0 = performance.now();
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw consumer: ${records}/${expected} records after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        if (first === 0) {
          cpuFirst = cpuSample(brokerPid);
          first = performance.now();
        }
        for (const m of batch.messages) bytes += m.value?.byteLength ?? 0;
        records += batch.messages.length;
        last = performance.now();
        await heartbeat();
        if (records >= expected) {
          cpuLast = cpuSample(brokerPid);
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  return { records, bytes, seconds: (last - first) / 1000, secondsWithJoin: (last - t0) / 1000, cpu: cpuBetween(cpuFirst!, cpuLast!) };
}
