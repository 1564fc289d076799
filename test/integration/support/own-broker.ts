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

/**
 * Server properties for a broker a test crashes (`restart({ signal: 'SIGKILL' })`). Its controller
 * keeps the killed broker's registration until that broker's session times out
 * (`broker.session.timeout.ms`, 9 s by default) and refuses the restarted one meanwhile
 * (DUPLICATE_BROKER_REGISTRATION): every crash restart took ~9 s more than `downMs` plus the
 * start. With 3 s (heartbeats every 500 ms, well inside it) the restart is back ~6 s sooner; the
 * time the broker is down (`downMs`) is what the tests chose. A controlled restart (SIGTERM)
 * unregisters at once and does not need it.
 */
export const CRASH_RESTART_PROPERTIES: Readonly<Record<string, string>> = {
  'broker.session.timeout.ms': '3000',
  'broker.heartbeat.interval.ms': '500',
};

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
