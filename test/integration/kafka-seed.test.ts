/**
 * `npm run kafka:seed` (scripts/kafka-seed.ts): the input topics and the recorded collector records
 * on a broker, so that README's local-broker path ends in credit. Before it, a user of
 * `npm run kafka:start` had no tool to create otlp_spans / otlp_logs (the Maven-built broker ships
 * no kafka-topics.sh) and the job stopped at "topic otlp_spans does not exist".
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RECORDED_COLLECTOR_DUMP, seedInputTopics } from '../../scripts/kafka-seed.js';
import { generateFiles } from '../../src/cli/generate.js';
import { tempDir } from '../support/temp-dir.js';
import { brokers, unique } from './support/kafka-io.js';

const BIN = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));
const dumpCount = (topic: string) => readdirSync(join(RECORDED_COLLECTOR_DUMP, topic)).filter((f) => f.endsWith('.bin')).length;

describe('kafka:seed', () => {
  it('creates the input topics, writes the recorded records once, and the Kafka job credits every recorded run from them', async () => {
    const base = unique('seed');
    const topics = { spansTopic: `${base}.spans`, logsTopic: `${base}.logs` };
    const first = await seedInputTopics({ brokers: brokers(), ...topics });
    expect(first.created.sort()).toEqual([topics.logsTopic, topics.spansTopic]);
    expect(first.written).toEqual({ [topics.spansTopic]: dumpCount('otlp_spans'), [topics.logsTopic]: dumpCount('otlp_logs') });

    const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topics.spansTopic);
      expect(offsets).toHaveLength(4);
      // each record on its recorded partition: `<partition>-<offset>.bin`
      const perPartition = new Map<number, number>();
      for (const f of readdirSync(join(RECORDED_COLLECTOR_DUMP, 'otlp_spans')).filter((n) => n.endsWith('.bin'))) {
        const p = Number(f.split('-')[0]);
        perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
      }
      for (const o of offsets) expect(Number(o.high)).toBe(perPartition.get(o.partition) ?? 0);
    } finally {
      await admin.disconnect();
    }

    // seeding again writes nothing: the job would read every record twice
    const again = await seedInputTopics({ brokers: brokers(), ...topics });
    expect(again).toEqual({ created: [], written: { [topics.spansTopic]: 0, [topics.logsTopic]: 0 }, partitions: { [topics.spansTopic]: 4, [topics.logsTopic]: 4 } });

    // the command README gives next, on these topics: one episode_credit per recorded run
    const child = spawn(process.execPath, [BIN, 'run', '--no-live', '--log-level', 'warn'], {
      env: {
        PATH: process.env.PATH ?? '',
        AGENT_CREDIT_SOURCE_KIND: 'kafka',
        AGENT_CREDIT_SOURCE_KAFKA_BROKERS: brokers(),
        AGENT_CREDIT_SOURCE_KAFKA_SPANS_TOPIC: topics.spansTopic,
        AGENT_CREDIT_SOURCE_KAFKA_LOGS_TOPIC: topics.logsTopic,
        AGENT_CREDIT_SOURCE_KAFKA_GROUP_ID: `${base}-grp`,
        AGENT_CREDIT_SINKS_KAFKA_TOPICS: `{rewards: ${base}.rewards, episodes: ${base}.episodes, preferences: ${base}.prefs, dlq: ${base}.dlq}`,
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const credited = new Set<string>();
    try {
      const expected = dumpCount('otlp_spans');
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the job exited (${code}) after ${credited.size} episode(s): ${stderr.slice(-2000)}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const e = JSON.parse(line) as { event_type: string; episode_id: string };
          if (e.event_type === 'episode_credit') credited.add(e.episode_id);
          if (credited.size === expected) resolve();
        });
      });
      expect(credited.size).toBe(expected);
    } finally {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    }
  }, 120_000);

  // it wrote the recorded dump only: a generated fleet of any size reached a topic through a kafkajs script of one's own
  it('--from writes the files of `agent-credit generate`, one record per file keyed by its trace id, a run\'s traces and logs on the same partition number', async () => {
    const base = unique('seed-from');
    const dir = tempDir('ac-seed-from-');
    await generateFiles({ dir, episodes: 12, seed: 5, encoding: 'proto' });
    const script = fileURLToPath(new URL('../../scripts/kafka-seed.ts', import.meta.url));
    const seed = (...flags: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...flags], { encoding: 'utf8', env: { ...process.env, KAFKA_BROKERS: brokers() } });
    const r = seed('--from', dir, '--spans-topic', `${base}.spans`, '--logs-topic', `${base}.logs`, '--partitions', '3');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`wrote 12 records of OTLP files of ${dir} to ${base}.spans`);
    expect(r.stdout).toContain(`now: AGENT_CREDIT_SOURCE_KIND=kafka AGENT_CREDIT_SOURCE_KAFKA_BROKERS=${brokers()} AGENT_CREDIT_SOURCE_KAFKA_SPANS_TOPIC=${base}.spans AGENT_CREDIT_SOURCE_KAFKA_LOGS_TOPIC=${base}.logs npm start`);
    // every record read back: keyed by a trace id, each trace's records on one partition number in both topics
    const kafka = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${base}-read` });
    const where = new Map<string, Set<string>>();
    let n = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [`${base}.spans`, `${base}.logs`], fromBeginning: true });
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ topic, partition, message }) => {
            const key = message.key!.toString();
            expect(key).toMatch(/^[0-9a-f]{32}$/);
            let set = where.get(key);
            if (set === undefined) where.set(key, (set = new Set()));
            set.add(`${topic.endsWith('.spans') ? 'spans' : 'logs'}@${partition}`);
            if (++n === 24) resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(where.size).toBe(12);
    for (const [trace, places] of where) {
      const partitions = new Set([...places].map((p) => p.split('@')[1]));
      expect([...places].map((p) => p.split('@')[0]).sort(), trace).toEqual(['logs', 'spans']);
      expect(partitions.size, `${trace}: ${[...places].join(', ')}`).toBe(1);
    }
    // the records spread over the 3 partitions
    expect(new Set([...where.values()].flatMap((p) => [...p].map((x) => x.split('@')[1]))).size).toBeGreaterThan(1);
    // a second seed writes nothing, and says how to add runs to topics that hold some — without the
    // start command (it printed "now: … npm start" as if it had seeded)
    const second = seed('--from', dir, '--spans-topic', `${base}.spans`, '--logs-topic', `${base}.logs`);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`${base}.spans already holds records: nothing written (--append adds the files after them`);
    expect(second.stdout).toContain(`nothing written: ${base}.spans and ${base}.logs held records already, so this seed added no run`);
    expect(second.stdout).not.toContain('now:');
    // --append: another corpus into those topics (a job reading them gets more runs); it wrote nothing and printed the start command as if seeded
    const more = tempDir('ac-seed-more-');
    await generateFiles({ dir: more, episodes: 5, seed: 6, encoding: 'proto' });
    const appended = seed('--from', more, '--spans-topic', `${base}.spans`, '--logs-topic', `${base}.logs`, '--append', '--partitions', '5');
    expect(appended.stderr).toBe('');
    expect(appended.status).toBe(0);
    // --partitions sizes the topics a seed creates; these exist with 3 (it was ignored without a word)
    expect(appended.stdout).toContain(`${base}.spans exists with 3 partition(s): --partitions 5 applies only to topics this seed creates`);
    expect(appended.stdout).toContain(`wrote 5 records of OTLP files of ${more} to ${base}.spans`);
    expect(appended.stdout).toContain(`wrote 5 records of OTLP files of ${more} to ${base}.logs`);
    expect(appended.stdout).toContain('now: AGENT_CREDIT_SOURCE_KIND=kafka');
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [`${base}.spans`, `${base}.logs`]) {
        const total = (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
        expect(total, topic).toBe(17);
      }
    } finally {
      await admin.disconnect();
    }
    // flags the script refuses exit 2 naming them (commander), or 1 with the reason
    const appendDump = seed('--append');
    expect(appendDump.status).toBe(1);
    expect(appendDump.stderr).toContain('--append is for --from');
    const both = seed('--from', dir, '--dump', dir);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain('--dump and --from both given: choose one');
    const bad = seed('--partitions', '0', '--from', dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--partitions takes a whole number ≥ 1');
    const empty = seed('--from', tempDir('ac-seed-empty-'), '--spans-topic', `${base}.never`);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/no <name>-traces\.pb, -logs\.pb or \.json file there — write some with `agent-credit generate /);
  }, 120_000);
});
