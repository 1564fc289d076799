/**
 * A trainer's consumer of agent-credit's output topics: reads `agent_credit.episodes`,
 * `agent_credit.rewards` and `agent_credit.preferences` with kafkajs (`read_committed`), puts the
 * events through `TrainingLedger` (the README's consumer contract: de-duplication, revisions,
 * conversation turns) and hands each episode to `onEpisode` once it is final — here written as
 * one training record per line (schemas/training-record.schema.json, as `agent-credit replay
 * --episodes` writes them), ready for an RL or preference-training job.
 *
 *   npx tsx examples/trainer-consumer/consume.ts --brokers 127.0.0.1:9092 [--final-after-ms 3900000] > training.jsonl
 *
 * Copied into your own project, it runs as an ES module (top-level await): a package with
 * `"type": "module"`, or the file named `consume.mts`.
 *
 * Final: `finalAfterMs` after an episode's first event, on the clock of the events read — while
 * a partition is still behind its end (a backlog), the time of the last event read there less
 * `reorderSlackMs`, so an episode is not handed out before its events on a lagging partition were read.
 *
 * Offsets: the ledger holds an episode for up to `finalAfterMs`, so an offset is committed only
 * once every event before it belongs to an episode already handed out (the same watermark the
 * job keeps on its input): a crash re-reads what was held, and nothing is lost. What was handed
 * out after the last commit can come out again after a crash — write idempotently, keyed on
 * (`episode_id`, `first_trace_id`, `revision`), and train on the highest revision of each
 * (`episode_id`, `first_trace_id`) (README, Events: TrainingLedger): after a restart the ledger no
 * longer knows what went out before, so a later revision (a conversation's next turn) comes
 * without `supersedes_revision`, and its record re-credits the turns of the earlier one.
 *
 * Run one instance per output (a group of one): the job keys rewards and pairs by agent and
 * episode credit by episode, so an episode's events lie on several partitions, and instances
 * sharing the partitions would each see parts of episodes (handed out with `complete: false`).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { TrainingLedger, trainingRecord, type CreditEvent, type TrainingEpisode, type TrainingLedgerOptions } from 'agent-credit/events';
import { installKafkajsAbortedFilter } from 'agent-credit/kafka';

// kafkajs 2.2.4's read_committed filter can let a record of an aborted transaction through (README,
// Delivery guarantees): install the corrected one before kafkajs is loaded.
installKafkajsAbortedFilter(createRequire(import.meta.url));
const { Kafka, logLevel } = await import('kafkajs');

export interface TrainerConsumerOptions {
  brokers: string[];
  groupId?: string;
  /** The job's `sinks.kafka.topics` (defaults as the job's). */
  topics?: { episodes: string; rewards: string; preferences: string };
  /** The job's `episodes.correctionWindowMs + maxDurationMs` (default 3,900,000 ms). */
  finalAfterMs?: number;
  /** The ledger's memory bounds (`maxEpisodes`, `maxHeldBytes`, `maxReleased`; README, Events: TrainingLedger): size them for the fleet's episode rate × finalAfterMs. */
  ledger?: Omit<TrainingLedgerOptions, 'finalAfterMs'>;
  /** How often final episodes are handed out and offsets committed (default 5,000 ms). */
  releaseEveryMs?: number;
  /**
   * How long a fetch waits for new events when there are none (kafkajs `maxWaitTimeInMs`, default
   * 5,000 ms). A stop waits for the fetch in progress, so up to this long.
   */
  fetchMaxWaitMs?: number;
  /**
   * How far out of `emitted_at_ms` order one partition's events may be (default 60,000 ms): the job
   * credits several episodes at once and publishes each when done, so an episode credited earlier
   * can land after a later one. While a partition is behind, "now" is the time of the last event
   * read there minus this.
   */
  reorderSlackMs?: number;
  onEpisode: (episode: TrainingEpisode) => void | Promise<void>;
  /** Stops the consumer (after handing out what is final and committing). */
  signal?: AbortSignal;
}

/** Per episode key, the lowest offset of its events on each partition: what must not be committed past. */
class HeldOffsets {
  private readonly byEpisode = new Map<string, Map<string, number>>();
  /** Next offset to read per partition (`topic\0partition`). */
  private readonly next = new Map<string, number>();
  /** Entries set aside so far (their keys: `setAside`). */
  private asideCount = 0;

  read(episodeKey: string | undefined, partition: string, offset: number): void {
    this.next.set(partition, Math.max(this.next.get(partition) ?? 0, offset + 1));
    if (episodeKey === undefined) return;
    const held = this.byEpisode.get(episodeKey) ?? new Map<string, number>();
    held.set(partition, Math.min(held.get(partition) ?? offset, offset));
    this.byEpisode.set(episodeKey, held);
  }

  released(episodeKey: string): void {
    this.byEpisode.delete(episodeKey);
  }

  /**
   * Moves an episode's offsets aside under a key of their own (returned), still held until
   * `released(thatKey)`: a later revision of the episode read meanwhile is held under its key, apart.
   */
  setAside(episodeKey: string): string {
    const aside = `\u0001${this.asideCount++}`;
    const held = this.byEpisode.get(episodeKey);
    this.byEpisode.delete(episodeKey);
    if (held !== undefined) this.byEpisode.set(aside, held);
    return aside;
  }

  /** Per partition, the offset to commit: the first one still held, else the next to read. */
  commitable(): { topic: string; partition: number; offset: string }[] {
    const low = new Map(this.next);
    for (const held of this.byEpisode.values()) for (const [p, o] of held) low.set(p, Math.min(low.get(p)!, o));
    return [...low].map(([p, o]) => {
      const [topic, partition] = p.split('\u0000') as [string, string];
      return { topic, partition: Number(partition), offset: String(o) };
    });
  }
}

const episodeKey = (e: { episode_id: string; trace_ids: readonly string[] }) => `${e.episode_id}\u0000${e.trace_ids[0] ?? ''}`;

export async function runTrainerConsumer(options: TrainerConsumerOptions): Promise<void> {
  const topics = options.topics ?? { episodes: 'agent_credit.episodes', rewards: 'agent_credit.rewards', preferences: 'agent_credit.preferences' };
  const ledger = new TrainingLedger({ ...options.ledger, finalAfterMs: options.finalAfterMs ?? 3_900_000 });
  const offsets = new HeldOffsets();
  const kafka = new Kafka({ clientId: 'agent-credit-trainer', brokers: options.brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId: options.groupId ?? 'agent-credit-trainer', readUncommitted: false, ...(options.fetchMaxWaitMs !== undefined ? { maxWaitTimeInMs: options.fetchMaxWaitMs } : {}) });
  let stopping = false;

  /**
   * Episodes the ledger pushed out early (maxEpisodes / maxHeldBytes) inside `add`, not yet handed
   * out, with the key their offsets were set aside under: a later revision of one of them read
   * before the next release is held under the episode's key — detached by that key at the release,
   * its offsets went with the early one's and were committed past while it was still held, so a
   * restart never read it again.
   */
  const early: { episode: TrainingEpisode; aside: string }[] = [];

  /** Hands out what is final, then commits what no held episode needs any more. */
  const releaseAndCommit = async (nowMs: number): Promise<void> => {
    const pushedOut = early.splice(0);
    const out = ledger.release(nowMs);
    // detached now, in the same tick as the release: a later revision of one of these read while
    // onEpisode awaits is held under a fresh entry, not freed with this one. Nothing is committed
    // before every onEpisode below has returned, so a crash meanwhile re-reads them all.
    for (const episode of out) offsets.released(episodeKey({ episode_id: episode.episode_id, trace_ids: [episode.first_trace_id] }));
    for (const { episode } of pushedOut) await options.onEpisode(episode);
    for (const episode of out) await options.onEpisode(episode);
    for (const { aside } of pushedOut) offsets.released(aside);
    const commit = offsets.commitable();
    if (commit.length > 0) await consumer.commitOffsets(commit);
  };

  /**
   * Partitions not yet read up to their end → `emitted_at_ms` of the last event read there
   * (-Infinity before the first). An episode is final only once every partition has been read
   * past its `finalAfterMs`: on a backlog (first start, restart after downtime, a slow consumer)
   * the wall clock alone would hand episodes out before their other events were read, and those
   * would then come `after-release` — dropped, and committed past.
   */
  const behind = new Map<string, number>();
  const lastEmitted = new Map<string, number>();
  const subscribed = [topics.episodes, topics.rewards, topics.preferences];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = new Map<string, number>();
    for (const topic of subscribed) {
      try {
        for (const t of await admin.fetchOffsets({ groupId: options.groupId ?? 'agent-credit-trainer', topics: [topic] })) {
          for (const p of t.partitions) committed.set(`${t.topic}\u0000${p.partition}`, Number(p.offset));
        }
      } catch {
        // not created yet
      }
    }
    for (const topic of subscribed) {
      let ends: { partition: number; high: string; low: string }[];
      try {
        ends = await admin.fetchTopicOffsets(topic);
      } catch {
        continue; // not created yet: nothing to catch up on
      }
      for (const p of ends) {
        const where = `${topic}\u0000${p.partition}`;
        const from = committed.get(where) ?? -1;
        if ((from >= 0 ? from : Number(p.low)) < Number(p.high)) behind.set(where, Number.NEGATIVE_INFINITY);
      }
    }
  } finally {
    await admin.disconnect();
  }
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const where = `${payload.topic}\u0000${payload.partition}`;
    if (Number(payload.offsetLag) > 0) behind.set(where, lastEmitted.get(where) ?? Number.NEGATIVE_INFINITY);
    else behind.delete(where);
  });

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: subscribed, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const where = `${topic}\u0000${partition}`;
        let event: CreditEvent | undefined;
        try {
          event = JSON.parse(message.value?.toString('utf8') ?? '') as CreditEvent;
        } catch {
          console.error(`skipping a record that is not JSON at ${topic}[${partition}]@${message.offset}`);
        }
        if (typeof event?.emitted_at_ms === 'number') lastEmitted.set(where, Math.max(lastEmitted.get(where) ?? Number.NEGATIVE_INFINITY, event.emitted_at_ms));
        const outcome = event ? ledger.add(event, message.value?.length) : undefined;
        // episodes that add pushed out early (release(-Infinity) hands out only those): their
        // offsets set aside at once, before a later revision of one is read
        for (const episode of ledger.release(Number.NEGATIVE_INFINITY)) early.push({ episode, aside: offsets.setAside(episodeKey({ episode_id: episode.episode_id, trace_ids: [episode.first_trace_id] })) });
        // only an event the ledger holds keeps its offset from being committed
        offsets.read(outcome === 'added' ? episodeKey(event!) : undefined, where, Number(message.offset));
      },
    });
    const every = options.releaseEveryMs ?? 5_000;
    while (!stopping) {
      await new Promise<void>((resolve) => {
        // one listener per wait, removed when the wait ends on time: left on the signal, they
        // piled up one per release interval (MaxListenersExceededWarning after 10 — ~1 min)
        const onAbort = () => (clearTimeout(t), resolve());
        const t = setTimeout(() => (options.signal?.removeEventListener('abort', onAbort), resolve()), every);
        options.signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (options.signal?.aborted) stopping = true;
      // events arriving meanwhile are safe: one of an episode being handed out is `after-release`
      // (its offsets stay protected until offsets.released), any other is held
      // the clock of final: now, or how far the partitions still behind have been read
      const slack = options.reorderSlackMs ?? 60_000;
      await releaseAndCommit(Math.min(Date.now(), ...[...behind.values()].map((t) => t - slack)));
    }
  } finally {
    await consumer.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { brokers: { type: 'string', default: '127.0.0.1:9092' }, group: { type: 'string' }, 'final-after-ms': { type: 'string' } } });
  // checked here, naming the flag: `--final-after-ms 1h` (the job's `view --since` takes 6h) became
  // NaN and failed in the ledger as "TrainingLedger: finalAfterMs must be ≥ 0 ms, got NaN", a stack trace
  const finalAfterMs = values['final-after-ms'];
  if (finalAfterMs !== undefined && !/^\d+$/.test(finalAfterMs.trim())) {
    console.error(`consume: --final-after-ms: expected milliseconds, a whole number ≥ 0 (e.g. 3900000 = 1 h 5 min, the job's episodes.correctionWindowMs + maxDurationMs), got "${finalAfterMs}"`);
    process.exit(2);
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  await runTrainerConsumer({
    brokers: values.brokers!.split(','),
    ...(values.group !== undefined ? { groupId: values.group } : {}),
    ...(finalAfterMs !== undefined ? { finalAfterMs: Number(finalAfterMs) } : {}),
    onEpisode: (e) => void process.stdout.write(`${JSON.stringify(trainingRecord(e))}\n`),
    signal: stop.signal,
  });
}
