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

describe('the published event schemas carry the semantics (descriptions), not only the types', () => {
  const files = schemaFiles();
  type Node = { description?: string; properties?: Record<string, Node>; [k: string]: unknown };
  /** Every property of every object, with its path. */
  function properties(node: unknown, path: string, out: [string, Node][] = []): [string, Node][] {
    if (Array.isArray(node)) node.forEach((n, i) => properties(n, `${path}[${i}]`, out));
    else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Node)) {
        if (k === 'properties') for (const [name, p] of Object.entries(v as Record<string, Node>)) out.push([`${path}.${name}`, p]);
        properties(v, k === 'properties' ? path : `${path}.${k}`, out);
      }
    }
    return out;
  }

  it.each(['episode-credit.schema.json', 'message-reward.schema.json', 'preference-pair.schema.json', 'credit-event.schema.json'])('%s: every field has a description', (name) => {
    const schema = JSON.parse(files[name]!) as Node;
    const props = properties(schema, '');
    expect(props.length).toBeGreaterThan(20);
    expect(props.filter(([, p]) => typeof p.description !== 'string' || p.description.length < 10).map(([path]) => path)).toEqual([]);
  });

  it('states the rules a trainer needs', () => {
    const reward = JSON.parse(files['message-reward.schema.json']!) as { properties: Record<string, Node> };
    const pair = JSON.parse(files['preference-pair.schema.json']!) as { properties: Record<string, Node> };
    expect(reward.properties.event_id!.description).toMatch(/de-duplicate/);
    // revisions come from late spans, late verdicts and (conversation mode) next turns
    expect(reward.properties.episode_revision!.description).toMatch(/late spans.*verdict.*turn/s);
    expect(reward.properties.step_id!.description).toMatch(/span id/);
    expect(reward.properties.components!.description).toMatch(/reward = credit_share \+ marginal \+ blame \+ repair \+ shrink/);
    expect((reward.properties.components!.properties as Record<string, Node>).shrink!.description).toMatch(/exactly 0 when nothing shrank/);
    expect(pair.properties.margin!.description).toMatch(/chosen\.reward − rejected\.reward/);
    const input = (pair.properties.context!.properties as Record<string, Node>).input_digest!.description!;
    expect(input).toMatch(/sha256/);
    expect(input).toMatch(/before the cut/);
  });
});
