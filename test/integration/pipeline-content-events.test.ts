/**
 * On the real broker: runs recorded by the real @opentelemetry/instrumentation-openai, whose
 * chat spans carry no messages — the prompts and completions are log events on the logs topic,
 * one record per log record as the collector's kafka exporter writes them. The pipeline reads them
 * as the messages of their LLM spans (src/conventions/content-events.ts) and holds their offsets
 * like the spans': content that arrived before a restart, while its episode was still open, is
 * read again by the next instance, and the output equals the in-process computation with the
 * content — which credits the researcher, whom the same spans without it leave at 0.
 */
import { describe, expect, it } from 'vitest';
import { contentSpansFromLogs, evaluationsFromLogs } from '../../src/conventions/index.js';
import type { EpisodeCredit } from '../../src/events/schemas.js';
import type { OutgoingRecord } from '../../src/kafka/client.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { encodeLogs } from '../../src/scenarios/serialize.js';
import { recordOpenAIRun, researchWriteRun, runTraceBytes, type InstrumentedRun } from '../support/openai-instrumented-run.js';
import { client, createTopics, parseEvents, produce, readTopics, unique } from './support/kafka-io.js';
import { comparable, pipelineConfig, topicsNamed, waitFor } from './support/pipeline-harness.js';
import { testAssembler } from './support/test-assembler.js';

const credit = (episode: Parameters<typeof processEpisode>[0]) => processEpisode(episode, {});

/** The run as the collector's kafka exporter writes it: one spans record per trace, one logs record per log record, keyed by trace id. */
function collectorRecords(run: InstrumentedRun, topics: { spans: string; logs: string }): { spans: OutgoingRecord[]; contents: OutgoingRecord[]; verdict: OutgoingRecord } {
  const key = run.traceId;
  const one = (r: (typeof run.logRecords)[number]): OutgoingRecord => ({ topic: topics.logs, key, value: encodeLogs([r], 'otlp_proto') });
  return {
    spans: [{ topic: topics.spans, key, value: runTraceBytes(run, 'otlp_proto') }],
    contents: run.contentLogRecords.map(one),
    verdict: one(run.evaluation),
  };
}

/** In-process: the same records through the assembler, content events included (or not). */
async function expectedEvents(spans: readonly OutgoingRecord[], logs: readonly OutgoingRecord[], withContent: boolean) {
  const asm = testAssembler(60_000);
  for (const r of spans) asm.addSpans(decodeTraces(r.value as Uint8Array, 'otlp_proto'));
  logs.forEach((r, i) => {
    const decoded = decodeLogs(r.value as Uint8Array, 'otlp_proto');
    if (withContent) asm.addSpans(contentSpansFromLogs(decoded, { firstOrder: i, source: String(i) }));
    asm.addEvaluations(evaluationsFromLogs(decoded));
  });
  return (await Promise.all(asm.flush('shutdown').map(credit))).flat();
}

const researcherCredits = (events: readonly { event_type: string }[]) =>
  events.filter((e): e is EpisodeCredit => e.event_type === 'episode_credit').map((e) => e.agents.find((a) => a.agent_name === 'researcher')!.credit);

describe('KafkaPipeline reads GenAI content events from the logs topic', { timeout: 120_000 }, () => {
  it('content events read before a restart of an open episode are read again; output equals the in-process computation with them', async () => {
    const c = client('content');
    const topics = topicsNamed(unique('content'));
    await createTopics(c, [topics.spans, topics.logs], 4);
    const runs: InstrumentedRun[] = [];
    for (const score of [1, 0.8, 1]) runs.push(await recordOpenAIRun(researchWriteRun({ score })));
    const recs = runs.map((r) => collectorRecords(r, topics));
    const spans = recs.flatMap((r) => r.spans);
    const contents = recs.flatMap((r) => r.contents);
    const verdicts = recs.map((r) => r.verdict);

    const expected = await expectedEvents(spans, [...contents, ...verdicts], true);
    const withoutContent = await expectedEvents(spans, verdicts, false);
    expect(researcherCredits(withoutContent)).toEqual([0, 0, 0]);
    expect(researcherCredits(expected).every((x) => x > 0.1)).toBe(true);

    const groupId = unique('content-grp');
    const config = pipelineConfig(topics, groupId, { delivery: 'exactly-once', commitIntervalMs: 20 });
    const make = (name: string) =>
      new KafkaPipeline(config, { client: client(name), createAssembler: () => testAssembler(60_000), processEpisode: credit, evaluationsFromLogs: (l) => evaluationsFromLogs(l) });

    // First instance: only the content events have arrived (the exporters flush logs first); it
    // stops (commits) with every episode open.
    await produce(c, contents);
    const first = make('content-1');
    await first.start();
    try {
      await waitFor(() => first.stats().contentEventsIn >= contents.length, 30_000, 'content events consumed');
      await new Promise((r) => setTimeout(r, 200)); // a few commit intervals pass
    } finally {
      await first.stop();
    }
    expect(first.stats().episodesClosed).toBe(0);

    // Second instance, same group: the spans and verdicts come; the content must be read again.
    await produce(c, spans);
    await produce(c, verdicts);
    const second = make('content-2');
    await second.start();
    try {
      await waitFor(() => second.stats().episodesClosed >= runs.length && second.stats().inFlight === 0, 60_000, 'all episodes published');
    } finally {
      await second.stop();
    }
    expect(second.stats().contentEventsIn).toBe(contents.length);
    const records = await readTopics(c, [topics.rewards, topics.episodes, topics.preferences], (rs) => rs.length >= expected.length);
    const byId = <T extends { event_id: string }>(es: readonly T[]): T[] => [...es].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(byId(parseEvents(records)).map(comparable)).toEqual(byId(expected).map(comparable));
  });
});
