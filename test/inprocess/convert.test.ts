import { describe, expect, it } from 'vitest';
import { SpanConverter } from '../../src/inprocess/convert.js';
import { SpanSchema, LogRecordSchema } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, SCENARIO_CONVENTIONS } from '../../src/scenarios/index.js';

describe('ReadableSpan → Span conversion', () => {
  for (const convention of SCENARIO_CONVENTIONS) {
    it(`${convention}: equals what the OTLP decoder reads from the SDK's own serialization`, async () => {
      const run = await generateScenario({ kind: 'error-retry', convention, seed: 2 });
      const converter = new SpanConverter();
      const direct = run.spans.map((s) => converter.span(s));
      for (const s of direct) SpanSchema.parse(s);
      const decoded = decodeTraces(run.tracesProto, 'otlp_proto');
      expect(direct).toEqual(decoded);
      // Resource and scope are shared by reference, like the decoders do.
      expect(new Set(direct.map((s) => s.resource)).size).toBe(1);
      expect(new Set(direct.map((s) => s.scope)).size).toBe(1);
      // Exception events, links and error status survive.
      expect(direct.some((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
      expect(direct.some((s) => s.links.length > 0)).toBe(true);
      expect(direct.filter((s) => s.status.code === 2)).toHaveLength(1);
    });
  }

  it('converts SDK log records like the logs decoder', async () => {
    const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 2 });
    const converter = new SpanConverter();
    const direct = run.logRecords.map((r) => converter.logRecord(r));
    for (const r of direct) LogRecordSchema.parse(r);
    expect(direct).toEqual(decodeLogs(run.logsProto, 'otlp_proto'));
  });
});
