/**
 * The recorded OpenAI Agents SDK fixtures (/work/shared/fixtures/agents-sdk, see its README):
 * OTLP/HTTP bodies and the records the collector's kafka exporter wrote, decoded by src/otlp,
 * evaluations read by src/conventions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs } from '../../src/conventions/index.js';
import { EpisodeAssembler, EpisodeAssemblerStatsSchema, ManualClock } from '../../src/episodes/index.js';
import { EpisodeSchema } from '../../src/model/episode.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const ROOT = AGENTS_SDK_FIXTURES;
const INSTRUMENTATIONS = ['genai', 'openinference', 'openllmetry'] as const;

describe('recorded fixtures: OTLP/HTTP bodies', () => {
  for (const inst of INSTRUMENTATIONS) {
    it(`${inst}: three runs → three episodes, each closed by its evaluation log record`, () => {
      const dir = join(ROOT, inst, 'otlp-http');
      const clock = new ManualClock(0);
      const asm = new EpisodeAssembler({}, clock);
      const runs = ['0001', '0002', '0003'].map((n) => decodeTraces(readFileSync(join(dir, `${n}-traces.pb`)), 'otlp_proto'));
      for (const spans of runs) {
        asm.addSpans(spans);
        clock.advance(50);
      }
      expect(asm.tick()).toEqual([]); // grace (2 s) not over, no evaluation yet
      const evaluations = evaluationsFromLogs(decodeLogs(readFileSync(join(dir, '0004-logs.pb')), 'otlp_proto'));
      expect(evaluations).toHaveLength(3);
      asm.addEvaluations(evaluations);
      const closed = asm.tick();
      expect(closed.map((e) => e.closeReason)).toEqual(['evaluation-arrived', 'evaluation-arrived', 'evaluation-arrived']);
      const byTrace = new Map(closed.map((e) => [e.episodeId, e]));
      runs.forEach((spans, i) => {
        const ep = byTrace.get(spans[0]!.traceId)!;
        expect(ep.spans).toHaveLength(spans.length);
        expect(ep.evaluations).toHaveLength(1);
        // README: runs 1 and 2 pass (1.0), run 3 fails (0.0)
        expect(ep.evaluations[0]!.score).toBe(i === 2 ? 0 : 1);
        expect(ep.duplicateSpans).toBe(0);
      });
      expect(asm.stats()).toMatchObject({ open: 0, bufferedBytes: 0, bufferedSpans: 0, pendingEvaluations: 0 });
      expect(() => EpisodeAssemblerStatsSchema.parse(asm.stats())).not.toThrow();
    });
  }

  it('without evaluations the runs close by root-ended: after awaitEvaluationMs in the first evaluationsArrivingMs after a start, after grace later', () => {
    const clock = new ManualClock(0);
    const asm = new EpisodeAssembler({ graceMs: 2000 }, clock);
    const add = (n: string) => {
      for (const inst of INSTRUMENTATIONS) asm.addSpans(decodeTraces(readFileSync(join(ROOT, inst, 'otlp-http', `${n}-traces.pb`)), 'otlp_proto'));
    };
    add('0001');
    clock.advance(2000);
    expect(asm.tick()).toEqual([]); // a start counts as evaluations arriving: they wait for one
    clock.advance(8000);
    const first = asm.tick();
    expect(first).toHaveLength(3);
    expect(asm.stats().evaluationWaitsExpired).toBe(3);
    clock.advance(900_000);
    add('0002');
    add('0003');
    clock.advance(2000);
    const closed = asm.tick();
    expect(closed).toHaveLength(6);
    expect(new Set([...first, ...closed].map((e) => e.closeReason))).toEqual(new Set(['root-ended']));
  });
});

interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer;
}

function kafkaRecords(encoding: 'otlp_proto' | 'otlp_json', topic: string): KafkaRecord[] {
  const dir = join(ROOT, 'kafka', encoding, topic);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => {
      const [partition, offset] = f.replace('.bin', '').split('-');
      return { topic, partition: Number(partition), offset: offset!, value: readFileSync(join(dir, f)) };
    })
    .sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

describe('recorded fixtures: collector kafka exporter records', () => {
  for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
    it(`${encoding}: evaluations read before their spans are held, join, and release the watermark on close`, () => {
      const clock = new ManualClock(0);
      const asm = new EpisodeAssembler({}, clock);
      const logs = kafkaRecords(encoding, 'otlp_logs');
      const spans = kafkaRecords(encoding, 'otlp_spans');
      for (const r of logs) {
        asm.addEvaluations(evaluationsFromLogs(decodeLogs(encoding === 'otlp_json' ? r.value.toString('utf8') : r.value, encoding)), r);
      }
      expect(asm.stats().pendingEvaluations).toBe(9);
      const logPartitions = [...new Set(logs.map((r) => r.partition))];
      for (const p of logPartitions) {
        expect(asm.lowWatermark('otlp_logs', p)).toBe(logs.find((r) => r.partition === p)!.offset);
      }
      for (const r of spans) asm.addSpans(decodeTraces(encoding === 'otlp_json' ? r.value.toString('utf8') : r.value, encoding), r);
      const closed = asm.tick();
      expect(closed).toHaveLength(9);
      for (const ep of closed) {
        expect(() => EpisodeSchema.parse(ep)).not.toThrow();
        expect(ep.closeReason).toBe('evaluation-arrived');
        expect(ep.evaluations).toHaveLength(1);
        expect(ep.sources.map((s) => s.topic).sort()).toEqual(['otlp_logs', 'otlp_spans']);
      }
      for (const p of [0, 1, 2, 3]) {
        expect(asm.lowWatermark('otlp_logs', p)).toBeUndefined();
        expect(asm.lowWatermark('otlp_spans', p)).toBeUndefined();
      }
    });
  }
});
