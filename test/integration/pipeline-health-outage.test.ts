/**
 * KafkaPipeline.health() (what /readyz and /healthz serve in Kafka mode) through a broker outage
 * and a stalled pipeline, on a real broker:
 * - the broker goes away (SIGKILL, down several seconds, back on the same data and port): the
 *   pipeline is not ready meanwhile (brokers unreachable, its consumer crash-restarting or
 *   rebalancing) — and the job's
 *   HTTP /readyz answers 503 — and both are ready again once the broker is back, without a restart;
 * - runtime.livenessStallMs: not live once nothing has progressed for that long while there is lag
 *   (credit blocked: a processEpisode that never resolves, paused for backpressure, records still
 *   arriving); an idle, caught-up job with the same livenessStallMs stays live.
 *
 * Runs its own broker (scripts/kafka.ts), since it restarts it; the shared one serves the others.
 */
import type { AgentBoardSnapshot } from '../../src/events/agent-board.js';
import { describe, expect, it } from 'vitest';
import { startKafkaJob, type KafkaJob } from '../../src/cli/kafka-job.js';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { ConsumerHandlers, KafkaClient } from '../../src/kafka/client.js';
import { useOwnBroker } from './support/own-broker.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline, type KafkaPipelineConfigInput } from '../../src/runtime/kafka-pipeline.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTopics, produce, fleetRecords, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

const { broker, clientOf, cleanups } = useOwnBroker();

async function inputOf(c: KafkaClient, prefix: string, episodes: number, seed: number) {
  const base = unique(prefix);
  const topics = topicsNamed(base);
  await createTopics(c, [topics.spans, topics.logs], 1);
  const { spans, logs } = await fleetRecords(topics, { episodes, seed });
  return { base, topics, spans, logs };
}

function pipelineOf(config: KafkaPipelineConfigInput, processEpisode: (e: Episode) => Promise<CreditEvent[]> = referenceProcessEpisode): KafkaPipeline {
  const pipeline = new KafkaPipeline(config, {
    client: clientOf('health-outage-pipeline'),
    createAssembler: () => testAssembler(300),
    processEpisode,
    evaluationsFromLogs: (l) => evaluationsFromLogs(l),
  });
  cleanups.push(() => pipeline.stop());
  return pipeline;
}

async function readyz(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await res.text();
    return res.status;
  } catch {
    return -1;
  }
}

/** `inner`, whose consumers also tell `seen` of every state change, after the pipeline's own handler has taken it. */
function observingStates(inner: KafkaClient, seen: (state: string) => void): KafkaClient {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'createConsumer') {
        return (options: Parameters<KafkaClient['createConsumer']>[0]) => {
          const consumer = target.createConsumer(options);
          return { ...consumer, run: (h: ConsumerHandlers) => consumer.run({ ...h, onState: (state, detail) => (h.onState?.(state, detail), seen(state)) }) };
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('pipeline health through a broker outage and a stall', () => {
  it('livenessStallMs: not live after no progress with lag (credit blocked); an idle caught-up job stays live', { timeout: 60_000 }, async () => {
    const c = clientOf('health-outage');
    const stallMs = 3_000;
    const runtime = { delivery: 'at-least-once', livenessStallMs: stallMs, lagRefreshIntervalMs: 300, creditQueueMax: 1 } as const;

    // idle, caught up: everything read and published, no lag
    const idle = await inputOf(c, 'health-idle', 3, 21);
    await produce(c, [...idle.spans, ...idle.logs]);
    const idlePipeline = pipelineOf(pipelineConfig(idle.topics, `${idle.base}-grp`, runtime));
    // blocked: credit never answers, so the pipeline pauses with one episode in flight
    const stuck = await inputOf(c, 'health-stall', 8, 22);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    cleanups.push(async () => release());
    const stuckPipeline = pipelineOf(pipelineConfig(stuck.topics, `${stuck.base}-grp`, runtime), async (e) => {
      await released;
      return referenceProcessEpisode(e);
    });
    await produce(c, [...stuck.spans.slice(0, 4), ...stuck.logs.slice(0, 4)]);
    try {
      await Promise.all([idlePipeline.start(), stuckPipeline.start()]);
      await waitFor(() => idlePipeline.health().ready && idlePipeline.stats().episodesClosed >= 3 && idlePipeline.stats().inFlight === 0, 30_000, 'the idle job published everything');
      await waitFor(() => stuckPipeline.stats().paused, 30_000, 'the blocked job paused for backpressure');
      // records keep arriving while it is paused: lag it cannot work off
      await produce(c, [...stuck.spans.slice(4), ...stuck.logs.slice(4)]);
      await waitFor(() => stuckPipeline.stats().lag > 0, 15_000, 'lag seen while paused');

      await waitFor(() => !stuckPipeline.health().live, 20_000, 'the blocked job not live');
      const h = stuckPipeline.health();
      expect(h.ready).toBe(false);
      expect(h.detail).toMatch(/^no progress for \d+ s \(runtime\.livenessStallMs\) with \d+ record\(s\) of lag/);

      // Meanwhile (well over livenessStallMs since its last progress) the idle job stayed live:
      // sample it until the blocked one was found not live, then for another livenessStallMs.
      const until = Date.now() + stallMs + 1_000;
      while (Date.now() < until) {
        const ih = idlePipeline.health();
        expect(ih, ih.detail).toMatchObject({ live: true, ready: true });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(idlePipeline.stats().lag).toBe(0);
    } finally {
      release();
      await Promise.all([idlePipeline.stop(), stuckPipeline.stop()]);
    }
  });

  it('the broker away: not ready (pipeline and job /readyz) while it is down, ready again once it is back', { timeout: 150_000 }, async () => {
    const running = broker();
    const c = clientOf('health-outage');
    const { base, topics, spans, logs } = await inputOf(c, 'health-outage', 4, 23);
    await produce(c, [...spans, ...logs]);
    const pipeline = pipelineOf(pipelineConfig(topics, `${base}-grp`, { delivery: 'at-least-once' }));

    const { config } = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [running.brokers], groupId: `${base}-job-grp`, spansTopic: topics.spans, logsTopic: topics.logs, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } },
        sinks: { stdout: { enabled: false }, live: { enabled: true, host: '127.0.0.1', port: 0 }, kafka: { delivery: 'at-least-once', topics: { rewards: `${base}.job.r`, episodes: `${base}.job.e`, preferences: `${base}.job.p`, dlq: `${base}.job.d` } } },
        runtime: { creditWorkers: 0 },
      },
    });
    let job: KafkaJob | undefined;
    try {
      await pipeline.start();
      job = await startKafkaJob(config, silentLogger(), (e) => referenceProcessEpisode(e));
      const j = job;
      cleanups.push(() => j.stop());
      const url = job.liveUrl!;
      await waitFor(() => pipeline.health().ready, 30_000, 'the pipeline ready');
      expect(pipeline.health().detail).toBe('consuming');
      let jobStatus = 0;
      const pollJob = async (want: number, timeoutMs: number, what: string) => {
        const deadline = Date.now() + timeoutMs;
        while ((jobStatus = await readyz(url)) !== want) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last /readyz status ${jobStatus})`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      await pollJob(200, 30_000, 'the job /readyz 200');

      // While the broker is down: sample both; the HTTP server is the job's own, it stays up.
      const seen = { pipelineNotReady: false, pipelineDetails: new Set<string>(), jobNotReady: false, broke: false, pipelineLive: true };
      let down = true;
      const sampler = (async () => {
        while (down) {
          const h = pipeline.health();
          if (!h.ready) {
            seen.pipelineNotReady = true;
            seen.pipelineDetails.add(h.detail.replace(/: .*/s, ''));
          }
          if (!h.live) seen.pipelineLive = false;
          if ((await readyz(url)) === 503) seen.jobNotReady = true;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        // 6 s: not ready within ~2 s of the kill (a failed connection and no fetch or heartbeat
        // answered for max(maxWaitMs, heartbeatIntervalMs) + 1 s), the job's /readyz a second
        // later. Before, both waited for kafkajs to give the broker up and the consumer to crash:
        // ~0.2 s, ~10 s or ~21 s (the job's /readyz once, with the broker down 20 s).
        await running.restart({ signal: 'SIGKILL', downMs: 6_000 });
      } finally {
        down = false;
        await sampler;
      }
      expect(seen.pipelineNotReady, 'pipeline.health().ready went false while the broker was down').toBe(true);
      expect([...seen.pipelineDetails].every((d) => /^(consumer (crashed|rebalancing|joining|stopped)|brokers unreachable)/.test(d)), [...seen.pipelineDetails].join(' | ')).toBe(true);
      expect(seen.pipelineLive, 'a crash-restarting consumer is not a reason to restart the process').toBe(true);
      expect(seen.jobNotReady, 'the job /readyz answered 503 while the broker was down').toBe(true);

      await waitFor(() => pipeline.health().ready, 45_000, `the pipeline ready again (${pipeline.health().detail})`);
      expect(pipeline.health()).toMatchObject({ ready: true, live: true, detail: 'consuming' });
      await pollJob(200, 30_000, 'the job /readyz 200 again');

      // the job's fleet standings and per-agent gauges: each of the 4 episodes once, whatever the
      // outage made it read or publish again
      const deadline = Date.now() + 30_000;
      let standings: AgentBoardSnapshot;
      while ((standings = (await (await fetch(`${url}/api/agents`)).json()) as AgentBoardSnapshot).episodes < 4) {
        if (Date.now() > deadline) throw new Error(`the job credited ${standings.episodes} of 4 episodes`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(((await (await fetch(`${url}/api/agents`)).json()) as AgentBoardSnapshot).episodes).toBe(4);
      expect(standings.agents.length).toBeGreaterThan(0);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(new RegExp(`^agent_credit_agent_episodes\\{agent_id="${standings.agents[0]!.agent_id}"`, 'm'));
    } finally {
      await Promise.all([pipeline.stop(), job?.stop()]);
    }
  });
  // With the broker down long enough for the consumer to crash, kafkajs restarts it until it
  // connects, then joins — which waits for the old member's session to time out. /readyz said
  // "consumer crashed, restarting: Connection error: connect ECONNREFUSED …" all that time, with
  // the broker back and answering (30 s on the local broker at the default session timeout).
  it('the consumer crashed in an outage: once the brokers answer again, health says it is joining the group, not the stale connection error', { timeout: 180_000 }, async () => {
    const running = broker();
    const c = clientOf('health-outage-rejoin');
    const { base, topics, spans, logs } = await inputOf(c, 'health-rejoin', 2, 24);
    await produce(c, [...spans, ...logs]);
    const details: string[] = [];
    let pipeline!: KafkaPipeline;
    const client = observingStates(clientOf('health-rejoin-pipeline'), (state) => details.push(`${state} → ${pipeline.health().detail}`));
    pipeline = new KafkaPipeline(pipelineConfig(topics, `${base}-grp`, { delivery: 'at-least-once', source: { ...pipelineConfig(topics, `${base}-grp`).source, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 } }), {
      client,
      createAssembler: () => testAssembler(300),
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    });
    cleanups.push(() => pipeline.stop());
    try {
      await pipeline.start();
      await waitFor(() => pipeline.health().ready, 30_000, 'the pipeline ready');
      // down 25 s: kafkajs gives the broker up (~10 s, ~21 s with nested retries) and the consumer crashes
      await running.restart({ signal: 'SIGKILL', downMs: 25_000 });
      await waitFor(() => pipeline.health().ready, 60_000, `the pipeline ready again (${pipeline.health().detail})`);
      const lastCrash = details.map((d) => d.startsWith('crashed')).lastIndexOf(true);
      expect(lastCrash, details.join('\n')).toBeGreaterThanOrEqual(0);
      const after = details.slice(lastCrash + 1);
      // connected again: joining, and health says so (naming the crash and the wait), before the join completes
      const states = after.map((d) => d.slice(0, d.indexOf(' ')));
      expect([states[0], states.at(-1)], details.join('\n')).toEqual(['joining', 'joined']);
      expect(after[0]).toMatch(/^joining → consumer joining the group again after a crash \(.*\): the brokers answer; .*source\.kafka\.sessionTimeoutMs 10000 ms\)$/);
    } finally {
      await pipeline.stop();
    }
  });
});
