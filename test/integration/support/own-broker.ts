/**
 * A broker of a test file's own (scripts/kafka.ts), for files that need one the shared broker
 * cannot be: restarted mid-test, or started with other server properties. Registers the file's
 * beforeAll / afterAll: `cleanups` (whatever a failed test left running) run first, then the
 * broker stops.
 */
import { afterAll, beforeAll } from 'vitest';
import { startKafka, type RunningKafka } from '../../../scripts/kafka.js';
import { KafkajsClient } from '../../../src/kafka/index.js';
import type { KafkaClient } from '../../../src/kafka/client.js';

export function useOwnBroker(extraProperties?: Record<string, string>) {
  let kafka: RunningKafka | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    kafka = await startKafka(extraProperties ? { extraProperties } : {});
  }, 180_000);
  afterAll(async () => {
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
    await kafka?.stop();
  }, 60_000);
  return {
    /** The running broker (after beforeAll). */
    broker: (): RunningKafka => kafka!,
    clientOf: (id: string): KafkaClient => new KafkajsClient({ brokers: [kafka!.brokers], clientId: id }),
    cleanups,
  };
}
