/**
 * A KafkaPipeline in its own process, for the crash and scale-out tests: they SIGKILL it
 * mid-stream (no graceful shutdown) or SIGTERM it (graceful stop). Configured by the env var
 * PIPELINE_CHILD (JSON: brokers, topics, groupId, delivery, creditDelayMs, idleMs, assembler,
 * sessionTimeoutMs, replayFilterTopic, correctionDelayMs). Prints one JSON stats line to stdout every 100 ms.
 */
import { KafkajsClient } from '../../src/kafka/index.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import type { Episode } from '../../src/model/episode.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { referenceProcessEpisode } from './support/reference-credit.js';
import type { PipelineTopics } from './support/pipeline-harness.js';
import { testAssembler } from './support/test-assembler.js';
import { EpisodeAssembler, type EpisodeAssemblerOptionsInput } from '../../src/episodes/index.js';
import { appendFileSync } from 'node:fs';
import type { KafkaLogger } from '../../src/kafka/log.js';

function fileLogger(file: string): KafkaLogger {
  const line = (level: string) => (obj: object, msg?: string) => appendFileSync(file, JSON.stringify({ t: Date.now(), pid: process.pid, level, msg, ...obj }) + '\n');
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

interface ChildConfig {
  brokers: string;
  topics: PipelineTopics;
  groupId: string;
  delivery: 'exactly-once' | 'at-least-once';
  creditDelayMs: number;
  idleMs: number;
  /** Assembler options instead of the tests' evaluation-only close rule (`testAssembler`). */
  assembler?: EpisodeAssemblerOptionsInput;
  /** The consumer's session timeout; default 6 000. */
  sessionTimeoutMs?: number;
  /** `sink.replayFilterTopic`; default the pipeline's. */
  replayFilterTopic?: string | null;
  /** Credit of a correction (revision > 0) takes this long; default `creditDelayMs`. */
  correctionDelayMs?: number;
}

const cfg = JSON.parse(process.env.PIPELINE_CHILD ?? '') as ChildConfig;
let assembler: ReturnType<typeof testAssembler> | undefined;
const pipeline = new KafkaPipeline(
  {
    source: { brokers: [cfg.brokers], groupId: cfg.groupId, spansTopic: cfg.topics.spans, logsTopic: cfg.topics.logs, sessionTimeoutMs: cfg.sessionTimeoutMs ?? 6_000, heartbeatIntervalMs: 500 },
    sink: { topics: { rewards: cfg.topics.rewards, episodes: cfg.topics.episodes, preferences: cfg.topics.preferences, dlq: cfg.topics.dlq }, partitions: 3, ...(cfg.replayFilterTopic !== undefined ? { replayFilterTopic: cfg.replayFilterTopic } : {}) },
    delivery: cfg.delivery,
    transactionalIdPrefix: cfg.groupId,
    tickIntervalMs: 50,
    commitIntervalMs: 100,
    creditConcurrency: 2,
  },
  {
    client: new KafkajsClient({ brokers: [cfg.brokers], clientId: `child-${process.pid}` }),
    createAssembler: () => (assembler = cfg.assembler ? new EpisodeAssembler(cfg.assembler) : testAssembler(cfg.idleMs)),
    processEpisode: async (episode: Episode) => {
      // Slow credit work, so a kill finds episodes closed but not yet committed.
      await new Promise((r) => setTimeout(r, episode.revision > 0 ? (cfg.correctionDelayMs ?? cfg.creditDelayMs) : cfg.creditDelayMs));
      return referenceProcessEpisode(episode);
    },
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    // PIPELINE_CHILD_DEBUG=<file>: the pipeline's debug log as JSON lines, for diagnosing a failed run
    ...(process.env.PIPELINE_CHILD_DEBUG ? { logger: fileLogger(process.env.PIPELINE_CHILD_DEBUG) } : {}),
  },
);

setInterval(() => process.stdout.write(JSON.stringify({ pid: process.pid, stats: pipeline.stats(), assembler: assembler?.stats() }) + '\n'), 100);
process.on('SIGTERM', () => {
  void pipeline.stop().then(() => process.exit(0));
});
await pipeline.start();
process.stdout.write(JSON.stringify({ pid: process.pid, started: true }) + '\n');
