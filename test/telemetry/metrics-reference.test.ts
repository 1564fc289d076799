/**
 * README's metrics reference against /metrics: a series exposed but not in the table, or listed
 * but exposed by nothing (or not by the job kinds its row names), fails. It described many series
 * only in prose (`agent_credit_spans_received_total`, `_events_published_total`,
 * `_credit_queue_depth`, `_late_uncorrected_total`, `target_info`…) or not at all. The Kafka job's
 * and view's scrapes: test/integration/metrics-reference.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startLocalJob, type LocalJob } from '../../src/runtime/local-job.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { definedMetrics, metricsReference, scrapedMetrics } from '../support/metrics-reference.js';
import { tempDir } from '../support/temp-dir.js';

describe('README metrics reference', () => {
  it('lists every metric the code defines, once, with its type, and nothing else; each row names the jobs exposing it', async () => {
    const table = metricsReference();
    const defined = await definedMetrics();
    expect(defined.size).toBeGreaterThan(60);
    const listed = new Map([...table].map(([name, row]) => [name, row.type]));
    expect([...defined].filter(([name, type]) => listed.get(name) !== type).map(([n, t]) => `${n} (${t}): not in README's table with this type`)).toEqual([]);
    expect([...listed].filter(([name]) => !defined.has(name)).map(([n]) => `${n}: in README's table, defined by no code`)).toEqual([]);
    for (const [name, row] of table) {
      expect(row.exposedBy.size, name).toBeGreaterThan(0);
      expect([...row.exposedBy].filter((k) => !['OTLP/HTTP', 'Kafka', 'view'].includes(k)), name).toEqual([]);
    }
  });

  describe('the OTLP/HTTP job', () => {
    let job: LocalJob;
    beforeAll(async () => {
      // a module game, so that the value-function counters are there as they are in a deployment with one
      const game = join(tempDir('ac-metrics-ref-'), 'game.mjs');
      writeFileSync(game, 'export function value(coalition) { return coalition.length > 0 ? 1 : 0; }\n');
      const { config } = loadConfig({
        env: {},
        overrides: { source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 0 }, credit: { game: 'module', module: { path: game } } },
      });
      job = await startLocalJob(config, { logger: createLogger('silent') });
    });
    afterAll(() => job?.stop());

    it('exposes only metrics its rows name for OTLP/HTTP, and every one of them once a run is credited and a request refused', async () => {
      await sendScenario(job.receiverUrl, await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 }));
      // an undecodable request: the refusal and decode-error counters start with their first event
      expect((await fetch(`${job.receiverUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([1, 2, 3]) })).status).toBe(400);
      let text = '';
      for (let i = 0; i < 500 && !/^agent_credit_episodes_credited_total\{/m.test(text); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        text = await (await fetch(job.metricsUrl!)).text();
      }
      expect(text).toMatch(/^agent_credit_episodes_credited_total\{/m);
      const scraped = scrapedMetrics(text);
      const table = metricsReference();
      expect([...scraped].filter(([name, type]) => table.get(name)?.type !== type || !table.get(name)!.exposedBy.has('OTLP/HTTP')).map(([n]) => n)).toEqual([]);
      // rows that need what this job was not given (each row says so)
      const notSetUp = new Set([
        'agent_credit_credential_file_renewals_total', // TLS or token files to renew
        'agent_credit_value_function_cache_hits_total', // an http judge: a module game keeps no cache
        'agent_credit_value_function_retries_total', // an http judge
        'agent_credit_episodes_without_credit_total', // an episode closed without credit: this run is judged
        'agent_credit_credit_worker_restarts_total', // credit worker threads (runtime.creditWorkers): this job credits on its main thread
      ]);
      const missing = [...table].filter(([name, row]) => row.exposedBy.has('OTLP/HTTP') && !scraped.has(name) && !notSetUp.has(name)).map(([n]) => n);
      expect(missing).toEqual([]);
    });
  });
});
