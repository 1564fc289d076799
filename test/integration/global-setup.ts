/**
 * Starts one local Kafka broker (scripts/kafka.ts: Maven-resolved kafka_2.13, KRaft, 127.0.0.1,
 * free ports) for the whole integration project and stops it afterwards.
 *
 * Tests read the bootstrap address with `inject('kafkaBrokers')` or `process.env.KAFKA_BROKERS`.
 * Set `KAFKA_BROKERS` yourself to run against an already running broker (nothing is started then).
 * `KAFKA_VERSION` picks the broker version (default 4.1.1; 3.9.1 supported).
 */
import type { TestProject } from 'vitest/node';
import { startKafka, type RunningKafka } from '../../scripts/kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaVersion: string;
    /** The started broker's temp dir (its data in `<dir>/data`); '' for an external broker. */
    kafkaWorkDir: string;
  }
}

let running: RunningKafka | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.KAFKA_BROKERS;
  if (external !== undefined && external !== '') {
    project.provide('kafkaBrokers', external);
    project.provide('kafkaVersion', process.env.KAFKA_VERSION ?? 'external');
    project.provide('kafkaWorkDir', '');
    return async () => {};
  }
  running = await startKafka();
  process.env.KAFKA_BROKERS = running.brokers;
  process.env.KAFKA_BROKER_VERSION = running.version;
  project.provide('kafkaBrokers', running.brokers);
  project.provide('kafkaVersion', running.version);
  project.provide('kafkaWorkDir', running.workDir);
  return async () => {
    await running?.stop();
    running = undefined;
  };
}
