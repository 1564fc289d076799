/**
 * Cheap estimate of the heap a decoded span holds, for the assembler's byte caps.
 *
 * Not exact (V8 layouts vary): a fixed cost for the span object, its ids, status and arrays,
 * plus string lengths of the name, attribute keys and values (one level deep; nested arrays
 * and maps at a flat rate), events and links. Resource and scope are shared by every span of
 * a batch and not counted. Cost: one pass over the span's own attributes, no allocation.
 */
import type { Attributes, AttributeValue, Span } from '../model/telemetry.js';

/** Span object + three id strings + status + empty arrays + the assembler's own bookkeeping. */
const SPAN_BASE_BYTES = 480;
const ENTRY_BYTES = 32;
const EVENT_BASE_BYTES = 96;
const LINK_BASE_BYTES = 160;

function valueBytes(v: AttributeValue): number {
  if (typeof v === 'string') return v.length;
  if (v === null || typeof v !== 'object') return 8;
  if (v instanceof Uint8Array) return v.byteLength + 64;
  if (Array.isArray(v)) {
    let n = 16;
    for (const x of v) n += typeof x === 'string' ? x.length + 16 : 16;
    return n;
  }
  // nested map: flat rate per entry, not recursive (rare in OTLP attributes)
  return 64 + Object.keys(v).length * 48;
}

function attributesBytes(attrs: Attributes): number {
  let n = 0;
  for (const k in attrs) n += ENTRY_BYTES + k.length + valueBytes(attrs[k]!);
  return n;
}

/** Estimated heap bytes of `span` (integer ≥ SPAN_BASE_BYTES). */
export function estimateSpanBytes(span: Span): number {
  let n = SPAN_BASE_BYTES + span.name.length + attributesBytes(span.attributes);
  for (const e of span.events) n += EVENT_BASE_BYTES + e.name.length + attributesBytes(e.attributes);
  for (const l of span.links) n += LINK_BASE_BYTES + attributesBytes(l.attributes);
  if (span.status.message !== undefined) n += span.status.message.length;
  return n;
}
