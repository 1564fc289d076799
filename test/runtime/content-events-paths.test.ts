/**
 * GenAI content events (message contents logged by @opentelemetry/instrumentation-openai, recorded
 * for real by test/support/openai-instrumented-run.ts) reach credit through the two non-Kafka
 * paths: the OTLP/HTTP receiver's pipeline (LocalPipeline.onLogs, the decoded request bodies),
 * replay of those bodies as files, and the in-process processor's log processor (the SDK
 * records as emitted). Both credit the
 * researcher as the in-process computation with the content does; without it, 0.
 * The Kafka path: test/integration/pipeline-content-events.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { contentSpansFromLogs, evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { CreditEvent, EpisodeCredit } from '../../src/events/schemas.js';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { LocalPipeline } from '../../src/runtime/local-pipeline.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { recordOpenAIRun, researchWriteRun, runLogBytes, runTraceBytes, type InstrumentedRun } from '../support/openai-instrumented-run.js';

const credits = (events: readonly CreditEvent[]): [string, number][] =>
  events.filter((e): e is EpisodeCredit => e.event_type === 'episode_credit').flatMap((e) => e.agents.map((a): [string, number] => [a.agent_name, a.credit]));

let run: InstrumentedRun;
let expected: [string, number][];
beforeAll(async () => {
  run = await recordOpenAIRun(researchWriteRun({ score: 1 }));
  const logs = decodeLogs(runLogBytes(run), 'otlp_proto');
  const asm = new EpisodeAssembler();
  asm.addSpans(decodeTraces(runTraceBytes(run), 'otlp_proto'));
  asm.addSpans(contentSpansFromLogs(logs));
  asm.addEvaluations(evaluationsFromLogs(logs));
  expected = credits((await Promise.all(asm.flush('shutdown').map((e) => processEpisode(e)))).flat());
  expect(expected.find(([name]) => name === 'researcher')![1]).toBeGreaterThan(0.1);
});

describe('GenAI content events outside Kafka', () => {
  it('OTLP/HTTP receiver pipeline: logs request before or after the traces request, same credit; stats count the events', async () => {
    for (const logsFirst of [true, false]) {
      const sink = new CollectingSink();
      const pipeline = new LocalPipeline(
        { creditQueueMax: 16, creditConcurrency: 1, tickIntervalMs: 60_000, creditTimeoutMs: 5_000 },
        { assembler: new EpisodeAssembler({ closeOnEvaluation: true, graceMs: 60_000 }), processEpisode: (e) => processEpisode(e), evaluationsFromLogs, sinks: [sink] },
      );
      const logs = decodeLogs(runLogBytes(run), 'otlp_proto');
      const contents = logs.filter((l) => l.attributes['event.name'] !== 'gen_ai.evaluation.result');
      const verdict = logs.filter((l) => l.attributes['event.name'] === 'gen_ai.evaluation.result');
      if (logsFirst) pipeline.onLogs(contents);
      pipeline.onSpans(decodeTraces(runTraceBytes(run), 'otlp_proto'));
      if (!logsFirst) pipeline.onLogs(contents);
      pipeline.onLogs(verdict);
      await pipeline.stop();
      expect(pipeline.stats().contentEventsIn).toBe(run.contentLogRecords.length);
      expect(credits(sink.events)).toEqual(expected);
    }
  });

  it('replay of the OTLP/HTTP bodies as files (agent-credit replay): the same credit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'content-replay-'));
    try {
      writeFileSync(join(dir, '0001-traces.pb'), runTraceBytes(run));
      writeFileSync(join(dir, '0002-logs.pb'), runLogBytes(run));
      const sink = new CollectingSink();
      const stats = await replayFiles(loadConfig({ env: {} }).config, listOtlpFiles([dir]), { sinks: [sink] });
      expect(stats.contentEventsIn).toBe(run.contentLogRecords.length);
      expect(credits(sink.events)).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in-process: the evaluationLogProcessor takes the instrumentation\'s records as emitted, the span processor the spans', async () => {
    const events: CreditEvent[] = [];
    const processor = await createCreditSpanProcessor({ onCredit: (e) => void events.push(...e) });
    // as the SDK calls them: content records while the chat span runs, spans as they end, the verdict last
    for (const r of run.contentLogRecords) processor.evaluationLogProcessor.onEmit(r as never);
    for (const s of run.spans) processor.onEnd(s);
    processor.evaluationLogProcessor.onEmit(run.evaluation as never);
    await processor.forceFlush();
    await processor.shutdown();
    expect(credits(events)).toEqual(expected);
  });
});
