/**
 * buildStep declares every optional member of a step up front (undefined when absent) so that all
 * steps share one V8 map (steps.ts). Absent members must stay invisible: JSON and the present
 * members' order are those of the former build, which added present members one by one in this order.
 * The span facts the steps are drafted from share one shape too (steps.ts `canonicalFacts`).
 */
import { describe, expect, it } from 'vitest';
import { factsOf, stepsFromSpans } from '../../src/conventions/index.js';
import { digestOf, MAX_NAME_BYTES, truncateUtf8 } from '../../src/conventions/text.js';
import { INSTRUMENTATIONS, runSpans } from './fixtures.js';

const FORMER_ORDER = [
  'stepId', 'traceId', 'agentId', 'agentName', 'kind', 'rewardable', 'convention', 'name', 'startTimeUnixNano', 'endTimeUnixNano', 'status', 'causalInputs',
  'clockOffsetNano', 'parentStepId', 'toolName', 'toolCallId', 'handoffTo', 'inputDigest', 'inputText', 'outputDigest', 'outputText', 'usage', 'flaggedErroneous',
];

describe.each(INSTRUMENTATIONS)('%s fixture steps', (inst) => {
  const steps = runSpans(inst).flatMap((spans) => stepsFromSpans(spans).steps);

  it('all have the same own keys (one shape)', () => {
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) expect(Object.keys(s)).toEqual(FORMER_ORDER);
  });

  it('present members in the former order; JSON as if absent members were never set', () => {
    for (const s of steps) {
      const present = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
      const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
      expect(JSON.stringify(s, replacer)).toBe(JSON.stringify(present, replacer));
      const keys = Object.keys(present);
      expect(keys).toEqual(FORMER_ORDER.filter((k) => keys.includes(k)));
    }
  });
});

describe.each(INSTRUMENTATIONS)('%s fixture span facts', (inst) => {
  it('all have the same own keys (one shape), names cut as before', () => {
    const spans = runSpans(inst).flat();
    expect(spans.length).toBeGreaterThan(0);
    const keys = Object.keys(factsOf(spans[0]!));
    for (const s of spans) {
      const f = factsOf(s);
      expect(Object.keys(f)).toEqual(keys);
      for (const k of ['agentName', 'agentId', 'toolName', 'toolCallId', 'handoffFrom', 'handoffTo', 'graphNodeId', 'graphParentNodeId'] as const) {
        expect(f[k] === undefined || Buffer.byteLength(f[k]!) <= MAX_NAME_BYTES).toBe(true);
      }
    }
  });

  it('names over MAX_NAME_BYTES are cut, as their head and the digest of the whole', () => {
    const long = 'a'.repeat(MAX_NAME_BYTES + 10);
    const f = factsOf({ ...runSpans(inst).flat()[0]!, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': long, 'gen_ai.agent.name': long } });
    expect(f.toolName).toBe(`${truncateUtf8(long, MAX_NAME_BYTES - 20)}${digestOf(long)}`);
    expect(f.agentName).toBe(`${truncateUtf8(long, MAX_NAME_BYTES - 20)}${digestOf(long)}`);
    expect(Buffer.byteLength(f.agentName!)).toBeLessThanOrEqual(MAX_NAME_BYTES);
  });
});
