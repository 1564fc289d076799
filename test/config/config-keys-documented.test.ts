/**
 * Every key of the config file is named where README's Configuration section sends its reader:
 * README itself, docs/credit.md (the credit options) or src/conventions/README.md (the mapping
 * rules). `source.kafka.maxBytesPerPartition` and five `credit.judge.*` keys were accepted, listed
 * in "did you mean" answers and in deploy/agent-credit.yaml, and named nowhere a user reads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppConfigSchema } from '../../src/config/index.js';
import { shapeOf } from '../../src/config/schema-walk.js';

type AnySchema = Parameters<typeof shapeOf>[0];

/** Dotted paths of the schema's leaves (a key whose value is not a section). */
function leafKeys(schema: AnySchema, path: string[] = []): string[] {
  const shape = shapeOf(schema);
  // a record of user-named entries (normalization: {<evaluation name>: …}) is a leaf: its entries have no fixed names
  if (shape === undefined || Object.keys(shape).length === 0) return [path.join('.')];
  return Object.entries(shape).flatMap(([k, v]) => leafKeys(v, [...path, k]));
}

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('the config file\'s keys are documented', () => {
  it('each leaf key is named in README (Configuration), docs/credit.md or src/conventions/README.md', () => {
    const readme = read('README.md');
    const configuration = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const docs = configuration + read('docs/credit.md') + read('src/conventions/README.md');
    const keys = leafKeys(AppConfigSchema as unknown as AnySchema);
    expect(keys.length).toBeGreaterThan(100);
    expect(keys).toContain('source.kafka.maxBytesPerPartition');
    const undocumented = keys.filter((k) => !new RegExp('`[^`]*\\b' + k.split('.').at(-1)! + '\\b').test(docs));
    expect(undocumented).toEqual([]);
  });
});
