/**
 * `agent-credit check --format json` output, read as a script reads it: stdout is one JSON
 * document, valid against the published schemas/check-report.schema.json (a plain `new Ajv2020()`,
 * the README's recipe) and against the strict rendering (exactly this version's fields and check
 * names: catches a field printed without being declared).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { CheckReportDocument } from '../../src/cli/check-report.js';
import { checkReportSchema } from '../../src/cli/schema-files.js';

const published = new Ajv2020().compile(JSON.parse(readFileSync(join(import.meta.dirname, '../../schemas/check-report.schema.json'), 'utf8')) as object);
const strict = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(checkReportSchema('strict')) as object);

/** Asserts `value` is a valid report (published and strict schema) and returns it typed. */
export function expectCheckReport(value: unknown): CheckReportDocument {
  for (const [which, validate] of [['published', published], ['strict', strict]] as const) {
    expect(validate(value), `against the ${which} schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
  }
  return value as CheckReportDocument;
}

/** stdout of `check --format json` → its one document (a second line, or anything around it, fails). */
export function checkReportOf(stdout: string): CheckReportDocument {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  return expectCheckReport(JSON.parse(stdout) as unknown);
}
