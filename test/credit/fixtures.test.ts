/**
 * End to end on the recorded OpenAI Agents SDK telemetry (/work/shared/fixtures/agents-sdk):
 * real OTLP bodies → otlp decode → conventions → creditEpisode → events. Runs 1–2 pass, run 3
 * fails (the flights agent's final answer refused the booking).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { creditEpisode } from '../../src/credit/index.js';
import { evaluationsFromLogs, stepsFromSpans } from '../../src/conventions/index.js';
import { outcomeToEvents } from '../../src/events/build.js';
import { CreditEventSchema } from '../../src/events/schemas.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const ROOT = AGENTS_SDK_FIXTURES;
const conventions = ['genai', 'openinference', 'openllmetry'] as const;

describe.each(conventions)('recorded %s fixture', (convention) => {
  it('credits the three runs: conserving, schema-valid, failure run localized and flagged', async () => {
    const dir = `${ROOT}/${convention}/otlp-http`;
    const logs = decodeLogs(readFileSync(`${dir}/0004-logs.pb`), 'otlp_proto');
    const evaluations = evaluationsFromLogs(logs);
    const outcomes = [];
    for (const file of ['0001-traces.pb', '0002-traces.pb', '0003-traces.pb']) {
      const spans = decodeTraces(readFileSync(`${dir}/${file}`), 'otlp_proto');
      const traceId = spans[0]!.traceId;
      const { steps, agents } = stepsFromSpans(spans);
      const evaluation = evaluations.find((e) => e.traceId === traceId);
      const out = await creditEpisode(
        { episodeId: traceId, revision: 0, traceIds: [traceId], steps, agents, evaluation, closeReason: 'root-ended', lateSpans: 0, duplicateSpans: 0 },
        {},
      );
      const total = out.systemValue - out.baseline;
      expect(Math.abs(out.agents.reduce((a, x) => a + x.credit, 0) - total)).toBeLessThan(1e-9);
      expect(Math.abs(out.messages.reduce((a, x) => a + x.reward, 0) - total)).toBeLessThan(1e-9);
      const events = outcomeToEvents(out, { emittedAtMs: 0 });
      for (const e of [events.episode, ...events.rewards, ...events.pairs]) CreditEventSchema.parse(e);
      outcomes.push(out);
    }
    expect(outcomes.map((o) => o.outcome)).toEqual(['success', 'success', 'failure']);
    const failed = outcomes[2]!;
    expect(failed.firstError).toBeDefined();
    // The refusal is the flights agent's final answer: with no error status it is the failed output.
    expect(failed.firstError!.agentId).toMatch(/flights/i);
    expect(failed.pairs.length).toBeGreaterThan(0);
    // In the passing flights run the flights agent (tool + answer) earns credit.
    const flights = outcomes[0]!.agents.find((a) => /flights/i.test(a.agentName));
    expect(flights?.credit).toBeGreaterThan(0);
  });
});
