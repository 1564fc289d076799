/**
 * Replay of a collector Kafka dump (`<topic>/<partition>-<offset>.bin`) reads GenAI content events
 * as the Kafka job reads the same records: a content span's id names the record it came from
 * (topic, partition, offset), so two equal events in two records are two messages in both. Replay
 * read each file as an OTLP/HTTP request (no source, index 0 in each), so the second of two equal
 * records was dropped as a re-sent one there and kept by the job: the same records gave an LLM
 * step other messages in replay than in the job.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { encodeLogs } from '../../src/scenarios/index.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { FakeKafka } from '../kafka/fake-kafka.js';
import { recordOpenAIRun, researchWriteRun, runTraceBytes, type InstrumentedRun } from '../support/openai-instrumented-run.js';

const config = loadConfig({ env: {} }).config;
/** The held content spans of a closed episode: ids and the span each names. */
const contentsOf = (e: Episode) => e.spans.filter((s) => s.scope.name === 'agent-credit.genai-content-event').map((s) => `${s.spanId}>${s.parentSpanId}`).sort();

let run: InstrumentedRun;
let dir: string;
/** One record per log record, the first content event written twice (offsets 0 and 1), as the logs topic holds them. */
let logs: Uint8Array[];
beforeAll(async () => {
  run = await recordOpenAIRun(researchWriteRun({ score: 1 }));
  logs = [run.contentLogRecords[0]!, ...run.contentLogRecords, run.evaluation].map((r) => encodeLogs([r], 'otlp_proto'));
  dir = mkdtempSync(join(tmpdir(), 'content-dump-'));
  mkdirSync(join(dir, 'otlp_spans'));
  mkdirSync(join(dir, 'otlp_logs'));
  writeFileSync(join(dir, 'otlp_spans', '0-0.bin'), runTraceBytes(run));
  logs.forEach((v, i) => writeFileSync(join(dir, 'otlp_logs', `0-${i}.bin`), v));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay of a collector Kafka dump: content events as the Kafka job reads them', () => {
  it('two equal content records at two offsets are two messages in both; the episodes hold the same content spans', async () => {
    const fake = new FakeKafka();
    const fromJob: Episode[] = [];
    const job = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'otlp_spans', logsTopic: 'otlp_logs' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 10_000, commitIntervalMs: 10_000 },
      { client: fake, createAssembler: (clock) => new EpisodeAssembler(config.episodes, clock), processEpisode: async (e) => (fromJob.push(e), []), evaluationsFromLogs: (l) => evaluationsFromLogs(l) },
    );
    await job.start();
    fake.assign([{ topic: 'otlp_spans', partition: 0 }, { topic: 'otlp_logs', partition: 0 }]);
    await fake.deliver('otlp_spans', 0, [{ offset: 0, value: runTraceBytes(run) }]);
    await fake.deliver('otlp_logs', 0, logs.map((value, offset) => ({ offset, value })));
    await job.stop();
    const fromReplay: Episode[] = [];
    await replayFiles(config, listOtlpFiles([dir]), { sinks: [], processEpisode: async (e) => (fromReplay.push(e), []) });
    expect(fromJob).toHaveLength(1);
    expect(fromReplay).toHaveLength(1);
    expect(contentsOf(fromJob[0]!)).toHaveLength(run.contentLogRecords.length + 1);
    expect(contentsOf(fromReplay[0]!)).toEqual(contentsOf(fromJob[0]!));
  });
});
