import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../../src/cli/schema-files.js';
import { loadConfig } from '../../src/config/index.js';
import { EvaluationRecordSchema } from '../../src/conventions/evaluation-records.js';

const dir = join(import.meta.dirname, '../../schemas');

describe('committed JSON Schemas', () => {
  const files = schemaFiles();
  it.each(Object.keys(files))('%s matches the zod schemas (run `npm run schema` when this fails)', (name) => {
    const committed = readFileSync(join(dir, name), 'utf8');
    expect(committed).toBe(files[name]);
  });

  it('the config schema states the defaults that loadConfig applies', () => {
    const schema = JSON.parse(files['agent-credit-config.schema.json']!) as { properties: { source: { properties: { http: { properties: { port: { default: number } } } } } } };
    const { config } = loadConfig({ env: {} });
    expect(schema.properties.source.properties.http.properties.port.default).toBe(config.source.http.port);
    // every section states its default, source too (zod leaves it out on the input side when a
    // field below transforms its input, as source.kafka.brokers does)
    const sections = (JSON.parse(files['agent-credit-config.schema.json']!) as { properties: Record<string, { default?: unknown }> }).properties;
    for (const [name, section] of Object.entries(sections)) expect(section.default, name).toBeDefined();
    expect(sections.source!.default).toEqual(JSON.parse(JSON.stringify(config.source)));
  });

  it('the evaluation record schema names the same join ids the parser accepts (the refinement is hand-written there)', () => {
    const schema = JSON.parse(files['evaluation-record.schema.json']!) as { allOf: { anyOf: { required: string[] }[] }[] };
    const ids = schema.allOf[0]!.anyOf.map((a) => a.required[0]!);
    expect(ids).toEqual(['trace_id', 'conversation_id', 'response_id']);
    const value: Record<string, string> = { trace_id: 'ca8891194bd518f6b7a57a2864b5b581', conversation_id: 'c-1', response_id: 'chatcmpl-1' };
    for (const id of ids) expect(EvaluationRecordSchema.safeParse({ [id]: value[id], name: 'n', score: 1 }).success, id).toBe(true);
    expect(EvaluationRecordSchema.safeParse({ name: 'n', score: 1 }).success).toBe(false);
  });

  it('the event schemas are closed over the event types', () => {
    const union = JSON.parse(files['credit-event.schema.json']!) as { oneOf?: unknown[]; anyOf?: unknown[] };
    expect((union.oneOf ?? union.anyOf ?? []).length).toBe(3);
  });
});
