import { request } from 'node:http';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeCreditSchema, type CreditEvent } from '../../src/events/schemas.js';
import type { AgentBoardSnapshot } from '../../src/events/agent-board.js';
import type { Episode } from '../../src/model/episode.js';
import { HealthState } from '../../src/runtime/health.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import { LiveSink } from '../../src/sinks/live/index.js';
import { OtlpHttpReceiver } from '../../src/sources/otlp-http/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { canListenOn } from '../support/ports.js';
import { sampleEpisodeCredit } from '../support/sample-events.js';

const otherLoopbackListens = await canListenOn('127.0.0.2');

const episodeCredit = (episodeId: string): CreditEvent => sampleEpisodeCredit(episodeId);

/** Reads SSE frames from /events until `count` data lines of the given event names arrived (default: the credit events). */
function readSse(url: string, count: number | ((data: string[]) => boolean), events: readonly string[] = ['episode_credit', 'message_reward', 'preference_pair']): Promise<string[]> {
  const done = typeof count === 'number' ? (data: string[]) => data.length >= count : count;
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events`, (res) => {
      let buf = '';
      const data: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const name = /^event: (.*)$/m.exec(frame)?.[1];
          if (name !== undefined && events.includes(name)) for (const line of frame.split('\n')) if (line.startsWith('data: ')) data.push(line.slice(6));
          if (done(data)) {
            req.destroy();
            resolve(data);
            return;
          }
        }
      });
    });
    req.on('error', (e) => (e.message.includes('aborted') ? undefined : reject(e)));
    req.end();
  });
}

const metricValue = (text: string, name: string): number => {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) total += Number(m[1]);
  return total;
};

/**
 * Waits until the sink has exactly `n` SSE clients: a stream opened with readSse is connected (its
 * replay sent) only then — events published before that come in its replay, not after it. A fixed
 * 100 ms sleep stood in for this and lost the race on a loaded machine (the whole unit project on 2
 * cores: the replay test waited 60 s for a 4th event that had been replayed as the 3rd).
 */
async function clients(live: LiveSink, n: number): Promise<void> {
  await vi.waitFor(() => expect(live.clientCount).toBe(n), { timeout: 10_000, interval: 5 });
}

describe('live page sink', () => {
  const health = new HealthState();
  const telemetry = new SelfTelemetry();
  const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 3, maxClients: 2, health, telemetry, boardIntervalMs: 50 });
  let url = '';
  beforeAll(async () => {
    await live.start();
    url = live.address().url;
  });
  afterAll(async () => {
    await live.close();
    await telemetry.shutdown();
  });

  it('serves a self-contained HTML page that subscribes to /events', async () => {
    const r = await fetch(`${url}/`);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    const html = await r.text();
    expect(html).toContain("new EventSource('events')");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // no external assets
    // The inline script must at least compile.
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(() => new Script(script!)).not.toThrow();
  });

  it('keeps only the last bufferEvents events and replays them to a new SSE client, then streams new ones', async () => {
    live.publish(['e1', 'e2', 'e3', 'e4'].map(episodeCredit));
    expect(live.recent().map((e) => e.episode_id)).toEqual(['e2', 'e3', 'e4']);
    await clients(live, 0);
    const got = readSse(url, 4);
    await clients(live, 1);
    live.publish([episodeCredit('e5')]);
    const frames = (await got).map((d) => EpisodeCreditSchema.parse(JSON.parse(d)).episode_id);
    expect(frames).toEqual(['e2', 'e3', 'e4', 'e5']);
  });

  it('serves the fleet standings since start at /api/agents and pushes them as `agents` to new and live clients', async () => {
    const before = (await (await fetch(`${url}/api/agents`)).json()) as AgentBoardSnapshot;
    // the standings on connect, then pushes until one has the next episode
    await clients(live, 0); // the previous test's stream has gone
    const got = readSse(url, (data) => data.some((d) => (JSON.parse(d) as AgentBoardSnapshot).episodes > before.episodes), ['agents']);
    await clients(live, 1);
    live.publish([episodeCredit('e6')]);
    const frames = (await got).map((d) => JSON.parse(d) as AgentBoardSnapshot & { agents_total: number });
    const [onConnect, pushed] = [frames[0]!, frames.at(-1)!];
    expect(onConnect.episodes).toBe(before.episodes);
    expect(pushed.episodes).toBe(before.episodes + 1);
    const after = (await (await fetch(`${url}/api/agents`)).json()) as AgentBoardSnapshot;
    // every episode published since start, not only the bufferEvents (3) kept for replay
    expect(after.episodes).toBeGreaterThan(3);
    expect(after.agents).toEqual([expect.objectContaining({ agent_id: 'triage', episodes: after.episodes, credit_sum: after.episodes, credit_mean: 1, failures: 0 })]);
    expect(pushed.agents_total).toBe(1);
  });

  it('health endpoints reflect registered components', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    health.register('receiver');
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { components: Record<string, { ready: boolean }> }).components.receiver?.ready).toBe(false);
    health.set('receiver', true);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('unknown paths are 404 and writes are 405', async () => {
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const post = await fetch(`${url}/events`, { method: 'POST' });
    expect(post.status).toBe(405);
    // HEAD is served too (RFC 9110 §15.5.6: Allow lists the methods the resource supports)
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${url}/api/agents`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('live page sink with large events (security review: one GET of /api/recent made the process exit)', () => {
  it('/api/recent and the SSE replay send the newest events within their byte budgets', async () => {
    const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 100, maxClients: 2, maxClientBufferBytes: 2 * 1024 * 1024 });
    await live.start();
    try {
      const big = (i: number) => ({ ...episodeCredit(`e${i}`), diagnostics: { warnings: ['x'.repeat(400_000)], late_spans: 0, duplicate_spans: 0, reward_bound: 1 } }) as CreditEvent;
      live.publish(Array.from({ length: 40 }, (_, i) => big(i))); // 16 MB buffered
      const r = await fetch(`${live.address().url}/api/recent`);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      const recent = (await r.json()) as CreditEvent[];
      expect(recent.length).toBeGreaterThan(0);
      expect(recent.length).toBeLessThan(40); // ≤ 8 MiB of them
      expect(recent.at(-1)!.episode_id).toBe('e39'); // the newest, oldest first
      expect(recent.map((e) => e.episode_id)).toEqual(Array.from({ length: recent.length }, (_, i) => `e${40 - recent.length + i}`));
      // a new SSE client is replayed what fits half its buffer cap (1 MiB here: two events), not all 16 MB
      const frames = await readSse(live.address().url, 2);
      expect(frames.map((d) => (JSON.parse(d) as CreditEvent).episode_id)).toEqual(['e38', 'e39']);
    } finally {
      await live.close();
    }
  });
});

describe('live page on a loopback address: DNS-rebinding guard', () => {
  /** Status of GET /api/recent on a live page bound to `bind`, asked with the Host header `host`. */
  const statusFor = (bind: string, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: bind, port, path: '/api/recent', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('serves requests for localhost, refuses another Host name with 403', async () => {
    const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 2 });
    await live.start();
    try {
      const port = live.address().port;
      const get = (host: string) => statusFor('127.0.0.1', port, host);
      expect(await get(`127.0.0.1:${port}`)).toBe(200);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(await get(`[::1]:${port}`)).toBe(200);
      expect(await get(`attacker.example:${port}`)).toBe(403); // a page whose name was rebound to 127.0.0.1
      // names a browser never resolves through DNS (RFC 6761 *.localhost) and loopback IP literals cannot be rebound
      expect(await get(`app.localhost:${port}`)).toBe(200);
    } finally {
      await live.close();
    }
  });

  // macOS has only 127.0.0.1 on lo0: there listening on 127.0.0.2 failed (EADDRNOTAVAIL) and so did this test
  it.skipIf(!otherLoopbackListens)('guards every loopback address it may be bound to, not only 127.0.0.1 (127.0.0.2 served any Host)', async () => {
    const live = new LiveSink({ host: '127.0.0.2', port: 0, bufferEvents: 10, maxClients: 2 });
    await live.start();
    try {
      const port = live.address().port;
      expect(await statusFor('127.0.0.2', port, `127.0.0.2:${port}`)).toBe(200);
      expect(await statusFor('127.0.0.2', port, `attacker.example:${port}`)).toBe(403);
    } finally {
      await live.close();
    }
  });
});

describe('/metrics while the pipeline runs', () => {
  const telemetry = new SelfTelemetry();
  const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 2, telemetry });
  const credited: Episode[] = [];
  // Credit itself is not under test here: record the closed episodes, publish nothing.
  const pipeline = new LocalPipeline(
    { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 20, creditTimeoutMs: 5_000 },
    {
      // A long grace: the episode closes when its evaluation (sent after the spans) arrives.
      assembler: new EpisodeAssembler({ graceMs: 60_000, closeOnEvaluation: true }),
      processEpisode: async (e) => (credited.push(e), []),
      evaluationsFromLogs,
      sinks: [live],
      telemetry,
    },
  );
  const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, telemetry }, pipeline);
  beforeAll(async () => {
    await live.start();
    pipeline.start();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await pipeline.stop();
    await live.close();
    await telemetry.shutdown();
  });

  it('counters move: spans and log records received, episodes closed by reason, credit latency, episodes without credit', async () => {
    const scrape = async () => {
      const r = await fetch(`${live.address().url}/metrics`);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
      return r.text();
    };
    const before = await scrape();
    const run = await generateScenario({ kind: 'success', convention: 'openinference', seed: 3 });
    await sendScenario(receiver.address().url, run);
    for (let i = 0; i < 100 && credited.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(credited.length).toBe(1);
    const after = await scrape();
    expect(metricValue(before, 'agent_credit_spans_received_total')).toBe(0);
    expect(metricValue(after, 'agent_credit_spans_received_total')).toBe(run.spans.length);
    expect(metricValue(after, 'agent_credit_log_records_received_total')).toBe(run.logRecords.length);
    expect(metricValue(after, 'agent_credit_episodes_closed_total')).toBe(1);
    expect(after).toMatch(/agent_credit_episodes_closed_total\{reason="evaluation-arrived"/);
    expect(metricValue(after, 'agent_credit_credit_latency_seconds_count')).toBe(1);
    // this test's credit returns no events: counted as an episode without credit
    expect(metricValue(after, 'agent_credit_episodes_without_credit_total')).toBe(1);
    expect(metricValue(after, 'agent_credit_episodes_open')).toBe(0);
    // the evaluation wait: nobody waiting now, no wait ended without its verdict (the run was judged)
    expect(metricValue(after, 'agent_credit_episodes_awaiting_evaluation')).toBe(0);
    expect(metricValue(after, 'agent_credit_episodes_evaluation_wait_expired_total')).toBe(0);
    // where the evaluations went: all joined, none waiting, expired, unjoinable or late
    const evaluations = run.logRecords.length;
    expect(metricValue(after, 'agent_credit_evaluations_joined_total')).toBe(evaluations);
    // its help names both ways in, not only log records (POST /v1/evaluations counts too)
    expect(after).toMatch(/^# HELP agent_credit_evaluations_received_total Evaluations received: from gen_ai\.evaluation\.result log records and from evaluation records \(POST \/v1\/evaluations/m);
    expect(metricValue(after, 'agent_credit_evaluations_pending')).toBe(0);
    expect(after).toMatch(/^agent_credit_evaluations_pending[{ ]/m);
    for (const m of ['evaluations_expired', 'evaluations_unjoinable', 'evaluations_late', 'evaluations_late_unused', 'evaluations_joined_by_response_id', 'late_uncorrected']) {
      expect(after).toMatch(new RegExp(`^agent_credit_${m}_total[{ ]`, 'm')); // exported, not just absent
      expect(metricValue(after, `agent_credit_${m}_total`), m).toBe(0);
    }
  });
});

describe('episodes_credited by estimator status', () => {
  it('counts credited episodes by their estimator status, so the share of partial credit (a failing judge, a spent budget) can be watched', async () => {
    const telemetry = new SelfTelemetry();
    let status: 'exact' | 'partial' = 'partial';
    const pipeline = new LocalPipeline(
      { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 20, creditTimeoutMs: 5_000 },
      {
        assembler: new EpisodeAssembler({ graceMs: 60_000, closeOnEvaluation: true }),
        processEpisode: async (e) => {
          const ev = episodeCredit(e.episodeId);
          return [{ ...ev, estimator: { ...(ev as { estimator: object }).estimator, status } } as CreditEvent];
        },
        evaluationsFromLogs,
        sinks: [],
        telemetry,
      },
    );
    const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, telemetry }, pipeline);
    pipeline.start();
    await receiver.start();
    try {
      const credited = async (n: number) => {
        for (let i = 0; i < 200; i++) {
          const text = await telemetry.metricsText();
          const total = [...text.matchAll(/^agent_credit_episodes_credited_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
          if (total >= n) return text;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`fewer than ${n} credited episodes`);
      };
      await sendScenario(receiver.address().url, await generateScenario({ kind: 'success', convention: 'genai', seed: 11 }));
      await credited(1);
      status = 'exact';
      await sendScenario(receiver.address().url, await generateScenario({ kind: 'success', convention: 'genai', seed: 12 }));
      const text = await credited(2);
      expect(text).toMatch(/^agent_credit_episodes_credited_total\{status="partial"[^}]*\} 1$/m);
      expect(text).toMatch(/^agent_credit_episodes_credited_total\{status="exact"[^}]*\} 1$/m);
    } finally {
      await receiver.close();
      await pipeline.stop();
      await telemetry.shutdown();
    }
  });
});

describe('/metrics of the Kafka runtime', () => {
  it('exports its failure and recovery counters and its gauges, as the Kafka job feeds them', async () => {
    const telemetry = new SelfTelemetry();
    const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 2, telemetry });
    await live.start();
    try {
      telemetry.observe(() => ({ kafkaRebalances: 3, kafkaFenceRejoins: 1, kafkaProducerReplacements: 2, kafkaCommitFailures: 5, kafkaDlqRecords: 7, kafkaPaused: 1, kafkaAssignedPartitions: 4, kafkaInFlight: 9, kafkaCreditOverdue: 2, kafkaConsecutiveCommitFailures: 6, kafkaReplayFiltersSpilled: 11, kafkaReplayFilterFallbacksTooLarge: 2, kafkaReplayFilterFallbacksPointerTooLong: 0, kafkaReplayFilterFallbacksUnwritableIds: 0, kafkaReplayFilterFallbacksNoRecordSend: 0, kafkaReplayFilterFallbacksTopicRefused: 1, kafkaSpilledFilterReadsOk: 4, kafkaSpilledFilterReadsFailed: 1 }));
      const text = await (await fetch(`${live.address().url}/metrics`)).text();
      expect(metricValue(text, 'agent_credit_kafka_rebalances_total')).toBe(3);
      expect(metricValue(text, 'agent_credit_kafka_fence_rejoins_total')).toBe(1);
      expect(metricValue(text, 'agent_credit_kafka_producer_replacements_total')).toBe(2);
      expect(metricValue(text, 'agent_credit_kafka_commit_failures_total')).toBe(5);
      expect(metricValue(text, 'agent_credit_kafka_dlq_records_total')).toBe(7);
      expect(metricValue(text, 'agent_credit_kafka_paused')).toBe(1);
      expect(metricValue(text, 'agent_credit_kafka_assigned_partitions')).toBe(4);
      expect(metricValue(text, 'agent_credit_kafka_in_flight')).toBe(9);
      expect(metricValue(text, 'agent_credit_kafka_credit_overdue')).toBe(2);
      expect(metricValue(text, 'agent_credit_kafka_consecutive_commit_failures')).toBe(6);
      // the spilled replay filters, each reason and outcome its own series
      expect(metricValue(text, 'agent_credit_kafka_replay_filters_spilled_total')).toBe(11);
      expect(text).toMatch(/^agent_credit_kafka_replay_filter_spill_fallbacks_total\{reason="too-large"[^}]*\} 2$/m);
      expect(text).toMatch(/^agent_credit_kafka_replay_filter_spill_fallbacks_total\{reason="topic-refused"[^}]*\} 1$/m);
      expect(text).toMatch(/^agent_credit_kafka_replay_filter_spill_fallbacks_total\{reason="no-record-send"[^}]*\} 0$/m);
      expect(text).toMatch(/^agent_credit_kafka_spilled_filter_reads_total\{outcome="ok"[^}]*\} 4$/m);
      expect(text).toMatch(/^agent_credit_kafka_spilled_filter_reads_total\{outcome="failed"[^}]*\} 1$/m);
    } finally {
      await live.close();
      await telemetry.shutdown();
    }
  });
});
