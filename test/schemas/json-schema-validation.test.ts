/**
 * The committed JSON Schemas (schemas/) are what consumers outside TypeScript validate against —
 * a Python trainer, a Java sink, an editor checking a config file. They are generated from the zod
 * schemas (schemas-current.test.ts checks they are current), but generation can lose or tighten
 * things zod enforces differently. So here an independent validator (Ajv, draft 2020-12, with
 * format checks) validates what the product really emits and the configuration files it ships:
 * events from the recorded agents-sdk fixtures (all three instrumentations, the OTLP/HTTP bodies
 * and the collector's Kafka records in both encodings) and from a generated fleet of every
 * scenario kind and convention, each through the assembler and `processEpisode` as the jobs run it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventSchemas } from '../../src/cli/schema-files.js';
import { loadConfig } from '../../src/config/index.js';
import { evaluationsFromLogs, parseEvaluationRecords } from '../../src/conventions/index.js';
import { EpisodeAssembler } from '../../src/episodes/index.js';
import { MessageRewardSchema, SCHEMA_VERSION, type CreditEvent } from '../../src/events/schemas.js';
import type { Episode } from '../../src/model/episode.js';
import type { LogRecord, Span } from '../../src/model/telemetry.js';
import { decodeLogs, decodeTraces } from '../../src/otlp/index.js';
import { processEpisode } from '../../src/runtime/index.js';
import { generateFleet, kafkaRecordsFor } from '../../src/scenarios/index.js';
import { INSTRUMENTATIONS, fixtureLogs, kafkaLogRecords, kafkaSpanRecords, runSpans } from '../conventions/fixtures.js';

const root = join(import.meta.dirname, '../..');
const schemaDir = join(root, 'schemas');
// ajv-formats is CommonJS with `exports.default`; under ESM the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * Exactly the README's recipe (Events): a plain `new Ajv2020()` — Ajv's strict defaults, no extra
 * options or keywords — and, for the config schema (its only `format: uri`), ajv-formats. A
 * non-standard keyword in a published schema fails here ("strict mode: unknown keyword"), as it
 * failed for a trainer following the README while this test quietly added it (consumer review).
 */
function validators(): Record<string, ValidateFunction> {
  const out: Record<string, ValidateFunction> = {};
  for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'))) {
    const ajv = new Ajv2020();
    if (file === 'agent-credit-config.schema.json') addFormats(ajv);
    out[file] = ajv.compile(JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as object);
  }
  return out;
}

/**
 * The emitter's contract, never published: closed objects, schema_version = SCHEMA_VERSION, closed
 * enums. The published schemas are open (a consumer of this version accepts the next minor's
 * events), so this is what catches a field the builder adds without declaring it.
 */
function strictValidators(): Record<string, ValidateFunction> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  return Object.fromEntries(Object.entries(eventSchemas('strict')).map(([file, text]) => [file, ajv.compile(JSON.parse(text) as object)]));
}

describe('the published schemas compile as a consumer compiles them', () => {
  const files = readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json'));
  it.each(files)('%s: plain new Ajv2020(), and with every strict option on (strict: true)', (file) => {
    const schema = JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as Record<string, unknown>;
    const formats = file === 'agent-credit-config.schema.json';
    for (const ajv of [new Ajv2020(), new Ajv2020({ strict: true })]) {
      if (formats) addFormats(ajv);
      expect(() => ajv.compile(schema), JSON.stringify(ajv.opts.strict)).not.toThrow();
    }
    // only standard keywords: the version is in a $comment
    expect(Object.keys(schema).filter((k) => k.startsWith('x-'))).toEqual([]);
    expect(schema.$comment).toMatch(/^schema version \d+\.\d+\.\d+$/);
  });
});

const perType: Record<CreditEvent['event_type'], string> = {
  episode_credit: 'episode-credit.schema.json',
  message_reward: 'message-reward.schema.json',
  preference_pair: 'preference-pair.schema.json',
};

/** Closed episodes of these span batches and log records, as the jobs assemble them. */
function episodesOf(batches: readonly (readonly Span[])[], logs: readonly LogRecord[]): Episode[] {
  const asm = new EpisodeAssembler({ maxOpenEpisodes: 10_000 });
  for (const b of batches) asm.addSpans(b);
  asm.addEvaluations(evaluationsFromLogs(logs));
  return asm.flush('shutdown');
}

async function eventsOf(episodes: readonly Episode[]): Promise<CreditEvent[]> {
  const out: CreditEvent[] = [];
  for (const e of episodes) out.push(...(await processEpisode(e)));
  return out;
}

/** Round trip through JSON text, as a consumer receives it (drops `undefined`, keeps numbers). */
const wire = (e: CreditEvent): unknown => JSON.parse(JSON.stringify(e)) as unknown;

let strict: Record<string, ValidateFunction> | undefined;

/** Valid against the published schemas and against the strict ones (exactly this version's fields and values). */
function expectValid(v: Record<string, ValidateFunction>, events: readonly CreditEvent[], label: string): void {
  strict ??= strictValidators();
  for (const e of events) {
    const json = wire(e);
    for (const file of ['credit-event.schema.json', perType[e.event_type]]) {
      for (const [which, check] of [['published', v[file]!], ['strict', strict[file]!]] as const) {
        const ok = check(json);
        expect(ok, `${label}: ${e.event_type} ${e.event_id} against ${which} ${file}: ${JSON.stringify(check.errors?.slice(0, 3))}`).toBe(true);
      }
    }
  }
}

describe('events validate against the committed JSON Schemas (Ajv, draft 2020-12)', () => {
  let v: Record<string, ValidateFunction>;
  beforeAll(() => {
    v = validators();
  });

  it.each(INSTRUMENTATIONS)('recorded %s fixture (OTLP/HTTP bodies)', async (inst) => {
    const events = await eventsOf(episodesOf(runSpans(inst), fixtureLogs(inst)));
    expect(events.filter((e) => e.event_type === 'episode_credit')).toHaveLength(3);
    // run 3 fails: its preference pairs are among the events validated
    expect(events.some((e) => e.event_type === 'preference_pair')).toBe(true);
    expectValid(v, events, inst);
  });

  it.each(['otlp_proto', 'otlp_json'] as const)('recorded collector Kafka records (%s)', async (encoding) => {
    const events = await eventsOf(episodesOf(kafkaSpanRecords(encoding), kafkaLogRecords(encoding)));
    expect(events.filter((e) => e.event_type === 'episode_credit').length).toBeGreaterThan(0);
    expectValid(v, events, `kafka ${encoding}`);
  });

  it('a generated fleet of every scenario kind and convention, JSON and proto', async () => {
    const runs = await generateFleet({ episodes: 48, seed: 20261204 });
    for (const encoding of ['otlp_proto', 'otlp_json'] as const) {
      const { spans, logs } = kafkaRecordsFor(runs, encoding);
      const events = await eventsOf(
        episodesOf(
          spans.map((r) => decodeTraces(r.value, encoding)),
          logs.flatMap((r) => decodeLogs(r.value, encoding)),
        ),
      );
      const outcomes = new Set(events.flatMap((e) => (e.event_type === 'episode_credit' ? [e.outcome] : [])));
      expect(outcomes).toEqual(new Set(['success', 'failure']));
      expect(new Set(events.map((e) => e.event_type))).toEqual(new Set(['episode_credit', 'message_reward', 'preference_pair']));
      expectValid(v, events, `fleet ${encoding}`);
    }
  });

  it('rejects what breaks the contract (the validation above is not vacuous)', async () => {
    const events = await eventsOf(episodesOf(...fleetOf(await generateFleet({ episodes: 12, seed: 7 }))));
    for (const type of ['episode_credit', 'message_reward', 'preference_pair'] as const) {
      const e = events.find((x) => x.event_type === type);
      if (!e) continue;
      const good = wire(e) as Record<string, unknown>;
      expect(v[perType[type]]!(good)).toBe(true);
      const noId = { ...good };
      delete noId.event_id;
      expect(v[perType[type]]!(noId), `${type} without event_id`).toBe(false);
      expect(v['credit-event.schema.json']!({ ...good, episode_revision: -1 }), `${type} with revision -1`).toBe(false);
      expect(v['credit-event.schema.json']!({ ...good, schema_version: '0.9.0' }), `${type} of another schema version`).toBe(false);
    }
    const reward = wire(events.find((x) => x.event_type === 'message_reward')!) as Record<string, unknown>;
    expect(v['message-reward.schema.json']!({ ...reward, reward: 'high' })).toBe(false);
    expect(v['message-reward.schema.json']!({ ...reward, outcome: 'partial' }), 'outcome is a closed enum').toBe(false);
    expect(v['credit-event.schema.json']!({ ...reward, event_type: 'message_rewards' }), 'an unknown event type').toBe(false);
    expect(v['credit-event.schema.json']!({ ...reward, schema_version: '2.0.0' }), 'the next major').toBe(false);
  });

  it('versions: a consumer built on these schemas accepts events of any 1.x — older ones, and newer ones with fields and enum values it does not know', async () => {
    const events = await eventsOf(episodesOf(...fleetOf(await generateFleet({ episodes: 12, seed: 7 }))));
    strict ??= strictValidators();
    for (const type of ['episode_credit', 'message_reward', 'preference_pair'] as const) {
      const e = events.find((x) => x.event_type === type);
      if (!e) continue;
      const good = wire(e) as Record<string, unknown>;
      // a 1.2.0 event (same fields, since 1.3.0 added none) with a field a 1.2.x producer might add
      const older = { ...good, schema_version: '1.2.0', some_future_field: { x: 1 } };
      // a later minor: a new top-level field, a new field in a nested object, a new enum value
      const newer = { ...good, schema_version: '1.9.0', new_field: 'x', estimator: { ...(good.estimator as object), new_nested: 1, status: 'refined' } };
      for (const [label, event] of [['1.2.0 + unknown field', older], ['1.9.0 with new fields and values', newer]] as const) {
        for (const file of ['credit-event.schema.json', perType[type]]) {
          expect(v[file]!(event), `${type} ${label} against published ${file}: ${JSON.stringify(v[file]!.errors)}`).toBe(true);
          // the emitter's own check does not let them through
          expect(strict[file]!(event), `${type} ${label} against strict ${file}`).toBe(false);
        }
      }
    }
  });

  it('enums: the published schemas list the known values and accept new ones; the emitter side rejects an unknown kind, close reason or source', async () => {
    const events = await eventsOf(episodesOf(...fleetOf(await generateFleet({ episodes: 12, seed: 7 }))));
    strict ??= strictValidators();
    const reward = wire(events.find((x) => x.event_type === 'message_reward')!) as Record<string, unknown>;
    const episode = wire(events.find((x) => x.event_type === 'episode_credit')!) as Record<string, unknown>;
    const published = JSON.parse(readFileSync(join(schemaDir, 'message-reward.schema.json'), 'utf8')) as { properties: { kind: { anyOf: { enum?: string[] }[] } } };
    expect(published.properties.kind.anyOf[0]!.enum).toEqual(['llm', 'tool', 'handoff', 'agent', 'chain', 'evaluator', 'other']);
    const unknownKind = { ...reward, kind: 'retriever' };
    expect(v['message-reward.schema.json']!(unknownKind)).toBe(true);
    expect(strict['message-reward.schema.json']!(unknownKind)).toBe(false);
    expect(MessageRewardSchema.safeParse(unknownKind).success).toBe(false);
    expect(MessageRewardSchema.safeParse(reward).success).toBe(true);
    for (const bad of [{ ...episode, close_reason: 'bored' }, { ...episode, evaluation: { ...(episode.evaluation as object), source: 'telepathy' } }]) {
      expect(v['episode-credit.schema.json']!(bad)).toBe(true);
      expect(strict['episode-credit.schema.json']!(bad)).toBe(false);
    }
    expect(strict['episode-credit.schema.json']!(episode)).toBe(true);
    expect(SCHEMA_VERSION).toMatch(/^1\.\d+\.\d+$/); // the published pattern is of this major
  });
});

function fleetOf(runs: Awaited<ReturnType<typeof generateFleet>>): [Span[][], LogRecord[]] {
  const { spans, logs } = kafkaRecordsFor(runs, 'otlp_proto');
  return [spans.map((r) => decodeTraces(r.value, 'otlp_proto')), logs.flatMap((r) => decodeLogs(r.value, 'otlp_proto'))];
}

describe('shipped configuration files validate against schemas/agent-credit-config.schema.json (as an editor checks them)', () => {
  const validate = (): ValidateFunction => validators()['agent-credit-config.schema.json']!;

  it.each(['deploy/agent-credit.yaml', 'deploy/agent-credit-kafka.yaml'])('%s', (file) => {
    const check = validate();
    const ok = check(parseYaml(readFileSync(join(root, file), 'utf8')));
    expect(ok, JSON.stringify(check.errors)).toBe(true);
  });

  it('the Kubernetes ConfigMap’s agent-credit.yaml', () => {
    const docs = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/configmap.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string; data?: Record<string, string> });
    const text = docs.find((d) => d.kind === 'ConfigMap')!.data!['agent-credit.yaml']!;
    const check = validate();
    expect(check(parseYaml(text)), JSON.stringify(check.errors)).toBe(true);
  });

  it('rejects a misspelt key and a wrong type (the schema is closed where loadConfig is)', () => {
    const check = validate();
    expect(check({ source: { kind: 'kafka', kafka: { brokers: ['b:9092'], spansTopc: 'x' } } })).toBe(false);
    expect(check({ sinks: { live: { port: 'eighty' } } })).toBe(false);
  });

  it('inside records, as the loader: credit.normalization entries are closed (an unknown key there was stripped without a word), the entry names free', () => {
    const config = { credit: { normalization: { task_success: { min: 0, max: 10 } } } };
    expect(() => loadConfig({ text: JSON.stringify(config), env: {} })).not.toThrow();
    const check = validate();
    expect(check(config), JSON.stringify(check.errors)).toBe(true);
    const misspelt = { credit: { normalization: { task_success: { min: 0, max: 10, clamp: true } } } };
    expect(() => loadConfig({ text: JSON.stringify(misspelt), env: {} })).toThrow('credit.normalization.task_success.clamp: unknown key — accepted keys here: min, max');
    expect(check(misspelt)).toBe(false);
  });
});

describe('evaluation records: schemas/evaluation-record.schema.json agrees with the parser', () => {
  const records: [string, unknown][] = [
    ['score by trace, Python time.time_ns() as a JSON number', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'task_success', score: 1, time_unix_nano: 1764860000123456789 }],
    ['label by conversation, time as a string', { conversation_id: 'c-1', name: 'csat', label: 'pass', time_unix_nano: '1764860000123456789' }],
    ['by response id, with explanation', { response_id: 'chatcmpl-1', name: 'helpfulness', score: 0.4, explanation: 'vague' }],
    ['no join id', { name: 'task_success', score: 1 }],
    ['neither score nor label', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'task_success' }],
    ['fractional time (seconds)', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: 1, time_unix_nano: 1764860000.5 }],
    ['negative time', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: 1, time_unix_nano: -1 }],
    ['short trace id', { trace_id: 'ca88', name: 'n', score: 1 }],
    ['score as a numeric string', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: '0.8' }],
    ['score as a percent string', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: '80%' }],
    ['score as a boolean', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: true }],
    ['score in words', { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', name: 'n', score: 'high' }],
  ];
  it.each(records)('%s', (_, record) => {
    const check = validators()['evaluation-record.schema.json']!;
    const parsed = parseEvaluationRecords(JSON.stringify(record), { receivedAtUnixNano: 1n });
    expect(check(record), JSON.stringify(check.errors)).toBe(parsed.errors.length === 0);
    expect(parsed.evaluations.length + parsed.errors.length).toBe(1);
  });
});

