/**
 * examples/trainer-consumer on the real broker: the job (exactly-once) publishes a generated
 * fleet's events; the trainer's consumer reads the three output topics read_committed, hands out
 * every episode once, whole, equal to the in-process computation, and commits only offsets of
 * episodes it handed out — so a consumer stopped while holding episodes gives them all again.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { runTrainerConsumer } from '../../examples/trainer-consumer/consume.js';
import { creditEpisode } from '../../src/credit/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { TrainingEpisode } from '../../src/events/training-ledger.js';
import { episode as creditInput, threeAgentSteps } from '../credit/episode-builder.js';
import { startChild, type PipelineChild } from './support/child.js';
import { exactlyOnceSetUp, readAllEvents } from './support/exactly-once.js';
import { brokers, client, createTopics, produce, unique } from './support/kafka-io.js';
import { waitFor } from './support/pipeline-harness.js';

const children: PipelineChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

/**
 * Each stop waits for the consumer's fetch in progress: with kafkajs's default (5 s) a caught-up
 * consumer took up to 5 s to stop, six stops in this file.
 */
const FETCH_WAIT_MS = 500;

/** Runs the trainer consumer until `until` holds for what it handed out (or `ms` passed), then stops it. */
async function consume(topics: { episodes: string; rewards: string; preferences: string }, groupId: string, finalAfterMs: number, until: (got: TrainingEpisode[]) => boolean, ms: number): Promise<TrainingEpisode[]> {
  const got: TrainingEpisode[] = [];
  const stop = new AbortController();
  const running = runTrainerConsumer({ brokers: brokers().split(','), groupId, topics, finalAfterMs, releaseEveryMs: 200, fetchMaxWaitMs: FETCH_WAIT_MS, onEpisode: (e) => void got.push(e), signal: stop.signal });
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !until(got)) await new Promise((r) => setTimeout(r, 100));
  stop.abort();
  await running;
  return got;
}

/** A generated fleet published by the job (exactly-once) to fresh output topics; resolves once every expected event is there. */
async function publishedFleet(name: string, size: number, seed: number) {
  const c = client();
  const { topics, spans, logs, expected, episodes } = await exactlyOnceSetUp(c, name, size, seed);
  await produce(c, [...spans, ...logs]);
  const job = startChild({ brokers: brokers(), topics, groupId: unique('trainer-job'), delivery: 'exactly-once', creditDelayMs: 0, idleMs: 60_000 });
  children.push(job);
  // the job creates its output topics when it starts publishing
  await waitFor(() => (job.stats()?.recordsPublished ?? 0) > 0, 60_000, `the job to publish (${job.output()})`);
  await readAllEvents(c, topics, expected);
  return { expected, episodes, outputs: { episodes: topics.episodes, rewards: topics.rewards, preferences: topics.preferences } };
}

describe('trainer consumer example (examples/trainer-consumer)', { timeout: 150_000 }, () => {
  it('hands out every published episode once, whole, as computed in process; commits only what it handed out', async () => {
    const { expected, episodes, outputs } = await publishedFleet('trainer', 8, 46);
    // seed 46 has failed runs (preference pairs) among passing ones
    expect(expected.some((e) => e.event_type === 'preference_pair')).toBe(true);

    // held, not handed out (final only after an hour): stopping commits nothing past their events
    const group = unique('trainer');
    const held = await consume(outputs, group, 3_600_000, () => false, 4_000);
    expect(held).toEqual([]);

    // the same group again, episodes final at once: every episode comes, once, whole
    const got = await consume(outputs, group, 0, (g) => g.length >= episodes, 60_000);
    expect(got).toHaveLength(episodes);
    for (const t of got) {
      const mine = expected.filter((e) => e.episode_id === t.episode_id);
      expect({ id: t.episode_id, complete: t.complete, rewards: t.rewards.length, credit: t.credit?.messages, pairs: t.pairs.length, statedPairs: t.credit?.preference_pairs }).toEqual({ id: t.episode_id, complete: true, rewards: t.credit?.messages, credit: t.credit?.messages, pairs: t.credit?.preference_pairs, statedPairs: t.credit?.preference_pairs });
      expect(t.credit?.event_id).toBe(mine.find((e) => e.event_type === 'episode_credit')!.event_id);
      expect(t.rewards.map((e) => e.event_id).sort()).toEqual(mine.filter((e) => e.event_type === 'message_reward').map((e) => e.event_id).sort());
      expect(t.pairs.map((e) => e.event_id).sort()).toEqual(mine.filter((e) => e.event_type === 'preference_pair').map((e) => e.event_id).sort());
    }
    expect(got.some((t) => t.pairs.length > 0)).toBe(true);

    // and again: everything was committed, nothing comes twice
    const again = await consume(outputs, group, 0, () => false, 3_000);
    expect(again).toEqual([]);
  });

  it('an episode pushed out early (maxEpisodes) and its next revision read before the release: the revision stays held, its offsets uncommitted', async () => {
    // Early releases happen inside ledger.add; the consumer detached the released episode's offsets
    // by its key only at the next release, together with those of a later revision of it read in
    // between (a correction, a conversation's next turn) — still held, yet committed past, so a
    // restart never read it again and that revision was lost.
    const emittedAtMs = Date.now();
    const events = async (traceId: string, revision: number, fails: boolean): Promise<CreditEvent[]> => {
      const input = { ...creditInput(threeAgentSteps({ toolFails: fails }), fails ? 0.1 : 0.9), episodeId: traceId, traceIds: [traceId], revision };
      const out = outcomeToEvents(await creditEpisode(input, {}), { emittedAtMs });
      return [out.episode, ...out.rewards, ...out.pairs];
    };
    const [A, B] = ['a1'.repeat(16), 'b2'.repeat(16)];
    // one partition, read in one batch: A's revision 0, B's (A out early: maxEpisodes 1), A's revision 1 (B out early)
    const all = [...(await events(A, 0, true)), ...(await events(B, 0, false)), ...(await events(A, 1, false))];
    const topic = unique('trainer-early');
    const c = client();
    await createTopics(c, [topic, `${topic}-r`, `${topic}-p`], 1);
    await produce(c, all.map((e) => ({ topic, key: e.episode_id, value: JSON.stringify(e) })));
    const outputs = { episodes: topic, rewards: `${topic}-r`, preferences: `${topic}-p` };
    const group = unique('trainer-early');
    const first: TrainingEpisode[] = [];
    const stop = new AbortController();
    const running = runTrainerConsumer({ brokers: brokers().split(','), groupId: group, topics: outputs, finalAfterMs: 3_600_000, ledger: { maxEpisodes: 1 }, releaseEveryMs: 1_500, fetchMaxWaitMs: FETCH_WAIT_MS, onEpisode: (e) => void first.push(e), signal: stop.signal });
    await waitFor(() => first.length >= 2, 30_000, 'the two episodes pushed out early');
    stop.abort();
    await running;
    expect(first.map((t) => [t.episode_id, t.revision, t.early])).toEqual([
      [A, 0, true],
      [B, 0, true],
    ]);
    // A's revision 1 was still held at the stop: the next start reads it again and hands it out
    const again = await consume(outputs, group, 0, (g) => g.length > 0, 8_000);
    expect(again.map((t) => [t.episode_id, t.revision, t.complete])).toEqual([[A, 1, true]]);
    expect(again[0]!.rewards.map((e) => e.event_id).sort()).toEqual(all.filter((e) => e.episode_id === A && e.episode_revision === 1 && e.event_type === 'message_reward').map((e) => e.event_id).sort());
  });

  it('catching up on a backlog older than finalAfterMs: no episode goes out before its events on a lagging partition were read', async () => {
    // enough events that reading them takes several fetches (the rewards topic's are > 1 MiB)
    const { expected, episodes, outputs } = await publishedFleet('trainer-backlog', 150, 46);
    // finalAfterMs 0: every event is older than that (as after a restart following downtime); released as often as possible
    const got: TrainingEpisode[] = [];
    const stop = new AbortController();
    const running = runTrainerConsumer({ brokers: brokers().split(','), groupId: unique('trainer'), topics: outputs, finalAfterMs: 0, releaseEveryMs: 5, fetchMaxWaitMs: FETCH_WAIT_MS, onEpisode: (e) => void got.push(e), signal: stop.signal });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && got.length < episodes) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000)); // anything handed out twice or late shows up
    // hundreds of 5 ms release waits later, at most the current one listens on the stop signal
    expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1);
    stop.abort();
    await running;
    expect(got).toHaveLength(episodes);
    expect(got.filter((t) => !t.complete).map((t) => [t.episode_id, t.rewards.length, t.credit?.messages])).toEqual([]);
    expect(got.reduce((n, t) => n + t.rewards.length, 0)).toBe(expected.filter((e) => e.event_type === 'message_reward').length);
  });
});
