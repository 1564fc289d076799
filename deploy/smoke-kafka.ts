/**
 * Smoke test of `agent-credit run` with the Kafka source, without Docker:
 *   npx tsx deploy/smoke-kafka.ts
 * Starts a local KRaft broker (scripts/kafka.ts, Maven-resolved jars), writes the collector's
 * recorded kafka records (fixtures/agents-sdk/kafka/otlp_proto) to otlp_spans/otlp_logs with
 * their original partitions and keys, runs the CLI as a child process configured only through
 * AGENT_CREDIT_* variables, waits for an EpisodeCredit per recorded run on stdout (validated
 * with the zod schemas), scrapes /metrics, stops it with SIGTERM and exits non-zero on any
 * failure. (The unit suite has no broker; the integration suite lives in test/integration.)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka } from '../scripts/kafka.js';
import { CreditEventSchema } from '../src/events/schemas.js';

// a file URL, not `import.meta`'s dirname (Node 20.11+): the package supports Node 20.6 (engines)
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
// The collector's recorded kafka records: FIXTURE_DIR, else where the tests find the recorded
// fixtures (AGENT_CREDIT_FIXTURES, shared/fixtures/agents-sdk beside the checkout, …).
// test/support/fixtures.ts refuses an AGENT_CREDIT_FIXTURES that names no folder when loaded (for the
// tests); here that folder is named in this script's own message, with FIXTURE_DIR, and exit 2.
const FIXTURE =
  process.env.FIXTURE_DIR ??
  join(await import('../test/support/fixtures.js').then((m) => m.AGENTS_SDK_FIXTURES, () => process.env.AGENT_CREDIT_FIXTURES ?? ''), 'kafka', 'otlp_proto');
if (!existsSync(join(FIXTURE, 'otlp_spans')) || !existsSync(join(FIXTURE, 'otlp_logs'))) {
  console.error(
    `smoke-kafka: no recorded collector records in ${FIXTURE} (otlp_spans/, otlp_logs/) — set FIXTURE_DIR to such a folder, or AGENT_CREDIT_FIXTURES to the agents-sdk fixtures`,
  );
  process.exit(2);
}
const EXPECTED_EPISODES = readdirSync(join(FIXTURE, 'otlp_spans')).filter((f) => f.endsWith('.bin')).length;

const broker = await startKafka({});
let failed = false;
try {
  const kafka = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: ['otlp_spans', 'otlp_logs'].map((topic) => ({ topic, numPartitions: 4 })) });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (const topic of ['otlp_spans', 'otlp_logs']) {
    for (const f of readdirSync(join(FIXTURE, topic)).filter((n) => n.endsWith('.bin')).sort()) {
      const partition = Number(f.split('-')[0]);
      const key = readFileSync(join(FIXTURE, topic, f.replace(/\.bin$/, '.key')));
      await producer.send({ topic, messages: [{ partition, key, value: readFileSync(join(FIXTURE, topic, f)) }] });
    }
  }
  await producer.disconnect();

  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'run', '--live-port', '0'], {
    cwd: ROOT,
    env: { ...process.env, AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: broker.brokers, AGENT_CREDIT_SOURCE_KAFKA_GROUPID: `smoke-${Date.now()}` },
  });
  let liveUrl = '';
  createInterface({ input: child.stderr }).on('line', (l) => {
    liveUrl ||= /"live":"([^"]+)"/.exec(l)?.[1] ?? '';
    if (/"level":(40|50|60)/.test(l)) process.stderr.write(`${l}\n`);
  });
  let episodes = 0;
  const done = new Promise<void>((ok, fail) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const e = CreditEventSchema.safeParse(JSON.parse(l));
      if (!e.success) fail(new Error(`invalid event: ${e.error.message}`));
      else if (e.data.event_type === 'episode_credit' && ++episodes >= EXPECTED_EPISODES) ok();
    });
    child.on('exit', (code) => fail(new Error(`agent-credit exited early with ${code}`)));
    setTimeout(() => fail(new Error(`only ${episodes}/${EXPECTED_EPISODES} episodes within 90 s`)), 90_000).unref();
  });
  await done;
  const metrics = await (await fetch(`${liveUrl}/metrics`)).text();
  const spans = Number(/^agent_credit_kafka_spans_received_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  console.log(`ok: ${episodes} episodes credited from Kafka, ${spans} spans received (metrics)`);
  if (spans === 0) throw new Error('agent_credit_kafka_spans_received_total did not move');
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`agent-credit exited with ${code} after SIGTERM`);
} catch (err) {
  failed = true;
  console.error(`smoke test failed: ${(err as Error).message}`);
} finally {
  await broker.stop();
}
process.exit(failed ? 1 : 0);
