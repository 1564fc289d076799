import { describe, expect, it } from 'vitest';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import {
  batchFleet,
  generateFleet,
  generateScenario,
  kafkaRecordsFor,
  SCENARIO_CONVENTIONS,
  SCENARIO_KINDS,
  ScenarioExpectationSchema,
  scoreContents,
} from '../../src/scenarios/index.js';
import type { Span } from '../../src/model/telemetry.js';

const byId = (spans: readonly Span[]) => new Map(spans.map((s) => [s.spanId, s]));

/** Agent name of a decoded span in any of the three conventions (own attribute only). */
function agentAttr(s: Span): string | undefined {
  const a = s.attributes;
  const v = a['gen_ai.agent.name'] ?? a['agent.name'] ?? (a['traceloop.span.kind'] === 'agent' ? a['traceloop.entity.name'] : undefined);
  return typeof v === 'string' ? v : undefined;
}

describe('generateScenario', () => {
  for (const convention of SCENARIO_CONVENTIONS) {
    for (const kind of SCENARIO_KINDS) {
      it(`${kind}/${convention}: protobuf and JSON decode to the same span tree with one root and the evaluation log`, async () => {
        const run = await generateScenario({ kind, convention, seed: 42 });
        ScenarioExpectationSchema.parse(run.expected);
        const proto = decodeTraces(run.tracesProto, 'otlp_proto');
        const json = decodeTraces(run.tracesJson, 'otlp_json');
        expect(proto.length).toBe(run.spans.length);
        expect(json.map((s) => [s.spanId, s.parentSpanId, s.name, s.startTimeUnixNano, s.endTimeUnixNano])).toEqual(
          proto.map((s) => [s.spanId, s.parentSpanId, s.name, s.startTimeUnixNano, s.endTimeUnixNano]),
        );
        expect(new Set(proto.map((s) => s.traceId))).toEqual(new Set([run.traceId]));
        const roots = proto.filter((s) => s.parentSpanId === undefined);
        expect(roots.map((s) => s.spanId)).toEqual([run.rootSpanId]);
        const ids = byId(proto);
        for (const s of proto) {
          if (s.parentSpanId) {
            const parent = ids.get(s.parentSpanId);
            expect(parent, `parent of ${s.name}`).toBeDefined();
            // Children lie within their parents (explicit, planned timestamps).
            expect(s.startTimeUnixNano >= parent!.startTimeUnixNano && s.endTimeUnixNano <= parent!.endTimeUnixNano).toBe(true);
          }
          for (const link of s.links) expect(ids.has(link.spanId)).toBe(true);
        }
        // Agents in the telemetry are exactly the expected ones, in order of first start.
        const agentSpans = proto.filter((s) => agentAttr(s) !== undefined && ids.get(s.parentSpanId ?? '')?.spanId === run.rootSpanId);
        agentSpans.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
        expect(agentSpans.map(agentAttr)).toEqual(run.expected.agents);

        for (const logs of [decodeLogs(run.logsProto, 'otlp_proto'), decodeLogs(run.logsJson, 'otlp_json')]) {
          // Step-level verdicts first (saboteur), the system evaluation of the root span last.
          expect(logs).toHaveLength(run.expected.flaggedSpanIds.length + 1);
          expect(logs.slice(0, -1).map((l) => [l.spanId, l.attributes['gen_ai.evaluation.score.label']])).toEqual(run.expected.flaggedSpanIds.map((id) => [id, 'fail']));
          const ev = logs.at(-1);
          expect(ev!.eventName).toBe('gen_ai.evaluation.result');
          expect(ev!.traceId).toBe(run.traceId);
          expect(ev!.spanId).toBe(run.rootSpanId);
          expect(ev!.attributes['gen_ai.evaluation.name']).toBe('task_success');
          expect(ev!.attributes['gen_ai.evaluation.score.value']).toBe(run.expected.score);
          expect(ev!.attributes['gen_ai.evaluation.score.label']).toBe(run.expected.label);
          expect(typeof ev!.attributes['gen_ai.evaluation.explanation']).toBe('string');
          expect(ev!.resource.attributes['service.name']).toBe('task-evaluator');
          const root = ids.get(run.rootSpanId)!;
          expect(ev!.timeUnixNano > root.endTimeUnixNano).toBe(true);
        }
      });
    }
  }

  it('is deterministic: same options give identical bytes; another seed gives other ids', async () => {
    for (const kind of SCENARIO_KINDS) {
      const a = await generateScenario({ kind, convention: 'openllmetry', seed: 9, agents: 5, steps: 3 });
      const b = await generateScenario({ kind, convention: 'openllmetry', seed: 9, agents: 5, steps: 3 });
      expect(Buffer.from(a.tracesProto).equals(Buffer.from(b.tracesProto))).toBe(true);
      expect(a.tracesJson).toBe(b.tracesJson);
      expect(Buffer.from(a.logsProto).equals(Buffer.from(b.logsProto))).toBe(true);
      expect(a.expected).toEqual(b.expected);
      const c = await generateScenario({ kind, convention: 'openllmetry', seed: 10, agents: 5, steps: 3 });
      expect(c.traceId).not.toBe(a.traceId);
    }
  });

  it('gives different trace ids to different kinds and conventions with the same seed', async () => {
    const ids = new Set<string>();
    for (const kind of SCENARIO_KINDS) for (const convention of SCENARIO_CONVENTIONS) ids.add((await generateScenario({ kind, convention, seed: 1 })).traceId);
    expect(ids.size).toBe(SCENARIO_KINDS.length * SCENARIO_CONVENTIONS.length);
  });

  it('scales agents and steps: extra agents are coders, each writes `steps` functions', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 3, agents: 5, steps: 4 });
    expect(run.expected.agents).toEqual(['planner', 'coder', 'coder_2', 'coder_3', 'reviewer']);
    // Plan marker + 3 coders x 4 functions + tests passed + approval.
    expect(run.expected.requiredContent).toHaveLength(1 + 12 + 2);
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const code = spans.filter((s) => String(s.attributes['gen_ai.output.messages'] ?? '').includes('export function'));
    expect(code).toHaveLength(12);
  });

  it('rejects bad options with a message naming the option', async () => {
    await expect(generateScenario({ kind: 'saboteur', convention: 'genai', seed: 1, agents: 3 })).rejects.toThrow(/"agents"/);
    await expect(generateScenario({ kind: 'success', convention: 'genai', seed: 1.5 })).rejects.toThrow(/"seed"/);
    await expect(generateScenario({ kind: 'nope' as never, convention: 'genai', seed: 1 })).rejects.toThrow(/"kind"/);
  });

  it('a misspelt option is refused with the one meant (it was dropped: { agent: 5 } gave the 4-agent run)', async () => {
    await expect(generateScenario({ kind: 'saboteur', convention: 'genai', seed: 1, agent: 5 } as never)).rejects.toThrow(
      /^invalid scenario option "agent": unknown option — did you mean agents\? — accepted: kind, convention, seed, agents, steps, baseTimeMs, stepEvaluationsBy$/,
    );
    await expect(generateScenario('saboteur', 'genai', { seed: 1, step: 3 } as never)).rejects.toThrow(/"step": unknown option — did you mean steps\?/);
    await expect(generateFleet({ episodes: 2, seed: 3, agent: 5 } as never)).rejects.toThrow(/^invalid fleet option "agent": unknown option — did you mean agents\?/);
    expect((await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 1, agents: 5 })).expected.agents).toHaveLength(5);
  });

  it('accepts the docs/contracts.md call form', async () => {
    const run = await generateScenario('failure', 'genai', { seed: 4 });
    expect(run.expected.kind).toBe('failure');
    expect(run.traces).toBe(run.tracesProto);
    expect(run.logs).toBe(run.logsProto);
  });
});

describe('scenario kinds carry their ground truth in the telemetry', () => {
  it('success: every agent after the planner builds on an earlier agent (span links), score 1 pass', async () => {
    const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 5 });
    expect(run.expected).toMatchObject({ score: 1, label: 'pass' });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const ids = byId(spans);
    const linkedAgents = new Set(spans.flatMap((s) => s.links.map((l) => ids.get(l.spanId)!.attributes['gen_ai.agent.name'])));
    // planner's plan and the coder's work are consumed downstream
    expect(linkedAgents).toEqual(new Set(['planner', 'coder']));
  });

  it('redundant: nobody links to the researcher, and its tool result duplicates an earlier one', async () => {
    const run = await generateScenario({ kind: 'redundant', convention: 'genai', seed: 6 });
    expect(run.expected.redundant).toBe('researcher');
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const ids = byId(spans);
    const researcher = spans.filter((s) => s.attributes['gen_ai.agent.name'] === 'researcher');
    expect(researcher.length).toBeGreaterThan(0);
    const linkedTo = new Set(spans.flatMap((s) => s.links.map((l) => l.spanId)));
    expect(researcher.some((s) => linkedTo.has(s.spanId))).toBe(false);
    // Outside the hand-off chain: it hands off to nobody, and nobody hands off to it.
    const handoffs = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'agent_handoff');
    expect(handoffs.map((h) => h.attributes['gen_ai.handoff.to_agent'])).toEqual(['coder', 'reviewer']);
    const results = spans.filter((s) => s.attributes['gen_ai.tool.name'] === 'search_docs').map((s) => [ids.get(s.spanId)!.attributes['gen_ai.agent.name'], s.attributes['gen_ai.tool.call.result']]);
    expect(results).toHaveLength(2);
    expect(results[0]![1]).toBe(results[1]![1]);
    expect(results.map((r) => r[0])).toEqual(['coder', 'researcher']);
  });

  it('saboteur: the optimizer writes forbidden content that the reviewer reverts; the score drops but passes', async () => {
    const run = await generateScenario({ kind: 'saboteur', convention: 'openinference', seed: 7 });
    expect(run.expected.saboteur).toBe('optimizer');
    expect(run.expected.score).toBeLessThan(1);
    expect(run.expected.label).toBe('pass');
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const ids = byId(spans);
    const harmful = spans.find((s) => String(s.attributes['output.value'] ?? '').includes(run.expected.forbiddenContent[0]!));
    expect(harmful).toBeDefined();
    expect(ids.get(harmful!.parentSpanId!)!.attributes['agent.name']).toBe('optimizer');
    expect(run.expected.flaggedSpanIds).toEqual([harmful!.spanId]);
    const revert = spans.find((s) => String(s.attributes['output.value'] ?? '').startsWith('Reverted'));
    expect(revert!.links.map((l) => l.spanId)).toContain(harmful!.spanId);
    expect(revert!.startTimeUnixNano > harmful!.endTimeUnixNano).toBe(true);
  });

  it('error-retry: the first error is a failed tool call with an exception event; the fix is a later call of the same tool', async () => {
    const run = await generateScenario({ kind: 'error-retry', convention: 'openllmetry', seed: 8 });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const ids = byId(spans);
    const err = ids.get(run.expected.firstErrorSpanId!)!;
    const fix = ids.get(run.expected.fixSpanId!)!;
    expect(err.status.code).toBe(2);
    expect(err.events.map((e) => e.name)).toContain('exception');
    expect(err.events[0]!.attributes['exception.type']).toBe('ConnectionResetError');
    expect(fix.status.code).toBe(1);
    expect(fix.attributes['gen_ai.tool.name']).toBe(err.attributes['gen_ai.tool.name']);
    expect(fix.parentSpanId).toBe(err.parentSpanId);
    expect(fix.startTimeUnixNano > err.endTimeUnixNano).toBe(true);
    expect(run.expected.label).toBe('pass');
    // It is the first error in time.
    const errors = spans.filter((s) => s.status.code === 2).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    expect(errors[0]!.spanId).toBe(err.spanId);
  });

  it('failure: the first error is never repaired and the score is below the pass threshold', async () => {
    const run = await generateScenario({ kind: 'failure', convention: 'genai', seed: 11 });
    expect(run.expected.fixSpanId).toBeUndefined();
    expect(run.expected.label).toBe('fail');
    expect(run.expected.score).toBeLessThan(0.5);
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const errors = spans.filter((s) => s.status.code === 2).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    expect(errors[0]!.spanId).toBe(run.expected.firstErrorSpanId);
    expect(errors[0]!.events[0]!.name).toBe('exception');
    const sameTool = spans.filter((s) => s.attributes['gen_ai.tool.name'] === errors[0]!.attributes['gen_ai.tool.name']);
    expect(sameTool.every((s) => s.status.code === 2)).toBe(true);
  });

  it('the emitted score is the score rule applied to the messages in the telemetry', async () => {
    for (const kind of SCENARIO_KINDS) {
      const run = await generateScenario({ kind, convention: 'genai', seed: 12 });
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      const contents = spans.flatMap((s) => {
        const out: string[] = [];
        const msgs = s.attributes['gen_ai.output.messages'];
        if (typeof msgs === 'string') for (const m of JSON.parse(msgs) as { parts: { type: string; content?: string }[] }[]) for (const p of m.parts) if (p.type === 'text' && p.content) out.push(p.content);
        const result = s.attributes['gen_ai.tool.call.result'];
        if (typeof result === 'string') out.push(result);
        return out;
      });
      expect(scoreContents(contents, run.expected.requiredContent, run.expected.forbiddenContent)).toBe(run.expected.score);
    }
  });
});

describe('fleets and Kafka records', () => {
  it('generateFleet is deterministic, follows the mix, and batches many traces into one request', async () => {
    const a = await generateFleet({ episodes: 12, seed: 99, mix: { success: 1, failure: 1 } });
    const b = await generateFleet({ episodes: 12, seed: 99, mix: { success: 1, failure: 1 } });
    expect(a.map((r) => r.traceId)).toEqual(b.map((r) => r.traceId));
    expect(new Set(a.map((r) => r.traceId)).size).toBe(12);
    expect(new Set(a.map((r) => r.expected.kind))).toEqual(new Set(['success', 'failure']));
    const batches = batchFleet(a, 'otlp_proto', 5);
    expect(batches.map((x) => x.traceIds.length)).toEqual([5, 5, 2]);
    const decoded = decodeTraces(batches[0]!.traces, 'otlp_proto');
    expect(new Set(decoded.map((s) => s.traceId))).toEqual(new Set(batches[0]!.traceIds));
    expect(decoded).toHaveLength(a.slice(0, 5).reduce((n, r) => n + r.spans.length, 0));
    expect(decodeLogs(batches[2]!.logs, 'otlp_proto')).toHaveLength(a.slice(10).reduce((n, r) => n + r.logRecords.length, 0));
    const jsonBatch = batchFleet(a, 'otlp_json', 12)[0]!;
    expect(decodeTraces(jsonBatch.traces, 'otlp_json')).toHaveLength(decoded.length + a.slice(5).reduce((n, r) => n + r.spans.length, 0));
  });

  it('kafkaRecordsFor: one spans record per trace keyed by the hex trace id, one logs record per log record', async () => {
    const runs = await generateFleet({ episodes: 3, seed: 5 });
    for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
      const records = kafkaRecordsFor(runs, encoding);
      expect(records.spans.map((r) => r.key)).toEqual(runs.map((r) => r.traceId));
      for (const [i, rec] of records.spans.entries()) {
        expect(rec.key).toMatch(/^[0-9a-f]{32}$/);
        const spans = decodeTraces(rec.value, encoding);
        expect(spans).toHaveLength(runs[i]!.spans.length);
        expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([rec.key]));
      }
      expect(records.logs).toHaveLength(runs.reduce((n, r) => n + r.logRecords.length, 0));
      for (const rec of records.logs) {
        const [log] = decodeLogs(rec.value, encoding);
        expect(log!.traceId).toBe(rec.key);
      }
    }
  });
});

describe('large runs', () => {
  it('keeps every span link of a big review (no SDK link limit truncation) and ignores OTEL_* limit variables', async () => {
    const before = process.env.OTEL_SPAN_LINK_COUNT_LIMIT;
    process.env.OTEL_SPAN_LINK_COUNT_LIMIT = '2';
    try {
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 2, agents: 22, steps: 8 });
      const spans = decodeTraces(run.tracesProto, 'otlp_proto');
      const review = spans.find((s) => s.attributes['gen_ai.agent.name'] === 'reviewer' && s.links.length > 0)!;
      // 20 coders x 8 functions + 20 test runs.
      expect(review.links).toHaveLength(20 * 8 + 20);
    } finally {
      if (before === undefined) delete process.env.OTEL_SPAN_LINK_COUNT_LIMIT;
      else process.env.OTEL_SPAN_LINK_COUNT_LIMIT = before;
    }
  });
});
