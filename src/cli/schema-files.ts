/**
 * JSON Schema files generated from the zod schemas (zod 4 `z.toJSONSchema`), the single
 * source of truth: the published events (src/events/schemas.ts), the configuration file
 * (src/config/schema.ts, input side: fields with defaults are optional) and the evaluation
 * records read from an evaluations topic (src/conventions/evaluation-records.ts) and the report of
 * `agent-credit check --format json` (src/cli/check-report.ts). `agent-credit schema`
 * writes them to `schemas/`; test/schemas fails when the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppConfigSchema, CONFIG_SCHEMA_VERSION } from '../config/schema.js';
import { CHECK_REPORT_VERSION, CheckReportSchema } from './check-report.js';
import { EVALUATION_RECORD_SCHEMA_VERSION, EvaluationRecordSchema } from '../conventions/evaluation-records.js';
import { CreditEventSchema, EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema, SCHEMA_MAJOR, SCHEMA_VERSION } from '../events/schemas.js';
import { TRAINING_RECORD_VERSION, TrainingRecordSchema } from '../events/training-record.js';

const BASE_ID = 'https://agent-credit.dev/schemas';

/**
 * On the input side zod leaves out the `default` of a section whose fields transform their input
 * (`source.kafka.brokers` takes a comma-separated string): it cannot know the default is valid
 * input. Ours are (they are what the loader would build from an empty section), so they are put
 * back: editors show them.
 */
function keepInputDefaults(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; defaultValue?: unknown } } })._zod?.def;
  if (def?.type !== 'default' || ctx.jsonSchema.default !== undefined) return;
  try {
    ctx.jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue)) as unknown;
  } catch {
    // not JSON (never for config defaults): left out, as zod did
  }
}

/**
 * The loader rejects unknown keys in every section (`unknownKeys` walks each object shape, stage
 * schemas included, and the object entries of records), but zod's input-side JSON Schema leaves
 * objects open below the top level: an editor validating `spansTopc:` against the schema said
 * nothing. So the config schema closes every object the way the loader does (records — free-form
 * maps — stay open; their object entries, `credit.normalization.<name>`, are closed: 1.14.0).
 */
function closeObjects(ctx: OverrideContext): void {
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def;
  if (def?.type === 'object' && ctx.jsonSchema.properties !== undefined && ctx.jsonSchema.additionalProperties === undefined) ctx.jsonSchema.additionalProperties = false;
}

interface OverrideContext {
  zodSchema: unknown;
  jsonSchema: Record<string, unknown>;
  path: (string | number)[];
}

function configOverride(ctx: OverrideContext): void {
  keepInputDefaults(ctx);
  closeObjects(ctx);
}

/**
 * The file's version goes into a `$comment`, a standard keyword every validator ignores: the
 * `x-schema-version` keyword it replaced made `new Ajv2020().compile(schema)` — the README's recipe,
 * strict by default — throw `strict mode: unknown keyword` (downstream-trainer review).
 */
function render(
  schema: z.ZodType,
  file: string,
  title: string,
  io: 'input' | 'output',
  version: string,
  extra: Record<string, unknown> = {},
  override: ((ctx: OverrideContext) => void) | undefined = io === 'input' ? keepInputDefaults : undefined,
): string {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12', ...(override ? { override } : {}) }) as Record<string, unknown>;
  const doc = { $id: `${BASE_ID}/${file}`, title, $comment: `schema version ${version}`, ...json, ...extra };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Enum-valued event fields whose set of values is fixed by definition: a new value would be a major
 * version. Every other enum may gain values in a minor version.
 */
const CLOSED_ENUMS: ReadonlySet<string> = new Set(['outcome']);

/**
 * The consumer contract of the published event schemas (README, Events: versions). The zod schemas
 * describe exactly what this version emits — closed objects, `schema_version` = SCHEMA_VERSION, the
 * enum values it knows — and a validator built from that rejected every event of the next minor
 * version (consumer review: the 1.1.0 files rejected 19 of 19 1.2.0 events). So the published files:
 * - accept any `schema_version` of this major (`^1\.\d+\.\d+$`);
 * - leave objects open (no `additionalProperties: false`): a later minor version adds fields;
 * - list each enum's known values but accept any string (`anyOf: [{enum}, {type: string}]`): a later
 *   minor version may add values, except to the CLOSED_ENUMS.
 * The strict rendering (`eventSchemas('strict')`) is what the tests hold every emitted event to.
 */
function consumerContract(ctx: OverrideContext): void {
  const js = ctx.jsonSchema;
  if (js.additionalProperties === false) delete js.additionalProperties;
  const property = ctx.path.at(-2) === 'properties' ? ctx.path.at(-1) : undefined;
  if ((property === 'schema_version' || property === 'record_version') && typeof js.const === 'string') {
    // any version of the same major (the events' and the training record's are versioned apart)
    const major = property === 'schema_version' ? SCHEMA_MAJOR : Number(js.const.split('.')[0]);
    delete js.const;
    js.pattern = `^${major}\\.\\d+\\.\\d+$`;
  }
  if (Array.isArray(js.enum) && !(typeof property === 'string' && CLOSED_ENUMS.has(property))) {
    const known = js.enum as unknown[];
    delete js.enum;
    js.anyOf = [{ enum: known }, { type: 'string', description: 'a value added by a later minor version: tolerate it (skip or treat as unknown)' }];
  }
}

/**
 * The event schemas: `published` (schemas/, the consumer contract) or `strict` (exactly what this
 * version emits; for tests, never published).
 */
export function eventSchemas(variant: 'published' | 'strict'): Record<string, string> {
  const override = variant === 'published' ? consumerContract : undefined;
  const events = (schema: z.ZodType, file: string, title: string) => render(schema, file, title, 'output', SCHEMA_VERSION, {}, override);
  return {
    'episode-credit.schema.json': events(EpisodeCreditSchema, 'episode-credit.schema.json', 'EpisodeCredit'),
    'message-reward.schema.json': events(MessageRewardSchema, 'message-reward.schema.json', 'MessageReward'),
    'preference-pair.schema.json': events(PreferencePairSchema, 'preference-pair.schema.json', 'PreferencePair'),
    'credit-event.schema.json': events(CreditEventSchema, 'credit-event.schema.json', 'CreditEvent (any published event)'),
    // versioned apart (record_version); the events inside follow the events' contract
    'training-record.schema.json': render(TrainingRecordSchema, 'training-record.schema.json', 'Training record (one episode: agent-credit replay --episodes, TrainingLedger)', 'output', TRAINING_RECORD_VERSION, {}, override),
  };
}

/**
 * The consumer contract of check's JSON report, as the events' (consumerContract): a script
 * written against 1.0.0 keeps working with 1.x — any `report_version` of the major, objects open
 * to fields a minor version adds, check names listed but any string accepted (a minor version adds
 * checks). The statuses stay closed: a new one would change what a consumer gates on (a major version).
 */
function checkReportContract(ctx: OverrideContext): void {
  const js = ctx.jsonSchema;
  if (js.additionalProperties === false) delete js.additionalProperties;
  const property = ctx.path.at(-2) === 'properties' ? ctx.path.at(-1) : undefined;
  if (property === 'report_version' && typeof js.const === 'string') {
    delete js.const;
    js.pattern = `^${CHECK_REPORT_VERSION.split('.')[0]}\\.\\d+\\.\\d+$`;
  }
  if (property === 'name' && Array.isArray(js.enum)) {
    const known = js.enum as unknown[];
    delete js.enum;
    js.anyOf = [{ enum: known }, { type: 'string', description: 'a check added by a later minor version: tolerate it' }];
  }
}

/**
 * check's JSON report schema: `published` (schemas/, the consumer contract) or `strict` (exactly
 * what this version prints: closed objects and enums; for tests, never published).
 */
export function checkReportSchema(variant: 'published' | 'strict'): string {
  return render(CheckReportSchema, 'check-report.schema.json', 'agent-credit check --format json report', 'output', CHECK_REPORT_VERSION, {}, variant === 'published' ? checkReportContract : undefined);
}

/** A branch of "one of these properties is present". */
function requiredOne(name: string): Record<string, unknown> {
  return { required: [name], properties: { [name]: true } };
}

/** File name → content, deterministic (same schemas → same bytes). */
export function schemaFiles(): Record<string, string> {
  return {
    ...eventSchemas('published'),
    // Versioned on its own as well (CONFIG_SCHEMA_VERSION; its doc comment lists what each version added).
    'agent-credit-config.schema.json': render(AppConfigSchema, 'agent-credit-config.schema.json', 'agent-credit configuration file', 'input', CONFIG_SCHEMA_VERSION, {}, configOverride),
    // Input: what a judge service writes to source.kafka.evaluationsTopic. The zod refinements
    // (an id to join on, a score or a label) are not representable by toJSONSchema: stated here.
    // Versioned on its own (the events' SCHEMA_VERSION did not change): 1.1.0 added response_id,
    // 1.2.0 accepts time_unix_nano as a JSON number of any size.
    // Each branch restates its property (`true`: no constraint of its own; the type is the parent's):
    // Ajv checks `allOf` before the parent's `properties`, so under `strict: true` (strictRequired)
    // a bare `required` there was "not defined" and the schema did not compile.
    'evaluation-record.schema.json': render(EvaluationRecordSchema, 'evaluation-record.schema.json', 'Evaluation record (source.kafka.evaluationsTopic, POST /v1/evaluations)', 'input', EVALUATION_RECORD_SCHEMA_VERSION, {
      allOf: [{ anyOf: ['trace_id', 'conversation_id', 'response_id'].map(requiredOne) }, { anyOf: ['score', 'label'].map(requiredOne) }],
    }),
    // versioned on its own (CHECK_REPORT_VERSION)
    'check-report.schema.json': checkReportSchema('published'),
  };
}

/** Writes every schema file into `dir` (created if missing); returns the paths written. */
export function writeSchemaFiles(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(schemaFiles()).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
