/**
 * KafkaPipeline.health() (what /readyz and /healthz serve in Kafka mode) and the logs of failures
 * that repeat, on the real broker:
 * - an output topic deleted while running: not ready once publishing has failed for
 *   readinessPublishFailureMs, with the reason; ready again once the topic is back. The failing
 *   transactions are logged at warn twice, then at error at most every 30 s, naming the missing
 *   topic (it said "a broker away?" or "set sinks.kafka.createTopics to true" when it was true);
 * - paused for backpressure: ready, and it says so;
 * - every record undecodable: 3 warn lines, then counts (one warn line per record before).
 * Before, readiness was set once at start and never changed (operator review: green with the
 * broker down, 108 failed transactions in a row, 100% DLQ).
 */
import { describe, expect, it } from 'vitest';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import type { KafkaClient, OutgoingRecord } from '../../src/kafka/client.js';
import { KafkajsClient } from '../../src/kafka/index.js';
import type { KafkaLogger } from '../../src/kafka/log.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import { KafkaPipeline, type KafkaPipelineConfigInput } from '../../src/runtime/kafka-pipeline.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { brokers, client, createTopics, produce, unique } from './support/kafka-io.js';
import { pipelineConfig, testAssembler, waitFor, topicsNamed } from './support/pipeline-harness.js';
import { referenceProcessEpisode } from './support/reference-credit.js';

interface Line { level: string; msg: string; obj: unknown }
function recordingLogger(lines: Line[]): KafkaLogger {
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '', obj });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as KafkaLogger;
}

async function setUp(prefix: string, episodes: number) {
  const c = client();
  const base = unique(prefix);
  const topics = topicsNamed(base);
  await createTopics(c, [topics.spans, topics.logs], 1);
  const runs = await generateFleet({ episodes, seed: 13 });
  const gen = kafkaRecordsFor(runs, 'otlp_proto');
  const spans: OutgoingRecord[] = gen.spans.map((r) => ({ topic: topics.spans, key: r.key, value: r.value }));
  const logs: OutgoingRecord[] = gen.logs.map((r) => ({ topic: topics.logs, key: r.key, value: r.value }));
  return { c, topics, spans, logs };
}

function pipelineOf(config: KafkaPipelineConfigInput, lines: Line[], processEpisode: (e: Episode) => Promise<CreditEvent[]> = referenceProcessEpisode, kafka: KafkaClient = client('health-pipeline')): KafkaPipeline {
  return new KafkaPipeline(config, {
    client: kafka,
    createAssembler: () => testAssembler(300),
    processEpisode,
    evaluationsFromLogs: (logs) => evaluationsFromLogs(logs),
    logger: recordingLogger(lines),
  });
}

describe('pipeline health and repeated failures', () => {
  it('an output topic deleted while running: not ready with the reason, ready again once recreated; logs throttled with the right advice', { timeout: 240_000 }, async () => {
    const { c, topics, spans, logs } = await setUp('health-del', 4);
    const lines: Line[] = [];
    // Each failing transaction took kafkajs's default retries (~10 s) to fail, and the error line
    // comes at the third: one retry from 300 ms instead (the failures, their logs and the
    // readiness are the pipeline's, whatever the retries).
    const failFast = new KafkajsClient({ brokers: [brokers()], clientId: 'health-pipeline', retry: { retries: 1 } });
    const pipeline = pipelineOf(pipelineConfig(topics, unique('health-del-grp'), { delivery: 'exactly-once', readinessPublishFailureMs: 1_500 }), lines, referenceProcessEpisode, failFast);
    await pipeline.start();
    try {
      await waitFor(() => pipeline.health().ready, 30_000, 'ready after joining');
      expect(pipeline.health().detail).toBe('consuming');
      const admin = await c.admin();
      await admin.deleteTopics([topics.episodes]);
      await admin.disconnect();
      await produce(c, [...spans, ...logs]);
      await waitFor(() => !pipeline.health().ready, 30_000, 'not ready while publishing fails');
      expect(pipeline.health().detail).toMatch(/^publishing has failed for \d+ s \(\d+ in a row\)/);
      expect(pipeline.health().live).toBe(true);
      await waitFor(() => lines.some((l) => l.level === 'error' && l.msg.startsWith('publishing has failed')), 90_000, 'the error line (kafkajs retries each send for a while)');
      // the throttle (one line at most every 30 s): failures go on after the line (~0.1 s each),
      // and a line at each would show — counted right after the first, only the failures
      // during its missing-topics lookup could
      const logged = lines.find((l) => l.level === 'error' && l.msg.startsWith('publishing has failed'))!.obj as { failuresInARow: number };
      await waitFor(() => pipeline.stats().consecutiveCommitFailures >= logged.failuresInARow + 3, 20_000, 'failures after the error line');
      const failures = pipeline.stats().consecutiveCommitFailures;
      expect(failures).toBeGreaterThanOrEqual(3);
      const warns = lines.filter((l) => l.level === 'warn' && l.msg.startsWith('transaction failed'));
      expect(warns.length).toBe(2);
      const errors = lines.filter((l) => l.level === 'error' && l.msg.startsWith('publishing has failed'));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toContain(`output topic ${topics.episodes} does not exist (deleted while running?)`);
      expect(errors[0]!.msg).toContain('only at start');
      expect(errors[0]!.msg).not.toContain('a broker away');

      await createTopics(c, [topics.episodes], 3);
      await waitFor(() => pipeline.health().ready && pipeline.stats().inFlight === 0 && pipeline.stats().episodesClosed >= 4, 60_000, 'ready again, everything published');
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.health().ready).toBe(false); // stopping
  });

  it('paused for backpressure stays ready and says so; undecodable records are logged 3 times, then counted', { timeout: 120_000 }, async () => {
    const { c, topics, spans, logs } = await setUp('health-pause', 6);
    const lines: Line[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const pipeline = pipelineOf(pipelineConfig(topics, unique('health-pause-grp'), { delivery: 'at-least-once', creditQueueMax: 2 }), lines, async (e) => {
      await released;
      return referenceProcessEpisode(e);
    });
    const garbage: OutgoingRecord[] = Array.from({ length: 20 }, (_, i) => ({ topic: topics.spans, key: `bad-${i}`, value: '{"resourceSpans": [' }));
    await produce(c, [...garbage, ...spans, ...logs]);
    await pipeline.start();
    try {
      await waitFor(() => pipeline.stats().paused, 30_000, 'paused for backpressure');
      const h = pipeline.health();
      expect(h.ready).toBe(true);
      expect(h.detail).toMatch(/^consuming, paused for backpressure \(\d+ episode\(s\) in flight/);
      await waitFor(() => pipeline.stats().decodeErrors === 20, 10_000, 'every bad record counted');
      const one = lines.filter((l) => l.level === 'warn' && l.msg.startsWith('undecodable record from '));
      expect(one).toHaveLength(3);
      // the other 17 are counted: at once a line for the 4th, the rest held back for 30 s (a third
      // line would need two 30 s periods); without the count line they were only at debug
      const counted = lines.filter((l) => l.level === 'warn' && /more input record\(s\) sent to the dead-letter topic/.test(l.msg));
      expect(counted.length).toBeGreaterThanOrEqual(1);
      expect(counted.length).toBeLessThanOrEqual(2);
      expect(counted[0]!.msg).toMatch(/^\d+ more input record\(s\) sent to the dead-letter topic "[^"]+" since the last line \(\d+ in all\); the last one, from \S+\[0\]@\d+: \S/);
      release();
      await waitFor(() => pipeline.stats().inFlight === 0 && pipeline.stats().episodesClosed >= 6 && pipeline.stats().dlqOut === 20, 60_000, 'all published');
    } finally {
      release();
      await pipeline.stop();
    }
  });
});
