/**
 * Checks `processOptions` once, when the processor is made: before, a bad `credit.estimator`
 * passed `createCreditSpanProcessor` and failed every episode later, as a raw ZodError in
 * `onError` (silent without one), and a misspelt key (`estimatr`) was ignored. Messages name the
 * key and what is accepted, as the CLI's config errors do.
 */
import { z } from 'zod';
import { describeIssue, didYouMean } from '../config/errors.js';
import { ConventionsOptionsSchema } from '../conventions/options.js';
import { CreditOptionsSchema } from '../credit/options.js';
import type { ProcessEpisodeOptions } from '../runtime/process-episode.js';

const KNOWN_PROCESS_OPTIONS = ['credit', 'conventions', 'evaluationName', 'rootScoreAttribute', 'now', 'onSkipped'] as const;

export class InProcessOptionsError extends Error {
  override readonly name = 'InProcessOptionsError';
}

export function checkProcessOptions(options: ProcessEpisodeOptions | undefined): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') throw new InProcessOptionsError(`processOptions: expected an object ({ credit, conventions, evaluationName, … }) or nothing, got ${options === null ? 'null' : typeof options}`);
  const unknown = Object.keys(options).filter((k) => !(KNOWN_PROCESS_OPTIONS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new InProcessOptionsError(`processOptions.${unknown[0]}: unknown key${didYouMean(unknown[0]!, KNOWN_PROCESS_OPTIONS)} — accepted keys here: ${KNOWN_PROCESS_OPTIONS.join(', ')}`);
  check('credit', CreditOptionsSchema, options.credit);
  check('conventions', ConventionsOptionsSchema, options.conventions);
  checkType('processOptions.evaluationName', options.evaluationName, 'string', 'the evaluation name that scores a run, e.g. "task_success"');
  checkType('processOptions.rootScoreAttribute', options.rootScoreAttribute, 'string', 'a root-span attribute name, e.g. "agent_credit.score"');
  checkType('processOptions.now', options.now, 'function', 'a () => number clock (ms)');
  checkType('processOptions.onSkipped', options.onSkipped, 'function', 'an (episode, error) => void callback');
}

/** Throws unless `value` is undefined or of `type`; the message names the key and what it takes. */
export function checkType(key: string, value: unknown, type: 'string' | 'function', what: string): void {
  if (value === undefined || typeof value === type) return;
  throw new InProcessOptionsError(`${key}: expected ${what}, got ${value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
}

const strictSchemas = new WeakMap<z.ZodObject, z.ZodObject>();
/** `schema.strict()`, built once per schema (it was rebuilt on every check). */
function strictOf(schema: z.ZodObject): z.ZodObject {
  let s = strictSchemas.get(schema);
  if (s === undefined) strictSchemas.set(schema, (s = schema.strict()));
  return s;
}

function check(key: string, schema: z.ZodObject, value: unknown): void {
  if (value === undefined) return;
  const parsed = strictOf(schema).safeParse(value);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  const prefix = ['processOptions', key];
  const shifted = { ...issue, path: [...prefix, ...issue.path] } as typeof issue;
  const accepted = (path: readonly PropertyKey[]) => {
    let s: unknown = schema;
    for (const p of path.slice(prefix.length)) s = (s as z.ZodObject).shape?.[String(p)];
    const shape = (s as z.ZodObject | undefined)?.shape;
    return shape ? Object.keys(shape) : [];
  };
  throw new InProcessOptionsError(describeIssue(shifted, { processOptions: { [key]: value } }, { acceptedKeys: accepted }));
}
