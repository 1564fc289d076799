/**
 * A late span that reopened a credited episode (a correction, revision 1) when the partition is
 * read again — a restart or rebalance — before the correction is published, while another
 * episode still open holds the committed offset below the first revision's records.
 */
import { describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { encodeTraces, generateScenario } from '../../src/scenarios/index.js';
import { decodeReplayMetadata, replayKeeps } from '../../src/runtime/watermark.js';
import { FakeKafka } from './fake-kafka.js';

const SCORE = 'test.run.score';
const options = { rootScoreAttribute: SCORE };

/** `clock`: the assemblers' time, when the test moves it (else the wall clock). */
function pipeline(fake: FakeKafka, delivery: 'exactly-once' | 'at-least-once', credit: typeof processEpisode = processEpisode, extra: object = {}, clock?: ManualClock) {
  return new KafkaPipeline(
    { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: null }, sink: { createTopics: false }, delivery, tickIntervalMs: 10, commitIntervalMs: 20, ...extra },
    {
      client: fake,
      // grace 30 ms; awaitEvaluationMs ≤ graceMs: the verdict is on the root span (no waiting for one)
      createAssembler: () => {
        const options = { graceMs: 30, awaitEvaluationMs: 0, idleMs: 600_000, maxDurationMs: 600_000, lateSpanPolicy: 'correct' } as const;
        return clock ? new EpisodeAssembler(options, clock) : new EpisodeAssembler(options);
      },
      processEpisode: (e) => credit(e, options),
      evaluationsFromLogs: () => [],
    },
  );
}

const isRoot = (s: ReadableSpan) => s.parentSpanContext === undefined;

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

/**
 * Two runs: A without its root (it stays open and holds the committed offset at 0) and B, whose
 * root carries its verdict, one inner span held back to come late (after B was credited).
 */
async function openAndReopened() {
  const a = await generateScenario({ kind: 'success', convention: 'genai', seed: 501 });
  const b = await generateScenario({ kind: 'success', convention: 'genai', seed: 502 });
  const aRecord = encodeTraces(a.spans.filter((s) => !isRoot(s)), 'otlp_proto');
  const bRoot = b.spans.find(isRoot)!;
  (bRoot.attributes as Record<string, unknown>)[SCORE] = 0.9;
  const late = b.spans.find((s) => !isRoot(s))!;
  const bRecord = encodeTraces(b.spans.filter((s) => s !== late), 'otlp_proto');
  const lateRecord = encodeTraces([late], 'otlp_proto');
  return { aRecord, bRecord, lateRecord, bTrace: bRoot.spanContext().traceId };
}

/** The episode_credit events published so far. */
const creditsOf = (fake: FakeKafka) =>
  fake.published.filter((r) => r.headers?.['x-agent-credit-event-type'] === 'episode_credit').map((r) => JSON.parse(String(r.value)) as { event_id: string; episode_id: string; episode_revision: number; trace_ids: string[] });

describe('KafkaPipeline replay of a reopened episode', () => {
  it.each(['exactly-once', 'at-least-once'] as const)('%s: a correction still open at a restart is not rebuilt as its first revision again from records the first revision already committed', async (delivery) => {
    // A stays open at offset 0; B is credited from offset 1, its late span comes at offset 2
    const { aRecord, bRecord, lateRecord, bTrace } = await openAndReopened();

    const fake = new FakeKafka();
    // The first instance's assembler time moves only when the test says: on the wall clock the
    // correction closed (30 ms grace) whenever the machine took that long from the late span to the
    // stop — the test then failed on a loaded machine (reproduced with a 100 ms pause there).
    const clock = new ManualClock(Date.now());
    const first = pipeline(fake, delivery, processEpisode, {}, clock);
    await first.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: aRecord }, { offset: 1, value: bRecord }]);
    const episodeCredits = () => creditsOf(fake);
    clock.advance(1_000); // past B's grace: it closes on its verdict (A, with no root, stays open)
    await until(() => episodeCredits().length === 1);
    expect(episodeCredits()[0]).toMatchObject({ episode_id: bTrace, episode_revision: 0 });
    // the late span reopens B (revision 1); the instance stops (or the group rebalances) before it closes
    await fake.deliver('spans', 0, [{ offset: 2, value: lateRecord }]);
    await first.stop();
    const committed = fake.committed.get('spans/0')!;
    expect(committed.offset).toBe('0'); // A is open
    expect(decodeReplayMetadata(committed.metadata)!.heldTraces!.has(bTrace)).toBe(true); // B's correction is open
    // needed from the committed offset (revision 0's records too), to be rebuilt as revision 1
    expect(decodeReplayMetadata(committed.metadata)!.heldFrom).toBeUndefined();
    expect(decodeReplayMetadata(committed.metadata)!.revisions).toEqual(new Map([[bTrace, 1]]));

    // The next owner replays offsets 0..2
    const second = pipeline(fake, delivery);
    await second.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: aRecord }, { offset: 1, value: bRecord }, { offset: 2, value: lateRecord }]);
    await new Promise((r) => setTimeout(r, 300));
    await second.stop();
    // B's revision 0 was committed once: it is not published again (a second revision 0 under the
    // same event id, holding the late span this time)
    const ids = episodeCredits().map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(episodeCredits().filter((e) => e.episode_revision === 0)).toHaveLength(1);
    // and the correction the first instance never published is: revision 1, with the late span
    expect(episodeCredits().filter((e) => e.episode_revision === 1)).toHaveLength(1);
  });

  it('exactly-once: while the first revision is not published yet, its records stay in the replay (the correction does not narrow them)', async () => {
    const b = await generateScenario({ kind: 'success', convention: 'genai', seed: 503 });
    const bRoot = b.spans.find(isRoot)!;
    (bRoot.attributes as Record<string, unknown>)[SCORE] = 0.9;
    const late = b.spans.find((s) => !isRoot(s))!;
    const bTrace = bRoot.spanContext().traceId;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const fake = new FakeKafka();
    // revision 0's credit is still running when the late span reopens it
    const p = pipeline(fake, 'exactly-once', async (e, o) => {
      if (calls++ === 0) await gate;
      return processEpisode(e, o);
    });
    await p.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: encodeTraces(b.spans.filter((s) => s !== late), 'otlp_proto') }]);
    await until(() => calls === 1);
    await fake.deliver('spans', 0, [{ offset: 1, value: encodeTraces([late], 'otlp_proto') }]);
    await until(() => decodeReplayMetadata(fake.committed.get('spans/0')?.metadata)?.processedNext === '2');
    expect(fake.committed.get('spans/0')!.offset).toBe('0');
    const filter = decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)!;
    expect(filter.heldTraces!.has(bTrace)).toBe(true);
    expect(replayKeeps(filter, '0', bTrace)).toBe(true); // revision 0's records: not published, so replayed
    release();
    await p.stop();
  });

  it('exactly-once: a correction closed but still being credited at a restart is not rebuilt as its first revision either', async () => {
    const { aRecord, bRecord, lateRecord, bTrace } = await openAndReopened();
    const fake = new FakeKafka();
    let calls = 0;
    // revision 1's credit never ends in this instance's life
    const first = pipeline(fake, 'exactly-once', async (e, o) => (++calls === 2 ? new Promise<never>(() => undefined) : processEpisode(e, o)), { shutdownTimeoutMs: 50 });
    await first.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: aRecord }, { offset: 1, value: bRecord }]);
    const episodeCredits = () => creditsOf(fake);
    await until(() => episodeCredits().length === 1);
    await fake.deliver('spans', 0, [{ offset: 2, value: lateRecord }]);
    await until(() => calls === 2);
    // a record read after revision 1 closed: the partition commits again, with revision 1 in credit
    const c = await generateScenario({ kind: 'success', convention: 'genai', seed: 504 });
    const cRecord = encodeTraces(c.spans.filter((s) => !isRoot(s)), 'otlp_proto');
    await fake.deliver('spans', 0, [{ offset: 3, value: cRecord }]);
    await until(() => decodeReplayMetadata(fake.committed.get('spans/0')?.metadata)?.processedNext === '4');
    await first.stop();
    expect(decodeReplayMetadata(fake.committed.get('spans/0')!.metadata)!.revisions).toEqual(new Map([[bTrace, 1]]));
    const second = pipeline(fake, 'exactly-once');
    await second.start();
    fake.assign([{ topic: 'spans', partition: 0 }]);
    await fake.deliver('spans', 0, [{ offset: 0, value: aRecord }, { offset: 1, value: bRecord }, { offset: 2, value: lateRecord }, { offset: 3, value: cRecord }]);
    await new Promise((r) => setTimeout(r, 300));
    await second.stop();
    expect(episodeCredits().filter((e) => e.episode_revision === 0)).toHaveLength(1);
    expect(episodeCredits().filter((e) => e.episode_revision === 1)).toHaveLength(1);
  });
});

