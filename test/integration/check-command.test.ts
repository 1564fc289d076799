/**
 * `agent-credit check` (src/cli/check.ts) against the real broker: topics, partition counts,
 * the group's committed offsets and lag, output topics; and the OTLP/HTTP port check.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/index.js';
import { brokers, client, createTopics, produce, fleetRecords, unique } from './support/kafka-io.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { checkReportOf } from '../support/check-report.js';
import { tempDir } from '../support/temp-dir.js';
import { REFUSED_PORT } from '../support/ports.js';

/** The CLI in a child process (asynchronous: the file's other tests and the broker's clients go on). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_') && !k.startsWith('OTEL_')) env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: join(import.meta.dirname, '../..'), env: { ...env, ...CLI_ENV } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('agent-credit check', () => {
  it('reports topics, a partition-count mismatch, the group lag and the output topics; fails on a missing input topic', async () => {
    const base = unique('check');
    const c = client();
    await createTopics(c, [`${base}.spans`], 4);
    await createTopics(c, [`${base}.logs`], 2);
    await createTopics(c, [`${base}.episodes`], 3);
    await produce(c, Array.from({ length: 10 }, (_, i) => ({ topic: `${base}.spans`, key: null, value: `v${i}`, partition: i % 4 })));
    const group = `${base}-grp`;
    // The group's committed offset, set as an operator would (kafka-consumer-groups --reset-offsets):
    // 3 records on partition 0, committed at 1 → 2 behind.
    const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic: `${base}.spans`, partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();

    const config = (spansTopic: string) =>
      loadConfig({
        env: {},
        overrides: {
          source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: group, spansTopic, logsTopic: `${base}.logs` } },
          sinks: { live: { enabled: false }, kafka: { topics: { rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.prefs`, dlq: `${base}.dlq` } } },
        },
      }).config;

    const good = await runChecks(config(`${base}.spans`));
    const text = renderCheckReport(good);
    expect(good.ok).toBe(true);
    expect(text).toContain(`✓ kafka: connected to ${brokers()} (plaintext)`);
    expect(text).toContain(`✓ source.kafka.spansTopic: "${base}.spans", 4 partitions`);
    expect(text).toContain(`✓ source.kafka.logsTopic: "${base}.logs", 2 partitions`);
    expect(text).toMatch(/! input topics have different partition counts .*give them the same count/);
    expect(text).toContain(`· source.kafka.groupId "${group}": 1 partition(s) with committed offsets, 2 record(s) behind there; 5 partition(s) without a commit, read from their beginning (7 record(s) there)`);
    expect(text).toMatch(new RegExp(`✓ sinks\\.kafka\\.topics\\.episodes: "${base}\\.episodes" exists \\(max\\.message\\.bytes \\d+\\)`));
    expect(text).toContain(`· sinks.kafka.topics.rewards: "${base}.rewards" will be created at start`);
    expect(text).toMatch(/ready: `agent-credit run` with this configuration should start$/);

    const bad = await runChecks(config(`${base}.nope`));
    expect(bad.ok).toBe(false);
    expect(renderCheckReport(bad)).toContain(`✗ source.kafka.spansTopic: topic "${base}.nope" does not exist`);

    // an output topic that cannot take a record of sinks.kafka.maxRecordBytes fails, as `run` would at start
    const admin2 = await c.admin();
    await admin2.ensureTopics([{ topic: `${base}.dlq`, partitions: 1, config: { 'max.message.bytes': '2048' } }]);
    await admin2.disconnect();
    const small = renderCheckReport(await runChecks(config(`${base}.spans`)));
    expect(small).toContain(`✗ sinks.kafka.topics.dlq: "${base}.dlq" has max.message.bytes 2048, below sinks.kafka.maxRecordBytes 1000000`);

    // output topics the brokers would refuse to create (here: far past their partition limit) fail
    // as run would at their creation; nothing is created (validateOnly)
    const huge = loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: group, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } }, sinks: { live: { enabled: false }, kafka: { partitions: 2_000_000, topics: { rewards: `${base}.rewards`, episodes: `${base}.episodes`, preferences: `${base}.prefs`, dlq: `${base}.dlq` } } } } }).config;
    const refused = await runChecks(huge);
    expect(refused.ok).toBe(false);
    expect(renderCheckReport(refused)).toMatch(new RegExp(`✗ sinks\\.kafka\\.topics\\.rewards: the brokers refused to create topic "${base}\\.rewards" \\(\\w+: `));
    expect(await c.admin().then(async (a) => { try { return await a.missingTopics([`${base}.rewards`]); } finally { await a.disconnect(); } })).toEqual([`${base}.rewards`]);
  });

  // the brokers refuse a join outside group.min/max.session.timeout.ms (the test broker: 1000 …
  // Kafka's default 1800000): check said ready, and run's consumer crashed for good at the join
  it('--format json: one document with each check against the brokers — topics, group, output topics, delivery — and exit 1 with a failed entry naming the setting when an input topic is missing', async () => {
    const base = unique('check-json');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 2);
    await createTopics(c, [`${base}.episodes`], 1);
    const dir = tempDir('ac-check-json-kafka-');
    const config = (spansTopic: string) => {
      const file = join(dir, `${spansTopic}.yaml`);
      writeFileSync(
        file,
        `source:\n  kind: kafka\n  kafka:\n    brokers: ${brokers()}\n    groupId: ${base}-grp\n    spansTopic: ${spansTopic}\n    logsTopic: ${base}.logs\n` +
          `sinks:\n  live:\n    enabled: false\n  kafka:\n    topics:\n      rewards: ${base}.rewards\n      episodes: ${base}.episodes\n      preferences: ${base}.prefs\n      dlq: ${base}.dlq\ntelemetry:\n  metricsPort: 0\n`,
      );
      return file;
    };
    const good = await cli(['check', '-c', config(`${base}.spans`), '--format', 'json']);
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    const doc = checkReportOf(good.stdout);
    expect(doc).toMatchObject({ status: 'ok', ready: true });
    expect(doc.command).toMatch(/^agent-credit run --config \S+\.yaml$/);
    const entries = doc.checks.map((e) => [e.name, e.setting, e.status]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['kafka.connection', 'source.kafka.brokers', 'ok'],
        ['kafka.input_topic', 'source.kafka.spansTopic', 'ok'],
        ['kafka.input_topic', 'source.kafka.logsTopic', 'ok'],
        ['kafka.group', 'source.kafka.groupId', 'ok'],
        ['kafka.output_topic', 'sinks.kafka.topics.episodes', 'ok'],
        ['kafka.output_topic', 'sinks.kafka.topics.rewards', 'ok'],
        ['kafka.delivery', 'sinks.kafka.delivery', 'ok'],
      ]),
    );
    expect(doc.checks.find((e) => e.setting === 'source.kafka.spansTopic')!.detail).toBe(`source.kafka.spansTopic: "${base}.spans", 2 partitions`);
    expect(doc.checks.find((e) => e.setting === 'sinks.kafka.topics.rewards')!.detail).toMatch(/will be created at start/);
    // what run reads at start to size the replay filter (the shared broker: Kafka's default)
    expect(doc.checks.find((e) => e.name === 'kafka.delivery')!.detail).toBe(
      "delivery at-least-once; compression none; the brokers' offset.metadata.max.bytes is 4096: the replay filter that keeps a restart from publishing again takes up to 3800 bytes per input partition",
    );

    const bad = await cli(['check', '-c', config(`${base}.nope`), '--format', 'json']);
    expect(bad.status).toBe(1);
    const failed = checkReportOf(bad.stdout);
    expect(failed).toMatchObject({ status: 'fail', ready: false });
    expect(failed.checks.filter((e) => e.status === 'fail')).toEqual([
      {
        name: 'kafka.input_topic',
        setting: 'source.kafka.spansTopic',
        status: 'fail',
        detail: `source.kafka.spansTopic: topic "${base}.nope" does not exist (or this client may not Describe it)`,
        advice: "create it or point source.kafka.spansTopic at the topic your collector's kafka exporter writes",
      },
    ]);
  });

  // Two deployments left at one group id, reading different topics, rebalance together (README,
  // Ingestion: Kafka): check said only "no committed offsets yet" for the second, and run started
  // without a word (platform trial). A kafkajs consumer of the first job's topics is the member here.
  it("names the members already in the group: a warning naming source.kafka.groupId when they read other topics, a note when they read the same", async () => {
    const base = unique('check-members');
    const c = client();
    await createTopics(c, [`${base}.a.spans`, `${base}.a.logs`, `${base}.b.spans`, `${base}.b.logs`], 1);
    const group = `${base}-grp`;
    const consumer = new Kafka({ brokers: [brokers()], clientId: 'other-job', logLevel: logLevel.NOTHING }).consumer({ groupId: group });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [`${base}.a.spans`, `${base}.a.logs`] });
      await consumer.run({ eachMessage: async () => undefined });
      await joined;
      const config = (job: 'a' | 'b') =>
        loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: group, spansTopic: `${base}.${job}.spans`, logsTopic: `${base}.${job}.logs` } }, sinks: { live: { enabled: false } } } }).config;

      const other = await runChecks(config('b'));
      expect(other.ok).toBe(true); // run starts: a warning
      const warned = other.lines.filter((l) => l.name === 'kafka.group' && l.status === 'warn');
      expect(warned).toHaveLength(1);
      expect(warned[0]!.text).toMatch(new RegExp(`^source\\.kafka\\.groupId "${group}": 1 member\\(s\\) of this group read other topics \\(${base}\\.a\\.spans, ${base}\\.a\\.logs\\) — client other-job on /[^:]+: .* — give this job its own source\\.kafka\\.groupId$`));
      expect(renderCheckReport(other)).toContain(`! source.kafka.groupId "${group}": 1 member(s) of this group read other topics`);

      const same = await runChecks(config('a'));
      expect(same.lines.filter((l) => l.name === 'kafka.group' && l.status === 'warn')).toEqual([]);
      expect(renderCheckReport(same)).toMatch(new RegExp(`^· source\\.kafka\\.groupId "${group}": 1 instance\\(s\\) in the group already read these topics \\(client other-job on /[^)]+\\): run joins them`, 'm'));
    } finally {
      await consumer.disconnect();
    }
  });

  // kafkajs needs one bootstrap broker to answer: a list with a wrong entry passed as "connected to
  // a,b", while run's clients start with "Failed to connect to seed broker" whenever they pick it.
  it('names a bootstrap broker of source.kafka.brokers that accepts no connection, when the cluster answered through another', async () => {
    const base = unique('check-bootstrap');
    await createTopics(client(), [`${base}.spans`], 1);
    const down = `127.0.0.1:${REFUSED_PORT}`;
    const config = (list: string[]) =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: list, groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null } }, sinks: { live: { enabled: false } } } }).config;
    const report = await runChecks(config([brokers(), down]));
    expect(report.ok).toBe(true); // run starts: a warning
    const text = renderCheckReport(report);
    expect(text).toMatch(new RegExp(`^✓ kafka: connected to ${brokers().replace(/\./g, '\\.')} \\(plaintext\\)$`, 'm'));
    expect(text).toContain(`! source.kafka.brokers: ${down}: connection refused (ECONNREFUSED: nothing listens on that port) — the cluster was reached through the other bootstrap broker(s)`);
    expect(text).toContain('fix or remove it in source.kafka.brokers');
    // every broker answering: no such line
    expect(renderCheckReport(await runChecks(config([brokers(), brokers()])))).not.toContain('the cluster was reached through the other bootstrap broker(s)');
  });

  it("a session timeout outside the brokers' range fails, naming source.kafka.sessionTimeoutMs and their range", async () => {
    const base = unique('check-session');
    const c = client();
    await createTopics(c, [`${base}.spans`], 1);
    const config = (sessionTimeoutMs: number) =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null, sessionTimeoutMs } }, sinks: { live: { enabled: false } } } }).config;
    const far = await runChecks(config(2_000_000));
    expect(far.ok).toBe(false);
    expect(renderCheckReport(far)).toMatch(/^✗ source\.kafka\.sessionTimeoutMs 2000000 is outside the brokers' group\.min\.session\.timeout\.ms \d+ … group\.max\.session\.timeout\.ms 1800000: they refuse the consumer group join/m);
    const within = await runChecks(config(30_000));
    expect(within.ok).toBe(true);
    expect(renderCheckReport(within)).not.toContain('sessionTimeoutMs');
  });

  it('OTLP/HTTP: a port in use fails and names the setting', async () => {
    // an occupant that reads and never answers (check asks it GET /healthz; a socket nobody reads
    // never sees the probe's FIN, and close() would wait for it)
    const s = createServer((socket) => socket.resume());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    try {
      const config = loadConfig({ env: {}, overrides: { source: { kind: 'otlp-http', http: { host: '127.0.0.1', port } }, sinks: { live: { enabled: false } } } }).config;
      const report = await runChecks(config);
      expect(report.ok).toBe(false);
      expect(renderCheckReport(report)).toMatch(new RegExp(`✗ OTLP/HTTP receiver: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\) — change source\\.http\\.port.*\\(something accepts connections there but sent no http answer within \\d+(\\.\\d+)? s — not an agent-credit, whose listeners answer GET /healthz\\)`));
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

describe('agent-credit check --sample', () => {
  it('decodes the first records of each input topic as run would, and names the encoding setting when they do not decode', async () => {
    const base = unique('sample');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 1);
    await produce(c, (await fleetRecords({ spans: `${base}.spans`, logs: `${base}.logs` }, { episodes: 3, seed: 7 })).all);
    const config = (spansEncoding: 'auto' | 'otlp_json') =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs`, spansEncoding } }, sinks: { live: { enabled: false } } } }).config;

    const good = renderCheckReport(await runChecks(config('auto'), { sample: true }));
    expect(good).toMatch(new RegExp(`✓ source\\.kafka\\.spansTopic: 3 sample record\\(s\\) \\(partition 0, offsets 0–2\\) decode as otlp_proto \\(\\d+ spans; conventions: `));
    expect(good).toMatch(/✓ source\.kafka\.logsTopic: \d sample record\(s\) .* decode as otlp_proto \((1 log record|(?!1 )\d+ log records), (1 evaluation|(?!1 )\d+ evaluations), (1 GenAI message-content event|(?!1 )\d+ GenAI message-content events) \(\d+ with message text\)\)/);
    expect(good).not.toContain('not keyed'); // records keyed by trace id, as the scenario generator writes them

    const wrong = await runChecks(config('otlp_json'), { sample: true });
    expect(wrong.ok).toBe(false);
    expect(renderCheckReport(wrong)).toMatch(/✗ source\.kafka\.spansTopic: the record at offset 0 \(partition 0\) does not decode: .* — set source\.kafka\.spansEncoding \(now otlp_json\) to the exporter's encoding/);

    // the throwaway sampling groups are deleted, not left listed on the cluster
    const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      expect(groups.filter((g) => g.groupId.startsWith(`${base}-grp-check-`))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
  it("warns, as run does, when the sampled records are not keyed by their trace id (the exporter's partition_traces_by_id / partition_logs_by_trace_id off)", async () => {
    const { generateFleet, kafkaRecordsFor } = await import('../../src/scenarios/index.js');
    const base = unique('sample-unkeyed');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 2);
    const gen = kafkaRecordsFor(await generateFleet({ episodes: 2, seed: 7 }), 'otlp_proto');
    // the exporter's default: no key
    await produce(c, [...gen.spans.map((r) => ({ topic: `${base}.spans`, key: null, value: r.value })), ...gen.logs.map((r) => ({ topic: `${base}.logs`, key: null, value: r.value }))]);
    const config = (keyBy: 'trace' | 'conversation') =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } }, episodes: { keyBy }, sinks: { live: { enabled: false } } } }).config;
    const report = await runChecks(config('trace'), { sample: true });
    const text = renderCheckReport(report);
    expect(text).toMatch(/! source\.kafka\.spansTopic: records of .*\.spans are not keyed by their trace id \(no key on a record of trace [0-9a-f]{32}\): set `partition_traces_by_id: true` in the collector's kafka exporter/);
    expect(text).toMatch(/! source\.kafka\.logsTopic: records of .*\.logs are not keyed by their trace id \(no key on a record of trace [0-9a-f]{32}\): set `partition_logs_by_trace_id: true`/);
    expect(text).toMatch(/✓ source\.kafka\.spansTopic: \d sample record\(s\)/); // a warning, the records still decode
    expect(report.ok).toBe(true);
    // conversation-keyed episodes do not depend on the record key
    expect(renderCheckReport(await runChecks(config('conversation'), { sample: true }))).not.toContain('not keyed');
  });
  it('warns, as run does when it reads them, when the sampled verdicts carry their time in seconds or milliseconds, not nanoseconds', async () => {
    const { verdictAt, VERDICT_TRACE_ID } = await import('../support/sdk-verdict.js');
    const { generateFleet, kafkaRecordsFor } = await import('../../src/scenarios/index.js');
    const base = unique('sample-time-unit');
    const c = client();
    await createTopics(c, [`${base}.spans`, `${base}.logs`], 1);
    const gen = kafkaRecordsFor(await generateFleet({ episodes: 1, seed: 7 }), 'otlp_proto');
    // a judge that put $(date +%s) where nanoseconds go: the SDK's HrTime [seconds, nanos] of 1.7e9 ns
    const seconds = 1_796_000_000;
    await produce(c, [
      ...gen.spans.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value })),
      { topic: `${base}.logs`, key: VERDICT_TRACE_ID, value: verdictAt([1, seconds - 1_000_000_000]) },
    ]);
    const config = loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: `${base}.logs` } }, sinks: { live: { enabled: false } } } }).config;
    const report = await runChecks(config, { sample: true });
    const text = renderCheckReport(report);
    expect(text).toContain(`! source.kafka.logsTopic: 1 of the 1 evaluation(s) in the sample (partition 0, offset 0) — evaluation time the log record's time_unix_nano (timeUnixNano in OTLP/JSON) = ${seconds} looks like seconds since the epoch`);
    expect(report.ok).toBe(true); // a warning: the records decode and are used as given
  });

  it('samples as run reads (source.kafka.isolationLevel): an aborted transaction\'s records are not sampled under read_committed, the default', async () => {
    const { generateFleet, kafkaRecordsFor } = await import('../../src/scenarios/index.js');
    const base = unique('sample-iso');
    const c = client();
    await createTopics(c, [`${base}.spans`], 1);
    // an upstream transactional writer (a re-keying job, say) aborted a transaction: its records stay in the log
    const kafka = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING });
    const tx = kafka.producer({ transactionalId: `${base}-upstream`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({ topic: `${base}.spans`, messages: [{ value: 'not an OTLP request' }, { value: 'nor this' }] });
    await t.abort();
    await tx.disconnect();
    // the abort returns before the coordinator has written its marker: until then the partition's
    // last stable offset stays at the aborted records, and check (as run) sees nothing to read
    // below it ("holds no records now" — one clean-clone run, integration files two at a time).
    // Waited for before the spans are written, too: written meanwhile they took offsets 2–3 and the
    // marker 4 (this test under load, platform trial: "offsets 2–3" where 3–4 was expected)
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs's admin lists offsets read_committed: `high` is the last stable offset
    const stableAt = async (end: string, what: string) => {
      for (const deadline = Date.now() + 10_000; (await admin.fetchTopicOffsets(`${base}.spans`))[0]?.high !== end; ) {
        if (Date.now() > deadline) throw new Error(`${what}: the last stable offset did not reach ${end} in 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const gen = kafkaRecordsFor(await generateFleet({ episodes: 2, seed: 7 }), 'otlp_proto');
    try {
      await stableAt('3', "the aborted transaction's marker"); // 2 aborted records, their marker
      await produce(c, gen.spans.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value })));
      await stableAt(String(3 + gen.spans.length), 'the spans after the marker');
    } finally {
      await admin.disconnect();
    }
    const config = (isolationLevel: 'read_committed' | 'read_uncommitted') =>
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null, isolationLevel } }, sinks: { live: { enabled: false } } } }).config;

    const committed = await runChecks(config('read_committed'), { sample: true });
    const text = renderCheckReport(committed);
    expect(text).toMatch(new RegExp(`✓ source\\.kafka\\.spansTopic: 2 sample record\\(s\\) \\(partition 0, offsets 3–4\\) decode as otlp_proto`));
    expect(text).not.toContain('do not decode');
    expect(committed.ok).toBe(true);
    // read_uncommitted, as configured: run reads them too (and dead-letters them), and check says so
    expect(renderCheckReport(await runChecks(config('read_uncommitted'), { sample: true }))).toMatch(/! source\.kafka\.spansTopic: 2 of 4 sample record\(s\) \(partition 0, offsets 0–4\) do not decode — offset 0: /);
  });

  // it read one batch per topic — whichever partition's came first: a producer writing another
  // encoding, or poison, on the other partitions passed unseen (platform trial)
  it('samples every partition that holds records: another encoding on one partition is seen, and a partition of aborted records only is said, not waited on', async () => {
    const { generateFleet, kafkaRecordsFor } = await import('../../src/scenarios/index.js');
    const base = unique('sample-parts');
    const c = client();
    await createTopics(c, [`${base}.spans`], 3);
    const fleet = await generateFleet({ episodes: 2, seed: 11 });
    const proto = kafkaRecordsFor(fleet, 'otlp_proto').spans;
    const json = kafkaRecordsFor(fleet, 'otlp_json').spans;
    await produce(c, [...proto.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value, partition: 0 })), ...json.map((r) => ({ topic: `${base}.spans`, key: r.key, value: r.value, partition: 1 }))]);
    // partition 2: an upstream transaction's records, aborted
    const kafka = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING });
    const tx = kafka.producer({ transactionalId: `${base}-upstream`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const t = await tx.transaction();
    await t.send({ topic: `${base}.spans`, messages: [{ value: 'aborted', partition: 2 }] });
    await t.abort();
    await tx.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      // its marker written: partition 2's last stable offset past the aborted record
      for (const deadline = Date.now() + 10_000; (await admin.fetchTopicOffsets(`${base}.spans`)).find((p) => p.partition === 2)?.high !== '2'; ) {
        if (Date.now() > deadline) throw new Error("the aborted transaction's marker did not land in 10 s");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await admin.disconnect();
    }
    const config = loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: `${base}-grp`, spansTopic: `${base}.spans`, logsTopic: null, spansEncoding: 'otlp_proto' } }, sinks: { live: { enabled: false } } } }).config;
    const report = await runChecks(config, { sample: true, sampleTimeoutMs: 30_000 });
    const text = renderCheckReport(report);
    const last = (n: number) => `offsets 0–${n - 1}`;
    expect(text).toContain(`! source.kafka.spansTopic: ${json.length} of ${proto.length + json.length} sample record(s) (partitions 0 (${last(proto.length)}), 1 (${last(json.length)})) do not decode — offset 0: `);
    expect(text).toContain(`· source.kafka.spansTopic: partition 2 of "${base}.spans" holds no committed record (aborted transactions' only, which run skips too); the other partitions were sampled`);
    expect(text).toMatch(new RegExp(`✓ source\\.kafka\\.spansTopic: ${proto.length} sample record\\(s\\) \\(partitions 0 \\(offsets 0–${proto.length - 1}\\), 1 \\(offsets 0–${json.length - 1}\\)\\) decode as otlp_proto`));
    expect(report.ok).toBe(true);
  });

  it('SASL against a listener without SASL (this plaintext broker) names the listener, not the password', async () => {
    const config = loadConfig({
      env: {},
      overrides: { source: { kind: 'kafka', kafka: { brokers: [brokers()], sasl: { mechanism: 'plain', username: 'u', password: 'p' } } }, sinks: { live: { enabled: false } } },
    }).config;
    const report = renderCheckReport(await runChecks(config));
    expect(report).toMatch(/✗ kafka: cannot connect to .*this listener does not use SASL .*give source\.kafka\.brokers the port of the SASL listener .*or remove source\.kafka\.sasl/);
    expect(report).not.toContain('check source.kafka.sasl (mechanism, username, password');
  });
});
