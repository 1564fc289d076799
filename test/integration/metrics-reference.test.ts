/**
 * README's metrics reference against the /metrics of a Kafka job and of `agent-credit view` on the
 * real broker (the OTLP/HTTP job's and the table against the code: test/telemetry/metrics-reference.test.ts):
 * each exposes no series its rows do not name for it, and every one they do, but those that need
 * what the test does not set up.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKafkaJob, type KafkaJob } from '../../src/cli/kafka-job.js';
import { startViewJob, type ViewJob } from '../../src/cli/view-job.js';
import { loadConfig } from '../../src/config/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { metricsReference, scrapedMetrics, type JobKind } from '../support/metrics-reference.js';
import { tempDir } from '../support/temp-dir.js';
import { brokers, client, createTopics, produce, readTopics, unique } from './support/kafka-io.js';

/** The series a scrape shows that README's table does not name for `kind`, and the rows for `kind` it does not show (but `notSetUp`). */
function disagreements(text: string, kind: JobKind, notSetUp: ReadonlySet<string>): { unlisted: string[]; missing: string[] } {
  const scraped = scrapedMetrics(text);
  const table = metricsReference();
  return {
    unlisted: [...scraped].filter(([name, type]) => table.get(name)?.type !== type || !table.get(name)!.exposedBy.has(kind)).map(([n]) => n),
    missing: [...table].filter(([name, row]) => row.exposedBy.has(kind) && !scraped.has(name) && !notSetUp.has(name)).map(([n]) => n),
  };
}

describe('README metrics reference: the Kafka job and view', { timeout: 120_000 }, () => {
  const base = unique('metrics-ref');
  const topics = { spans: `${base}.spans`, logs: `${base}.logs`, rewards: `${base}.r`, episodes: `${base}.e`, preferences: `${base}.p`, dlq: `${base}.d` };
  const sinks = { stdout: { enabled: false }, kafka: { topics: { rewards: topics.rewards, episodes: topics.episodes, preferences: topics.preferences, dlq: topics.dlq } } };
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it('the Kafka job exposes the rows for Kafka once it has credited runs; a view over its output the rows for view', async () => {
    const c = client();
    await createTopics(c, [topics.spans, topics.logs], 2);
    const fleet = kafkaRecordsFor(await generateFleet({ episodes: 3, seed: 11 }), 'otlp_proto');
    const keyed = (topic: string) => (r: { key: string; value: Uint8Array }) => ({ topic, key: r.key === '' ? null : r.key, value: r.value });
    await produce(c, [...fleet.spans.map(keyed(topics.spans)), ...fleet.logs.map(keyed(topics.logs))]);
    // a module game, so that the value-function counters are there as in a deployment with one
    const game = join(tempDir('ac-metrics-ref-'), 'game.mjs');
    writeFileSync(game, 'export function value(coalition) { return coalition.length > 0 ? 1 : 0; }\n');
    const kafka = { brokers: [brokers()], sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 };
    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { ...kafka, groupId: `${base}-grp`, spansTopic: topics.spans, logsTopic: topics.logs } },
        episodes: { idleMs: 1_000 },
        sinks: { ...sinks, live: { enabled: true, host: '127.0.0.1', port: 0 } },
        credit: { game: 'module', module: { path: game } },
        // in a credit worker thread, so that its restarts counter is there as in a deployment with workers
        runtime: { creditWorkers: 1 },
      },
    });
    const job: KafkaJob = await startKafkaJob(config, silentLogger());
    stops.push(() => job.stop());
    await readTopics(c, [topics.episodes], (rs) => rs.length >= 3);
    let text = '';
    // the consumer lag is there once the job has read the end offsets (at its first lag refresh)
    for (let i = 0; i < 300 && !/^agent_credit_consumer_lag /m.test(text); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      text = await (await fetch(`${job.liveUrl}/metrics`)).text();
    }
    expect(text).toMatch(/^agent_credit_episodes_credited_total\{/m);
    expect(
      disagreements(text, 'Kafka', new Set([
        'agent_credit_credential_file_renewals_total', // TLS or token files to renew
        'agent_credit_value_function_cache_hits_total', // an http judge: a module game keeps no cache
        'agent_credit_value_function_retries_total', // an http judge
        'agent_credit_episodes_without_credit_total', // an episode closed without credit: every run here is judged
      ])),
    ).toEqual({ unlisted: [], missing: [] });

    const view: ViewJob = await startViewJob(
      loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { ...kafka, groupId: `${base}-view` } }, sinks: { ...sinks, live: { enabled: true, host: '127.0.0.1', port: 0 } } } }).config,
      { logger: silentLogger(), sinceMs: null },
    );
    stops.push(() => view.stop());
    await view.caughtUp();
    const viewText = await (await fetch(view.metricsUrl!)).text();
    expect(viewText).toMatch(/^agent_credit_agent_episodes\{[^}]*standings="view"/m);
    expect(disagreements(viewText, 'view', new Set(['agent_credit_credential_file_renewals_total']))).toEqual({ unlisted: [], missing: [] });
  });
});
