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
