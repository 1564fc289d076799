/**
 * The lag refresh's end-offset read on the real broker, when the read outlives its timeout: the read
 * is abandoned — its admin connection closed at the timeout — and the next one waits for it to
 * settle. It used to be cut off by its timeout only: the connection stayed open (kafkajs retrying)
 * and the next refresh opened a second one beside it, every interval while the broker was slow.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaAdmin, KafkaClient } from '../../src/kafka/client.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { client, createTopics, produce, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, topicsNamed, waitFor } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

/** `target` with `own` in place of its members of those names; every other method bound to `target`. */
function delegate<T extends object>(target: T, own: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(own, prop)) return (own as Record<PropertyKey, unknown>)[prop];
      const v = Reflect.get(t, prop, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** The real client, with end-offset reads that hang (once `hang` is set) until their connection is closed. */
function slowEndOffsets(real: KafkaClient) {
  // hungOpen: connections with a hung read not yet closed (the pipeline opens others at start too)
  const state = { hang: false, open: 0, hungReads: 0, hungOpen: 0, maxHungOpen: 0, closedWhileHung: 0 };
  const admin = async (): Promise<KafkaAdmin> => {
    const admin = await real.admin();
    state.open++;
    let closed = false;
    let hung = false;
    const unblocks: (() => void)[] = [];
    const fetchEndOffsets: KafkaAdmin['fetchEndOffsets'] = async (topic) => {
      if (!state.hang) return admin.fetchEndOffsets(topic);
      if (!hung) {
        hung = true;
        state.hungReads++;
        state.hungOpen++;
        state.maxHungOpen = Math.max(state.maxHungOpen, state.hungOpen);
      }
      // what kafkajs does to a request whose connection is closed: it fails
      await new Promise<void>((resolve) => unblocks.push(resolve));
      throw new Error('connection closed');
    };
    const disconnect = async () => {
      if (!closed) {
        closed = true;
        state.open--;
        if (hung) {
          state.closedWhileHung++;
          state.hungOpen--;
        }
        for (const u of unblocks) u();
      }
      await admin.disconnect();
    };
    return delegate(admin, { fetchEndOffsets, disconnect });
  };
  return { wrapped: delegate(real, { admin }), state };
}

describe('lag refresh on a slow broker', () => {
  it('closes a read that outlives its timeout and starts no second one beside it', { timeout: 60_000 }, async () => {
    const c = client();
    const topics = topicsNamed(unique('lagslow'));
    await createTopics(c, [topics.spans, topics.logs], 1);
    const gen = kafkaRecordsFor(await generateFleet({ episodes: 2, seed: 5 }), 'otlp_proto');
    await produce(c, [...gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value })), ...gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }))]);
    const { wrapped, state } = slowEndOffsets(client('pipeline'));
    const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('lagslow-grp'), { lagRefreshIntervalMs: 100 }), {
      client: wrapped,
      createAssembler: () => testAssembler(300),
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    });
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().episodesClosed >= 2, 30_000, 'both episodes credited');
      state.hang = true;
      // the read's timeout is max(lagRefreshIntervalMs, 5 s): one read hangs, is closed at 5 s, the next starts after it
      await waitFor(() => state.closedWhileHung >= 1 && state.hungReads >= 2, 20_000, `a hung read closed at its timeout and a later one started (${JSON.stringify(state)})`);
      // one hung connection at a time: 50 refresh intervals passed while the first read hung
      expect(state.maxHungOpen).toBe(1);
    } finally {
      state.hang = false;
      await pipeline.stop();
    }
    // stop closed the read under way, if any, and returned once its connection was closed
    expect(state.hungOpen).toBe(0);
    expect(state.open).toBe(0);
  });
});
