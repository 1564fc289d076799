/**
 * A value function that fails on every call (a module that throws, a judge answering 500) must
 * be visible: metrics count its calls, failures, timeouts and retries, and a throttled warning
 * says it is failing, how often, the last error, and what that means for the events — in the main
 * thread and with credit worker threads (operator review #5: all of it was silent).
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { AppConfig } from '../../src/config/schema.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { Episode } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { valueFunctionFailureReporter } from '../../src/runtime/episode-log.js';
import { buildLocalStages, type LocalStages } from '../../src/runtime/local-stages.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import type { Logger } from '../../src/telemetry/logger.js';

const THROWS = fileURLToPath(new URL('./modules/throws.mjs', import.meta.url));
const NEVER_SETTLES = fileURLToPath(new URL('./modules/never-settles.mjs', import.meta.url));
const HUGE_VALUES = fileURLToPath(new URL('./modules/huge-values.mjs', import.meta.url));

function config(overrides: Record<string, unknown>): AppConfig {
  return loadConfig({ env: {}, overrides }).config;
}

async function episodes(n: number): Promise<Episode[]> {
  const asm = new EpisodeAssembler({});
  for (let seed = 1; seed <= n; seed++) {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed });
    asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
    if (run.logsProto) asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
  }
  return asm.flush('shutdown');
}

const metricValue = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

interface Line {
  obj: Record<string, unknown>;
  msg: string;
}
const logger = (lines: Line[]) => ({ warn: (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }), info: () => undefined }) as unknown as Pick<Logger, 'warn' | 'info'>;

let judge: Server;
let judgeUrl: string;
let judgeRequests = 0;
beforeAll(async () => {
  judge = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      judgeRequests++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('judge broken');
    });
  });
  await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
  const a = judge.address() as { port: number };
  judgeUrl = `http://127.0.0.1:${a.port}/score?api_key=SECRET`;
});
afterAll(() => new Promise<void>((r) => judge.close(() => r())));

const open: LocalStages[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function run(cfg: AppConfig, n: number): Promise<{ stages: LocalStages; lines: Line[]; metrics: string; partial: number; credited: number }> {
  const lines: Line[] = [];
  const stages = await buildLocalStages(cfg, undefined, undefined, logger(lines));
  open.push(stages);
  const eps = await episodes(n);
  const results = await Promise.all(eps.map((e) => stages.processEpisode(e)));
  const credits = results.flat().filter((e) => e.event_type === 'episode_credit');
  const telemetry = new SelfTelemetry();
  try {
    expect(stages.gameStats).toBeDefined();
    telemetry.observe(stages.gameStats!);
    const metrics = await telemetry.metricsText();
    return { stages, lines, metrics, partial: credits.filter((e) => e.estimator.status === 'partial').length, credited: credits.length };
  } finally {
    await telemetry.shutdown();
  }
}

describe('a value function that fails on every call', () => {
  for (const creditWorkers of [0, 1]) {
    it(`module that throws (creditWorkers ${creditWorkers}): counted, and one throttled warning with the last error`, async () => {
      const { lines, metrics, partial, credited } = await run(config({ runtime: { creditWorkers }, credit: { game: 'module', module: { path: THROWS } } }), 4);
      expect(credited).toBe(4);
      expect(partial).toBe(4);
      const calls = metricValue(metrics, 'agent_credit_value_function_calls_total');
      const failures = metricValue(metrics, 'agent_credit_value_function_failures_total');
      expect(calls).toBeGreaterThan(0);
      expect(failures).toBe(calls);
      const warns = lines.filter((l) => l.msg.startsWith('value function failing'));
      expect(warns).toHaveLength(1); // the first at once, the others held back (30 s)
      expect(warns[0]!.msg).toMatch(/^value function failing \(credit\.game: module\): \d+ of \d+ evaluation\(s\) failed since the start; last error: value function exploded; .*equal split .*marked partial/);
      expect(warns[0]!.obj).toMatchObject({ game: 'module', lastError: 'value function exploded' });
    }, 60_000);

    it(`http judge answering 500 (creditWorkers ${creditWorkers}): calls include failed ones, failures and retries counted, the warning names the judge without its query`, async () => {
      const before = judgeRequests;
      const { lines, metrics, partial, credited } = await run(
        config({ runtime: { creditWorkers }, credit: { game: 'http', judge: { url: judgeUrl, retries: 1, backoffMs: 0, maxBackoffMs: 0 } } }),
        3,
      );
      const requests = judgeRequests - before;
      expect(requests).toBeGreaterThan(0);
      expect(credited).toBe(3);
      expect(partial).toBe(3);
      const calls = metricValue(metrics, 'agent_credit_value_function_calls_total')!;
      const failures = metricValue(metrics, 'agent_credit_value_function_failures_total')!;
      const retries = metricValue(metrics, 'agent_credit_value_function_retries_total')!;
      expect(calls).toBeGreaterThan(0);
      expect(failures).toBe(calls);
      expect(retries).toBeGreaterThan(0);
      expect(metricValue(metrics, 'agent_credit_value_function_timeouts_total')).toBe(0);
      const warns = lines.filter((l) => l.msg.startsWith('value function failing'));
      expect(warns).toHaveLength(1);
      expect(warns[0]!.msg).toMatch(/credit\.game: http.*last error: judge http:\/\/127\.0\.0\.1:\d+\/score(\/batch)?\?… answered HTTP 500: judge broken; .*equal split/);
      expect(warns[0]!.msg).not.toContain('SECRET');
    }, 60_000);
  }

  // the warning is at most once per 30 s; the failures held back went out only with a later
  // episode's, so those of the last episodes before a pause never reached the log
  it('logs the failures held back once the 30 s are up, even when no episode follows (module that throws, in this thread)', async () => {
    const eps = await episodes(4);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const lines: Line[] = [];
      const stages = await buildLocalStages(config({ credit: { game: 'module', module: { path: THROWS } } }), undefined, undefined, logger(lines));
      open.push(stages);
      for (const e of eps) await stages.processEpisode(e);
      await Promise.resolve();
      const warns = () => lines.filter((l) => l.msg.startsWith('value function failing'));
      expect(warns()).toHaveLength(1);
      const total = stages.gameStats!().valueFunctionFailures!;
      const first = warns()[0]!.obj.failures as number;
      expect(first).toBeLessThan(total);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(warns()).toHaveLength(2);
      expect(warns()[1]!.obj).toMatchObject({ failures: total - first, failuresTotal: total });
      expect(warns()[1]!.msg).toMatch(/failed since the last such line/);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(warns()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  }, 60_000);

  it('counts judge timeouts', async () => {
    const slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":1}'), 500));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const port = (slow.address() as { port: number }).port;
      const { metrics, lines } = await run(config({ credit: { game: 'http', judge: { url: `http://127.0.0.1:${port}/score`, retries: 0, timeoutMs: 50 } } }), 1);
      expect(metricValue(metrics, 'agent_credit_value_function_timeouts_total')).toBeGreaterThan(0);
      expect(lines.find((l) => l.msg.startsWith('value function failing'))?.msg).toMatch(/did not answer within 50 ms \(credit\.judge\.timeoutMs; library: HttpJudgeClient option "timeoutMs"\)/);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  }, 60_000);
});

// A call that never answers neither returns nor throws, and the judge client leaves the calls its
// episode cut out of its failures: credit gave up at credit.timeoutMs, every episode an equal split
// marked partial, without a word in the log and with value_function_failures_total 0.
describe('a value function that never answers within credit.timeoutMs', () => {
  for (const creditWorkers of [0, 1]) {
    it(`module whose calls never settle (creditWorkers ${creditWorkers}): counted as failures, and the warning names credit.timeoutMs`, async () => {
      const { lines, metrics, partial, credited } = await run(config({ runtime: { creditWorkers }, credit: { game: 'module', timeoutMs: 200, module: { path: NEVER_SETTLES } } }), 2);
      expect(credited).toBe(2);
      expect(partial).toBe(2);
      expect(metricValue(metrics, 'agent_credit_value_function_failures_total')).toBeGreaterThan(0);
      // a call cut by its episode's deadline is a timeout of the value function too
      expect(metricValue(metrics, 'agent_credit_value_function_timeouts_total')).toBe(metricValue(metrics, 'agent_credit_value_function_failures_total'));
      const warns = lines.filter((l) => l.msg.startsWith('value function failing'));
      expect(warns).toHaveLength(1);
      expect(warns[0]!.msg).toMatch(/last error: module game .*never-settles\.mjs: value\(\) gave no answer to \d+ call\(s\) within credit\.timeoutMs \(200 ms\).*raise credit\.timeoutMs/);
    }, 60_000);
  }

  it('http judge that accepts and never answers: counted as failures, the warning names the judge without its query and credit.timeoutMs', async () => {
    const mute = createServer((req) => void req.resume());
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = (mute.address() as { port: number }).port;
      const { lines, metrics, partial } = await run(config({ credit: { game: 'http', timeoutMs: 300, judge: { url: `http://127.0.0.1:${port}/score?api_key=SECRET` } } }), 1);
      expect(partial).toBe(1);
      expect(metricValue(metrics, 'agent_credit_value_function_failures_total')).toBeGreaterThan(0);
      const warns = lines.filter((l) => l.msg.startsWith('value function failing'));
      expect(warns).toHaveLength(1);
      expect(warns[0]!.msg).toMatch(/credit\.game: http.*last error: judge http:\/\/127\.0\.0\.1:\d+\/score\?… gave no answer to \d+ call\(s\) within credit\.timeoutMs \(300 ms\)/);
      expect(warns[0]!.msg).not.toContain('SECRET');
    } finally {
      mute.closeAllConnections();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  }, 60_000);

  // credit.timeoutMs and credit.judge.timeoutMs default to the same 10 000 ms: the episode's
  // deadline, started first, always cut the call before the judge's own timeout could fire, so a
  // judge that never answers left value_function_timeouts_total at 0 (only failures counted)
  it('http judge that never answers, credit.timeoutMs = credit.judge.timeoutMs (as their defaults were): counted as timeouts, not only failures', async () => {
    const mute = createServer((req) => void req.resume());
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = (mute.address() as { port: number }).port;
      const { metrics, partial } = await run(config({ credit: { game: 'http', timeoutMs: 300, judge: { url: `http://127.0.0.1:${port}/score`, timeoutMs: 300 } } }), 1);
      expect(partial).toBe(1);
      const failures = metricValue(metrics, 'agent_credit_value_function_failures_total')!;
      expect(failures).toBeGreaterThan(0);
      expect(metricValue(metrics, 'agent_credit_value_function_timeouts_total')).toBe(failures);
    } finally {
      mute.closeAllConnections();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  }, 60_000);
});

// credit.judge.timeoutMs defaulted to credit.timeoutMs' 10 000 ms: the episode's deadline, started
// first, cut every call that hung before its own timeout fired, so credit.judge.retries never applied
describe('a judge call that hangs once, with the default timeouts', () => {
  it('is cut at credit.judge.timeoutMs and retried within credit.timeoutMs: the episode is credited, not partial', async () => {
    let requests = 0;
    // single calls (batch: never), each answered by the coalition's size — but the first, which never
    // gets an answer (a connection dropped behind a proxy)
    const once = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (requests++ === 0) return;
        const request = JSON.parse(body) as { coalition: string[] };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: Math.min(1, request.coalition.length / 10) }));
      });
    });
    await new Promise<void>((r) => once.listen(0, '127.0.0.1', r));
    try {
      const port = (once.address() as { port: number }).port;
      const cfg = config({ credit: { game: 'http', judge: { url: `http://127.0.0.1:${port}/score`, batch: 'never' } } });
      expect([cfg.credit.timeoutMs, cfg.credit.judge!.timeoutMs, cfg.credit.judge!.retries]).toEqual([10_000, 4_000, 3]);
      const { metrics, partial, credited } = await run(cfg, 1);
      expect(credited).toBe(1);
      expect(partial).toBe(0);
      expect(metricValue(metrics, 'agent_credit_value_function_timeouts_total')).toBe(1);
      expect(metricValue(metrics, 'agent_credit_value_function_retries_total')).toBe(1);
      expect(metricValue(metrics, 'agent_credit_value_function_failures_total')).toBe(0);
    } finally {
      once.closeAllConnections();
      await new Promise<void>((r) => once.close(() => r()));
    }
  }, 60_000);
});

// a judge answering 0–100 while R is in [0, 1]: each episode's warnings said so, /metrics nothing
describe('a value function answering off the scale R is on', () => {
  for (const creditWorkers of [0, 1]) {
    it(`http judge answering 0–100 (creditWorkers ${creditWorkers}): value_function_out_of_scale_total counts the values the episodes' warnings name; 0 for a judge on the scale`, async () => {
      let score = 50;
      const judge100 = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const batch = (JSON.parse(body) as { requests?: unknown[] }).requests;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(batch ? { scores: batch.map(() => score) } : { score }));
        });
      });
      await new Promise<void>((r) => judge100.listen(0, '127.0.0.1', r));
      try {
        const port = (judge100.address() as { port: number }).port;
        for (const [answer, offScale] of [[50, true], [0.5, false]] as const) {
          score = answer;
          const stages = await buildLocalStages(config({ runtime: { creditWorkers }, credit: { game: 'http', judge: { url: `http://127.0.0.1:${port}/score` } } }), undefined, undefined, logger([]));
          open.push(stages);
          const events = (await Promise.all((await episodes(2)).map((e) => stages.processEpisode(e)))).flat();
          const named = events
            .flatMap((e) => (e.event_type === 'episode_credit' ? e.diagnostics.warnings : []))
            .map((w) => /^the value function answered (\d+) value\(s\) outside the score's scale/.exec(w))
            .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
          const telemetry = new SelfTelemetry();
          try {
            telemetry.observe(stages.gameStats!);
            const counted = metricValue(await telemetry.metricsText(), 'agent_credit_value_function_out_of_scale_total');
            if (offScale) expect(named).toBeGreaterThan(0);
            else expect(named).toBe(0);
            expect(counted).toBe(named);
          } finally {
            await telemetry.shutdown();
          }
        }
      } finally {
        judge100.closeAllConnections();
        await new Promise<void>((r) => judge100.close(() => r()));
      }
    }, 60_000);
  }
  it('module answering ±1e308 for a lone agent: counted too', async () => {
    const { metrics } = await run(config({ credit: { game: 'module', module: { path: HUGE_VALUES } } }), 1);
    expect(metricValue(metrics, 'agent_credit_value_function_out_of_scale_total')).toBeGreaterThan(0);
  }, 60_000);
});

describe('valueFunctionFailureReporter', () => {
  it('warns at the first failure, then at most every 30 s with the failures and calls since the last line; never without failures', () => {
    const lines: Line[] = [];
    let t = 0;
    const report = valueFunctionFailureReporter(logger(lines), 'http', 30_000, () => t);
    report({ calls: 10, failures: 0 });
    expect(lines).toHaveLength(0);
    report({ calls: 12, failures: 2, lastError: 'boom' });
    report({ calls: 20, failures: 9, lastError: 'boom 2' });
    t = 31_000;
    report({ calls: 30, failures: 10, lastError: 'boom 3' });
    t = 62_000;
    report({ calls: 40, failures: 10 });
    expect(lines.map((l) => [l.obj.failures, l.obj.calls, l.obj.lastError])).toEqual([
      [2, 12, 'boom'],
      [8, 18, 'boom 3'],
    ]);
  });
});
