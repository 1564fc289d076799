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
 * Flags (`npm run kafka:seed -- --help`): `--spans-topic` / `--logs-topic` (the job's defaults),
 * `--dump <dir>` (another collector dump in the recorded layout), `--from <dir>` (OTLP files as
 * `agent-credit generate` writes them — a generated fleet of any size, each run's traces file one
 * record of the spans topic and its logs file one of the logs topic, keyed by the run's trace id as
 * the exporter's partition_traces_by_id / partition_logs_by_trace_id key them; a directory of one
 * kind alone writes that topic alone), `--partitions <n>`
 * (topics created for `--from`; a dump keeps its recorded 4), `--append` (with `--from`: write into
 * topics that already hold records — another corpus into the topics a running job reads).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { whileLeadersSettle } from '../src/kafka/stale-metadata.js';
import { decodeLogs, decodeTraces, type OtlpEncoding } from '../src/otlp/index.js';
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
  /**
   * OTLP files to write instead of a dump: `<name>-traces.pb|json` and `<name>-logs.pb|json`, as
   * `agent-credit generate` writes them. Each file one record, keyed by its trace id; kafkajs's
   * partitioner (Kafka's murmur2) puts a run's traces and logs on the same partition number.
   */
  from?: string;
  /** Partitions of topics created for `from` (default 4). */
  partitions?: number;
  /**
   * With `from`: write into topics that already hold records too. Off by default, so a second
   * seed of the same files does not double them; on, to add another corpus (another `--seed`) to
   * the topics a job is reading — the same files twice are input sent twice (README, Delivery).
   */
  append?: boolean;
}

export interface SeedResult {
  /** Topics this call created (4 partitions each, as the recorded dump's topics had). */
  created: string[];
  /** Records written per topic; 0 when the topic already held records (nothing written, so a second seed does not double them). */
  written: Record<string, number>;
  /** Partitions of each topic: those of a topic that existed may differ from `partitions` asked for. */
  partitions: Record<string, number>;
  /** With `from`: topics the directory has no file for (no `-traces` or no `-logs` files): written nothing, whatever they hold. */
  noFiles?: string[];
}

const DUMP_PARTITIONS = 4;
/** Runs per produce request of `--from`, the spans topic's then the logs topic's in turn. */
const SEED_CHUNK = 100;

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

/** One file's record: its bytes, keyed by the trace id of its first span (traces) or first log record that names one (logs). */
interface FileRecord {
  key: string;
  value: Buffer;
}

/**
 * The produce requests that write each topic's records, `chunk` at a time, the topics in turn:
 * the first `chunk` runs' spans, their logs, the next `chunk` runs' spans, … (a topic with fewer
 * records drops out when they are written). Pure.
 */
export function interleavedSends<R>(writing: readonly { topic: string; records: readonly R[] }[], chunk: number): { topic: string; messages: R[] }[] {
  const sends: { topic: string; messages: R[] }[] = [];
  const longest = Math.max(0, ...writing.map((w) => w.records.length));
  for (let i = 0; i < longest; i += chunk) {
    for (const w of writing) {
      const messages = w.records.slice(i, i + chunk);
      if (messages.length > 0) sends.push({ topic: w.topic, messages });
    }
  }
  return sends;
}

/**
 * The records of a directory of OTLP files (`agent-credit generate`'s layout): per topic, the files
 * in name order. A file that does not decode, or names no trace, is refused naming it.
 */
export function otlpFileRecords(dir: string): { otlp_spans: FileRecord[]; otlp_logs: FileRecord[] } {
  if (!existsSync(dir)) throw new Error(`--from ${dir}: no such directory — write one with \`agent-credit generate ${dir} --episodes 100\``);
  const out = { otlp_spans: [] as FileRecord[], otlp_logs: [] as FileRecord[] };
  for (const f of readdirSync(dir).sort()) {
    const m = /-(traces|logs)\.(pb|json)$/.exec(f);
    if (m === null) continue;
    const encoding: OtlpEncoding = m[2] === 'pb' ? 'otlp_proto' : 'otlp_json';
    const value = readFileSync(join(dir, f));
    let traceId: string | undefined;
    try {
      traceId = m[1] === 'traces' ? decodeTraces(value, encoding)[0]?.traceId : decodeLogs(value, encoding).find((l) => l.traceId !== undefined)?.traceId;
    } catch (err) {
      throw new Error(`--from ${dir}: ${f} does not decode as ${encoding} (${err instanceof Error ? err.message : String(err)})`);
    }
    if (traceId === undefined) throw new Error(`--from ${dir}: ${f} names no trace id, so it has no key to partition by`);
    (m[1] === 'traces' ? out.otlp_spans : out.otlp_logs).push({ key: traceId, value });
  }
  // one kind alone is a topic written alone (a logs topic written after its spans, as a collector
  // exporting one signal behind the other would): the other topic is left as it is
  if (out.otlp_spans.length === 0 && out.otlp_logs.length === 0) throw new Error(`--from ${dir}: no <name>-traces.pb, -logs.pb or .json file there — write some with \`agent-credit generate ${dir} --episodes 100\``);
  return out;
}

/**
 * Creates the input topics that are missing and writes the recorded dump into each topic that holds
 * no record yet. A topic with fewer partitions than the dump's 4 is refused naming it (the records
 * keep their partitions, so that a trace and its evaluation stay on one partition number).
 */
export async function seedInputTopics(options: SeedOptions): Promise<SeedResult> {
  const dump = options.dump ?? RECORDED_COLLECTOR_DUMP;
  // read before anything is created: a wrong directory leaves the broker as it was
  const files = options.from !== undefined ? otlpFileRecords(options.from) : undefined;
  const partitions = files !== undefined ? (options.partitions ?? DUMP_PARTITIONS) : DUMP_PARTITIONS;
  const topics = { otlp_spans: options.spansTopic ?? 'otlp_spans', otlp_logs: options.logsTopic ?? 'otlp_logs' };
  const kafka = new Kafka({ brokers: brokerList(options.brokers), clientId: 'agent-credit-kafka-seed', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const result: SeedResult = { created: [], written: {}, partitions: {} };
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(topics).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
      result.created.push(...missing);
    }
    await producer.connect();
    // each topic's partitions and their ends, read once (a topic just created: the broker may answer
    // NOT_LEADER_FOR_PARTITION for a moment, and kafkajs's admin does not retry it)
    const ends = new Map<string, { partition: number; high: string }[]>();
    for (const topic of Object.values(topics)) ends.set(topic, await whileLeadersSettle(() => admin.fetchTopicOffsets(topic)));
    const counts = new Map([...ends].map(([topic, offsets]) => [topic, offsets.length]));
    result.partitions = Object.fromEntries(counts);
    if (files !== undefined && counts.get(topics.otlp_spans) !== counts.get(topics.otlp_logs)) {
      // keyed records meet on one partition number only when both topics have as many partitions
      throw new Error(`topics "${topics.otlp_spans}" (${counts.get(topics.otlp_spans)} partitions) and "${topics.otlp_logs}" (${counts.get(topics.otlp_logs)}) differ: a run's traces and its evaluations would land on different partition numbers — use topics with the same partition count`);
    }
    if (files !== undefined) {
      const writing: { topic: string; records: FileRecord[] }[] = [];
      for (const [dumpTopic, topic] of Object.entries(topics)) {
        result.written[topic] = 0; // spans then logs, whichever is written
        const records = files[dumpTopic as keyof typeof files];
        if (records.length === 0) {
          // it said "already holds records" of a topic it had just created empty
          (result.noFiles ??= []).push(topic);
        } else if (options.append === true || !ends.get(topic)!.some((o) => o.high !== '0')) writing.push({ topic, records });
      }
      // the topics written side by side, SEED_CHUNK runs at a time, as a collector exports a fleet's
      // spans and logs while it runs: written one topic after the other, every run's spans carried
      // earlier record times than every verdict, and the job (which reads its inputs together in
      // record time) read all the spans first and held every run open for its verdict
      for (const send of interleavedSends(writing, SEED_CHUNK)) await producer.send(send);
      for (const w of writing) result.written[w.topic] = w.records.length;
      return result;
    }
    for (const [dumpTopic, topic] of Object.entries(topics)) {
      const offsets = ends.get(topic)!;
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

/** The flags `seedReport` reads (as `seedCommand` parses them). */
export interface SeedFlags {
  spansTopic: string;
  logsTopic: string;
  dump?: string;
  from?: string;
  partitions?: number;
  append?: boolean;
}

/**
 * What kafka:seed prints after seeding: the topics it created, what it wrote where, and the command
 * that starts the job on them — only when it wrote something. A seed that wrote nothing (its topics
 * hold records already, no --append) printed "now: … npm start" as if it had seeded: a job started
 * on it reads nothing new when its group read those records before. It says so instead, and how
 * to get new runs there. Pure.
 */
export function seedReport(r: SeedResult, flags: SeedFlags, brokers: string): string[] {
  const out: string[] = [];
  // --partitions sizes only the topics created here: an existing topic keeps its count, which it did without a word
  for (const [topic, n] of Object.entries(r.partitions)) {
    if (flags.partitions !== undefined && !r.created.includes(topic) && n !== flags.partitions) out.push(`${topic} exists with ${n} partition(s): --partitions ${flags.partitions} applies only to topics this seed creates`);
  }
  if (r.created.length > 0) out.push(`created ${r.created.join(', ')} (${flags.from !== undefined ? (flags.partitions ?? DUMP_PARTITIONS) : DUMP_PARTITIONS} partitions each) on ${brokers}`);
  const what = flags.from !== undefined ? `OTLP files of ${flags.from}` : flags.dump !== undefined ? `the collector dump ${flags.dump}` : 'the recorded collector dump';
  const noFiles = new Set(r.noFiles ?? []);
  for (const [topic, n] of Object.entries(r.written)) {
    if (noFiles.has(topic)) {
      out.push(`${topic}: nothing written — ${flags.from} has no <name>-${topic === flags.spansTopic ? 'traces' : 'logs'}.pb or .json file`);
      continue;
    }
    const skipped = flags.from !== undefined
      ? `${topic} already holds records: nothing written (--append adds the files after them, for a corpus of other runs — e.g. \`agent-credit generate <dir> --seed 2\`; the same runs twice are input sent twice: README, Delivery guarantees)`
      : `${topic} already holds records: nothing written`;
    out.push(n > 0 ? `wrote ${n} records of ${what} to ${topic}` : skipped);
  }
  const topicVars = `${flags.spansTopic !== 'otlp_spans' ? ` AGENT_CREDIT_SOURCE_KAFKA_SPANS_TOPIC=${flags.spansTopic}` : ''}${flags.logsTopic !== 'otlp_logs' ? ` AGENT_CREDIT_SOURCE_KAFKA_LOGS_TOPIC=${flags.logsTopic}` : ''}`;
  if (Object.values(r.written).some((n) => n > 0)) {
    out.push(`now: AGENT_CREDIT_SOURCE_KIND=kafka AGENT_CREDIT_SOURCE_KAFKA_BROKERS=${brokers}${topicVars} npm start`);
    return out;
  }
  const topics = Object.keys(r.written).filter((t) => !noFiles.has(t)).join(' and ');
  const fresh = flags.from !== undefined
    ? `for new runs, \`agent-credit generate <dir> --seed 2\` and \`npm run kafka:seed -- --from <dir> --append\` (with the same topic flags); for empty topics, other names (--spans-topic, --logs-topic)`
    : `for empty topics, other names (--spans-topic, --logs-topic) or a fresh broker (npm run kafka:stop && npm run kafka:start)`;
  out.push(
    `nothing written: ${topics} held records already, so this seed added no run — a job whose consumer group read them has nothing new to read (one that has not, or a new source.kafka.groupId, reads what they hold); ${fresh}`,
  );
  return out;
}

/** `npm run kafka:seed -- [flags]`: what to write where (see the header). */
export function seedCommand(): Command {
  const positive = (flag: string) => (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 1`);
    return n;
  };
  return new Command('kafka:seed')
    .description('create the input topics on the local broker and write OTLP records to them (by default the collector dump recorded in test/fixtures/agents-sdk/kafka) — only into a topic that holds no record yet')
    .option('--spans-topic <topic>', "spans topic (the job's source.kafka.spansTopic)", 'otlp_spans')
    .option('--logs-topic <topic>', "logs topic (the job's source.kafka.logsTopic)", 'otlp_logs')
    .option('--dump <dir>', 'another collector dump in the recorded layout: <dir>/otlp_spans/<partition>-<offset>.bin + .key, and otlp_logs/')
    .option('--from <dir>', 'OTLP files as `agent-credit generate <dir>` writes them (NNNN-traces.pb|json, NNNN-logs.pb|json): each file one record, keyed by its trace id')
    .option('--partitions <n>', 'partitions of the topics created for --from (a dump keeps its 4)', positive('--partitions'))
    .option('--append', 'with --from: write into topics that already hold records too (another corpus, e.g. `agent-credit generate <dir> --seed 2`, for a job that is reading them; the same files again are input sent twice)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const cmd = seedCommand();
    try {
      cmd.parse(process.argv);
    } catch (err) {
      // --help and a refused flag: commander has said it
      process.exit((err as { exitCode?: number }).exitCode === 0 ? 0 : 2);
    }
    const flags = cmd.opts<SeedFlags>();
    if (flags.dump !== undefined && flags.from !== undefined) throw new Error('--dump and --from both given: choose one');
    if (flags.partitions !== undefined && flags.from === undefined) throw new Error('--partitions is for topics created for --from (a dump keeps its recorded 4 partitions)');
    // the recorded dump's runs are the same runs each time: appended, they would only be read twice
    if (flags.append === true && flags.from === undefined) throw new Error('--append is for --from (files of `agent-credit generate`): the recorded dump written again would be the same runs twice');
    const brokers = seedBrokers();
    const r = await seedInputTopics({ brokers, spansTopic: flags.spansTopic, logsTopic: flags.logsTopic, ...(flags.dump !== undefined ? { dump: resolve(flags.dump) } : {}), ...(flags.from !== undefined ? { from: resolve(flags.from) } : {}), ...(flags.partitions !== undefined ? { partitions: flags.partitions } : {}), ...(flags.append === true ? { append: true } : {}) });
    for (const line of seedReport(r, flags, brokers)) console.log(line);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // a broker recorded by an earlier kafka:start that has stopped since: kafkajs says only ECONNREFUSED
    const hint = /ECONNREFUSED|Connection error|connect to broker/i.test(message) ? ' — is the broker running? Start it with `npm run kafka:start` (or set KAFKA_BROKERS to a running one)' : '';
    console.error(`kafka:seed: ${message}${hint}`);
    process.exitCode = 1;
  }
}
