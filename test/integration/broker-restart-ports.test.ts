/**
 * A restarted broker comes back on the ports it had (its clients know it by them), and while it is
 * down another socket can take one: a client's connect() draws its local port from the same range
 * listen(0) picked the broker's from, and clients reconnect all through an outage. The JVM then
 * exited at once on a BindException and restart() failed with "Kafka broker exited (1) before it
 * was ready" — a failed test for a port that was free again a moment later. restart() now waits
 * for its ports, and says which port is taken when it stays taken.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';
import { Kafka, logLevel } from 'kafkajs';
import { unique } from './support/kafka-io.js';

let kafka: RunningKafka | undefined;
const held: Server[] = [];

beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);

afterAll(async () => {
  for (const s of held.splice(0)) if (s.listening) await release(s);
  await kafka?.stop();
}, 60_000);

async function take(address: string): Promise<Server> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  // as a client's socket would, it answers no Kafka request: a connection to it is closed at once
  // (one left open kept close() from ending, and a Kafka client waiting on it)
  const s = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  held.push(s);
  return s;
}
const release = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const adminOf = async (brokers: string) => {
  const a = new Kafka({ clientId: 'restart-ports', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await a.connect();
  return a;
};

describe('RunningKafka.restart with its port taken while it is down', { timeout: 240_000 }, () => {
  it('waits until the port is free again and comes back on it', async () => {
    const broker = kafka!;
    let s: Server | undefined;
    let seenTaken: readonly number[] = [];
    await broker.restart({
      signal: 'SIGKILL',
      whileDown: async () => void (s = await take(broker.brokers)),
      // released once restart() has found it taken and waits (before the fix it launched the JVM, which exited on a BindException)
      onPortsTaken: (ports) => {
        seenTaken = ports;
        void release(s!);
      },
    });
    expect(seenTaken).toEqual([Number(broker.brokers.split(':')[1])]);
    // the broker serves on its old address: a topic can be created and described
    const topic = unique('restart-ports');
    const a = await adminOf(broker.brokers);
    try {
      await a.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      expect((await a.fetchTopicMetadata({ topics: [topic] })).topics.map((t) => t.name)).toEqual([topic]);
    } finally {
      await a.disconnect();
    }
  });

  it('fails naming the port when it stays taken, and a restart once it is free brings the broker back', async () => {
    const broker = kafka!;
    let s: Server | undefined;
    const err = await broker
      .restart({ readyTimeoutMs: 3_000, whileDown: async () => void (s = await take(broker.brokers)) })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(new RegExp(`^restart: 127\\.0\\.0\\.1:${broker.brokers.split(':')[1]} is still taken after waiting 3000 ms`));
    await release(s!);
    await broker.restart();
    const a = await adminOf(broker.brokers);
    try {
      expect((await a.describeCluster()).brokers.map((b) => b.port)).toEqual([Number(broker.brokers.split(':')[1])]);
    } finally {
      await a.disconnect();
    }
  });
});
