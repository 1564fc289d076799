/**
 * Protobuf decoders for opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto:
 * AnyValue, KeyValue, InstrumentationScope, Resource.
 *
 * Field numbers (common.proto): AnyValue string_value=1, bool_value=2, int_value=3 (int64),
 * double_value=4, array_value=5, kvlist_value=6, bytes_value=7; ArrayValue.values=1;
 * KeyValueList.values=1; KeyValue key=1, value=2; InstrumentationScope name=1, version=2,
 * attributes=3, dropped_attributes_count=4. Resource (resource.proto) attributes=1,
 * dropped_attributes_count=2, entity_refs=3.
 *
 * Known fields are matched on the full tag (field number and wire type); anything else,
 * including a known number with an unexpected wire type, is skipped as unknown.
 */
import type { AttributeValue, Attributes, Resource, Scope } from '../../model/telemetry.js';
import { DecodeFailure, withPath } from '../errors.js';
import { type WireCursor, bool, bytes, delimitedEnd, double, int64, internedString, skip, tag } from './wire.js';

/** AnyValue nesting limit (arrays/kvlists inside each other); deeper input is rejected. */
export const MAX_ANY_VALUE_DEPTH = 64;

/**
 * Sets `obj[key] = value` without letting a `__proto__` key replace the prototype.
 * Later duplicates of a key win, as in the OTel SDKs.
 */
export function setAttribute(obj: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Attribute records are built by computed key (`obj[key] = value`), and V8 turns an object that
 * gets more than 16 properties that way (4 in the object, 12 beside it) into a hash table
 * ("dictionary mode"). For spans with many attributes — LLM calls with flattened messages, 28 % of
 * the bench fleet's spans — that made every later read of the record (conventions, byte counting)
 * a hash lookup, listing its keys several times slower, and the span ~25 % larger while the
 * assembler holds it. A copy by spread is built in V8's fast mode: same own keys, same order, same
 * values (a `__proto__` key stays an own data property), same prototype.
 */
const FAST_MODE_KEYED_PROPERTIES = 16;

/** `attrs`, or a fast-mode copy of it when it got more than 16 attributes (see above). */
export function settledAttributes(attrs: Attributes, added: number): Attributes {
  return added > FAST_MODE_KEYED_PROPERTIES ? { ...attrs } : attrs;
}

/**
 * Non-finite doubles become their protobuf-JSON names (`"NaN"`, `"Infinity"`, `"-Infinity"`):
 * the model's attribute numbers are finite (zod `z.number()`), and records must stay JSON-safe
 * (JSON has no NaN/Infinity). Both decoders apply this, so proto and JSON agree.
 */
export function finiteOrName(d: number): number | string {
  if (Number.isFinite(d)) return d;
  return Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Decodes one AnyValue payload ending at `end`. An AnyValue with no value set becomes `null`.
 */
export function decodeAnyValue(c: WireCursor, end: number, depth: number): AttributeValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new DecodeFailure(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH}`);
  const r = c.r;
  let value: AttributeValue = null;
  while (r.pos < end) {
    const t = tag(c, end);
    switch (t) {
      case (1 << 3) | 2:
        value = internedString(c, end);
        break;
      case (2 << 3) | 0:
        value = bool(c, end);
        break;
      case (3 << 3) | 0:
        value = int64(c, end);
        break;
      case (4 << 3) | 1:
        value = finiteOrName(double(c, end));
        break;
      case (5 << 3) | 2:
        value = decodeArrayValue(c, delimitedEnd(c, end), depth + 1);
        break;
      case (6 << 3) | 2:
        value = decodeKeyValueList(c, delimitedEnd(c, end), depth + 1);
        break;
      case (7 << 3) | 2:
        value = bytes(c, end);
        break;
      default:
        skip(c, t & 7, end);
    }
  }
  return value;
}

function decodeArrayValue(c: WireCursor, end: number, depth: number): AttributeValue[] {
  const r = c.r;
  const values: AttributeValue[] = [];
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === ((1 << 3) | 2)) {
      const stop = delimitedEnd(c, end);
      try {
        values.push(decodeAnyValue(c, stop, depth));
      } catch (e) {
        throw withPath(e, `array_value.values[${values.length}]`);
      }
    } else skip(c, t & 7, end);
  }
  return values;
}

function decodeKeyValueList(c: WireCursor, end: number, depth: number): Record<string, AttributeValue> {
  const r = c.r;
  const out: Record<string, AttributeValue> = {};
  let i = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === ((1 << 3) | 2)) {
      const stop = delimitedEnd(c, end);
      try {
        decodeKeyValue(c, stop, out, depth);
      } catch (e) {
        throw withPath(e, `kvlist_value.values[${i}]`);
      }
      i++;
    } else skip(c, t & 7, end);
  }
  return out;
}

/** Decodes one KeyValue payload ending at `end` into `into`. A KeyValue without value maps to `null`. */
function decodeKeyValue(c: WireCursor, end: number, into: Record<string, AttributeValue>, depth: number): void {
  const r = c.r;
  let key = '';
  let value: AttributeValue = null;
  while (r.pos < end) {
    const t = tag(c, end);
    switch (t) {
      case (1 << 3) | 2:
        key = internedString(c, end);
        break;
      case (2 << 3) | 2:
        value = decodeAnyValue(c, delimitedEnd(c, end), depth + 1);
        break;
      default:
        skip(c, t & 7, end);
    }
  }
  setAttribute(into, key, value);
}

/**
 * Decodes a repeated KeyValue field occurrence (the cursor is at its length prefix) into `into`.
 * `field` names the repeated field for error paths; `index` is the element's position.
 */
export function decodeAttribute(c: WireCursor, end: number, into: Attributes, field: string, index: number): void {
  const stop = delimitedEnd(c, end);
  try {
    decodeKeyValue(c, stop, into, 0);
  } catch (e) {
    throw withPath(e, `${field}[${index}]`);
  }
}

/** Decodes a Resource payload ending at `end`, adding its attributes to `into.attributes`. */
export function decodeResource(c: WireCursor, end: number, into: Resource): void {
  const r = c.r;
  let i = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === ((1 << 3) | 2)) decodeAttribute(c, end, into.attributes, 'attributes', i++);
    else skip(c, t & 7, end);
  }
}

/** Decodes an InstrumentationScope payload ending at `end` into `into` (empty version → undefined). */
export function decodeScope(c: WireCursor, end: number, into: { -readonly [K in keyof Scope]: Scope[K] }): void {
  const r = c.r;
  let i = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    switch (t) {
      case (1 << 3) | 2:
        into.name = internedString(c, end);
        break;
      case (2 << 3) | 2: {
        const v = internedString(c, end);
        into.version = v === '' ? undefined : v;
        break;
      }
      case (3 << 3) | 2:
        decodeAttribute(c, end, (into.attributes ??= {}), 'attributes', i++);
        break;
      default:
        skip(c, t & 7, end);
    }
  }
}
