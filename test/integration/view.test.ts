/**
 * `agent-credit view` (src/cli/view-job.ts) on the real broker: the live page's standings built
 * from the output topics — events of the window `--since` only, the same standings a board fed
 * directly with those events has, later events live, records that are no events skipped, and the
 * view's consumer group gone after it stops.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { AgentBoard } from '../../src/events/agent-board.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startViewJob, type ViewJob } from '../../src/cli/view-job.js';
import { brokers, client, createTopics, unique } from './support/kafka-io.js';

const HOUR = 3_600_000;

/** Each episode's events of a generated fleet, as the job publishes them. */
async function episodesEvents(episodes: number, seed: number): Promise<CreditEvent[][]> {
  const { spans, logs } = kafkaRecordsFor(await generateFleet({ episodes, seed }), 'otlp_proto');
  const asm = new EpisodeAssembler({ maxOpenEpisodes: 10_000 });
  for (const r of spans) asm.addSpans(decodeTraces(r.value, 'otlp_proto'));
  asm.addEvaluations(evaluationsFromLogs(logs.flatMap((r) => decodeLogs(r.value, 'otlp_proto'))));
  const out: CreditEvent[][] = [];
  for (const e of asm.flush('shutdown')) out.push(await processEpisode(e));
  return out.filter((events) => events.length > 0);
}

const kafka = () => new Kafka({ clientId: 'view-test', brokers: [brokers()], logLevel: logLevel.NOTHING });

/** Publishes events as the job does (episode credit keyed by episode, the rest by agent), stamped `timestamp`. */
async function publish(topics: { episodes: string; rewards: string; preferences: string }, events: readonly CreditEvent[], timestamp: number, extra: { topic: string; value: string }[] = []): Promise<void> {
  const producer = kafka().producer({ idempotent: true });
  await producer.connect();
  try {
    const ts = String(timestamp);
    await producer.sendBatch({
      topicMessages: [
        { topic: topics.episodes, messages: events.filter((e) => e.event_type === 'episode_credit').map((e) => ({ key: e.episode_id, value: JSON.stringify(e), timestamp: ts })) },
        { topic: topics.rewards, messages: events.filter((e) => e.event_type === 'message_reward').map((e) => ({ key: (e as { agent_id: string }).agent_id, value: JSON.stringify(e), timestamp: ts })) },
        { topic: topics.preferences, messages: events.filter((e) => e.event_type === 'preference_pair').map((e) => ({ key: (e as { agent_id: string }).agent_id, value: JSON.stringify(e), timestamp: ts })) },
        ...extra.map((x) => ({ topic: x.topic, messages: [{ key: null, value: x.value, timestamp: ts }] })),
      ].filter((t) => t.messages.length > 0),
    });
  } finally {
    await producer.disconnect();
  }
}

const boardOf = (events: readonly CreditEvent[]) => {
  const b = new AgentBoard();
  b.add(events);
  return b.snapshot();
};

async function standings(job: ViewJob): Promise<ReturnType<AgentBoard['snapshot']>> {
  const res = await fetch(`${job.liveUrl}/api/agents`);
  expect(res.status).toBe(200);
  return (await res.json()) as ReturnType<AgentBoard['snapshot']>;
}

/** The parts of a snapshot that do not depend on arrival order (last_seen_ms aside, the same). */
const comparable = (s: ReturnType<AgentBoard['snapshot']>) => ({
  episodes: s.episodes,
  successes: s.successes,
  failures: s.failures,
  message_rewards: s.message_rewards,
  preference_pairs: s.preference_pairs,
  agents: s.agents.map(({ last_seen_ms: _seen, credit_sum, credit_mean, ...a }) => ({ ...a, credit_sum: Number(credit_sum.toFixed(9)), credit_mean: Number(credit_mean.toFixed(9)) })),
});

describe('agent-credit view', { timeout: 120_000 }, () => {
  const base = unique('view');
  const topics = { episodes: `${base}.episodes`, rewards: `${base}.rewards`, preferences: `${base}.preferences` };
  let old: CreditEvent[][];
  let recent: CreditEvent[][];
  let later: CreditEvent[][];
  const jobs: ViewJob[] = [];
  const configWith = () =>
    loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: base, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } },
        sinks: { live: { port: 0 }, kafka: { topics: { ...topics, dlq: `${base}.dlq` } } },
      },
    }).config;

  beforeAll(async () => {
    const all = await episodesEvents(14, 20261205);
    old = all.slice(0, 4);
    recent = all.slice(4, 11);
    later = all.slice(11);
    await createTopics(client(), Object.values(topics), 2);
    await publish(topics, old.flat(), Date.now() - 10 * HOUR);
    await publish(topics, recent.flat(), Date.now() - HOUR, [{ topic: topics.episodes, value: 'not an event' }, { topic: topics.rewards, value: JSON.stringify({ schema_version: '2.0.0', event_type: 'message_reward' }) }]);
  });
  afterAll(async () => {
    for (const j of jobs) await j.stop();
  });

  it('shows the standings of the events since --since — those a board fed directly with them has — skipping records that are no events of this version', async () => {
    const job = await startViewJob(configWith(), { logger: createLogger('silent'), sinceMs: 6 * HOUR });
    jobs.push(job);
    await job.caughtUp();
    const shown = await standings(job);
    expect(recent.length).toBeGreaterThan(3);
    expect(shown.episodes).toBe(recent.length);
    expect(comparable(shown)).toEqual(comparable(boardOf(recent.flat())));
    expect(job.stats()).toMatchObject({ events: recent.flat().length, skipped: 2, partitions: 6, caughtUp: 6 });

    // events published after the view caught up reach it live
    await publish(topics, later.flat(), Date.now());
    const want = comparable(boardOf([...recent, ...later].flat()));
    for (let i = 0; i < 200 && comparable(await standings(job)).episodes < want.episodes; i++) await new Promise((r) => setTimeout(r, 50));
    expect(comparable(await standings(job))).toEqual(want);
    // the per-agent gauges on /metrics read the same board
    const metrics = await (await fetch(job.metricsUrl!)).text();
    expect(metrics).toMatch(new RegExp(`^agent_credit_agent_episodes\\{agent_id="${want.agents[0]!.agent_id}"[^}]*\\} ${want.agents[0]!.episodes}$`, 'm'));
  });

  it('--since all reads every topic from its start', async () => {
    const job = await startViewJob(configWith(), { logger: createLogger('silent'), sinceMs: null });
    jobs.push(job);
    await job.caughtUp();
    expect(comparable(await standings(job))).toEqual(comparable(boardOf([...old, ...recent, ...later].flat())));
  });

  it('leaves no consumer group behind once stopped', async () => {
    const job = await startViewJob(configWith(), { logger: createLogger('silent'), sinceMs: HOUR / 2 });
    await job.caughtUp();
    const admin = kafka().admin();
    await admin.connect();
    try {
      const viewGroups = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${base}.view.`));
      expect((await viewGroups()).length).toBeGreaterThan(0);
      for (const j of jobs.splice(0)) await j.stop();
      await job.stop();
      expect(await viewGroups()).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('catches up on topics the job wrote in transactions (delivery: exactly-once), whose partitions end in a commit marker', async () => {
    const txBase = unique('view-tx');
    const txTopics = { episodes: `${txBase}.episodes`, rewards: `${txBase}.rewards`, preferences: `${txBase}.preferences` };
    await createTopics(client(), Object.values(txTopics), 1);
    const producer = kafka().producer({ transactionalId: txBase, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({ topic: txTopics.episodes, messages: [{ value: JSON.stringify(recent[0]!.find((e) => e.event_type === 'episode_credit')) }] });
      await tx.commit();
    } finally {
      await producer.disconnect();
    }
    // the coordinator writes the commit markers after answering the commit: wait until the record is readable
    const reader = kafka().admin();
    await reader.connect();
    for (let i = 0; i < 100 && (await reader.fetchTopicOffsets(txTopics.episodes))[0]!.high !== '2'; i++) await new Promise((r) => setTimeout(r, 50));
    await reader.disconnect();
    const config = loadConfig({
      env: {},
      overrides: {
        source: { kind: 'kafka', kafka: { brokers: [brokers()], groupId: txBase, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 } },
        sinks: { live: { port: 0 }, kafka: { topics: { ...txTopics, dlq: `${txBase}.dlq` } } },
      },
    }).config;
    const job = await startViewJob(config, { logger: createLogger('silent'), sinceMs: null });
    jobs.push(job);
    const outcome = await Promise.race([job.caughtUp().then(() => 'caught up'), new Promise((r) => setTimeout(() => r('not caught up within 15 s'), 15_000))]);
    expect({ outcome, events: job.stats().events }).toEqual({ outcome: 'caught up', events: 1 });
  });

  it('--since longer ago than 1970 reads every topic from its start, as all does', async () => {
    // now - since < 0: negative timestamps are ListOffsets's special values (-1 latest, -2
    // earliest, -3 max timestamp…); such a one failed the start with "The version of API is not supported"
    for (const sinceMs of [1e15, Date.now() + 1]) {
      const job = await startViewJob(configWith(), { logger: createLogger('silent'), sinceMs });
      jobs.push(job);
      await job.caughtUp();
      expect(comparable(await standings(job))).toEqual(comparable(boardOf([...old, ...recent, ...later].flat())));
    }
  });

  it('refuses a configuration that does not read Kafka, naming the key', async () => {
    await expect(startViewJob(loadConfig({ env: {} }).config, { logger: createLogger('silent'), sinceMs: HOUR })).rejects.toThrow(/source\.kind: `view` reads the output topics of the Kafka job/);
  });
});
