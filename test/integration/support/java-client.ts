/**
 * The Apache Kafka Java client as an independent peer (support/java/KafkaJavaClient.java, compiled
 * once per test process against the broker's resolved jars): produces compressed batches exactly as a
 * JVM producer writes them, and reads back what the pipeline wrote.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { javaTool, kafkaJavaClasspath } from '../../../scripts/kafka.js';
import type { OutgoingRecord } from '../../../src/kafka/client.js';
import { brokers } from './kafka-io.js';

const execFileP = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./java/KafkaJavaClient.java', import.meta.url));

function bytes(v: string | Uint8Array | null): Buffer | null {
  return v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The records file KafkaJavaClient's `produce` reads (see its header). */
function encodeRecordsFile(records: readonly OutgoingRecord[]): Buffer {
  const parts: Buffer[] = [];
  const field = (b: Buffer | null) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b === null ? -1 : b.length, 0);
    parts.push(len);
    if (b !== null) parts.push(b);
  };
  for (const r of records) {
    if (r.headers && Object.keys(r.headers).length > 0) throw new Error('encodeRecordsFile: headers are not supported by KafkaJavaClient produce');
    field(bytes(r.topic));
    const p = Buffer.alloc(4);
    p.writeInt32BE(r.partition ?? -1, 0);
    parts.push(p);
    field(bytes(r.key));
    field(bytes(r.value));
  }
  return Buffer.concat(parts);
}

/**
 * KafkaJavaClient compiled once per test process into a temp dir. `java KafkaJavaClient.java`
 * (source-file mode) compiles it in memory on every call: ~2 s of each call, against ~0.25 s
 * for the JVM start alone, and receiver-compression.test.ts alone makes 15 calls.
 */
let compiled: Promise<string> | undefined;
function compiledClasses(classpath: string): Promise<string> {
  compiled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'java-client-classes-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await execFileP(javaTool('javac'), ['-d', dir, '-cp', classpath, SOURCE], { timeout: 120_000 });
    return dir;
  })();
  return compiled;
}

async function java(args: readonly string[], timeoutMs: number): Promise<string> {
  const { classpath, jvmFlag } = await kafkaJavaClasspath();
  const classes = await compiledClasses(classpath);
  try {
    const { stdout } = await execFileP(javaTool('java'), ['-Xmx256m', jvmFlag, '-cp', `${classes}${delimiter}${classpath}`, 'KafkaJavaClient', ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`KafkaJavaClient ${args[0]} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
}

/** Produces `records` with the Java producer and `compression` (none, gzip, snappy, lz4, zstd). */
export async function produceWithJava(records: readonly OutgoingRecord[], compression: string, timeoutMs = 60_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'java-produce-'));
  try {
    const file = join(dir, 'records.bin');
    writeFileSync(file, encodeRecordsFile(records));
    const out = await java(['produce', brokers(), compression, file], timeoutMs);
    if (!out.includes(`produced ${records.length}`)) throw new Error(`KafkaJavaClient produce: expected "produced ${records.length}", got ${out.trim()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Compression codec of every record batch in the logs of a topic's `partitions`, by Kafka's own
 * DumpLogSegments (`kafka.tools.DumpLogSegments` on `<logDir>/<topic>-<partition>`); control
 * batches left out. One JVM for all the partitions (its start is most of the time).
 */
export async function batchCodecs(logDir: string, topic: string, partitions: readonly number[]): Promise<string[]> {
  const { classpath, jvmFlag } = await kafkaJavaClasspath();
  const files = partitions.flatMap((partition) => {
    const dir = join(logDir, `${topic}-${partition}`);
    return readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f));
  });
  const { stdout } = await execFileP(javaTool('java'), ['-Xmx256m', jvmFlag, '-cp', classpath, 'kafka.tools.DumpLogSegments', '--files', files.join(',')], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return [...stdout.matchAll(/isControl: false .*?compresscodec: (\w+)/g)].map((m) => m[1]!);
}

/** `bytes` compressed by the Java libraries Kafka ships (zstd-jni, snappy-java, lz4-java) or the JDK's zlib. */
export async function compressWithJava(codec: 'zstd' | 'snappy' | 'x-snappy-framed' | 'lz4' | 'zlib', bytes: Uint8Array): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'java-compress-'));
  try {
    const input = join(dir, 'in.bin');
    const output = join(dir, 'out.bin');
    writeFileSync(input, bytes);
    await java(['compress', codec, input, output], 60_000);
    return readFileSync(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface JavaConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer;
}

/** Reads `count` records (read_committed, from the beginning) of `topics` with the Java consumer. */
export async function consumeWithJava(topics: readonly string[], count: number, timeoutMs = 60_000): Promise<JavaConsumedRecord[]> {
  const out = await java(['consume', brokers(), topics.join(','), String(count), String(timeoutMs - 5_000)], timeoutMs);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [topic, partition, offset, value] = l.split('\t') as [string, string, string, string];
      return { topic, partition: Number(partition), offset, value: Buffer.from(value, 'base64') };
    });
}
