/**
 * Evaluation times in seconds or milliseconds on the Kafka job's input topics: the OTLP logs
 * topic and the evaluations topic. Taken as given, as before, but a warning line names the topic,
 * the field, the value and the fix, once a minute per topic (a judge timing every verdict with
 * `$(date +%s)` would write a line per record).
 */
import { describe, expect, it } from 'vitest';
import { VERDICT_TRACE_ID, verdictAt } from '../support/sdk-verdict.js';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { silentLogger } from '../../src/kafka/log.js';
import { KafkaPipeline } from '../../src/runtime/kafka-pipeline.js';
import { FakeKafka } from './fake-kafka.js';

const traceId = VERDICT_TRACE_ID;

async function eventually(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

describe('KafkaPipeline: evaluation times in the wrong unit', () => {
  it('warns once a minute per input topic, naming the topic, the field, the value and the fix; nanoseconds draw nothing', async () => {
    const warned: { obj: Record<string, unknown>; msg: string }[] = [];
    let nowMs = Date.parse('2026-12-07T12:00:00Z');
    const fake = new FakeKafka();
    const p = new KafkaPipeline(
      { source: { brokers: ['fake:9092'], spansTopic: 'spans', logsTopic: 'logs', evaluationsTopic: 'evals' }, sink: { createTopics: false }, delivery: 'at-least-once', tickIntervalMs: 60_000, commitIntervalMs: 60_000 },
      {
        client: fake,
        createAssembler: () => new EpisodeAssembler({ graceMs: 600_000, idleMs: 600_000 }),
        processEpisode: async () => [] as never[],
        evaluationsFromLogs: (l) => evaluationsFromLogs(l),
        logger: { ...silentLogger, warn: (obj, msg) => void warned.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }) },
        now: () => nowMs,
      },
    );
    await p.start();
    try {
      fake.assign([{ topic: 'logs', partition: 0 }, { topic: 'evals', partition: 0 }]);
      const onTopic = (topic: string) => warned.filter((w) => w.obj.source === `topic ${topic}`);
      await fake.deliver('logs', 0, [{ offset: 0, value: verdictAt([1, 733_580_000]) }]);
      await fake.deliver('evals', 0, [{ offset: 0, value: JSON.stringify({ trace_id: traceId, name: 'tone', score: 1, time_unix_nano: 1_733_580_000_123 }) }]);
      expect(await eventually(() => onTopic('logs').length === 1 && onTopic('evals').length === 1)).toBe(true);
      expect(onTopic('logs')[0]!.obj).toMatchObject({ field: "the log record's time_unix_nano (timeUnixNano in OTLP/JSON)", value: '1733580000', unit: 'seconds', evaluations: 1 });
      expect(onTopic('logs')[0]!.msg).toMatch(/^topic logs: evaluation time .* looks like seconds since the epoch .* multiply seconds by 1e9/);
      expect(onTopic('evals')[0]!.obj).toMatchObject({ field: 'time_unix_nano', value: '1733580000123', unit: 'milliseconds', evaluations: 1 });

      // within the minute: counted, not logged; nanoseconds: not counted
      await fake.deliver('evals', 0, [
        { offset: 1, value: JSON.stringify({ trace_id: traceId, name: 'tone', score: 0, time_unix_nano: 1_733_580_001_000 }) },
        { offset: 2, value: JSON.stringify({ trace_id: traceId, name: 'tone', score: 0.5, time_unix_nano: '1733580002000000000' }) },
      ]);
      expect(await eventually(() => p.stats().evaluationsIn === 4)).toBe(true);
      expect(onTopic('evals')).toHaveLength(1);
      nowMs += 61_000;
      await fake.deliver('evals', 0, [{ offset: 3, value: JSON.stringify({ trace_id: traceId, name: 'tone', score: 1, time_unix_nano: 1_733_580_003 }) }]);
      expect(await eventually(() => onTopic('evals').length === 2)).toBe(true);
      expect(onTopic('evals')[1]!.obj).toMatchObject({ value: '1733580003', unit: 'seconds', evaluations: 2 });
      expect(onTopic('logs')).toHaveLength(1);
    } finally {
      await p.stop();
    }
  });
});
