/**
 * On the real broker: step verdicts that carry no span context, only the judged model response's
 * `gen_ai.response.id` (so the collector cannot key them by trace: they land on any partition),
 * are joined by the KafkaPipeline to the LLM spans that recorded those ids; the output equals the
 * in-process computation, and differs from what the runs give without those verdicts.
 */
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { decodeLogs } from '../../src/otlp/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { client, createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { comparable, pipelineConfig, referenceEvents, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { testAssembler } from './support/test-assembler.js';

const credit = (episode: Parameters<typeof processEpisode>[0]) => processEpisode(episode, {});

describe('KafkaPipeline joins evaluations by gen_ai.response.id', { timeout: 90_000 }, () => {
  it('response-id-only step verdicts on any logs partition: output equals the in-process computation', async () => {
    const c = client('resp');
    const base = unique('resp');
    const topics = topicsNamed(base);
    await createTopics(c, [topics.spans, topics.logs], 4);
    const runs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((seed) => generateScenario({ kind: 'saboteur', convention: seed % 2 ? 'genai' : 'openllmetry', seed, stepEvaluationsBy: 'response-id' })),
    );
    const gen = kafkaRecordsFor(runs, 'otlp_proto');
    const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
    const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key === '' ? null : r.key, value: r.value }));
    const isVerdictByResponse = (r: OutgoingRecord) => evaluationsFromLogs(decodeLogs(r.value as Uint8Array, 'otlp_proto')).some((e) => e.responseId !== undefined && e.traceId === undefined);
    const stepVerdicts = logs.filter(isVerdictByResponse);
    const systemVerdicts = logs.filter((r) => !isVerdictByResponse(r));
    expect(stepVerdicts.length).toBe(runs.length);
    expect(stepVerdicts.every((r) => r.key === null)).toBe(true);

    const expected = await referenceEvents(spans, [...stepVerdicts, ...systemVerdicts], credit);
    const withoutVerdicts = await referenceEvents(spans, systemVerdicts, credit);
    expect(withoutVerdicts.map(comparable)).not.toEqual(expected.map(comparable));

    let assembler: ReturnType<typeof testAssembler> | undefined;
    const groupId = unique('resp-grp');
    const pipeline = new KafkaPipeline(pipelineConfig(topics, groupId, { delivery: 'exactly-once' }), {
      client: client('resp-pipeline'),
      createAssembler: () => (assembler = testAssembler(60_000)),
      processEpisode: credit,
      evaluationsFromLogs: (l) => evaluationsFromLogs(l),
    });
    // Verdicts before their spans (they wait for the LLM span), then the spans, then the system
    // verdicts that close the episodes.
    await produce(c, stepVerdicts);
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().evaluationsIn >= stepVerdicts.length, 30_000, 'step verdicts consumed');
      await produce(c, spans);
      await waitFor(() => pipeline.stats().spansIn >= runs.reduce((n, r) => n + r.spans.length, 0), 30_000, 'spans consumed');
      await produce(c, systemVerdicts);
      await waitFor(() => pipeline.stats().episodesClosed >= runs.length && pipeline.stats().inFlight === 0, 60_000, 'all episodes published');
    } finally {
      await pipeline.stop();
    }
    expect(assembler!.stats()).toMatchObject({ evaluationsJoinedByResponseId: runs.length, expiredEvaluations: 0, unjoinableEvaluations: 0, lateEvaluations: 0 });
    const records = await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length);
    const byId = <T extends { event_id: string }>(es: readonly T[]): T[] => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(byId(parseEvents(records)).map(comparable)).toEqual(byId(expected).map(comparable));
  });
});
