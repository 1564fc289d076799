import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CreditEventSchema, type CreditEvent } from '../../src/events/schemas.js';
import { createCreditSpanProcessor } from '../../src/inprocess/index.js';
import { generateScenario, SCENARIO_KINDS } from '../../src/scenarios/index.js';

describe('CreditSpanProcessor end to end (real assembler, conventions, credit engine)', () => {
  it('emits valid, conserving credit events for every generated kind', async () => {
    const received: CreditEvent[][] = [];
    const errors: unknown[] = [];
    const processor = await createCreditSpanProcessor({ tickIntervalMs: 60_000, onCredit: (events) => void received.push(events), onError: (e) => void errors.push(e) });
    // Registered on a provider like an app would; the generated spans are fed through it.
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const runs = await Promise.all(SCENARIO_KINDS.map((kind, i) => generateScenario({ kind, convention: (['genai', 'openinference', 'openllmetry'] as const)[i % 3]!, seed: 50 + i })));
    for (const run of runs) {
      for (const span of run.spans) processor.onEnd(span);
      for (const record of run.logRecords) processor.evaluationLogProcessor.onEmit(record as never);
    }
    await provider.forceFlush();
    expect(errors).toEqual([]);
    expect(received).toHaveLength(runs.length);
    for (const events of received) {
      for (const e of events) CreditEventSchema.parse(e);
      const episode = events.find((e) => e.event_type === 'episode_credit')!;
      const run = runs.find((r) => r.traceId === episode.trace_ids[0])!;
      expect(episode.system_value).toBeCloseTo(run.expected.score, 12);
      expect(episode.outcome).toBe(run.expected.label === 'pass' ? 'success' : 'failure');
      expect(new Set(episode.agents.map((a) => a.agent_name))).toEqual(new Set(run.expected.agents));
      const rewards = events.filter((e) => e.event_type === 'message_reward');
      expect(rewards.length).toBeGreaterThan(0);
      const total = rewards.reduce((n, r) => n + r.reward, 0);
      expect(total).toBeCloseTo(episode.system_value - episode.baseline, 9);
      if (run.expected.firstErrorSpanId && run.expected.label === 'fail') expect(episode.first_error?.step_id).toBe(run.expected.firstErrorSpanId);
      // The scenario's ground truth shows up in the default (provenance) credit.
      if (run.expected.redundant) expect(episode.agents.find((a) => a.agent_name === run.expected.redundant)!.credit).toBeCloseTo(0, 12);
      for (const id of run.expected.flaggedSpanIds) expect(rewards.find((r) => r.step_id === id)!.reward).toBeLessThan(0);
    }
    await provider.shutdown();
  });
});

describe('CreditSpanProcessor evaluationLogProcessor: the order of a judge\'s records', () => {
  it("the run's verdict logged before a step verdict gives one revision, the same events as the other order (as one OTLP request does)", async () => {
    const run = await generateScenario({ kind: 'saboteur', convention: 'genai', seed: 5 });
    const creditOf = async (records: typeof run.logRecords) => {
      const received: CreditEvent[][] = [];
      const processor = await createCreditSpanProcessor({ tickIntervalMs: 60_000, onCredit: (events) => void received.push(events) });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      for (const span of run.spans) processor.onEnd(span);
      for (const record of records) processor.evaluationLogProcessor.onEmit(record as never); // as a judge logs them, one by one
      await provider.forceFlush();
      await provider.shutdown();
      return received.map((events) => events.map((e) => ({ ...e, emitted_at_ms: 0 })));
    };
    // the generator logs the step verdict (code_review) first
    const stepFirst = await creditOf(run.logRecords);
    expect(stepFirst.map((events) => events[0]!.episode_revision)).toEqual([0]);
    // without the fix: revisions 0 (closed on task_success alone, the harmful step not flagged) and 1
    const verdictFirst = await creditOf([...run.logRecords].reverse());
    expect(verdictFirst).toEqual(stepFirst);
  });
});
