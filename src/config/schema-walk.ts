/**
 * Reads the structure of a zod schema (object shapes through defaults/optionals/nullables), so
 * env overrides can resolve `AGENT_CREDIT_EPISODES_GRACEMS` to `episodes.graceMs` and unknown-key
 * errors can list the accepted keys — including inside stage schemas that strip unknown keys.
 */
import type { z } from 'zod';

type AnySchema = z.core.$ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  options?: AnySchema[];
}

const defOf = (s: AnySchema) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips wrappers (default, optional, nullable, pipe, readonly) to the core schema. */
export function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (d.innerType && ['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

/** The object shape of a schema, or undefined when it is not an object (records accept any key). */
export function shapeOf(schema: AnySchema): Record<string, AnySchema> | undefined {
  const d = defOf(unwrap(schema));
  if (d.type === 'object') return d.shape;
  const only = objectOption(d);
  return only ? defOf(only).shape : undefined;
}

/**
 * The one object option of a union (e.g. `source.kafka.ssl: true | {ca, cert, key, …}`), whose
 * keys are settings like any other (env overrides, unknown keys); undefined otherwise.
 */
function objectOption(d: ReturnType<typeof defOf>): AnySchema | undefined {
  if (d.type !== 'union' || !d.options) return undefined;
  const objects = d.options.map(unwrap).filter((o) => defOf(o).type === 'object');
  return objects.length === 1 ? objects[0] : undefined;
}

export function kindOf(schema: AnySchema): string {
  return defOf(unwrap(schema)).type;
}

/** The schema at a key path, or undefined when the path leaves the known structure. */
export function schemaAt(root: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let s: AnySchema | undefined = root;
  for (const k of path) {
    if (!s) return undefined;
    const d = defOf(unwrap(s));
    if (d.type === 'object') s = d.shape?.[String(k)];
    else if (objectOption(d)) s = defOf(objectOption(d)!).shape?.[String(k)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
  }
  return s;
}

/**
 * The part of a known key path (`schemaAt` finds a schema there) that names declared settings:
 * the whole path, or — when it goes into a map setting (a z.record: `credit.judge.headers`,
 * `credit.normalization`) — the path up to that setting. A map's keys are the user's data, and
 * in a document yaml could not read a value on a line of its own becomes such a key (the rest of a
 * wrapped credential under `headers`): naming it quoted the value.
 */
export function declaredKeyPath(root: AnySchema, path: readonly PropertyKey[]): PropertyKey[] | undefined {
  if (schemaAt(root, path) === undefined) return undefined;
  let s: AnySchema | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const d = defOf(unwrap(s!));
    if (d.type === 'record') return path.slice(0, i);
    s = d.type === 'object' ? d.shape?.[String(path[i])] : objectOption(d) ? defOf(objectOption(d)!).shape?.[String(path[i])] : d.type === 'array' ? d.element : undefined;
  }
  return [...path];
}

/**
 * True when an object at or below `schema` (through unions, lists and maps) has a key in `keys`:
 * whether a value given there can hold one of them (config errors: secrets).
 */
export function hasKeyBelow(schema: AnySchema | undefined, keys: ReadonlySet<string>, depth = 0): boolean {
  if (!schema || depth > 20) return false;
  const d = defOf(unwrap(schema));
  if (d.type === 'object') return Object.entries(d.shape ?? {}).some(([k, s]) => keys.has(k) || hasKeyBelow(s, keys, depth + 1));
  if (d.type === 'union') return (d.options ?? []).some((o) => hasKeyBelow(o, keys, depth + 1));
  if (d.type === 'array') return hasKeyBelow(d.element, keys, depth + 1);
  if (d.type === 'record') return hasKeyBelow(d.valueType, keys, depth + 1);
  return false;
}

/** Keys accepted at a path (empty when the schema there is not an object). */
export function acceptedKeysAt(root: AnySchema, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  const shape = s ? shapeOf(s) : undefined;
  return shape ? Object.keys(shape) : [];
}

/**
 * Unknown keys anywhere in `input`, as key paths. Needed because stage schemas (z.object)
 * silently strip unknown keys, and a misspelt option must not be silently ignored.
 */
export function unknownKeys(root: AnySchema, input: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (input === null || typeof input !== 'object') return [];
  const s = schemaAt(root, path);
  if (!s) return [];
  const core = unwrap(s);
  const d = defOf(core);
  const out: PropertyKey[][] = [];
  const shape = shapeOf(core); // an object, or a union's one object option
  if (shape && !Array.isArray(input)) {
    for (const k of Object.keys(input)) {
      if (!(k in shape)) out.push([...path, k]);
      else out.push(...unknownKeys(root, (input as Record<string, unknown>)[k], [...path, k]));
    }
  } else if (d.type === 'array' && Array.isArray(input)) {
    input.forEach((v, i) => out.push(...unknownKeys(root, v, [...path, i])));
  } else if (d.type === 'record' && !Array.isArray(input)) {
    // the entries of a map whose values are objects (credit.normalization.<name>: {min, max}):
    // `clamp: false` beside min and max was dropped without a word
    for (const k of Object.keys(input)) out.push(...unknownKeys(root, (input as Record<string, unknown>)[k], [...path, k]));
  }
  return out;
}
