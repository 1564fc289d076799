/**
 * `npm run kafka:seed` (scripts/kafka-seed.ts): the input topics and the recorded collector records
 * on a broker, so that README's local-broker path ends in credit. Before it, a user of
 * `npm run kafka:start` had no tool to create otlp_spans / otlp_logs (the Maven-built broker ships
 * no kafka-topics.sh) and the job stopped at "topic otlp_spans does not exist".
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { RECORDED_COLLECTOR_DUMP, seedInputTopics } from '../../scripts/kafka-seed.js';
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
    expect(again).toEqual({ created: [], written: { [topics.spansTopic]: 0, [topics.logsTopic]: 0 } });

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
});
