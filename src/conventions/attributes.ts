/**
 * Typed reads of flattened OTLP attributes. Instrumentations disagree on value types (an int
 * may arrive as a decimal string for int64, a JSON document as a string or as a structured
 * value), so every reader is lenient and total: it returns `undefined` rather than throwing.
 */
import type { AttributeValue, Attributes, LogRecord } from '../model/telemetry.js';

/** A log record's event name: OTLP `LogRecord.event_name`, or (older SDKs, instrumentation-openai) the `event.name` attribute. */
export function eventNameOf(log: LogRecord): string | undefined {
  return log.eventName ?? str(log.attributes, 'event.name');
}

/** A non-empty string value (numbers and booleans are stringified); else undefined. */
export function str(attrs: Attributes, key: string): string | undefined {
  const v = attrs[key];
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A finite number (numeric strings accepted, e.g. int64 decoded as a decimal string); else undefined. */
export function num(attrs: Attributes, key: string): number | undefined {
  return toNumber(attrs[key]);
}

export function toNumber(v: AttributeValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** First defined string among `keys`. */
export function firstStr(attrs: Attributes, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = str(attrs, k);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** First defined number among `keys`. */
export function firstNum(attrs: Attributes, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = num(attrs, k);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * A structured attribute that may have been recorded as a JSON string (the GenAI conventions
 * allow both for `gen_ai.input.messages` etc.). Returns the parsed value, the value itself when
 * already structured, or undefined when absent or not JSON.
 */
export function structured(attrs: Attributes, key: string): unknown {
  const v = attrs[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return parsedJsonText(v);
  if (typeof v === 'object' && !(v instanceof Uint8Array)) return v;
  return undefined;
}

/** A JSON object or array written as text, parsed; undefined for anything else (not a string, not JSON). */
export function parsedJsonText(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (!(t.startsWith('[') || t.startsWith('{'))) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Text of a value an SDK JSON-encoded before recording it (a tool's result): a quoted string arrives
 * with its quotes and escapes, and is decoded to the string; anything else is read as `textOf` reads it.
 */
export function unquotedText(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      const s = JSON.parse(v) as unknown;
      if (typeof s === 'string') return textOf(s);
    } catch {
      // not JSON: the text as recorded
    }
  }
  return textOf(v);
}

/** Whether `v` is an object of named values (an attribute map, a parsed JSON object): not null, an array or bytes. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Text form of any attribute value: strings as is, everything else as JSON (bytes as length only). */
/**
 * What OpenInference writes instead of a text its `traceConfig` hides (`OPENINFERENCE_HIDE_INPUTS`,
 * `…_HIDE_INPUT_TEXT`, `…_HIDE_OUTPUT_TEXT`, …; `REDACTED_VALUE` in @arizeai/openinference-core and
 * the Python package): no text, not a text. Read as one, every hidden text equals every other, so
 * steps were linked, and tool calls matched, through the placeholder alone.
 */
export const REDACTED_TEXT = '__REDACTED__';

export function textOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.length > 0 && v !== REDACTED_TEXT ? v : undefined;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  } catch {
    return undefined;
  }
}
