/**
 * Input topics with real collector records on the broker of `npm run kafka:start`, so the Kafka job
 * has something to credit:
 *
 *   npm run kafka:seed       # creates otlp_spans / otlp_logs, writes the recorded collector dump
 *
 * The broker kafka:start runs is built from Maven jars and ships no `kafka-topics.sh`, and the job
 * never creates its input topics: following README's Kafka line, a user's `npm start` stopped at
 * "topic otlp_spans does not exist … e.g. kafka-topics.sh --create", with no way to create one short
 * of writing a kafkajs script. The records are those a real OpenTelemetry Collector wrote to Kafka
 * (test/fixtures/agents-sdk/kafka/otlp_proto: 9 traces of 3 runs under 3 instrumentations, and their
 * 9 evaluation log records), each to its recorded partition with its recorded key (the trace id), as
 * deploy/smoke-kafka.ts writes them to a broker of its own.
 *
 * Settings (environment): `KAFKA_BROKERS` (default: the broker .kafka/state.json records).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { whileLeadersSettle } from '../src/kafka/stale-metadata.js';
import { STATE_FILE } from './kafka.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The collector's records kept in this repository: `<dir>/otlp_spans/<partition>-<offset>.bin` + `.key`, and `otlp_logs/`. */
export const RECORDED_COLLECTOR_DUMP = join(REPO, 'test', 'fixtures', 'agents-sdk', 'kafka', 'otlp_proto');

export interface SeedOptions {
  brokers: string;
  /** Topic names; the job's defaults (source.kafka.spansTopic / logsTopic) unless given. */
  spansTopic?: string;
  logsTopic?: string;
  dump?: string;
}

export interface SeedResult {
  /** Topics this call created (4 partitions each, as the recorded dump's topics had). */
  created: string[];
  /** Records written per topic; 0 when the topic already held records (nothing written, so a second seed does not double them). */
  written: Record<string, number>;
}

const DUMP_PARTITIONS = 4;

/** A dump topic's records in offset order per partition: `{ partition, key, value }`. */
function dumpRecords(dir: string): { partition: number; key: Buffer; value: Buffer }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => {
      const [partition, offset] = f.replace(/\.bin$/, '').split('-').map(Number) as [number, number];
      return { partition, offset, key: readFileSync(join(dir, f.replace(/\.bin$/, '.key'))), value: readFileSync(join(dir, f)) };
    })
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    .map(({ partition, key, value }) => ({ partition, key, value }));
}

/**
 * Creates the input topics that are missing and writes the recorded dump into each topic that holds
 * no record yet. A topic with fewer partitions than the dump's 4 is refused naming it (the records
 * keep their partitions, so that a trace and its evaluation stay on one partition number).
 */
export async function seedInputTopics(options: SeedOptions): Promise<SeedResult> {
  const dump = options.dump ?? RECORDED_COLLECTOR_DUMP;
  const topics = { otlp_spans: options.spansTopic ?? 'otlp_spans', otlp_logs: options.logsTopic ?? 'otlp_logs' };
  const kafka = new Kafka({ brokers: brokerList(options.brokers), clientId: 'agent-credit-kafka-seed', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const result: SeedResult = { created: [], written: {} };
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(topics).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: DUMP_PARTITIONS })), waitForLeaders: true });
      result.created.push(...missing);
    }
    await producer.connect();
    for (const [dumpTopic, topic] of Object.entries(topics)) {
      // a topic just created: the broker may answer NOT_LEADER_FOR_PARTITION for a moment, and kafkajs's admin does not retry it
      const offsets = await whileLeadersSettle(() => admin.fetchTopicOffsets(topic));
      if (offsets.length < DUMP_PARTITIONS) {
        throw new Error(`topic "${topic}" has ${offsets.length} partition(s); the recorded records keep their partitions 0–${DUMP_PARTITIONS - 1} — delete the topic (or restart the broker: npm run kafka:stop && npm run kafka:start) and seed again`);
      }
      if (offsets.some((o) => o.high !== '0')) {
        result.written[topic] = 0;
        continue;
      }
      const records = dumpRecords(join(dump, dumpTopic));
      for (const r of records) await producer.send({ topic, messages: [r] });
      result.written[topic] = records.length;
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return result;
}

/** `host:port[,host:port…]` (KAFKA_BROKERS may list several, as the integration tests read it) → kafkajs's list. */
export function brokerList(brokers: string): string[] {
  return brokers.split(',').map((b) => b.trim()).filter((b) => b !== '');
}

/** The broker to seed: `KAFKA_BROKERS`, else the one kafka:start recorded. */
export function seedBrokers(env: NodeJS.ProcessEnv = process.env, stateFile = STATE_FILE): string {
  if (env.KAFKA_BROKERS) return env.KAFKA_BROKERS;
  if (!existsSync(stateFile)) throw new Error('no broker to seed — start one with `npm run kafka:start`, or set KAFKA_BROKERS=host:port');
  return (JSON.parse(readFileSync(stateFile, 'utf8')) as { brokers: string }).brokers;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const brokers = seedBrokers();
    const r = await seedInputTopics({ brokers });
    if (r.created.length > 0) console.log(`created ${r.created.join(', ')} (${DUMP_PARTITIONS} partitions each) on ${brokers}`);
    for (const [topic, n] of Object.entries(r.written)) {
      console.log(n > 0 ? `wrote ${n} records of the recorded collector dump to ${topic}` : `${topic} already holds records: nothing written`);
    }
    console.log(`now: AGENT_CREDIT_SOURCE_KIND=kafka AGENT_CREDIT_SOURCE_KAFKA_BROKERS=${brokers} npm start`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // a broker recorded by an earlier kafka:start that has stopped since: kafkajs says only ECONNREFUSED
    const hint = /ECONNREFUSED|Connection error|connect to broker/i.test(message) ? ' — is the broker running? Start it with `npm run kafka:start` (or set KAFKA_BROKERS to a running one)' : '';
    console.error(`kafka:seed: ${message}${hint}`);
    process.exitCode = 1;
  }
}
