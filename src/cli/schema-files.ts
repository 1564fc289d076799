/**
 * JSON Schema files generated from the zod schemas (zod 4 `z.toJSONSchema`), the single
 * source of truth: the published events (src/events/schemas.ts) and the configuration file
 * (src/config/schema.ts, input side: fields with defaults are optional). `agent-credit schema`
 * writes them to `schemas/`; test/schemas fails when the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppConfigSchema } from '../config/schema.js';
import { CreditEventSchema, EpisodeCreditSchema, MessageRewardSchema, PreferencePairSchema, SCHEMA_VERSION } from '../events/schemas.js';

const BASE_ID = 'https://agent-credit.dev/schemas';

function render(schema: z.ZodType, file: string, title: string, io: 'input' | 'output'): string {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  const doc = { $id: `${BASE_ID}/${file}`, title, 'x-schema-version': SCHEMA_VERSION, ...json };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** File name → content, deterministic (same schemas → same bytes). */
export function schemaFiles(): Record<string, string> {
  return {
    'episode-credit.schema.json': render(EpisodeCreditSchema, 'episode-credit.schema.json', 'EpisodeCredit', 'output'),
    'message-reward.schema.json': render(MessageRewardSchema, 'message-reward.schema.json', 'MessageReward', 'output'),
    'preference-pair.schema.json': render(PreferencePairSchema, 'preference-pair.schema.json', 'PreferencePair', 'output'),
    'credit-event.schema.json': render(CreditEventSchema, 'credit-event.schema.json', 'CreditEvent (any published event)', 'output'),
    'agent-credit-config.schema.json': render(AppConfigSchema, 'agent-credit-config.schema.json', 'agent-credit configuration file', 'input'),
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
