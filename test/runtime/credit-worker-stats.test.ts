/**
 * The value-function counters of credit worker threads when a worker dies. Each worker used to
 * send its cumulative counters with each episode's reply only, so whatever it counted after its
 * last reply — the calls of the episode it died in, of the episodes beside it, a judge's retries —
 * was lost when it died (out of memory, a crash, a timeout): /metrics undercounted exactly in
 * the incidents operators look at them for.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/schema.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import type * as PoolModule from '../../src/runtime/credit-workers/pool.js';
import type * as LocalJobModule from '../../src/runtime/local-job.js';
import type * as LocalStagesModule from '../../src/runtime/local-stages.js';
import type { LocalStages } from '../../src/runtime/local-stages.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { createLogger, SelfTelemetry } from '../../src/telemetry/index.js';
import { fromBuild } from '../support/build.js';
import { tempDir } from '../support/temp-dir.js';

// from the build when it is these sources (test/support/build.ts): a worker starts in ~1 s, not ~2.5 s
const { CreditWorkerPool } = await fromBuild<typeof PoolModule>('runtime/credit-workers/pool');
const { buildLocalStages } = await fromBuild<typeof LocalStagesModule>('runtime/local-stages');
const { startLocalJob } = await fromBuild<typeof LocalJobModule>('runtime/local-job');

const COUNTS_THEN_DIES = fileURLToPath(new URL('./modules/counts-then-dies.mjs', import.meta.url));

function config(overrides: Record<string, unknown>): AppConfig {
  return loadConfig({ env: {}, overrides }).config;
}

/** A closed episode of a generated run (real OTel SDK), three agents: several value-function calls each. */
async function episode(): Promise<Episode> {
  const asm = new EpisodeAssembler({});
  const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 7 });
  asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
  if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  const [e] = asm.flush('shutdown');
  return e!;
}

const metricValue = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

const open: LocalStages[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** A module value function that logs each call to a file of its own (the calls made), and the file. */
function countingModule(): { env: NodeJS.ProcessEnv; callsMade: () => number } {
  const file = join(tempDir('agent-credit-worker-stats-'), 'calls');
  writeFileSync(file, '');
  return { env: { ...process.env, VALUE_CALLS_FILE: file }, callsMade: () => readFileSync(file, 'utf8').length };
}

describe('value-function counters of a credit worker that dies', () => {
  const deaths = [
    { way: 'exit', why: 'process.exit in the value function (a native crash)', restart: /credit worker exited with code 7/, failures: 0, reason: 'crash' },
    { way: 'throw', why: 'an error thrown out of a timer in the value function', restart: /credit worker crashed: value function threw out of a timer/, failures: 0, reason: 'crash' },
    // the episode the worker ran out of memory in counts as one value-function failure (the pool's)
    { way: 'oom', why: 'out of memory at runtime.creditWorkerMaxHeapMb', restart: /credit worker out of memory/, failures: 1, reason: 'out-of-memory' },
    { way: 'hang', why: 'a call that never returns, stopped at runtime.creditTimeoutMs', restart: /processEpisode took longer than 1500 ms/, failures: 0, reason: 'timeout' },
  ] as const;

  for (const d of deaths) {
    it(`${d.why}: the calls it made before it died are counted, with every other episode's`, async () => {
      const e = await episode();
      const { env, callsMade } = countingModule();
      const restarts: string[] = [];
      const pool = await CreditWorkerPool.start({
        size: 1,
        config: config({ credit: { game: 'module', module: { path: COUNTS_THEN_DIES } } }),
        // only the hang is meant to meet the timeout: on a loaded machine filling 96 MB took longer than
        // 1.5 s, and the out-of-memory worker was stopped as a timeout instead
        taskTimeoutMs: d.way === 'hang' ? 1_500 : 30_000,
        maxHeapMb: 96,
        env,
        onWorkerRestart: (r) => restarts.push(r),
      });
      try {
        // exported from the start, at 0, as in the main thread (an alert on increase() sees the first failure)
        expect(pool.stats().gameStats).toMatchObject({ valueFunctionCalls: 0, valueFunctionFailures: 0 });
        expect(pool.stats().restartsByReason).toEqual({ timeout: 0, crash: 0, 'out-of-memory': 0 });
        // one at a time: the calls of the episode that dies, and those of an episode credited after
        expect((await pool.process({ ...e, episodeId: 'ok-0' }))[0]?.event_type).toBe('episode_credit');
        const before = pool.stats().gameStats?.valueFunctionCalls;
        expect(before).toBe(callsMade());
        await expect(pool.process({ ...e, episodeId: `${d.way}-1` })).rejects.toThrow();
        expect(restarts.length).toBeGreaterThan(0);
        expect(restarts[0]).toMatch(d.restart);
        // each worker the episode ran on made calls (3 or more: an estimator may have several pending) before it died
        expect(callsMade() - before!).toBeGreaterThanOrEqual(3 * restarts.length);
        expect((await pool.process({ ...e, episodeId: 'ok-1' }))[0]?.event_type).toBe('episode_credit');
        // every replacement counted under its reason (a crash re-runs the episode: up to 3 of them)
        expect(pool.stats().restartsByReason).toEqual({ timeout: 0, crash: 0, 'out-of-memory': 0, [d.reason]: restarts.length });
        expect(pool.stats().restarts).toBe(restarts.length);
        const stats = pool.stats().gameStats!;
        expect(stats.valueFunctionCalls).toBe(callsMade());
        expect(stats.valueFunctionFailures).toBe(d.failures);
      } finally {
        await pool.close();
      }
    }, 60_000);
  }

  it('the job\'s /metrics count them too (runtime.creditWorkers 1, the stages the job builds)', async () => {
    const e = await episode();
    const { env, callsMade } = countingModule();
    const saved = process.env.VALUE_CALLS_FILE;
    process.env.VALUE_CALLS_FILE = env.VALUE_CALLS_FILE; // the job's workers take this process's environment
    try {
      const stages = await buildLocalStages(config({ runtime: { creditWorkers: 1, creditWorkerMaxHeapMb: 96 }, credit: { game: 'module', module: { path: COUNTS_THEN_DIES } } }));
      open.push(stages);
      await stages.processEpisode({ ...e, episodeId: 'ok-0' });
      await expect(stages.processEpisode({ ...e, episodeId: 'oom-1' })).rejects.toThrow(/ran out of memory/);
      const telemetry = new SelfTelemetry();
      try {
        telemetry.observe(stages.gameStats!);
        telemetry.observe(stages.workerStats!);
        const metrics = await telemetry.metricsText();
        expect(metricValue(metrics, 'agent_credit_value_function_calls_total')).toBe(callsMade());
        expect(metricValue(metrics, 'agent_credit_value_function_failures_total')).toBe(1);
        // the worker replaced, by reason: each reason's series is there, the others at 0
        expect(metricValue(metrics, 'agent_credit_credit_worker_restarts_total\\{reason="out-of-memory"[^}]*\\}')).toBe(1);
        expect(metricValue(metrics, 'agent_credit_credit_worker_restarts_total\\{reason="timeout"[^}]*\\}')).toBe(0);
        expect(metricValue(metrics, 'agent_credit_credit_worker_restarts_total\\{reason="crash"[^}]*\\}')).toBe(0);
      } finally {
        await telemetry.shutdown();
      }
    } finally {
      if (saved === undefined) delete process.env.VALUE_CALLS_FILE;
      else process.env.VALUE_CALLS_FILE = saved;
    }
  }, 60_000);

  // worker restarts were only in pool.stats() and a log line: nothing to alert on
  it("a running job's /metrics has the credit workers' restarts by reason from its start, at 0; without workers, no series", async () => {
    for (const creditWorkers of [1, 0]) {
      const c = config({ source: { http: { port: 0 }, grpc: { port: 0 } }, sinks: { stdout: { enabled: false }, live: { enabled: false } }, telemetry: { metricsPort: 0 }, runtime: { creditWorkers } });
      const job = await startLocalJob(c, { logger: createLogger('silent') });
      try {
        const text = await (await fetch(job.metricsUrl!)).text();
        const series = [...text.matchAll(/^agent_credit_credit_worker_restarts_total\{reason="([a-z-]+)"[^}]*\} (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
        expect(series, `creditWorkers ${creditWorkers}`).toEqual(creditWorkers > 0 ? ['timeout 0', 'crash 0', 'out-of-memory 0'] : []);
      } finally {
        await job.stop();
      }
    }
  }, 60_000);

  it("an http judge's retries before its worker was stopped are counted; the calls it had in flight are not (no answer came)", async () => {
    // each coalition's first request is answered 500 (retried at once), its retry never: the
    // worker is stopped at runtime.creditTimeoutMs with those in flight — no reply ever carried
    // the counters
    let served500 = 0;
    const seen = new Map<string, number>();
    const judge = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const n = (seen.get(body) ?? 0) + 1;
        seen.set(body, n);
        if (n % 2 === 0) return; // the retry: no answer
        served500++;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('judge overloaded');
      });
    });
    await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
    const e = await episode();
    const pool = await CreditWorkerPool.start({
      size: 1,
      config: config({ credit: { game: 'http', timeoutMs: 60_000, judge: { url: `http://127.0.0.1:${(judge.address() as { port: number }).port}/score`, batch: 'never', retries: 1, backoffMs: 0, maxBackoffMs: 0, timeoutMs: 60_000 } } }),
      taskTimeoutMs: 1_500,
    });
    try {
      await expect(pool.process({ ...e, episodeId: 'judged-1' })).rejects.toThrow(/took longer than 1500 ms/);
      expect(served500).toBeGreaterThan(0);
      const stats = pool.stats().gameStats!;
      expect(stats.valueFunctionRetries).toBe(served500);
      // unrecoverable: the calls in flight when the worker was stopped had no answer, no failure
      expect(stats.valueFunctionCalls).toBe(0);
      expect(stats.valueFunctionFailures).toBe(0);
    } finally {
      await pool.close();
      judge.closeAllConnections();
      await new Promise<void>((r) => judge.close(() => r()));
    }
  }, 60_000);
});
