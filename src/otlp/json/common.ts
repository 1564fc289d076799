/**
 * OTLP/JSON decoders for common.proto / resource.proto shapes: AnyValue, KeyValue lists,
 * Resource, InstrumentationScope. JSON names are lowerCamel (`stringValue`, `kvlistValue`)
 * with the original snake_case names accepted too.
 */
import type { AttributeValue, Attributes, Resource, Scope } from '../../model/telemetry.js';
import { DecodeFailure, withPath } from '../errors.js';
import { MAX_ANY_VALUE_DEPTH, setAttribute, settledAttributes } from '../proto/common.js';
import {
  asArray,
  asBase64Bytes,
  asBool,
  asDouble,
  asInt64,
  asObject,
  asString,
  field,
  optionalString,
  type JsonObject,
} from './values.js';

/** Decodes an AnyValue JSON object; `{}` or null → null. */
export function anyValue(v: unknown, depth: number): AttributeValue {
  if (v === undefined || v === null) return null;
  if (depth > MAX_ANY_VALUE_DEPTH) throw new DecodeFailure(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH}`);
  const o = asObject(v, 'AnyValue');
  let x: unknown;
  if ((x = field(o, 'stringValue', 'string_value')) != null) return asString(x, 'stringValue');
  if ((x = field(o, 'intValue', 'int_value')) != null) return asInt64(x, 'intValue');
  if ((x = field(o, 'doubleValue', 'double_value')) != null) return asDouble(x, 'doubleValue');
  if ((x = field(o, 'boolValue', 'bool_value')) != null) return asBool(x, 'boolValue');
  if ((x = field(o, 'arrayValue', 'array_value')) != null) {
    const values = asArray(asObject(x, 'arrayValue').values, 'arrayValue.values');
    const out: AttributeValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      try {
        out[i] = anyValue(values[i], depth + 1);
      } catch (e) {
        throw withPath(e, `arrayValue.values[${i}]`);
      }
    }
    return out;
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) != null) {
    try {
      return keyValues(asObject(x, 'kvlistValue').values, 'values', depth + 1);
    } catch (e) {
      throw withPath(e, 'kvlistValue');
    }
  }
  if ((x = field(o, 'bytesValue', 'bytes_value')) != null) return asBase64Bytes(x, 'bytesValue');
  return null;
}

/** Decodes a repeated KeyValue (JSON array) into a flat record; later duplicate keys win. */
export function keyValues(v: unknown, what: string, depth = 0): Attributes {
  const list = asArray(v, what);
  const out: Attributes = {};
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = asObject(list[i], 'KeyValue');
      setAttribute(out, asString(kv.key, 'key'), anyValue(kv.value, depth + 1));
    } catch (e) {
      throw withPath(e, `${what}[${i}]`);
    }
  }
  return settledAttributes(out, list.length);
}

/** Decodes a Resource JSON object (absent → no attributes). */
export function resource(v: unknown): Resource {
  if (v === undefined || v === null) return { attributes: {} };
  try {
    return { attributes: keyValues(asObject(v, 'resource').attributes, 'attributes') };
  } catch (e) {
    throw withPath(e, 'resource');
  }
}

/** Decodes an InstrumentationScope JSON object (absent → name ''). */
const SCOPE_KEY = ['scope', 'scope'] as const;
const LEGACY_SCOPE_KEY = ['instrumentationLibrary', 'instrumentation_library'] as const;

/**
 * A Resource<X>'s scope blocks: `scope<X>`, or — from senders older than OTLP 0.15 (2022) —
 * `instrumentationLibrary<X>` with its scope under `instrumentationLibrary` (same fields), read
 * only when the block has no current ones, as the collector's own migration did (a sender that
 * wrote both for compatibility is not counted twice).
 */
export function scopeBlocks(
  block: JsonObject,
  names: { readonly current: readonly [string, string]; readonly legacy: readonly [string, string] },
): { scopes: readonly unknown[]; name: string; scopeKey: readonly [string, string] } {
  const scopes = asArray(field(block, names.current[0], names.current[1]), names.current[0]);
  if (scopes.length > 0) return { scopes, name: names.current[0], scopeKey: SCOPE_KEY };
  const legacy = field(block, names.legacy[0], names.legacy[1]);
  if (legacy === undefined || legacy === null) return { scopes, name: names.current[0], scopeKey: SCOPE_KEY };
  return { scopes: asArray(legacy, names.legacy[0]), name: names.legacy[0], scopeKey: LEGACY_SCOPE_KEY };
}

export function scope(v: unknown): Scope {
  if (v === undefined || v === null) return { name: '', version: undefined, attributes: {} };
  try {
    const o: JsonObject = asObject(v, 'scope');
    return {
      name: asString(o.name, 'name'),
      version: optionalString(o.version, 'version'),
      attributes: keyValues(o.attributes, 'attributes'),
    };
  } catch (e) {
    throw withPath(e, 'scope');
  }
}
