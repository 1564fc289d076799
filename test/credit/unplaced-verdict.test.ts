/**
 * A failing verdict on a span that is no message and holds none — a guardrail or embedding span, a
 * task around plain code (OpenLLMetry `@task`, a retriever written as one) — has no message the
 * method rewards to fall on: no step became harmful, no first error, and nothing said so, in
 * either outcome. A trainer reading the events could not tell the verdict was not used.
 */
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { creditEpisode } from '../../src/credit/index.js';
import { EpisodeAssembler, ManualClock } from '../../src/episodes/index.js';
import { SpanConverter } from '../../src/inprocess/convert.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/process-episode.js';
import { generateScenario } from '../../src/scenarios/index.js';
import { episode, step } from './episode-builder.js';

describe('a failing verdict on a span that holds no message', () => {
  const steps = [
    step({ id: 1, agent: 'planner', name: 'chat gpt-4o' }),
    step({ id: 2, agent: 'coder', kind: 'agent', name: 'invoke_agent coder', rewardable: false, t: 2 }),
    step({ id: 3, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [1], t: 3 }),
    step({ id: 4, agent: 'coder', kind: 'other', name: 'apply_guardrail pii', parent: 2, rewardable: false, flagged: true, t: 4 }),
    step({ id: 5, agent: 'coder', name: 'chat gpt-4o', parent: 2, inputs: [3], t: 5 }),
  ];
  it.each([0.9, 0.2])('is named in the warnings (R = %s)', async (R) => {
    const out = await creditEpisode(episode(steps, R), {});
    expect(out.warnings.join('\n')).toMatch(/failing step-level verdict on other span "apply_guardrail pii" \(agent coder\) makes no step harmful and no first error/);
    expect(out.messages.every((m) => m.components.sabotage === 0)).toBe(true);
  });
  it('a verdict on an invocation that holds messages draws no such warning', async () => {
    const s = steps.map((x) => (x.name === 'apply_guardrail pii' ? { ...x, flaggedErroneous: undefined } : x.name === 'invoke_agent coder' ? { ...x, flaggedErroneous: true } : x));
    expect((await creditEpisode(episode(s, 0.9), {})).warnings.join('\n')).not.toMatch(/failing step-level verdict/);
  });
});

// What each convention's instrumentations write for a span the method does not reward.
const CHILDLESS = {
  genai: { name: 'apply_guardrail pii', attributes: { 'gen_ai.operation.name': 'apply_guardrail' } },
  openinference: { name: 'pii guardrail', attributes: { 'openinference.span.kind': 'GUARDRAIL' } },
  openllmetry: { name: 'retrieve_docs.task', attributes: { 'traceloop.span.kind': 'task', 'traceloop.entity.name': 'retrieve_docs' } },
} as const;

describe.each(['genai', 'openinference', 'openllmetry'] as const)('a generated run with a failing verdict on a childless span in the coder’s invocation (%s)', (convention) => {
  it.each(['success', 'failure'] as const)('says the verdict was not used (%s run)', async (kind) => {
    const run = await generateScenario({ kind, convention, seed: 11 });
    const spans = decodeTraces(run.tracesProto, 'otlp_proto');
    const id = stepsFromSpans(spans).steps.find((s) => s.kind === 'agent' && s.agentName === 'coder')!.stepId;
    const invocation = spans.find((s) => s.spanId === id)!;
    // the span, recorded by the OTel JS SDK as a child of the coder's invocation
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const parent = trace.setSpanContext(context.active(), { traceId: run.traceId, spanId: invocation.spanId, traceFlags: 1 });
    const t = Number(invocation.startTimeUnixNano / 1_000_000n) + 1;
    provider.getTracer('app').startSpan(CHILDLESS[convention].name, { attributes: CHILDLESS[convention].attributes, startTime: t }, parent).end(t + 1);
    const extra = exporter.getFinishedSpans().map((s) => new SpanConverter().span(s));
    await provider.shutdown();
    const asm = new EpisodeAssembler({}, new ManualClock(0));
    asm.addSpans([...spans, ...extra]);
    asm.addEvaluations([{ name: 'guardrail', score: 0, label: 'fail', traceId: run.traceId, spanId: extra[0]!.spanId, source: 'evaluations-stream', timeUnixNano: 1n }]);
    asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
    const events = await processEpisode(asm.flush('shutdown')[0]!);
    const ep = events.find((e) => e.event_type === 'episode_credit');
    expect(ep?.event_type === 'episode_credit' && ep.outcome).toBe(kind === 'success' ? 'success' : 'failure');
    expect(ep?.event_type === 'episode_credit' ? ep.diagnostics.warnings.join('\n') : '').toMatch(new RegExp(`failing step-level verdict on (other|chain) span "${CHILDLESS[convention].name}" \\(agent coder\\) makes no step harmful`));
  });
});

describe('many failing verdicts on spans that hold no message', () => {
  it('make one warning naming the first five', async () => {
    const steps = [step({ id: 1, agent: 'coder', name: 'chat gpt-4o' }), ...Array.from({ length: 40 }, (_, i) => step({ id: 2 + i, agent: 'coder', kind: 'other', name: `apply_guardrail ${i}`, rewardable: false, flagged: true, t: 2 + i }))];
    const out = await creditEpisode(episode(steps, 0.9), {});
    const about = out.warnings.filter((w) => w.includes('failing step-level verdict'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(/^failing step-level verdicts on other span "apply_guardrail 0" \(agent coder\), .*"apply_guardrail 4" \(agent coder\), … 35 more make no step harmful/);
  });
});
