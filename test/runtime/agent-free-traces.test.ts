/**
 * A web app traced with OpenTelemetry sends many traces that hold no agent run: health checks,
 * static files, NestJS's start-up trace `Create Nest App`, migrations, cron jobs. Each is an
 * episode. Before, each waited `episodes.awaitEvaluationMs` (10 s) past grace for a verdict nobody
 * sends (counted `episodes_evaluation_wait_expired_total`, held in memory meanwhile), then warned
 * "no-evaluation … send a system-level evaluation" — wrong advice, and with 50 health checks a
 * minute per pod a flood that hid the runs that did lack their verdict.
 *
 * Now such an episode closes at `graceMs` after its root ended, publishes nothing, is counted under
 * its own reason (`episodes_without_credit_total{reason="no-agents"}`) and logged at debug level
 * with one info line per 10 minutes with the count. Runs with any agent or LLM span keep waiting for
 * their verdict; agent spans that come after the root but within grace keep the episode open, and
 * agent spans after an agent-free close make a correction that waits for its verdict.
 *
 * The apps are real (hapi, restify, connect, NestJS) traced by their real instrumentations
 * (../support/web-framework-run.ts): `GET /healthz` probes beside a `POST /chat` agent run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { DegenerateEpisodeError } from '../../src/credit/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import type { Evaluation } from '../../src/model/agents.js';
import type { Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { buildLocalStages } from '../../src/runtime/local-stages.js';
import { skippedEpisodeReporter } from '../../src/runtime/episode-log.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { renderSummary } from '../../src/cli/summary.js';
import { jobProcessEpisode } from '../../src/cli/kafka-job.js';
import type * as LocalStagesModule from '../../src/runtime/local-stages.js';
import { fromBuild } from '../support/build.js';
import { logsToProto, tracesToProto } from '../../src/scenarios/serialize.js';
import { SelfTelemetry } from '../../src/telemetry/self-metrics.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { recordWebRequest, WEB_FRAMEWORKS, type WebFramework } from '../support/web-framework-run.js';
import { agents, HTTP_SERVER } from '../conventions/web-apps.js';
import { at, recordSpans } from '../conventions/sdk.js';

const HEALTH_CHECKS = 3;
const START_MS = 1_000_000;
const config = loadConfig({ env: {} }).config;
const { graceMs, awaitEvaluationMs } = config.episodes;

interface Served {
  /** Every span the app recorded, decoded from OTLP protobuf as the receiver does. */
  spans: Span[];
  /** The handler's verdict on the agent run. */
  verdict: Evaluation;
  /** The agent run's trace. */
  runTrace: string;
  /** Traces without any agent: the health checks (and NestJS's start-up trace). */
  agentFree: string[];
}

const served = new Map<WebFramework, Served>();

beforeAll(async () => {
  for (const framework of WEB_FRAMEWORKS) {
    const run = await recordWebRequest(framework, { healthChecks: HEALTH_CHECKS, verdictInHandler: 1 });
    expect(run.health).toEqual(Array(HEALTH_CHECKS).fill('200 {"ok":true}'));
    const spans = decodeTraces(tracesToProto(run.spans), 'otlp_proto');
    const runTrace = spans.find((s) => s.name === 'invoke_agent supervisor')!.traceId;
    const [verdict] = evaluationsFromLogs(decodeLogs(logsToProto(run.logs), 'otlp_proto'));
    served.set(framework, { spans, verdict: verdict!, runTrace, agentFree: [...new Set(spans.map((s) => s.traceId))].filter((t) => t !== runTrace) });
  }
}, 60_000);

interface Line {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

/** `name{labels} value` of a Prometheus text exposition, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Lets the pipeline's credit and publishing settle (no timers of its own are due on the manual clock). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

describe('traces without any agent (health checks, start-up traces) served by a real web app', () => {
  for (const framework of WEB_FRAMEWORKS) {
    it(`${framework}: close at graceMs without waiting for a verdict, publish nothing, are counted as no-agents and logged at debug`, async () => {
      const { spans, verdict, runTrace, agentFree } = served.get(framework)!;
      // hapi, restify, connect: the probes; NestJS: its start-up trace too
      expect(agentFree).toHaveLength(HEALTH_CHECKS + (framework === 'nestjs' ? 1 : 0));
      const clock = new ManualClock(START_MS);
      const lines: Line[] = [];
      const log = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj: obj as Record<string, unknown> });
      const logger = { warn: log('warn'), info: log('info'), debug: log('debug'), error: log('error') } as unknown as Logger;
      const telemetry = new SelfTelemetry();
      const stages = await buildLocalStages(config, clock, undefined, logger);
      const sink = new CollectingSink();
      const pipeline = new LocalPipeline({ ...config.runtime, creditConcurrency: stages.creditConcurrency, creditTimeoutMs: stages.creditTimeoutMs }, { ...stages, sinks: [sink], telemetry, logger });
      try {
        pipeline.onSpans(spans);
        pipeline.onEvaluations([verdict]);
        pipeline.tick();
        // the run closes on its verdict; the agent-free traces are still within grace
        expect(stages.assembler.stats()).toMatchObject({ open: agentFree.length, closed: { 'evaluation-arrived': 1, 'root-ended': 0 } });
        clock.set(START_MS + graceMs);
        pipeline.tick();
        await settle();
        // closed at grace: none waited for a verdict, none is held
        expect(stages.assembler.stats()).toMatchObject({ open: 0, awaitingEvaluation: 0, evaluationWaitsExpired: 0, bufferedSpans: 0, closed: { 'root-ended': agentFree.length } });
        await pipeline.stop('shutdown');
        // events for the agent run only
        expect(new Set(sink.events.map((e) => e.trace_ids.join()))).toEqual(new Set([runTrace]));
        expect(sink.events.filter((e) => e.event_type === 'episode_credit')).toHaveLength(1);
        expect(pipeline.stats()).toMatchObject({ episodesClosed: agentFree.length + 1, episodesCredited: 1, episodesSkipped: agentFree.length, episodesWithoutAgents: agentFree.length });
        const metrics = await telemetry.metricsText();
        expect(sample(metrics, 'agent_credit_episodes_without_credit_total', { reason: 'no-agents' })).toBe(agentFree.length);
        expect(sample(metrics, 'agent_credit_episodes_without_credit_total', { reason: 'no-evaluation' })).toBe(0);
        expect(sample(metrics, 'agent_credit_episodes_closed_total', { reason: 'root-ended' })).toBe(agentFree.length);
        // no warning; one info line with the count; one debug line each, saying what it is
        expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
        const info = lines.filter((l) => l.level === 'info' && /without any agent or LLM span/.test(l.msg));
        expect(info).toHaveLength(1);
        expect(info[0]!.msg).toMatch(/^1 episode\(s\) without any agent or LLM span closed without credit since the start .*episodes_without_credit_total\{reason="no-agents"\}/);
        const debug = lines.filter((l) => l.level === 'debug');
        expect(debug.map((l) => l.obj.episodeId).sort()).toEqual([...agentFree].sort());
        for (const l of debug) {
          expect(l.obj.reason).toMatch(/: no-agents: none of its \d+ span\(s\) \(root "[^"]+"\) is an agent, LLM or tool span .*nothing to credit, so it did not wait for a verdict and needs none/);
          expect(l.obj.reason).not.toMatch(/send a system-level evaluation/);
        }
      } finally {
        await stages.close();
        await telemetry.shutdown();
      }
    }, 30_000);
  }

  it('an agent run without its verdict still waits awaitEvaluationMs beside them, and is warned about as before', async () => {
    const { spans, runTrace, agentFree } = served.get('nestjs')!;
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(spans);
    clock.set(START_MS + graceMs);
    expect(asm.tick().map((e) => e.episodeId).sort()).toEqual([...agentFree].sort());
    expect(asm.stats()).toMatchObject({ open: 1, awaitingEvaluation: 1 });
    clock.set(START_MS + awaitEvaluationMs);
    const [run] = asm.tick();
    expect(run).toMatchObject({ episodeId: runTrace, closeReason: 'root-ended' });
    expect(asm.stats().evaluationWaitsExpired).toBe(1);
    let why: DegenerateEpisodeError | undefined;
    expect(await processEpisode(run!, { onSkipped: (_e, err) => (why = err) })).toEqual([]);
    expect(why?.reason).toBe('no-evaluation');
    expect(why?.message).toMatch(/send a system-level evaluation/);
  });

  it("a run whose agent spans come in a later batch, within grace of its root's, is not closed early: it waits for its verdict", () => {
    const { spans, verdict, runTrace } = served.get('hapi')!;
    const run = spans.filter((s) => s.traceId === runTrace);
    const isAgent = (s: Span) => s.name.startsWith('invoke_agent') || s.name.startsWith('chat ');
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(run.filter((s) => !isAgent(s))); // the app's spans, root included, first
    clock.set(START_MS + graceMs - 1);
    expect(asm.tick()).toEqual([]);
    asm.addSpans(run.filter(isAgent)); // the agents' exporter's batch, later
    clock.set(START_MS + graceMs * 2);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, awaitingEvaluation: 1 });
    asm.addEvaluations([verdict]);
    expect(asm.tick()).toMatchObject([{ episodeId: runTrace, revision: 0, closeReason: 'evaluation-arrived' }]);
  });

  it('agent spans that come after the app\'s spans closed agent-free make a correction that waits for its verdict, and is credited with it', async () => {
    const { spans, verdict, runTrace } = served.get('restify')!;
    const run = spans.filter((s) => s.traceId === runTrace);
    const isAgent = (s: Span) => s.name.startsWith('invoke_agent') || s.name.startsWith('chat ');
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({}, clock);
    asm.addSpans(run.filter((s) => !isAgent(s)));
    clock.set(START_MS + graceMs);
    const [first] = asm.tick();
    expect(first).toMatchObject({ episodeId: runTrace, revision: 0, closeReason: 'root-ended' });
    let why: DegenerateEpisodeError | undefined;
    expect(await processEpisode(first!, { onSkipped: (_e, err) => (why = err) })).toEqual([]);
    expect(why?.reason).toBe('no-agents');
    // another service's exporter, late: the correction is the run's first revision with agents
    clock.set(START_MS + graceMs + 5_000);
    asm.addSpans(run.filter(isAgent));
    clock.set(START_MS + graceMs * 2 + 5_000);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, awaitingEvaluation: 1, corrections: 1 });
    asm.addEvaluations([verdict]);
    const [corrected] = asm.tick();
    expect(corrected).toMatchObject({ episodeId: runTrace, revision: 1, closeReason: 'evaluation-arrived' });
    const [credit] = await processEpisode(corrected!);
    expect(credit).toMatchObject({ event_type: 'episode_credit', episode_revision: 1, outcome: 'success' });
  });
});

describe('conversation keying: an episode is agent-free only if none of its traces holds an agent', () => {
  /** Two traces of session `s-1`: the app's `GET /history` request (no agent), and `POST /chat` with the agents (or, `agentsToo` false, without). */
  const session = (agentsToo: boolean) =>
    recordSpans((r) => {
      const history = r.start('GET /history', 0, { ...HTTP_SERVER, 'http.method': 'GET', 'http.target': '/history', 'http.route': '/history', 'session.id': 's-1' });
      history.end(at(5));
      const chat = r.start('POST /chat', 10, { ...HTTP_SERVER, 'session.id': 's-1' });
      if (agentsToo) agents(r, chat, 11);
      chat.end(at(40));
    });

  it('a session with an agent run in one of its traces waits for its verdict', () => {
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({ keyBy: 'conversation' }, clock);
    asm.addSpans(session(true));
    clock.set(START_MS + graceMs);
    expect(asm.tick()).toEqual([]);
    expect(asm.stats()).toMatchObject({ open: 1, awaitingEvaluation: 1 });
    clock.set(START_MS + awaitEvaluationMs);
    expect(asm.tick()).toMatchObject([{ episodeId: 'conv:s-1', traceIds: [expect.any(String), expect.any(String)], closeReason: 'root-ended' }]);
  });

  it('a session of agent-free traces closes at grace, skipped as no-agents', async () => {
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({ keyBy: 'conversation' }, clock);
    asm.addSpans(session(false));
    clock.set(START_MS + graceMs);
    const [episode] = asm.tick();
    expect(episode).toMatchObject({ episodeId: 'conv:s-1', closeReason: 'root-ended' });
    expect(asm.stats()).toMatchObject({ awaitingEvaluation: 0, evaluationWaitsExpired: 0 });
    let why: DegenerateEpisodeError | undefined;
    expect(await processEpisode(episode!, { onSkipped: (_e, err) => (why = err) })).toEqual([]);
    expect(why?.message).toMatch(/: no-agents: none of its 2 span\(s\) \(root "GET \/history", "POST \/chat"\)/);
  });
});

describe('a conversation id with a space in it (the episode id conv:<id>)', () => {
  // The skip reason was read back from the message's `episode <id>: <reason>:` by a pattern that
  // took the id for one word: `episode conv:support chat 7: no-agents: …` was kind `other` — counted
  // as episodes_without_credit_total{reason="other"} and warned about as a problem, one line each.
  it('is counted and logged under its own reason: no-agents at debug, no warning', async () => {
    const spans = recordSpans((r) => {
      const history = r.start('GET /history', 0, { ...HTTP_SERVER, 'http.method': 'GET', 'http.target': '/history', 'http.route': '/history', 'session.id': 'support chat 7' });
      history.end(at(5));
    });
    const clock = new ManualClock(START_MS);
    const asm = new EpisodeAssembler({ keyBy: 'conversation' }, clock);
    asm.addSpans(spans);
    clock.set(START_MS + graceMs);
    const [episode] = asm.tick();
    expect(episode).toMatchObject({ episodeId: 'conv:support chat 7' });
    const lines: Line[] = [];
    const log = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj: obj as Record<string, unknown> });
    const logger = { warn: log('warn'), info: log('info'), debug: log('debug') } as unknown as Logger;
    const stages = await buildLocalStages({ ...config, runtime: { ...config.runtime, creditWorkers: 0 } }, clock, undefined, logger);
    try {
      expect(await stages.processEpisode(episode!)).toEqual([]);
      expect(stages.skippedReasonOf(episode!)).toBe('no-agents');
      expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
      expect(lines.filter((l) => l.level === 'debug').map((l) => l.obj.kind)).toEqual(['no-agents']);
    } finally {
      await stages.close();
    }
  });
});

describe('the log and the replay summary of episodes without agents', () => {
  it('each at debug, one info line with the count at most every 10 minutes, and no warning; other reasons still warn', () => {
    const lines: Line[] = [];
    const log = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj: obj as Record<string, unknown> });
    let now = 0;
    const report = skippedEpisodeReporter({ warn: log('warn'), info: log('info'), debug: log('debug') } as unknown as Logger, 5, 100, 600_000, () => now);
    const ep = { episodeId: 'e', closeReason: 'root-ended' } as Parameters<typeof report>[0];
    for (let i = 0; i < 50; i++) report(ep, `episode h${i}: no-agents: none of its 3 span(s) (root "GET /healthz") is an agent, LLM or tool span`);
    now = 599_999;
    report(ep, 'episode h50: no-agents: none of its 3 span(s)');
    now = 600_000;
    report(ep, 'episode h51: no-agents: none of its 3 span(s)');
    report(ep, 'episode r1: no-evaluation: no evaluation joined it: send a system-level evaluation');
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(52);
    const info = lines.filter((l) => l.level === 'info');
    expect(info.map((l) => [l.obj.episodes, l.obj.episodesTotal])).toEqual([
      [1, 1],
      [51, 52],
    ]);
    expect(info[1]!.msg).toMatch(/^51 episode\(s\) without any agent or LLM span closed without credit since the last such line/);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.obj.kind)).toEqual(['no-evaluation']);
  });

  it("replay's summary line says how many of the skipped episodes held no agent", () => {
    const summary = { episodes: 1, failures: 0, meanSystemValue: 1, partialEstimates: 0, messageRewards: 2, preferencePairs: 0, corrections: 0, correctionsUnmatched: 0, agents: [] };
    const counts = { episodesSkipped: 5, creditFailures: 0, unmatchedEvaluations: { expired: 0, pendingAtEnd: 0, unjoinable: 0 }, undecodable: 0 };
    expect(renderSummary(summary, { ...counts, episodesWithoutAgents: 4 })).toContain('skipped episodes (closed without credit): 5 (4 without agent or LLM spans: nothing to credit)');
    expect(renderSummary(summary, { ...counts, episodesWithoutAgents: 0 })).toMatch(/skipped episodes \(closed without credit\): 5 {3}credit failures/);
  });
});

describe('the Kafka job counts them under their reason too', () => {
  // credit worker threads start from the build (test/support/build.ts), as credit-workers.test.ts does
  for (const creditWorkers of [0, 1]) {
    it(`episodes_without_credit_total{reason} from the stages' skip reasons (runtime.creditWorkers ${creditWorkers})`, async () => {
      const { buildLocalStages: build } = await fromBuild<typeof LocalStagesModule>('runtime/local-stages');
      const { spans, agentFree } = served.get('nestjs')!;
      const clock = new ManualClock(START_MS);
      const asm = new EpisodeAssembler({}, clock);
      asm.addSpans(spans);
      clock.set(START_MS + awaitEvaluationMs);
      const closed = asm.tick(); // the probes and start-up trace at grace, the run without its verdict after its wait
      expect(closed).toHaveLength(agentFree.length + 1);
      const telemetry = new SelfTelemetry();
      const stages = await build({ ...config, runtime: { ...config.runtime, creditWorkers } });
      const silent = { warn: () => undefined, info: () => undefined, debug: () => undefined, error: () => undefined } as unknown as Logger;
      try {
        const process = jobProcessEpisode(stages, [], telemetry, silent);
        for (const e of closed) expect((await process(e)).facts).toEqual([]);
        const metrics = await telemetry.metricsText();
        expect(sample(metrics, 'agent_credit_episodes_without_credit_total', { reason: 'no-agents' })).toBe(agentFree.length);
        expect(sample(metrics, 'agent_credit_episodes_without_credit_total', { reason: 'no-evaluation' })).toBe(1);
      } finally {
        await stages.close();
        await telemetry.shutdown();
      }
    }, 60_000);
  }
});
