/**
 * A run larger than `episodes.maxSpansPerEpisode`, on the real broker: the episode closes at the
 * cap (`max-spans`) and the spans past it are counted, but the run must still be credited when its
 * verdict comes. Spans are exported as they end, so the root span — which the verdict names — is
 * past the cap, and the judge answers after the run: before the fix neither could reopen the capped
 * revision, and the run yielded no event at all (only `lateUncorrected`).
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { client, createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { pipelineConfig, topicsNamed, waitFor } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

describe('an episode past maxSpansPerEpisode', () => {
  it('is credited by its late root and verdict; the spans past the cap are counted (exactly-once)', async () => {
    const c = client();
    const topics = topicsNamed(unique('cap'));
    await createTopics(c, [topics.spans, topics.logs], 1);
    const big = await generateScenario({ kind: 'success', convention: 'genai', seed: 3, agents: 50, steps: 4 }); // 537 spans, one record
    const small = await generateFleet({ episodes: 2, seed: 4 });
    const gen = kafkaRecordsFor([big, ...small], 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
    // the verdicts come after the runs, as a judge's do
    await produce(c, spans);
    const cap = 200;
    const assemblers: EpisodeAssembler[] = [];
    const pipeline = new KafkaPipeline(pipelineConfig(topics, unique('cap-grp'), { delivery: 'exactly-once' }), {
      client: client('cap-pipeline'),
      createAssembler: () => {
        const a = new EpisodeAssembler({ closeOnEvaluation: true, graceMs: 120_000, idleMs: 30_000, maxDurationMs: 600_000, maxSpansPerEpisode: cap });
        assemblers.push(a);
        return a;
      },
      processEpisode: referenceProcessEpisode,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    });
    await pipeline.start();
    try {
      await waitFor(() => (assemblers.at(-1)?.stats().spans ?? 0) > 0 && pipeline.stats().lag === 0, 30_000, 'the spans read');
      await produce(c, logs);
      await waitFor(() => pipeline.stats().evaluationsIn >= logs.length && pipeline.stats().inFlight === 0 && pipeline.stats().queueDepth === 0, 30_000, 'the verdicts read and credit done');
    } finally {
      await pipeline.stop();
    }
    const out = parseEvents(await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => new Set(parseEvents(rs).filter((e) => e.event_type === 'episode_credit').map((e) => e.episode_id)).size >= 3, 10_000));
    const credits = out.filter((e): e is EpisodeCredit => e.event_type === 'episode_credit');
    const bigCredit = credits.filter((e) => e.episode_id === big.traceId).sort((a, b) => b.episode_revision - a.episode_revision)[0];
    expect(bigCredit, 'the capped run has an episode_credit event').toBeDefined();
    expect(bigCredit!.evaluation).toMatchObject({ name: 'task_success', score: big.expected.score });
    expect(out.some((e) => e.event_type === 'message_reward' && e.episode_id === big.traceId && e.episode_revision === bigCredit!.episode_revision)).toBe(true);
    for (const s of small) expect(credits.some((e) => e.episode_id === s.traceId)).toBe(true);
    const asm = assemblers.at(-1)!.stats();
    expect(asm.closed['max-spans']).toBeGreaterThanOrEqual(1);
    // 537 spans: 200 held, the root reopened the capped revision, the other 336 counted
    expect(asm.lateUncorrected).toBe(big.spans.length - cap - 1);
  }, 60_000);
});

