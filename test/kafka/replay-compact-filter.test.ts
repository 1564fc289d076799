/**
 * A replay filter written as hashes (offset metadata `ac2`: more held ids than fit as ids) read
 * by the next owner of the partition, which commits before its replay passed the previous owner's
 * position: it carries the keys it still owes on, and not those of episodes it handed on since.
 */
import { describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { encodeTraces, generateScenario } from '../../src/scenarios/index.js';
import { compactKey, decodeReplayMetadata, encodeReplayMetadata, keyAtBits, replayKeeps } from '../../src/runtime/watermark.js';
import { FakeKafka } from './fake-kafka.js';

const SCORE = 'test.run.score';
const isRoot = (s: ReadableSpan) => s.parentSpanContext === undefined;

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

/** X (no root: stays open) at offset 0, A (whole, its verdict on the root) at offset 1. */
async function runs() {
  const x = await generateScenario({ kind: 'success', convention: 'genai', seed: 601 });
  const a = await generateScenario({ kind: 'success', convention: 'genai', seed: 602 });
  const aRoot = a.spans.find(isRoot)!;
  (aRoot.attributes as Record<string, unknown>)[SCORE] = 0.9;
  return { x, a, xTrace: x.spans[0]!.spanContext().traceId, aTrace: aRoot.spanContext().traceId };
}

/**
 * A new owner of partition 0 whose previous owner read up to offset 2 and committed 0 with
 * `previous`: it reads X and A, publishes A, stops; the commit it made.
 */
async function commitAfterReplay(previous: string, delivery: 'exactly-once' | 'at-least-once', { x, a }: Awaited<ReturnType<typeof runs>>) {
  const fake = new FakeKafka();
  fake.committed.set('spans/0', { topic: 'spans', partition: 0, offset: '0', metadata: previous });
  const p = new KafkaPipeline(
    { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false }, delivery, tickIntervalMs: 10, commitIntervalMs: 20 },
    {
      client: fake,
      createAssembler: () => new EpisodeAssembler({ graceMs: 30, awaitEvaluationMs: 0, idleMs: 600_000, maxDurationMs: 600_000 }),
      processEpisode: (e) => processEpisode(e, { rootScoreAttribute: SCORE }),
      evaluationsFromLogs: () => [],
    },
  );
  await p.start();
  fake.assign([{ topic: 'spans', partition: 0 }]);
  await fake.deliver('spans', 0, [
    { offset: 0, value: encodeTraces(x.spans.filter((s) => !isRoot(s)), 'otlp_proto') },
    { offset: 1, value: encodeTraces(a.spans, 'otlp_proto') },
  ]);
  const published = () => fake.published.filter((r) => r.headers?.['x-agent-credit-event-type'] === 'episode_credit').length;
  await until(() => published() === 1);
  await p.stop();
  return fake.committed.get('spans/0')!;
}

describe('KafkaPipeline with a compact (hashed) replay filter', () => {
  it.each([
    ['exactly-once', 'ac2'],
    ['at-least-once', 'ac2'],
    // ~500 more runs open on the partition: past the ~415 hex hashes that fit, Rice-coded
    ['exactly-once', 'ac3'],
    ['at-least-once', 'ac3'],
  ] as const)('%s, filter %s: an episode handed on during the replay is not named again in the next commit', async (delivery, version) => {
    const r = await runs();
    const { xTrace, aTrace } = r;
    // the previous owner read up to offset 2 and held X and A, written as hashes
    const others = Array.from({ length: 500 }, (_, i) => (i * 104_729 + 1).toString(16).padStart(32, '0'));
    const previous = version === 'ac2' ? encodeReplayMetadata('3', [xTrace, aTrace], 60) : encodeReplayMetadata('3', [xTrace, aTrace, ...others]);
    expect(previous.startsWith(`${version};3;`)).toBe(true);
    const committed = await commitAfterReplay(previous, delivery, r);
    expect(committed.offset).toBe('0'); // X is open
    const filter = decodeReplayMetadata(committed.metadata)!;
    expect(filter.processedNext).toBe('3'); // offset 2 was read by the previous owner, not yet by this one
    expect(replayKeeps(filter, '0', xTrace)).toBe(true);
    // A was credited and published here: the next owner must not rebuild it from offset 1
    expect(replayKeeps(filter, '1', aTrace)).toBe(false);
    // the keys still owed (never seen by this owner) are carried on, in the same form
    expect(committed.metadata!.startsWith(`${version};3;`)).toBe(true);
    for (const t of version === 'ac3' ? others : []) expect(replayKeeps(filter, '2', t)).toBe(true);
  });

  it('ac4 (the hashes\' first bits): handing on a run whose key stands for another owed run keeps that key owed — the other run\'s records stay in the next filter', async () => {
    const r = await runs();
    const { xTrace, aTrace } = r;
    // 8,000 runs owed: the previous owner's filter kept 14 bits of each hash; one owed run (never
    // read by the new owner before its commit) shares A's key
    const others = Array.from({ length: 8_000 }, (_, i) => (i * 104_729 + 1).toString(16).padStart(32, '0'));
    const bitsOf = (ids: string[]) => decodeReplayMetadata(encodeReplayMetadata('3', ids))!.keyBits!;
    const bits = bitsOf([xTrace, aTrace, ...others]);
    const aKey = keyAtBits(compactKey(aTrace), bits);
    let collider = '';
    for (let i = 0; collider === ''; i++) if (keyAtBits(compactKey(`conv:${i}`), bits) === aKey) collider = `conv:${i}`;
    const previous = encodeReplayMetadata('3', [xTrace, aTrace, collider, ...others]);
    expect(decodeReplayMetadata(previous)!.keyBits).toBe(bits);
    const committed = await commitAfterReplay(previous, 'exactly-once', r);
    expect(committed.offset).toBe('0');
    const filter = decodeReplayMetadata(committed.metadata)!;
    expect(committed.metadata!.startsWith('ac4;3;')).toBe(true);
    // the collider's records at offset 2 (read by the previous owner, not yet by this one) are still replayed
    expect(replayKeeps(filter, '2', collider)).toBe(true);
    expect(replayKeeps(filter, '0', xTrace)).toBe(true);
    for (const t of others) expect(replayKeeps(filter, '2', t)).toBe(true);
  });
});
