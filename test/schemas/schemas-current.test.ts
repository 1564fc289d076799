import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../../src/cli/schema-files.js';
import { loadConfig } from '../../src/config/index.js';

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
  });

  it('the event schemas are closed over the event types', () => {
    const union = JSON.parse(files['credit-event.schema.json']!) as { oneOf?: unknown[]; anyOf?: unknown[] };
    expect((union.oneOf ?? union.anyOf ?? []).length).toBe(3);
  });
});
