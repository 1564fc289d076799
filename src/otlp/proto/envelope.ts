/**
 * The envelope every OTLP export request shares: Export*ServiceRequest.resource_<x>=1 →
 * Resource<X> { resource=1, scope_<x>=2, schema_url=3 } → Scope<X> { scope=1, <items>=2,
 * schema_url=3 }. Traces and logs differ only in the leaf message, so they share this walker
 * and pass their leaf decoder.
 *
 * Before OTLP 0.15 (2022) Resource<X> carried its scopes as instrumentation_library_<x>=1000 —
 * InstrumentationLibrary<X> { instrumentation_library=1, <items>=2, schema_url=3 }, the same
 * layout, InstrumentationLibrary { name=1, version=2 } a prefix of InstrumentationScope. Old
 * SDKs and collectors still send it; like the collector's own migration (pdata, OTLP 0.15–0.19),
 * a block's field-1000 scopes are read only when it has no scope_<x>, so a sender that wrote
 * both for compatibility is not counted twice.
 *
 * One `resource` object per Resource<X> and one `scope` object per Scope<X> are shared by
 * reference by their items; they are created before the block is read so the resource/scope
 * fields may appear in any order relative to the items.
 */
import type { Resource, Scope } from '../../model/telemetry.js';
import { type ItemRejections, withPath } from '../errors.js';
import { decodeResource, decodeScope } from './common.js';
import { type WireCursor, delimitedEnd, skip, tag } from './wire.js';

type MutableScope = { -readonly [K in keyof Scope]: Scope[K] };

/** Field names for error paths, e.g. `resource_spans`, `scope_spans`, `spans`. */
export interface EnvelopeNames {
  readonly resource: string;
  readonly scope: string;
  readonly item: string;
  /** The pre-0.15 name of field 1000, e.g. `instrumentation_library_spans`. */
  readonly legacyScope: string;
}

/** Decodes the leaf message that ends at `end`. */
export type ItemDecoder<T> = (c: WireCursor, end: number, resource: Resource, scope: Scope) => T;

const LEN_FIELD_1 = (1 << 3) | 2;
const LEN_FIELD_2 = (2 << 3) | 2;
const LEN_FIELD_1000 = (1000 << 3) | 2;

/**
 * Decodes a whole export request. Throws DecodeFailure (with path) on malformed input — except,
 * when `rejects` is given, for an item that fails inside its own length-delimited bytes: that
 * one is recorded there and skipped, and the items around it are kept.
 */
export function decodeExportRequest<T>(c: WireCursor, names: EnvelopeNames, decodeItem: ItemDecoder<T>, rejects?: ItemRejections): T[] {
  const r = c.r;
  const end = r.len;
  const out: T[] = [];
  let i = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === LEN_FIELD_1) {
      const stop = delimitedEnd(c, end);
      try {
        decodeResourceBlock(c, stop, names, decodeItem, out, rejects, i);
      } catch (e) {
        throw withPath(e, `${names.resource}[${i}]`);
      }
      i++;
    } else skip(c, t & 7, end);
  }
  return out;
}

function decodeResourceBlock<T>(
  c: WireCursor,
  end: number,
  names: EnvelopeNames,
  decodeItem: ItemDecoder<T>,
  out: T[],
  rejects: ItemRejections | undefined,
  i: number,
): void {
  const r = c.r;
  const resource: Resource = { attributes: {} };
  let j = 0;
  let legacy: number[] | undefined; // [start, stop] pairs of field-1000 blocks, read at the end
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === LEN_FIELD_1) {
      const stop = delimitedEnd(c, end);
      try {
        decodeResource(c, stop, resource);
      } catch (e) {
        throw withPath(e, 'resource');
      }
    } else if (t === LEN_FIELD_2) {
      const stop = delimitedEnd(c, end);
      try {
        decodeScopeBlock(c, stop, names, decodeItem, resource, out, rejects, i, j, names.scope);
      } catch (e) {
        throw withPath(e, `${names.scope}[${j}]`);
      }
      j++;
    } else if (t === LEN_FIELD_1000) {
      const stop = delimitedEnd(c, end);
      (legacy ??= []).push(r.pos, stop);
      r.pos = stop;
    } else skip(c, t & 7, end);
  }
  if (legacy === undefined || j > 0) return;
  for (let k = 0; k < legacy.length; k += 2) {
    r.pos = legacy[k]!;
    try {
      decodeScopeBlock(c, legacy[k + 1]!, names, decodeItem, resource, out, rejects, i, k / 2, names.legacyScope);
    } catch (e) {
      throw withPath(e, `${names.legacyScope}[${k / 2}]`);
    }
  }
  r.pos = end;
}

function decodeScopeBlock<T>(
  c: WireCursor,
  end: number,
  names: EnvelopeNames,
  decodeItem: ItemDecoder<T>,
  resource: Resource,
  out: T[],
  rejects: ItemRejections | undefined,
  i: number,
  j: number,
  scopeName: string,
): void {
  const r = c.r;
  const scope: MutableScope = { name: '', version: undefined, attributes: {} };
  let k = 0;
  while (r.pos < end) {
    const t = tag(c, end);
    if (t === LEN_FIELD_1) {
      const stop = delimitedEnd(c, end);
      try {
        decodeScope(c, stop, scope);
      } catch (e) {
        throw withPath(e, 'scope');
      }
    } else if (t === LEN_FIELD_2) {
      const stop = delimitedEnd(c, end);
      try {
        out.push(decodeItem(c, stop, resource, scope));
      } catch (e) {
        if (!rejects) throw withPath(e, `${names.item}[${k}]`);
        // the item's failure stays within its own bytes: skip to its end, keep the others
        rejects.add(e, [`${names.resource}[${i}]`, `${scopeName}[${j}]`, `${names.item}[${k}]`]);
        r.pos = stop;
      }
      k++;
    } else skip(c, t & 7, end);
  }
}
