import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { generateScenario, SCENARIO_CONVENTIONS, SCENARIO_KINDS } from '../../src/scenarios/index.js';

describe('generated scenarios through the conventions stage', () => {
  for (const convention of SCENARIO_CONVENTIONS) {
    it(`${convention}: every kind maps to the expected agents, rewardable steps with content, and its evaluation`, async () => {
      for (const kind of SCENARIO_KINDS) {
        const run = await generateScenario({ kind, convention, seed: 31 });
        const evaluations = evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto'));
        const { steps, agents } = stepsFromSpans(decodeTraces(run.tracesProto, 'otlp_proto'), { evaluations });
        expect(steps.filter((s) => s.flaggedErroneous).map((s) => s.stepId)).toEqual(run.expected.flaggedSpanIds);
        expect(agents.map((a) => a.agentName)).toEqual(run.expected.agents);
        const messages = steps.filter((s) => s.rewardable);
        expect(new Set(messages.map((s) => s.kind))).toEqual(new Set(['llm', 'tool', 'handoff']));
        if (run.expected.firstErrorSpanId) {
          const err = steps.find((s) => s.stepId === run.expected.firstErrorSpanId)!;
          expect(err.status.ok).toBe(false);
          expect(err.kind).toBe('tool');
        }
        if (run.expected.fixSpanId) expect(steps.find((s) => s.stepId === run.expected.fixSpanId)!.status.ok).toBe(true);
        const evaluation = evaluations.find((e) => e.spanId === run.rootSpanId);
        expect(evaluation).toMatchObject({ name: 'task_success', score: run.expected.score, label: run.expected.label, traceId: run.traceId, spanId: run.rootSpanId });
      }
    });
  }
});
