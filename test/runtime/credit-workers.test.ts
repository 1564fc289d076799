import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { MIN_CREDIT_WORKER_HEAP_MB } from '../../src/config/defaults.js';
import type { AppConfig } from '../../src/config/schema.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { DegenerateEpisodeError } from '../../src/credit/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import type * as PoolModule from '../../src/runtime/credit-workers/pool.js';
import type * as LocalStagesModule from '../../src/runtime/local-stages.js';
import type { LocalStages } from '../../src/runtime/local-stages.js';
import { correctionReporter } from '../../src/runtime/episode-log.js';
import { generateScenario, type ScenarioRun } from '../../src/scenarios/index.js';
import { BUILD_IS_CURRENT, fromBuild } from '../support/build.js';
import { tempDir } from '../support/temp-dir.js';

// The pool and the stages that start it from the build when it is these sources (test/support/build.ts):
// from src/, each credit worker thread registers tsx and transforms the credit stack it loads —
// ~2.5 s a start instead of ~1 s, and this file starts ~30 (every replacement is one)
const { CreditWorkerPool, creditConcurrencyFor, resolveCreditWorkers } = await fromBuild<typeof PoolModule>('runtime/credit-workers/pool');
const { buildLocalStages, skippedEpisodeReporter } = await fromBuild<typeof LocalStagesModule>('runtime/local-stages');
type CreditWorkerPool = Awaited<ReturnType<typeof CreditWorkerPool.start>>;

const HANGS = fileURLToPath(new URL('./modules/hangs.mjs', import.meta.url));
const SLOW = fileURLToPath(new URL('./modules/slow.mjs', import.meta.url));
const CRASHES = fileURLToPath(new URL('./modules/crashes.mjs', import.meta.url));
const CRASHES_ASYNC = fileURLToPath(new URL('./modules/crashes-async.mjs', import.meta.url));
const LEAKS = fileURLToPath(new URL('./modules/leaks.mjs', import.meta.url));
const EXITS_AT_LOAD = fileURLToPath(new URL('./modules/exits-at-load.mjs', import.meta.url));
const DIES_WHILE_OTHERS_START = fileURLToPath(new URL('./modules/dies-while-others-start.mjs', import.meta.url));
const ALLOCATES_AT_LOAD = fileURLToPath(new URL('./modules/allocates-at-load.mjs', import.meta.url));

function config(overrides: Record<string, unknown>): AppConfig {
  return loadConfig({ env: {}, overrides }).config;
}

/** The generated runs (real OTel SDK + serializers), every kind and convention: made once for the file. */
let generated: Promise<ScenarioRun[]> | undefined;
async function runs(): Promise<ScenarioRun[]> {
  generated ??= (async () => {
    const made: ScenarioRun[] = [];
    let seed = 1;
    for (const kind of ['success', 'redundant', 'saboteur', 'error-retry', 'failure'] as const) {
      for (const convention of ['genai', 'openinference', 'openllmetry'] as const) made.push(await generateScenario({ kind, convention, seed: seed++ }));
    }
    return made;
  })();
  return generated;
}

/** Closed episodes of the generated runs, assembled afresh for each caller. */
async function episodes(): Promise<Episode[]> {
  const asm = new EpisodeAssembler({});
  for (const run of await runs()) {
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  }
  return asm.flush('shutdown');
}

const withoutClock = (events: CreditEvent[]) => JSON.stringify(events, (k, v: unknown) => (k === 'emitted_at_ms' ? 0 : v));

const open: LocalStages[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** A one-worker pool running the module value function at `path`, and the restart reasons it reports. */
async function oneWorker(path: string, taskTimeoutMs: number): Promise<{ pool: CreditWorkerPool; restarts: string[] }> {
  const restarts: string[] = [];
  const pool = await CreditWorkerPool.start({ size: 1, config: config({ credit: { game: 'module', module: { path } } }), taskTimeoutMs, onWorkerRestart: (r) => restarts.push(r) });
  return { pool, restarts };
}

/** Each settled `pool.process`: its failure message, or the type of its first event. */
const outcomes = (results: readonly PromiseSettledResult<readonly { event_type: string }[]>[]) => results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value[0]?.event_type));

describe('credit worker pool (runtime.creditWorkers)', () => {
  it('gives the same events as credit in the main thread, for every scenario kind and convention', async () => {
    const eps = await episodes();
    expect(eps.length).toBe(15);
    const inThread = await buildLocalStages(config({ runtime: { creditWorkers: 0 } }));
    const pooled = await buildLocalStages(config({ runtime: { creditWorkers: 2 } }));
    open.push(inThread, pooled);
    expect(inThread.workers).toBeUndefined();
    expect(pooled.workers?.stats().workers).toBe(2);
    expect([inThread.creditConcurrency, pooled.creditConcurrency]).toEqual([4, 32]);
    const a = await Promise.all(eps.map((e) => inThread.processEpisode(e)));
    const b = await Promise.all(eps.map((e) => pooled.processEpisode(e)));
    expect(b.every((events) => events.length > 0)).toBe(true);
    expect(withoutClock(b.flat())).toBe(withoutClock(a.flat()));
  }, 60_000);

  it('replaces a worker stuck in a value function: that episode fails with the reason, the ones it held are re-run and credited', async () => {
    const [episode] = await episodes();
    const { pool, restarts } = await oneWorker(HANGS, 1_000);
    try {
      const stuck = pool.process({ ...episode!, episodeId: 'hang-1' });
      const queued = pool.process(episode!); // sent to the same (stuck) worker
      await expect(stuck).rejects.toThrow(/took longer than 1000 ms \(runtime\.creditTimeoutMs\); its credit worker was replaced/);
      expect((await queued)[0]?.event_type).toBe('episode_credit'); // re-run on the replacement
      expect(restarts[0]).toMatch(/^episode hang-1: processEpisode took longer than 1000 ms \(runtime\.creditTimeoutMs\); its credit worker was replaced; 1 episode\(s\) it held are re-run on the replacement$/);
      const events = await pool.process(episode!);
      expect(events[0]?.event_type).toBe('episode_credit');
      expect(pool.stats()).toMatchObject({ workers: 1, inFlight: 0, restarts: 1 });
      expect(restarts).toHaveLength(1);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('fails only the episodes that hang: the others a replaced worker held are re-run, each with its own time budget', async () => {
    const [episode] = await episodes();
    const { pool, restarts } = await oneWorker(HANGS, 1_000);
    try {
      // 3 hanging episodes among 12, all on one worker (the operator review: 8 of 40 hang, 23 went to the DLQ)
      const ids = ['hang-a', 'ok-0', 'ok-1', 'ok-2', 'hang-b', 'ok-3', 'ok-4', 'ok-5', 'ok-6', 'hang-c', 'ok-7', 'ok-8'];
      const results = await Promise.allSettled(ids.map((episodeId) => pool.process({ ...episode!, episodeId })));
      const outcome = outcomes(results);
      expect(Object.fromEntries(ids.map((id, i) => [id, outcome[i]]))).toEqual(
        Object.fromEntries(ids.map((id) => [id, id.startsWith('hang') ? 'processEpisode took longer than 1000 ms (runtime.creditTimeoutMs); its credit worker was replaced' : 'episode_credit'])),
      );
      expect(pool.stats()).toMatchObject({ workers: 1, inFlight: 0, restarts: 3 });
      expect(restarts.map((r) => r.split(':')[0])).toEqual(['episode hang-a', 'episode hang-b', 'episode hang-c']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an episode whose worker keeps dying is not retried forever: it fails saying so, the others it shared the worker with are credited', async () => {
    const [episode] = await episodes();
    const { pool, restarts } = await oneWorker(CRASHES, 5_000);
    try {
      const ids = ['ok-0', 'crash-1', 'ok-1', 'ok-2'];
      const results = await Promise.allSettled(ids.map((episodeId) => pool.process({ ...episode!, episodeId })));
      const outcome = outcomes(results);
      expect(outcome).toEqual([
        'episode_credit',
        'its credit worker was stopped 3 times while it held this episode (last: credit worker exited with code 7); not retried again',
        'episode_credit',
        'episode_credit',
      ]);
      expect(pool.stats()).toMatchObject({ workers: 1, inFlight: 0, restarts: 3 });
      expect(restarts.at(-1)).toMatch(/1 failed after their worker was stopped 3 times/);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a value function that allocates without bound: its worker stops at runtime.creditWorkerMaxHeapMb, that episode fails at once saying so (a value-function failure), the worker is replaced and the others are credited', async () => {
    // Workers started without resourceLimits: the leak grew the whole process until the OOM killer
    const [episode] = await episodes();
    const restarts: string[] = [];
    const cfg = config({ credit: { game: 'module', module: { path: LEAKS } }, runtime: { creditWorkers: 1, creditWorkerMaxHeapMb: 96 } });
    expect(cfg.runtime.creditWorkerMaxHeapMb).toBe(96);
    const pool = await CreditWorkerPool.start({ size: 1, config: cfg, taskTimeoutMs: 30_000, maxHeapMb: cfg.runtime.creditWorkerMaxHeapMb, onWorkerRestart: (r) => restarts.push(r) });
    try {
      const ids = ['ok-0', 'leak-1', 'ok-1'];
      // one at a time: the module is synchronous, so the worker starts each when the one before is done
      const outcome = outcomes(await Promise.allSettled(ids.map((episodeId) => pool.process({ ...episode!, episodeId }))));
      expect(outcome[0]).toBe('episode_credit');
      expect(outcome[1]).toMatch(/^its credit worker ran out of memory crediting this episode: its JS heap reached runtime\.creditWorkerMaxHeapMb \(96 MB\) — the value function \(credit\.game: module\) keeps or allocates memory without bound, or the episode is too large for the limit: fix the leak or raise runtime\.creditWorkerMaxHeapMb; the worker was replaced$/);
      expect(outcome[2]).toBe('episode_credit');
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatch(/^episode leak-1: credit worker out of memory: its JS heap reached runtime\.creditWorkerMaxHeapMb \(96 MB\); its credit worker was replaced/);
      const stats = pool.stats();
      expect(stats).toMatchObject({ workers: 1, inFlight: 0, restarts: 1 });
      expect(stats.gameStats?.valueFunctionFailures).toBeGreaterThanOrEqual(1);
      expect(stats.lastValueFunctionError).toMatch(/credit worker out of memory \(episode leak-1\)/);
      // the replacement credits what comes next
      expect(outcomes(await Promise.allSettled([pool.process({ ...episode!, episodeId: 'ok-2' })]))).toEqual(['episode_credit']);
    } finally {
      await pool.close();
    }
    // the job's stages start their workers with the configured limit
    const stages = await buildLocalStages(cfg);
    open.push(stages);
    await expect(stages.processEpisode({ ...episode!, episodeId: 'leak-2' })).rejects.toThrow(/ran out of memory crediting this episode: its JS heap reached runtime\.creditWorkerMaxHeapMb \(96 MB\)/);
  }, 60_000);

  it('with an async value function, the episodes in flight beside the one that crashes its worker are credited, not failed with it', async () => {
    // the worker runs every episode it holds at once: each crash found them all started, counted a
    // death against each, and the third failed all four
    const [episode] = await episodes();
    const { pool, restarts } = await oneWorker(CRASHES_ASYNC, 5_000);
    try {
      const ids = ['ok-0', 'crash-1', 'ok-1', 'ok-2'];
      const results = await Promise.allSettled(ids.map((episodeId) => pool.process({ ...episode!, episodeId })));
      expect(outcomes(results)).toEqual([
        'episode_credit',
        'its credit worker was stopped 3 times while it held this episode (last: credit worker exited with code 7); not retried again',
        'episode_credit',
        'episode_credit',
      ]);
      expect(pool.stats()).toMatchObject({ workers: 1, inFlight: 0 });
      expect(restarts.at(-1)).toMatch(/1 failed after their worker was stopped 3 times/);
      // the pool goes back to running episodes side by side
      const again = await Promise.allSettled(['ok-3', 'ok-4'].map((episodeId) => pool.process({ ...episode!, episodeId })));
      expect(outcomes(again)).toEqual(['episode_credit', 'episode_credit']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a replacement whose ready comes after its start timeout is given up for good: one worker per slot, no second replacement beside the retry', async () => {
    // the main thread is busy past the replacement's start timeout while the worker starts: the
    // timeout fires, then the worker's 'ready' arrives, then its exit (terminated) — which passed
    // for a crash of a running worker and started a second replacement beside the pool's retry
    const [episode] = await episodes();
    const restarts: string[] = [];
    let blocked = false;
    const pool = await CreditWorkerPool.start({
      size: 1,
      config: config({ credit: { game: 'module', module: { path: CRASHES } } }),
      taskTimeoutMs: 5_000,
      startTimeoutMs: 8_000, // the retry's worker must start within it: room for a loaded machine (2 s, then 4 s, failed beside other suites)
      retryStartMs: 1_000,
      onWorkerRestart: (r) => {
        restarts.push(r);
        if (blocked) return;
        blocked = true;
        setImmediate(() => {
          const end = Date.now() + 10_000; // past startTimeoutMs
          while (Date.now() < end);
        });
      },
    });
    try {
      const [crashed] = await Promise.allSettled([pool.process({ ...episode!, episodeId: 'crash-1' })]);
      expect((crashed as PromiseRejectedResult).reason.message).toBe('no credit worker: a credit worker did not start within 8000 ms');
      // the retry (retryStartMs) has started a worker, and the given-up one's exit has come and gone
      for (const end = Date.now() + 30_000; !restarts.some((r) => r.startsWith('a credit worker is running again')) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      expect(restarts.map((r) => r.split(';')[0])).toEqual(['credit worker exited with code 7', 'replacing a credit worker failed: a credit worker did not start within 8000 ms', 'a credit worker is running again']);
      expect(pool.stats()).toMatchObject({ workers: 1, restarts: 1 }); // 2 without the fix: the given-up worker's exit replaced it
      expect(outcomes(await Promise.allSettled([pool.process({ ...episode!, episodeId: 'ok-1' })]))).toEqual(['episode_credit']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('counts the timeout from when the worker starts an episode, not from when it was queued behind others', async () => {
    const [episode] = await episodes();
    const { pool, restarts } = await oneWorker(SLOW, 1_000);
    try {
      // Six episodes of ~250 ms each on one worker: each is well within 1000 ms, the last ones
      // finish ~1.5 s after they were queued.
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => pool.process({ ...episode!, episodeId: `slow-${i}` })));
      expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(Array(6).fill('ok'));
      expect(restarts).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an episode that cannot be sent to a worker fails alone and is not left in flight', async () => {
    const [episode] = await episodes();
    const pool = await CreditWorkerPool.start({ size: 1, config: config({}), taskTimeoutMs: 5_000 });
    try {
      const span = { ...episode!.spans[0]!, attributes: { ...episode!.spans[0]!.attributes, bad: (() => 1) as unknown as string } };
      await expect(pool.process({ ...episode!, spans: [span, ...episode!.spans.slice(1)] })).rejects.toThrow(/could not be cloned/);
      expect(pool.stats().inFlight).toBe(0);
      expect((await pool.process(episode!))[0]?.event_type).toBe('episode_credit');
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an episode that cannot be sent fails alone also when it waited for a replacement worker to start', async () => {
    const [episode] = await episodes();
    const pool = await CreditWorkerPool.start({ size: 1, config: config({ credit: { game: 'module', module: { path: HANGS } } }), taskTimeoutMs: 1_000 });
    try {
      await expect(pool.process({ ...episode!, episodeId: 'hang-1' })).rejects.toThrow(/was replaced/);
      // The replacement is starting now: these wait for it.
      const span = { ...episode!.spans[0]!, attributes: { ...episode!.spans[0]!.attributes, bad: (() => 1) as unknown as string } };
      const bad = pool.process({ ...episode!, spans: [span, ...episode!.spans.slice(1)] });
      const good = pool.process(episode!);
      await expect(bad).rejects.toThrow(/could not be cloned/);
      expect((await good)[0]?.event_type).toBe('episode_credit');
      expect(pool.stats()).toMatchObject({ inFlight: 0, restarts: 1 });
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('fails at start, naming the problem, when a worker cannot build the configured game', async () => {
    await expect(buildLocalStages(config({ runtime: { creditWorkers: 1 }, credit: { game: 'module', module: { path: '/nonexistent/value.mjs' } } }))).rejects.toThrow(
      /credit worker could not build the configured credit stage: module game: file not found/,
    );
  }, 30_000);

  // runtime.creditWorkerMaxHeapMb's minimum is one a worker works with: a judge-sized module game, every scenario kind
  it('a worker at the smallest runtime.creditWorkerMaxHeapMb the configuration takes starts and credits episodes', async () => {
    const cfg = config({ credit: { game: 'module', module: { path: SLOW } }, runtime: { creditWorkers: 1, creditWorkerMaxHeapMb: MIN_CREDIT_WORKER_HEAP_MB } });
    const restarts: string[] = [];
    const pool = await CreditWorkerPool.start({ size: 1, config: cfg, taskTimeoutMs: 30_000, maxHeapMb: cfg.runtime.creditWorkerMaxHeapMb, onWorkerRestart: (r) => restarts.push(r) });
    try {
      const eps = await episodes(); // every scenario kind and convention, 4 at a time on the worker
      const results: CreditEvent[][] = [];
      for (let i = 0; i < eps.length; i += 4) results.push(...(await Promise.all(eps.slice(i, i + 4).map((e) => pool.process(e)))));
      expect(results.map((r) => r.some((e) => e.event_type === 'episode_credit'))).toEqual(eps.map(() => true));
      expect(restarts).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 60_000);

  // A worker that was ready and died while CreditWorkerPool.start still waited for another one was
  // not replaced (replace() ignored a slot not yet in the pool): start resolved with the dead
  // worker in rotation, and every episode sent to it waited for an answer that never came — no
  // 'started', so no runtime.creditTimeoutMs either.
  it('a worker that dies while the others are still starting is replaced, and the pool it starts credits', async () => {
    const [episode] = await episodes();
    const dir = tempDir('agent-credit-dies-while-starting-');
    const restarts: string[] = [];
    const pool = await CreditWorkerPool.start({
      size: 2,
      config: config({ credit: { game: 'module', module: { path: DIES_WHILE_OTHERS_START } } }),
      taskTimeoutMs: 30_000,
      env: { ...process.env, DIES_WHILE_OTHERS_START_DIR: dir },
      onWorkerRestart: (r) => {
        restarts.push(r);
        writeFileSync(join(dir, 'release'), '');
      },
    });
    try {
      expect(restarts[0]).toMatch(/^credit worker exited with code 3; its credit worker was replaced$/);
      expect(pool.stats()).toMatchObject({ workers: 2, restarts: 1, restartsByReason: { crash: 1 } });
      // both slots take episodes: each of these goes to a worker that answers
      const events = await Promise.all([pool.process(episode!), pool.process(episode!), pool.process(episode!)]);
      expect(events.map((e) => e[0]?.event_type)).toEqual(['episode_credit', 'episode_credit', 'episode_credit']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  // A library script whose only work was `await CreditWorkerPool.start(...)` ended with code 13 (an
  // unsettled top-level await): the worker died while starting, and its exit — the start's error —
  // was never delivered to an event loop with nothing else to keep it alive.
  for (const c of [
    { why: 'a worker that exits as its module loads', options: `config: loadConfig({ env: {}, overrides: { credit: { game: 'module', module: { path: ${JSON.stringify(EXITS_AT_LOAD)} } } } }).config`, error: /^start failed: a credit worker exited with code 3 before it was ready$/m },
    // (maxHeapMb 8 did it before the pool refused a limit below MIN_CREDIT_WORKER_HEAP_MB)
    { why: 'a worker that runs out of memory while starting', options: `config: loadConfig({ env: {}, overrides: { credit: { game: 'module', module: { path: ${JSON.stringify(ALLOCATES_AT_LOAD)} } } } }).config, maxHeapMb: ${MIN_CREDIT_WORKER_HEAP_MB}`, error: new RegExp(`^start failed: a credit worker ran out of memory while starting: its JS heap reached runtime\\.creditWorkerMaxHeapMb \\(${MIN_CREDIT_WORKER_HEAP_MB} MB\\)`, 'm') },
  ]) {
    it(`a script that only awaits CreditWorkerPool.start gets its error, not exit code 13: ${c.why}`, () => {
      const from = (path: string) => JSON.stringify(new URL(BUILD_IS_CURRENT ? `../../dist/${path}.js` : `../../src/${path}.ts`, import.meta.url).href);
      const script = [
        `const { CreditWorkerPool } = await import(${from('runtime/credit-workers/pool')});`,
        `const { loadConfig } = await import(${from('config/index')});`,
        'try {',
        `  const pool = await CreditWorkerPool.start({ size: 1, taskTimeoutMs: 10000, selfTracing: false, ${c.options} });`,
        "  console.log('started');",
        '  await pool.close();',
        '} catch (err) {',
        "  console.log('start failed: ' + err.message);",
        '}',
      ].join('\n');
      // a file, not -e: the worker threads take the process's execArgv, and refuse --input-type
      const file = join(tempDir('pool-start-'), 'start.mjs');
      writeFileSync(file, script);
      const run = spawnSync(process.execPath, [...(BUILD_IS_CURRENT ? [] : ['--import', 'tsx']), file], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stdout).toMatch(c.error);
      expect(run.status).toBe(0);
    }, 60_000);
  }

  // the config key has a minimum (config 1.24.1), the library's option had none: maxHeapMb 8 started
  // workers that each ran out of memory as they loaded, and a pool that retried them every 5 s
  it('refuses a maxHeapMb the configuration would refuse, naming maxHeapMb and what it takes, before any worker starts', async () => {
    for (const maxHeapMb of [8, MIN_CREDIT_WORKER_HEAP_MB - 1, -1, 100.5, Number.NaN, 2_000_000]) {
      await expect(CreditWorkerPool.start({ size: 1, processOptions: {}, taskTimeoutMs: 5_000, selfTracing: false, maxHeapMb })).rejects.toThrow(
        `maxHeapMb: expected 0 (V8's default heap limit) or a whole number of MB from ${MIN_CREDIT_WORKER_HEAP_MB} to 1048576, got ${maxHeapMb} — a credit worker needs about 24 MB of heap to start and credit an episode`,
      );
    }
    // the in-process API's pool names its option
    await expect(CreditWorkerPool.start({ size: 1, processOptions: {}, taskTimeoutMs: 5_000, selfTracing: false, maxHeapMb: 8, settings: { workers: 'creditWorkers', timeout: 'creditTimeoutMs', heap: 'creditWorkerMaxHeapMb' } })).rejects.toThrow(/^creditWorkerMaxHeapMb: expected 0/);
    for (const maxHeapMb of [0, MIN_CREDIT_WORKER_HEAP_MB, undefined]) {
      const pool = await CreditWorkerPool.start({ size: 1, processOptions: {}, taskTimeoutMs: 5_000, selfTracing: false, ...(maxHeapMb !== undefined ? { maxHeapMb } : {}) });
      expect(pool.stats().workers).toBe(1);
      await pool.close();
    }
  }, 60_000);

  it('rejects work after close, and `auto` means cores − 1 (at least one)', async () => {
    const pool = await CreditWorkerPool.start({ size: 1, config: config({}), taskTimeoutMs: 5_000 });
    await pool.close();
    const [episode] = await episodes();
    await expect(pool.process(episode!)).rejects.toThrow(/closed/);
    expect(resolveCreditWorkers('auto', 8)).toBe(7);
    expect(resolveCreditWorkers('auto', 1)).toBe(1);
    expect(resolveCreditWorkers(3, 8)).toBe(3);
    // workers are kept fed: ≥ 16 episodes in credit per worker, the configured value otherwise
    expect(creditConcurrencyFor(4, 0)).toBe(4);
    expect(creditConcurrencyFor(4, 2)).toBe(32);
    expect(creditConcurrencyFor(64, 2)).toBe(64);
  }, 30_000);
});

describe('credit workers and self-tracing', () => {
  it('export their own agent_credit.credit_episode spans (OTEL_* environment) and flush them on close', async () => {
    const { createServer } = await import('node:http');
    const bodies: Uint8Array[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(new Uint8Array(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const eps = (await episodes()).slice(0, 3);
      const pool = await CreditWorkerPool.start({
        size: 1,
        config: config({}),
        taskTimeoutMs: 10_000,
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_SERVICE_NAME: 'agent-credit-test' },
      });
      for (const e of eps) await pool.process(e);
      await pool.close(); // flushes the worker's batch span processor
      const spans = bodies.flatMap((b) => decodeTraces(b, 'otlp_proto')).filter((s) => s.name === 'agent_credit.credit_episode');
      expect(spans.map((s) => s.attributes['agent_credit.episode.id']).sort()).toEqual(eps.map((e) => e.episodeId).sort());
      expect(spans.every((s) => s.resource?.attributes?.['service.name'] === 'agent-credit-test')).toBe(true);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('event JSON made in the workers', () => {
  it('is exactly JSON.stringify of the event the main thread receives, and is what the sinks publish', async () => {
    const { eventJson } = await import('../../src/events/event-json.js');
    const { eventRecord } = await import('../../src/sinks/kafka/event-records.js');
    const eps = (await episodes()).slice(0, 5);
    const pool = await CreditWorkerPool.start({ size: 1, config: config({}), taskTimeoutMs: 10_000 });
    try {
      for (const e of eps) {
        for (const ev of await pool.process(e)) {
          expect(eventJson(ev)).toBe(JSON.stringify(ev));
          const topics = { rewards: 'r', episodes: 'e', preferences: 'p', dlq: 'd' };
          expect(eventRecord(ev, topics).value).toBe(JSON.stringify(ev));
        }
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('credit worker replies without the event objects (CreditWorkerPool.credit, the Kafka job)', () => {
  it('carry the facts and JSON bytes of the events `process` gives: the same records', async () => {
    const { eventFacts } = await import('../../src/events/credited-events.js');
    const { eventJson } = await import('../../src/events/event-json.js');
    const { publishableEventRecord, publishableFactsRecord } = await import('../../src/sinks/kafka/event-records.js');
    const topics = { rewards: 'r', episodes: 'e', preferences: 'p', dlq: 'd' };
    // emitted_at_ms is the wall clock of each computation
    const clockless = (s: string) => s.replace(/"emitted_at_ms":\d+/g, '"emitted_at_ms":0');
    const pool = await CreditWorkerPool.start({ size: 1, config: config({}), taskTimeoutMs: 10_000 });
    try {
      let events = 0;
      for (const e of await episodes()) {
        const [objects, credited] = await Promise.all([pool.process(e), pool.credit(e)]);
        expect(credited.facts.map((f) => clockless(JSON.stringify(f)))).toEqual(objects.map((o) => clockless(JSON.stringify(eventFacts(o)))));
        objects.forEach((o, i) => {
          const value = credited.value(i);
          expect(value).toBeInstanceOf(Uint8Array);
          expect(clockless(Buffer.from(value as Uint8Array).toString('utf8'))).toBe(clockless(eventJson(o)));
          const { value: a, ...rest } = publishableEventRecord(o, topics, 1_000_000).record;
          const { value: b, ...restB } = publishableFactsRecord(credited.facts[i]!, value, topics, 1_000_000).record;
          expect(restB).toEqual(rest);
          expect(clockless(Buffer.from(b).toString('utf8'))).toBe(clockless(a as string));
          events++;
        });
      }
      expect(events).toBeGreaterThan(50);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('a credit worker that cannot be restarted', () => {
  it('fails episodes fast with the reason while none runs, and the pool recovers once it can start again', async () => {
    const { copyFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'agent-credit-pool-'));
    const path = join(dir, 'value.mjs');
    copyFileSync(HANGS, path);
    const [episode] = await episodes();
    const notes: string[] = [];
    const pool = await CreditWorkerPool.start({
      size: 1,
      config: config({ credit: { game: 'module', module: { path } } }),
      taskTimeoutMs: 1_000,
      retryStartMs: 300,
      onWorkerRestart: (r) => notes.push(r),
    });
    try {
      rmSync(path); // the replacement will not find the value function
      await expect(pool.process({ ...episode!, episodeId: 'hang-2' })).rejects.toThrow(/took longer than 1000 ms/);
      // the replacement fails to start: episodes fail at once, naming why and what to do
      await waitUntil(() => notes.some((n) => /replacing a credit worker failed: .*file not found/.test(n)));
      await expect(pool.process(episode!)).rejects.toThrow(/no credit worker is running \(.*file not found.*\); retrying every 0.3 s .*runtime\.creditWorkers: 0/);
      copyFileSync(HANGS, path); // the cause is fixed: the next retry starts a worker
      await waitUntil(() => notes.includes('a credit worker is running again'));
      expect((await pool.process(episode!))[0]?.event_type).toBe('episode_credit');
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

async function waitUntil(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('episodes that close without credit', () => {
  it.each([0, 1])('are reported with their reason (creditWorkers %i): the first ones, then one line per 100', async (creditWorkers) => {
    const asm = new EpisodeAssembler({});
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 41 });
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto')); // no evaluation log record: no system score
    const [episode] = asm.flush('shutdown');
    const warned: { fields: Record<string, unknown>; msg: string }[] = [];
    const logger = { warn: (fields: Record<string, unknown>, msg: string) => void warned.push({ fields, msg }), info: () => undefined };
    const stages = await buildLocalStages(config({ runtime: { creditWorkers } }), undefined, undefined, logger as never);
    open.push(stages);
    for (let i = 0; i < 7; i++) expect(await stages.processEpisode(episode!)).toEqual([]);
    expect(warned).toHaveLength(5);
    expect(warned[0]!.msg).toMatch(/closed without credit events \(the reason says why and what to send\)/);
    expect(warned[0]!.fields).toMatchObject({ episodeId: episode!.episodeId, skippedTotal: 1 });
    // the specific case (also across the worker thread): none joined, closed by shutdown
    expect(String(warned[0]!.fields.reason)).toMatch(/no evaluation joined it: send a system-level evaluation.* It closed by shutdown \(the job or processor stopping, the end of replay's or compare's input .*, or an in-process forceFlush with flushClosesEpisodes\): an evaluation that arrives later cannot correct it/);
  }, 30_000);
});

describe('skippedEpisodeReporter', () => {
  it('logs the first five, then every hundredth with the running total', () => {
    const totals: unknown[] = [];
    const report = skippedEpisodeReporter({ warn: (f: Record<string, unknown>) => void totals.push(f.skippedTotal) } as never);
    const ep = { episodeId: 'e', closeReason: 'idle' } as Episode;
    for (let i = 0; i < 250; i++) report(ep, 'no system evaluation');
    expect(totals).toEqual([1, 2, 3, 4, 5, 100, 200]);
  });

  it('counts per kind of reason: a fleet judging a sample of its runs still hears the first episode whose label is not mapped', () => {
    const lines: Record<string, unknown>[] = [];
    const report = skippedEpisodeReporter({ warn: (f: Record<string, unknown>) => void lines.push(f) } as never);
    const ep = { episodeId: 'e', closeReason: 'root-ended' } as Episode;
    for (let i = 0; i < 50; i++) report(ep, `episode e${i}: no-evaluation: no evaluation joined it`);
    report(ep, new DegenerateEpisodeError('unknown-label', 'e50', 'evaluation task_success has no score and label "meh" is not in labelScores; add it to the labelScores option').message);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ kind: 'unknown-label', skippedOfKind: 1, skippedTotal: 51 });
    expect(lines.slice(0, 5).every((l) => l.kind === 'no-evaluation')).toBe(true);
  });
});

describe('correctionReporter', () => {
  const credit = (revision: number) => ({ episode_id: 'e', episode_revision: revision, event_type: 'episode_credit', outcome: 'success', system_value: 0.9 }) as unknown as CreditEvent;
  it('logs credited corrections (revision > 0) with the new value, the first five then every hundredth; first revisions and uncredited ones never', () => {
    const lines: Record<string, unknown>[] = [];
    const report = correctionReporter({ info: (f: Record<string, unknown>) => void lines.push(f) } as never);
    const ep = (revision: number) => ({ episodeId: 'e', closeReason: 'evaluation-arrived', revision, lateSpans: 0, evaluations: [{}] }) as unknown as Episode;
    report(ep(0), [credit(0)]);
    report(ep(1), []);
    expect(lines).toEqual([]);
    for (let i = 0; i < 200; i++) report(ep(1), [credit(1)]);
    expect(lines.map((l) => l.correctionsTotal)).toEqual([1, 2, 3, 4, 5, 100, 200]);
    expect(lines[0]).toMatchObject({ episodeId: 'e', revision: 1, closeReason: 'evaluation-arrived', outcome: 'success', systemValue: 0.9, evaluations: 1 });
  });

  it("a conversation's next turn is logged as such, not as a late record's correction", () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    const report = correctionReporter({ info: (f: Record<string, unknown>, msg: string) => void lines.push({ fields: f, msg }) } as never);
    const ep = (keyMode: string, lateSpans: number) => ({ episodeId: 'conv:c', keyMode, closeReason: 'evaluation-arrived', revision: 1, lateSpans, evaluations: [{}] }) as unknown as Episode;
    report(ep('conversation', 0), [credit(1)]);
    report(ep('conversation', 2), [credit(1)]);
    report(ep('trace', 0), [credit(1)]);
    expect(lines.map((l) => l.msg.split(':')[0])).toEqual(['conversation continued', 'episode corrected', 'episode corrected']);
  });
});
