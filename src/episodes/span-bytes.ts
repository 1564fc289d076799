/**
 * Cheap estimate of the heap a decoded span holds, for the assembler's byte caps.
 *
 * Not exact (V8 layouts vary): a fixed cost for the span object, its ids, status and arrays,
 * plus string lengths of the name, attribute keys and values (nested arrays and maps counted to
 * their leaves), events and links. Resource and scope are shared by every span of a batch: the
 * assembler counts each once per episode (`estimateSharedBytes`). Before, neither nested values
 * nor resources were counted, and one span per request with a large resource held 590 MB in 40
 * open episodes under the byte caps (security review). Cost: one pass over the values, no allocation.
 */
import type { Attributes, AttributeValue, Span } from '../model/telemetry.js';

/** Span object + three id strings + status + empty arrays + the assembler's own bookkeeping. */
const SPAN_BASE_BYTES = 480;
const ENTRY_BYTES = 32;
const EVENT_BASE_BYTES = 96;
const LINK_BASE_BYTES = 160;

function valueBytes(v: AttributeValue, depth = 0): number {
  if (typeof v === 'string') return v.length;
  if (v === null || typeof v !== 'object') return 8;
  if (v instanceof Uint8Array) return v.byteLength + 64;
  // the decoders cap nesting at 64 levels; deeper than this is counted at a flat rate
  if (depth > 64) return 64;
  if (Array.isArray(v)) {
    let n = 16;
    for (const x of v) n += 16 + valueBytes(x, depth + 1);
    return n;
  }
  let n = 64;
  for (const k in v) n += 48 + k.length + valueBytes(v[k]!, depth + 1);
  return n;
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

/** Estimated heap bytes of a resource or scope object (shared by the spans of one batch). */
export function estimateSharedBytes(shared: { readonly attributes?: Attributes | undefined; readonly name?: string; readonly version?: string | undefined }): number {
  return 96 + (shared.attributes ? attributesBytes(shared.attributes) : 0) + (shared.name?.length ?? 0) + (shared.version?.length ?? 0);
}
