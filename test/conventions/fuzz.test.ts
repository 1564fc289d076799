/**
 * Property tests: the mappers and the episode passes are total. Seeds are real spans (the
 * recorded fixtures, decoded by src/otlp); fast-check mutates their attributes, names, events,
 * links, statuses and parent structure (self-parents, cycles, missing parents, duplicate ids).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSchema, AgentStepSchema, EvaluationSchema } from '../../src/model/agents.js';
import type { AttributeValue, Attributes, LogRecord, Span, SpanEvent } from '../../src/model/telemetry.js';
import {
  MAPPERS,
  evaluationsFromLogs,
  evaluationsFromSpans,
  parseEvaluationRecords,
  stepsFromSpans,
} from '../../src/conventions/index.js';
import { INSTRUMENTATIONS, fixtureLogs, runSpans } from './fixtures.js';

const SEEDS: Span[] = INSTRUMENTATIONS.flatMap((i) => runSpans(i).flat());
const LOG_SEEDS: LogRecord[] = INSTRUMENTATIONS.flatMap((i) => fixtureLogs(i));
const ID_POOL = Array.from({ length: 12 }, (_, i) => (0x1000 + i).toString(16).padStart(16, '0'));
const TRACE_POOL = [SEEDS[0]!.traceId, 'ffffffffffffffffffffffffffffffff'];
const CALL_IDS = ['call_1', 'call_2', 'call_3'];

const KEYS = [
  'gen_ai.operation.name', 'gen_ai.agent.name', 'gen_ai.agent.id', 'gen_ai.tool.name', 'gen_ai.tool.call.id',
  'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'gen_ai.input.messages', 'gen_ai.output.messages',
  'gen_ai.handoff.from_agent', 'gen_ai.handoff.to_agent', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens',
  'gen_ai.conversation.id', 'openinference.span.kind', 'agent.name', 'graph.node.id', 'graph.node.parent_id',
  'input.value', 'output.value', 'input.mime_type', 'output.mime_type', 'tool.name', 'tool.id', 'session.id',
  'llm.token_count.prompt', 'llm.input_messages.0.message.tool_calls.0.tool_call.id',
  'llm.output_messages.0.message.tool_calls.0.tool_call.function.name', 'llm.output_messages.1.message.content',
  'llm.input_messages.2.message.tool_call_id', 'traceloop.span.kind', 'traceloop.entity.name', 'traceloop.entity.input',
  'llm.request.type', 'gen_ai.prompt.0.content', 'gen_ai.completion.0.tool_calls.0.id', 'gen_ai.completion.0.tool_calls.0.name',
  'evaluation.name', 'evaluation.score', 'evaluation.label', 'annotation.score', 'agent_credit.score',
  'gen_ai.evaluation.name', 'gen_ai.evaluation.score.value', 'gen_ai.evaluation.score.label', 'event.name',
] as const;
const KIND_VALUES = [
  'LLM', 'TOOL', 'AGENT', 'CHAIN', 'EVALUATOR', 'RETRIEVER', 'chat', 'invoke_agent', 'execute_tool', 'agent_handoff',
  'handoff', 'unknown', 'workflow', 'task', 'agent', 'tool', 'create_agent', 'text_completion', 'completion', '',
  'OpenAI Agent', 'agent', 'triage', 'flights', 'pass', 'fail', 'Agent workflow', 'transfer_to_flights', 'search_flights',
];

const messagesJson: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      role: fc.constantFrom('user', 'assistant', 'tool', 'system'),
      parts: fc.array(
        fc.oneof(
          fc.record({ type: fc.constant('text'), content: fc.oneof(fc.string(), fc.constant("{'tool_calls': [{'id': 'call_1', 'function': {'arguments': '{}', 'name': 'x'}}]}")) }),
          fc.record({ type: fc.constant('tool_call'), id: fc.constantFrom(...CALL_IDS), name: fc.constantFrom('search_flights', 'transfer_to_flights', 'x'), arguments: fc.oneof(fc.json(), fc.object()) }),
          fc.record({ type: fc.constant('tool_call_response'), id: fc.constantFrom(...CALL_IDS), result: fc.anything() }),
          fc.anything(),
        ),
        { maxLength: 4 },
      ),
    }),
    { maxLength: 4 },
  )
  .map((m) => JSON.stringify(m));

const primitive: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(...KIND_VALUES, ...CALL_IDS),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.json({ maxDepth: 3 }),
  messagesJson,
);
const attrValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  { weight: 6, arbitrary: primitive },
  { weight: 1, arbitrary: fc.array(primitive, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), primitive, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) },
);
const attributes: fc.Arbitrary<Attributes> = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 12 })), attrValue), { maxLength: 10 })
  .map((pairs) => Object.fromEntries(pairs) as Attributes);

const event: fc.Arbitrary<SpanEvent> = fc.record({
  timeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  name: fc.constantFrom('exception', 'gen_ai.evaluation.result', 'gen_ai.choice', 'x'),
  attributes,
});

const spanSpec = fc.record({
  seed: fc.nat(SEEDS.length - 1),
  id: fc.nat(ID_POOL.length - 1),
  parent: fc.option(fc.nat(ID_POOL.length - 1 + 3)), // beyond the pool: a missing parent
  keepSeedAttributes: fc.boolean(),
  extra: attributes,
  name: fc.option(fc.constantFrom('Agent workflow', 'handoff to flights', 'triage → unknown.handoff', 'x.agent', 'y.tool', 'turn', '')),
  start: fc.bigInt({ min: 0n, max: 100n }),
  duration: fc.bigInt({ min: -5n, max: 50n }),
  status: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  message: fc.option(fc.string({ maxLength: 10 })),
  events: fc.array(event, { maxLength: 2 }),
  links: fc.array(fc.tuple(fc.nat(TRACE_POOL.length - 1), fc.nat(ID_POOL.length - 1)), { maxLength: 2 }),
  trace: fc.nat(TRACE_POOL.length - 1),
});

type SpanSpec = typeof spanSpec extends fc.Arbitrary<infer T> ? T : never;

function toSpan(s: SpanSpec): Span {
  const seed = SEEDS[s.seed]!;
  const parentId = s.parent === null ? undefined : ID_POOL[s.parent] ?? 'abcdefabcdefabcd';
  const start = 1_000_000n + s.start;
  return {
    ...seed,
    traceId: TRACE_POOL[s.trace]!,
    spanId: ID_POOL[s.id]!,
    parentSpanId: parentId,
    name: s.name ?? seed.name,
    startTimeUnixNano: start,
    endTimeUnixNano: start + s.duration,
    attributes: s.keepSeedAttributes ? { ...seed.attributes, ...s.extra } : s.extra,
    events: s.events,
    links: s.links.map(([t, i]) => ({ traceId: TRACE_POOL[t]!, spanId: ID_POOL[i]!, attributes: {} })),
    status: s.message === null ? { code: s.status } : { code: s.status, message: s.message },
  };
}

const episode = fc.array(spanSpec, { minLength: 1, maxLength: 16 }).map((specs) => specs.map(toSpan));

describe('fuzz: conventions are total', () => {
  it('every mapper returns undefined or facts for any span, never throws', () => {
    fc.assert(
      fc.property(spanSpec, (spec) => {
        const span = toSpan(spec);
        for (const mapper of MAPPERS) {
          const f = mapper(span);
          if (f !== undefined) {
            expect(typeof f.kind).toBe('string');
            expect(Array.isArray(f.issuedCalls)).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('stepsFromSpans returns valid steps and agents with an acyclic causal graph (2,000 episodes)', () => {
    fc.assert(
      fc.property(episode, (spans) => {
        const { steps, agents, warnings } = stepsFromSpans(spans);
        const ids = new Set(spans.map((s) => s.spanId));
        expect(steps).toHaveLength(ids.size);
        const index = new Map(steps.map((s, i) => [s.stepId, i]));
        expect(index.size).toBe(steps.length);
        for (const [i, step] of steps.entries()) {
          const parsed = AgentStepSchema.safeParse(step);
          if (!parsed.success) throw new Error(`invalid step: ${parsed.error.message}`);
          for (const input of step.causalInputs) {
            expect(index.get(input)).toBeLessThan(i); // only earlier steps: a DAG
          }
          expect(new Set(step.causalInputs).size).toBe(step.causalInputs.length);
          if (step.parentStepId !== undefined) {
            expect(ids.has(step.parentStepId)).toBe(true);
            expect(step.parentStepId).not.toBe(step.stepId);
          }
          expect(step.rewardable).toBe(['llm', 'tool', 'handoff'].includes(step.kind));
          if (step.outputText !== undefined) expect(Buffer.byteLength(step.outputText)).toBeLessThanOrEqual(2048);
          if (step.inputText !== undefined) expect(Buffer.byteLength(step.inputText)).toBeLessThanOrEqual(2048);
        }
        for (const a of agents) expect(AgentSchema.safeParse(a).success).toBe(true);
        const agentIds = new Set(agents.map((a) => a.agentId));
        expect(agentIds.size).toBe(agents.length);
        for (const step of steps) if (step.rewardable || step.kind === 'agent') expect(agentIds.has(step.agentId)).toBe(true);
        for (const w of warnings) expect(typeof w).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('evaluationsFromSpans returns valid evaluations for any episode', () => {
    fc.assert(
      fc.property(episode, fc.constantFrom(undefined, 'agent_credit.score', 'gen_ai.agent.name'), (spans, rootScoreAttribute) => {
        const evals = evaluationsFromSpans(spans, rootScoreAttribute === undefined ? {} : { rootScoreAttribute });
        for (const e of evals) expect(EvaluationSchema.safeParse(e).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('evaluationsFromLogs returns valid evaluations for mutated real log records', () => {
    const log = fc.record({
      seed: fc.nat(LOG_SEEDS.length - 1),
      attributes,
      keep: fc.boolean(),
      eventName: fc.option(fc.constantFrom('gen_ai.evaluation.result', 'other', '')),
      body: fc.option(fc.oneof(attrValue, attributes)),
      time: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    });
    fc.assert(
      fc.property(fc.array(log, { maxLength: 8 }), (specs) => {
        const logs: LogRecord[] = specs.map((s) => {
          const seed = LOG_SEEDS[s.seed]!;
          const rec: LogRecord = { ...seed, attributes: s.keep ? { ...seed.attributes, ...s.attributes } : s.attributes, timeUnixNano: s.time };
          return { ...rec, ...(s.eventName === null ? { eventName: undefined } : { eventName: s.eventName }), ...(s.body === null ? {} : { body: s.body }) };
        });
        for (const e of evaluationsFromLogs(logs)) expect(EvaluationSchema.safeParse(e).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('parseEvaluationRecords never throws and returns only valid evaluations', () => {
    const record = fc.record(
      {
        trace_id: fc.oneof(fc.constantFrom(...TRACE_POOL, TRACE_POOL[0]!.toUpperCase()), fc.string()),
        conversation_id: fc.string(),
        name: fc.string(),
        score: fc.oneof(fc.double(), fc.string()),
        label: fc.constantFrom('pass', 'fail', 'meh', ''),
        time_unix_nano: fc.oneof(fc.nat(), fc.string(), fc.constant('18446744073709551615')),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      record.map((r) => JSON.stringify(r)),
      fc.array(record).map((r) => JSON.stringify(r)),
      fc.array(record).map((r) => r.map((x) => JSON.stringify(x)).join('\n')),
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(payload, (p) => {
        const { evaluations, errors } = parseEvaluationRecords(p, { receivedAtUnixNano: 5n });
        for (const e of evaluations) expect(EvaluationSchema.safeParse(e).success).toBe(true);
        for (const err of errors) expect(typeof err.message).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});
