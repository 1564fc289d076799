/**
 * Offset watermark: pure helpers that decide which offset a partition may commit, and the
 * replay filter carried in the commit's metadata.
 *
 * Invariant the runtime keeps with these: a partition's committed offset never passes the
 * first offset of an episode that still needs it (open in the assembler, or closed but its
 * events not yet committed). A crash or rebalance therefore replays every record such an
 * episode needs.
 *
 * Replay filter: the committed offset W may lie below the processed position P. Records in
 * [W, P) also hold spans of episodes whose events are already committed; replaying those
 * spans would rebuild partial copies of finished episodes and publish them again. So each
 * commit stores, in the offset metadata, P and the trace ids still held at W; on replay,
 * records below P contribute only spans/evaluations of those traces. When the held set is too
 * large for the metadata (Kafka's `offset.metadata.max.bytes`, default 4096), they are written as
 * 32-bit hashes instead (`ac2`, ~415 of them fit), and past that as the same hashes Golomb-Rice
 * coded (`ac3`, ~950 fit), and past that as their first b < 32 bits, coded alike (`ac4`: b as large
 * as fits; a committed trace whose first b bits equal a held one's is rebuilt too — about held ÷ 2^b
 * of them: 0.2 % at 2,000 held, 14 % at 5,000). Past ~10,000 (that share above one half) the
 * metadata says "no filter": replay everything and rely on downstream de-duplication by event id.
 *
 * Corrections: a late span or verdict that reopens a published revision r - 1 (revision r) needs
 * that revision's records as well as its own, and they were committed with it. While the correction
 * is unpublished the committed offset goes back to the first of them (Kafka takes a lower offset) and
 * the filter names the trace `<id>#<r>` (`encodeCorrectionFilter`): a new owner replays the trace's
 * records from there and rebuilds the episode at revision r (the assembler's `expectRevision`), not
 * as a revision 0 published again. Only a whole-id filter in the metadata carries revisions — a
 * hashed key stands for other traces too —; when it does not fit, the commit is as without them.
 *
 * Spilled filter (`ac5`): when the runtime has a side topic for it (`sinks.kafka.replayFilterTopic`),
 * a held set whose ids do not fit whole is written instead, whole (`ac1` of any length:
 * `encodeSpillableFilter`), as one record of that topic, and the metadata points at the record
 * (`encodeSpillPointer`): no false positives at any number of open runs.
 */

import { createHash } from 'node:crypto';
import { compareOffsets } from '../episodes/offsets.js';

/** The smallest defined offset, or undefined when none is defined. */
export function minOffset(...offsets: readonly (string | undefined)[]): string | undefined {
  let min: string | undefined;
  for (const o of offsets) {
    if (o === undefined) continue;
    if (min === undefined || compareOffsets(o, min) < 0) min = o;
  }
  return min;
}

/** `offset + 1` as a decimal string. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/**
 * The offset to commit for a partition: the next offset to read, held back to the first offset
 * still needed by an open or unpublished episode. `processedNext` undefined = nothing processed
 * in this assignment yet, so there is nothing to commit.
 */
export function commitOffsetFor(processedNext: string | undefined, ...held: readonly (string | undefined)[]): string | undefined {
  if (processedNext === undefined) return undefined;
  return minOffset(processedNext, ...held);
}

/** What a committed offset's metadata says about the records just above it. */
export interface ReplayFilter {
  /** Records at or above this offset were never processed: take them whole. */
  readonly processedNext: string;
  /** Trace ids whose records below `processedNext` must be replayed; undefined = replay everything. */
  readonly heldTraces: ReadonlySet<string> | undefined;
  /**
   * Of `heldTraces`, those needed only from an offset above the committed one: their records below
   * it fed a revision whose events are committed (a correction — a late span or evaluation that
   * reopened a credited episode — holds its trace from the late record on). Replaying those
   * records rebuilt that revision and published it a second time under its event ids.
   */
  readonly heldFrom?: ReadonlyMap<string, string>;
  /**
   * `heldTraces` and `heldFrom` name `compactKey`s of the ids, not the ids (metadata `ac2`, written
   * when the ids themselves did not fit): `replayKeeps` looks an id up by its key.
   */
  readonly compact?: true;
  /**
   * The keys keep only the first `keyBits` (< 32) bits of the hash (metadata `ac4`): an id is looked
   * up by `keyAtBits(compactKey(id), keyBits)`.
   */
  readonly keyBits?: number;
  /**
   * Trace-keyed episodes whose revision r - 1 is published and whose correction (revision r) is not
   * yet: trace id → r (`encodeCorrectionFilter`, whole-id filters only). Their records are replayed
   * from the committed offset, held back to the first of them (the revision's spans included), and
   * a new owner rebuilds the episode at revision r — not as a revision 0 published again.
   */
  readonly revisions?: ReadonlyMap<string, number>;
}

const METADATA_VERSION = 'ac1';
/** Held ids written as `compactKey`s (each 8 hex digits on the wire): the ids did not fit. */
const COMPACT_VERSION = 'ac2';
/** The same keys Golomb-Rice coded (~23 bits each instead of 54): their hex did not fit either. */
const CODED_VERSION = 'ac3';
/** The keys' first b < 32 bits, Golomb-Rice coded: the whole keys did not fit either. */
const TRUNCATED_VERSION = 'ac4';
/** Kafka's default `offset.metadata.max.bytes` is 4096; stay clear of it. */
const DEFAULT_METADATA_MAX_BYTES = 3_800;
/**
 * What a replay filter written short means and the fix: said by the job at start (brokers below
 * the default), after a refused commit, and by `check` — three copies of it differed in wording.
 */
export const SHORT_REPLAY_FILTER_ADVICE =
  'it names fewer open runs, so a restart or rebalance may publish episodes again (de-duplicate on event_id); raise offset.metadata.max.bytes on the brokers to 4096 or more to keep it whole';

/** Kafka's default `offset.metadata.max.bytes`. */
export const KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES = 4_096;

/**
 * The longest offset metadata kafkajs can send: it writes the metadata of OffsetCommit and
 * TxnOffsetCommit as a STRING with an int16 length (the protocol's non-flexible versions, the only
 * ones it speaks) and throws a RangeError while encoding a longer one — a commit that never
 * reaches the brokers, so no refusal the filter would be shortened on.
 */
export const KAFKAJS_MAX_OFFSET_METADATA_BYTES = 32_767;

/**
 * The longest replay filter to write under brokers whose `offset.metadata.max.bytes` is
 * `brokerLimit`: the same share as under Kafka's default (3,800 of 4,096, clear of it), of at most
 * the 32,767 bytes kafkajs can send (KAFKAJS_MAX_OFFSET_METADATA_BYTES) — brokers set to 64 KiB
 * were given 60,800, and with ~900 open runs on a partition every commit of it failed in kafkajs's
 * encoder. Brokers at 32 KiB or more hold the ids of ~900 open runs per partition whole and their
 * coded hashes of ~9,000, where the default holds ~115 and ~950.
 */
export function replayMetadataBudget(brokerLimit: number): number {
  const limit = Math.min(brokerLimit, KAFKAJS_MAX_OFFSET_METADATA_BYTES);
  return Math.max(1, Math.floor((limit * DEFAULT_METADATA_MAX_BYTES) / KAFKA_DEFAULT_OFFSET_METADATA_MAX_BYTES));
}

/**
 * Encodes the replay filter as `ac1;<processedNext>;<id>,<id>...` (when the ids do not fit in
 * `maxBytes`, as their hashes: `compactOrAll`; when those do not fit either, `ac1;<processedNext>;*`,
 * meaning "replay everything"), followed by
 * `;<commitTag>` when one is given: a tag unique to the transaction that commits this offset, so
 * a transaction whose outcome was lost (connection dropped during EndTxn) can be told committed
 * or aborted afterwards by reading the group's offset back (`commitTagOf`). An id in `heldFrom`
 * is written `<id>@<offset>` (`ReplayFilter.heldFrom`; an escaped id never contains `@`).
 */
export function encodeReplayMetadata(processedNext: string, heldTraces: Iterable<string>, maxBytes = DEFAULT_METADATA_MAX_BYTES, commitTag?: string, heldFrom?: ReadonlyMap<string, string>): string {
  if (commitTag !== undefined && !/^[\w.-]+$/.test(commitTag)) throw new Error(`commit tag ${JSON.stringify(commitTag)} must be word characters, '.' or '-'`);
  // ids are trace ids (hex) or `conv:<conversation id>` (any text): escaped so `,` and `;` stay separators
  const tail = commitTag === undefined ? '' : `;${commitTag}`;
  const unique = heldTraces instanceof Set ? (heldTraces as ReadonlySet<string>) : new Set(heldTraces);
  // Escaping only lengthens an id: when the ids do not fit even as they are, the answer is "replay
  // everything" without sorting and escaping them (under load a third of the commits hold more
  // ids than fit, ~100 trace ids)
  // keys a compact filter read at assignment names (its ids are not known): only a compact filter can carry them on
  let carriesKeys = false;
  for (const id of unique) if (isCompactKey(id)) carriesKeys = true;
  if (carriesKeys || unescapedLength(processedNext, unique, tail, heldFrom) > maxBytes) return compactOrAll(processedNext, unique, maxBytes, tail, heldFrom);
  // undefined for an id that is not well-formed UTF-16: its hash is well defined
  const whole = wholeIdFilter(processedNext, unique, heldFrom);
  if (whole === undefined) return compactOrAll(processedNext, unique, maxBytes, tail, heldFrom);
  const full = whole + tail;
  return full.length <= maxBytes ? full : compactOrAll(processedNext, unique, maxBytes, tail, heldFrom);
}

/**
 * The held ids as `compactKey`s — `ac2;<processedNext>;<hex8>,<hex8>@<offset>...` — when they fit
 * `maxBytes`, else "replay everything". Writing "replay everything" as soon as the ids did not fit
 * (~115 trace ids open on a partition, a busy fleet's normal load) made every restart or rebalance
 * rebuild the episodes already committed above the committed offset and publish them again, under
 * their event ids — exactly-once included. A hash names ~3.7× as many ids. Two ids with the same key
 * are both replayed: a committed trace sharing a held one's key (p ≈ held / 2^32 for each) is rebuilt
 * from its records there, as every committed trace was under "replay everything". Releases before
 * this one read `ac2` as no filter: replay everything, as they did when the ids did not fit.
 */
function compactOrAll(processedNext: string, ids: ReadonlySet<string>, maxBytes: number, tail: string, heldFrom: ReadonlyMap<string, string> | undefined): string {
  const all = `${METADATA_VERSION};${processedNext};*${tail}`;
  // A filter naming more than half of all keys (MAX_CUT_SHARE) takes ≥ 2 bits a key: more ids than
  // that fits cannot be written usefully — said at once, without hashing them.
  if (ids.size > (maxBytes * 6) / 2) return all;
  /** key → the offset it is needed from; undefined = from the committed offset (all its records) */
  const keys = new Map<string, string | undefined>();
  // keys carried over from an `ac4` filter know only their first bits: nothing finer can be written
  let bits = 32;
  for (const id of ids) {
    const key = compactKey(id);
    bits = Math.min(bits, bitsOfKey(key));
    mergeNeed(keys, key, heldFrom?.get(id));
  }
  const values = new Float64Array(keys.size);
  const anyTime: number[] = []; // keys needed from the committed offset (no `@offset`)
  const later: [number, string][] = []; // keys needed only from an offset above it
  let i = 0;
  for (const [k, from] of keys) {
    const v = valueOfKey(k);
    values[i++] = v;
    if (from === undefined) anyTime.push(v);
    else later.push([v, from]);
  }
  values.sort();
  anyTime.sort((a, b) => a - b);
  later.sort((a, b) => a[0] - b[0]);
  // distinct keys at each precision b: two neighbours differ in their first b bits when they share fewer
  const shared = new Array<number>(33).fill(0);
  for (let j = 1; j < values.length; j++) shared[Math.clz32(values[j - 1]! ^ values[j]!)]!++;
  const distinctAt = (b: number) => {
    let m = values.length > 0 ? 1 : 0;
    for (let c = 0; c < b; c++) m += shared[c]!;
    return m;
  };
  /** Characters the Rice code of the keys' first b bits takes at least (their gaps sum to G: no k writes them in fewer bits than m·k + G / 2^k). */
  const leastChars = (b: number) => {
    const m = distinctAt(b);
    if (m === 0) return 0;
    const g = Math.floor(values[values.length - 1]! / 2 ** (32 - b)) + 1 - m;
    let least = Infinity;
    for (let k = 0; k <= 31; k++) least = Math.min(least, m * k + g / 2 ** k);
    return Math.ceil(least / 6);
  };
  if (bits === 32) {
    // every key is 8 hex digits and a separator
    if (COMPACT_VERSION.length + 2 + processedNext.length + keys.size * 9 - 1 + tail.length <= maxBytes) {
      const sorted = [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const entries = sorted.map(([k, from]) => (from === undefined ? k.slice(1) : `${k.slice(1)}@${from}`));
      const text = `${COMPACT_VERSION};${processedNext};${entries.join(',')}${tail}`;
      if (text.length <= maxBytes) return text;
    }
    // More keys than fit as hex (~415): Golomb-Rice coded. Before, past ~415 runs open on a
    // partition the commit said "replay everything", and a restart or rebalance published every
    // episode committed above the committed offset again, exactly-once included.
    const room = maxBytes - CODED_VERSION.length - 2 - processedNext.length - tail.length;
    const coded = leastChars(32) > room ? undefined : riceEncode(values, room);
    if (coded !== undefined) {
      const froms = later.map(([v, from]) => `,${hex8(v)}@${from}`).join('');
      const text = `${CODED_VERSION};${processedNext};${coded}${froms}${tail}`;
      if (text.length <= maxBytes) return text;
    }
  }
  // Past ~950 (or keys carried from such a filter): the keys' first b bits, b as large as fits.
  // Before, "replay everything" — every episode committed above the committed offset published
  // again; now only those whose first b bits equal a held key's (about held ÷ 2^b of them). A b
  // whose code cannot fit (leastChars) is skipped without writing it.
  const cut = new Float64Array(keys.size);
  for (let b = Math.min(bits, 31); b >= 1; b--) {
    // fewer bits only name a larger share: past half of all traces the filter is "replay everything"
    if (distinctAt(b) > MAX_CUT_SHARE * 2 ** b) return all;
    const head = `${TRUNCATED_VERSION};${processedNext};${b}:`;
    const room = maxBytes - head.length - tail.length;
    if (leastChars(b) > room) continue;
    const unit = 2 ** (32 - b);
    let m = 0;
    for (let j = 0; j < values.length; j++) {
      const t = Math.floor(values[j]! / unit);
      if (m === 0 || cut[m - 1] !== t) cut[m++] = t;
    }
    // a cut key needed from an offset: the earliest need of the keys it stands for (none when
    // one of them is needed from the committed offset)
    let fromText = '';
    for (let j = 0; j < later.length; ) {
      const t = Math.floor(later[j]![0] / unit);
      let from = later[j]![1];
      for (j++; j < later.length && Math.floor(later[j]![0] / unit) === t; j++) if (compareOffsets(later[j]![1], from) < 0) from = later[j]![1];
      if (!hasInRange(anyTime, t * unit, (t + 1) * unit)) fromText += `,${hex8(t * unit)}@${from}`;
    }
    const coded = riceEncode(cut.subarray(0, m), room - fromText.length);
    if (coded !== undefined) return `${head}${coded}${fromText}${tail}`;
  }
  return all;
}

/** Whether sorted `values` hold one in [lo, hi). */
function hasInRange(values: readonly number[], lo: number, hi: number): boolean {
  let a = 0;
  let z = values.length;
  while (a < z) {
    const mid = (a + z) >>> 1;
    if (values[mid]! < lo) a = mid + 1;
    else z = mid;
  }
  return a < values.length && values[a]! < hi;
}

/**
 * The largest share of all keys an `ac4` filter names (its false-positive rate: a committed trace is
 * rebuilt with about this probability). Above it, "replay everything" says the same more plainly.
 */
const MAX_CUT_SHARE = 0.5;

/** Two ids on one key: the earlier need wins (no offset = every record). */
function mergeNeed(keys: Map<string, string | undefined>, key: string, from: string | undefined): void {
  if (!keys.has(key)) keys.set(key, from);
  else {
    const had = keys.get(key);
    if (had !== undefined && (from === undefined || compareOffsets(from, had) < 0)) keys.set(key, from);
  }
}

const hex8 = (v: number) => v.toString(16).padStart(8, '0');

/** URL-safe base64 digits: none of them is a separator of the metadata (`;`, `,`, `@`, `.`). */
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Sorted distinct 32-bit keys as `<k>.<n>.<bits>`: each gap to the previous key (minus one) as its
 * quotient by 2^k in unary (ones, then a zero) and its k low bits, the bits 6 to a digit. k is the
 * one that writes fewest bits — about log2(2^32 / n): n random keys take ~34 - log2(n) bits each
 * (~23 at 1,000) where hex took 54. Undefined when that is longer than `maxChars` already.
 */
export function riceEncode(keys: ArrayLike<number>, maxChars = Infinity): string | undefined {
  const gaps = new Array<number>(keys.length);
  let prev = -1;
  let sum = 0;
  for (let i = 0; i < keys.length; i++) {
    gaps[i] = keys[i]! - prev - 1;
    sum += gaps[i]!;
    prev = keys[i]!;
  }
  // the best k is within one of log2(mean gap · ln 2) (Gallager & van Voorhis): count those three
  const guess = keys.length === 0 ? 0 : Math.max(0, Math.min(31, Math.round(Math.log2(Math.max(1, (sum / keys.length) * Math.LN2)))));
  let k = 0;
  let best = Infinity;
  for (let c = Math.max(0, guess - 1); c <= Math.min(31, guess + 1); c++) {
    const unit = 2 ** c;
    let bits = 0;
    for (const g of gaps) bits += Math.floor(g / unit) + 1 + c;
    if (bits < best) [best, k] = [bits, c];
  }
  const head = `${k}.${keys.length}.`;
  if (head.length + Math.ceil(best / 6) > maxChars) return undefined;
  const digits: string[] = [];
  // bits not yet written (fewer than 6 between writes), as a number: exact up to 2^53
  let acc = 0;
  let held = 0;
  const write = (value: number, width: number) => {
    acc = acc * 2 ** width + value;
    held += width;
    while (held >= 6) {
      held -= 6;
      const unit = 2 ** held;
      const d = Math.floor(acc / unit);
      digits.push(DIGITS[d]!);
      acc -= d * unit;
    }
  };
  const unit = 2 ** k;
  for (const g of gaps) {
    let q = Math.floor(g / unit);
    for (; q > 20; q -= 20) write(2 ** 20 - 1, 20); // ones
    write((2 ** q - 1) * 2, q + 1); // the last ones, then the zero
    if (k > 0) write(g % unit, k);
  }
  if (held > 0) write(0, 6 - held);
  return head + digits.join('');
}

/** The keys `riceEncode` wrote; undefined for anything else (malformed, or keys beyond 32 bits). */
export function riceDecode(text: string): number[] | undefined {
  const m = /^(\d{1,2})\.(\d{1,7})\.([\w-]*)$/.exec(text);
  if (!m) return undefined;
  const k = Number(m[1]);
  const n = Number(m[2]);
  const digits = m[3]!;
  if (k > 31 || n > digits.length * 6) return undefined;
  let pos = 0;
  const total = digits.length * 6;
  const bit = () => {
    const d = DIGITS.indexOf(digits[Math.floor(pos / 6)]!);
    const b = (d >> (5 - (pos % 6))) & 1;
    pos++;
    return b;
  };
  const keys: number[] = [];
  const unit = 2 ** k;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (;;) {
      if (pos >= total) return undefined; // the unary part never ended
      if (bit() === 0) break;
      q++;
    }
    if (pos + k > total) return undefined;
    let r = 0;
    for (let b = 0; b < k; b++) r = r * 2 + bit();
    prev = prev + 1 + q * unit + r;
    if (prev > 0xffffffff) return undefined;
    keys.push(prev);
  }
  return keys;
}

/**
 * The key a compact filter (`ac2`) names an id by: `~` and 8 hex digits of the id's 32-bit FNV-1a
 * hash over its UTF-16 code units (fixed: metadata written by one release is read by the next). An
 * id that already is a key (carried over from a compact filter read at assignment) is its own key.
 * Held ids are trace ids (hex), `conv:…` or `resp:…`: none starts with `~`.
 */
export function compactKey(id: string): string {
  if (isCompactKey(id)) return id;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return `~${hex8(h >>> 0)}`;
}

/**
 * A key (`compactKey`) cut to its first `bits` bits, as an `ac4` filter names it: `~<8 hex>/<bits>`,
 * the low bits zero. A key that already has fewer bits keeps them.
 */
export function keyAtBits(key: string, bits: number): string {
  if (bits >= bitsOfKey(key)) return key;
  const shift = 32 - bits;
  return `~${hex8(((valueOfKey(key) >>> shift) << shift) >>> 0)}/${bits}`;
}

/** Held ids are trace ids (hex), `conv:…` or `resp:…`: none starts with `~`. */
function isCompactKey(id: string): boolean {
  return id.charCodeAt(0) === 126 /* ~ */ && (id.length === 9 ? /^~[0-9a-f]{8}$/.test(id) : /^~[0-9a-f]{8}\/([1-9]|[12]\d|3[01])$/.test(id));
}

/** The bits a key keeps: 32, or fewer for a key of an `ac4` filter. */
function bitsOfKey(key: string): number {
  return key.length === 9 ? 32 : Number(key.slice(10));
}

/** The 32-bit value of a key (a cut key: its first bits, then zeros). */
function valueOfKey(key: string): number {
  return parseInt(key.slice(1, 9), 16);
}

/** The characters `encodeURIComponent` leaves as they are. */
const UNESCAPED = /^[\w.!~*'()-]*$/;

/** `encodeURIComponent(id)`, without its call for the ids it leaves as they are (trace ids: hex) — half the cost. */
function escapeId(id: string): string {
  return UNESCAPED.test(id) ? id : encodeURIComponent(id);
}

/** Length of the metadata for these ids if none needed escaping: a lower bound of its length. */
function unescapedLength(processedNext: string, ids: ReadonlySet<string>, tail: string, heldFrom?: ReadonlyMap<string, string>): number {
  let n = METADATA_VERSION.length + 1 + processedNext.length + 1 + Math.max(0, ids.size - 1) + tail.length;
  for (const id of ids) n += id.length;
  if (heldFrom) for (const [id, from] of heldFrom) if (ids.has(id)) n += 1 + from.length;
  return n;
}

/** Parses metadata written by `encodeReplayMetadata`; anything else (or null) = no filter. */
export function decodeReplayMetadata(metadata: string | null | undefined): ReplayFilter | undefined {
  if (!metadata) return undefined;
  const parts = metadata.split(';');
  if ((parts.length !== 3 && parts.length !== 4) || !/^\d+$/.test(parts[1]!)) return undefined;
  if (parts[0] === COMPACT_VERSION) return decodeCompact(parts[1]!, parts[2]!);
  if (parts[0] === CODED_VERSION) return decodeCoded(parts[1]!, parts[2]!);
  if (parts[0] === TRUNCATED_VERSION) return decodeTruncated(parts[1]!, parts[2]!);
  if (parts[0] !== METADATA_VERSION) return undefined;
  const ids = parts[2]!;
  let held: Set<string> | undefined;
  let from: Map<string, string> | undefined;
  let revisions: Map<string, number> | undefined;
  try {
    if (ids !== '*') {
      held = new Set();
      for (const entry of ids === '' ? [] : ids.split(',')) {
        const at = entry.lastIndexOf('@');
        // `<id>[#<revision>][@<offset>]`: an escaped id contains neither `#` nor `@`
        const named = at < 0 ? entry : entry.slice(0, at);
        const hash = named.indexOf('#');
        const id = decodeURIComponent(hash < 0 ? named : named.slice(0, hash));
        held.add(id);
        if (hash >= 0) {
          const revision = named.slice(hash + 1);
          if (!/^[1-9]\d{0,8}$/.test(revision)) throw new Error('not a revision');
          (revisions ??= new Map()).set(id, Number(revision));
        }
        if (at < 0) continue;
        const offset = entry.slice(at + 1);
        if (!/^\d+$/.test(offset)) throw new Error('not an offset');
        (from ??= new Map()).set(id, BigInt(offset).toString());
      }
    }
  } catch {
    held = undefined; // not ours after all: replay everything (safe, only slower)
    from = undefined;
    revisions = undefined;
  }
  // canonical (no leading zeros), as compareOffsets compares offsets
  return { processedNext: BigInt(parts[1]!).toString(), heldTraces: held, ...(from ? { heldFrom: from } : {}), ...(revisions ? { revisions } : {}) };
}

/** The filter of `ac2` metadata: the held ids' `compactKey`s; anything malformed = no filter. */
function decodeCompact(processedNext: string, entries: string): ReplayFilter | undefined {
  const held = new Set<string>();
  let from: Map<string, string> | undefined;
  for (const entry of entries === '' ? [] : entries.split(',')) {
    const m = /^([0-9a-f]{8})(?:@(\d+))?$/.exec(entry);
    if (!m) return { processedNext: BigInt(processedNext).toString(), heldTraces: undefined }; // not ours after all: replay everything
    held.add(`~${m[1]!}`);
    if (m[2] !== undefined) (from ??= new Map()).set(`~${m[1]!}`, BigInt(m[2]).toString());
  }
  return { processedNext: BigInt(processedNext).toString(), heldTraces: held, ...(from ? { heldFrom: from } : {}), compact: true };
}

/** The filter of `ac3` metadata: the Rice-coded keys, then `,<hex8>@<offset>` per key needed from an offset; anything malformed = no filter. */
function decodeCoded(processedNext: string, body: string): ReplayFilter {
  const next = BigInt(processedNext).toString();
  const [coded, ...froms] = body.split(',');
  const keys = riceDecode(coded!);
  if (keys === undefined) return { processedNext: next, heldTraces: undefined }; // not ours after all: replay everything
  const held = new Set(keys.map((v) => `~${v.toString(16).padStart(8, '0')}`));
  let from: Map<string, string> | undefined;
  for (const entry of froms) {
    const e = /^([0-9a-f]{8})@(\d+)$/.exec(entry);
    if (!e || !held.has(`~${e[1]!}`)) return { processedNext: next, heldTraces: undefined };
    (from ??= new Map()).set(`~${e[1]!}`, BigInt(e[2]!).toString());
  }
  return { processedNext: next, heldTraces: held, ...(from ? { heldFrom: from } : {}), compact: true };
}

/** The filter of `ac4` metadata: `<b>:` and the Rice-coded first b bits of the keys, then `,<8 hex>@<offset>` per key needed from an offset; anything malformed = no filter. */
function decodeTruncated(processedNext: string, body: string): ReplayFilter {
  const next = BigInt(processedNext).toString();
  const everything = { processedNext: next, heldTraces: undefined };
  const m = /^([1-9]|[12]\d|3[01]):(.*)$/.exec(body);
  if (!m) return everything;
  const bits = Number(m[1]);
  const shift = 32 - bits;
  const [coded, ...froms] = m[2]!.split(',');
  const values = riceDecode(coded!);
  if (values === undefined || values.some((v) => v >= 2 ** bits)) return everything;
  const held = new Set(values.map((v) => `~${hex8((v << shift) >>> 0)}/${bits}`));
  let from: Map<string, string> | undefined;
  for (const entry of froms) {
    const e = /^([0-9a-f]{8})@(\d+)$/.exec(entry);
    const key = e ? `~${e[1]!}/${bits}` : '';
    if (!e || !held.has(key)) return everything;
    (from ??= new Map()).set(key, BigInt(e[2]!).toString());
  }
  return { processedNext: next, heldTraces: held, ...(from ? { heldFrom: from } : {}), compact: true, keyBits: bits };
}

/** The commit tag in metadata written by `encodeReplayMetadata` or `encodeSpillPointer`, if it has one. */
export function commitTagOf(metadata: string | null | undefined): string | undefined {
  if (!metadata) return undefined;
  const parts = metadata.split(';');
  if (parts[0] === SPILL_VERSION) return parts.length === 5 ? parts[4] : undefined;
  return parts.length === 4 && (parts[0] === METADATA_VERSION || parts[0] === COMPACT_VERSION || parts[0] === CODED_VERSION || parts[0] === TRUNCATED_VERSION) ? parts[3] : undefined;
}

/**
 * The filter lives in a record of the side topic (`sinks.kafka.replayFilterTopic`):
 * `ac5;<processedNext>;<side partition>@<side offset>;<hash of the record's value>[;<commitTag>]`.
 * Releases before this one read `ac5` as no filter (`decodeReplayMetadata` answers undefined for a
 * version it does not know): they replay everything — safe, only duplicates downstream, as when the
 * ids did not fit before.
 */
const SPILL_VERSION = 'ac5';

/** Where a spilled filter's record is, and what its value hashes to. */
export interface SpillPointer {
  readonly processedNext: string;
  /** Partition of the side topic the record was written to. */
  readonly partition: number;
  /** The record's offset there. */
  readonly offset: string;
  /** `spillHash` of the record's value. */
  readonly hash: string;
}

/**
 * Why a filter that does not fit the metadata whole was hashed into it although a side topic was
 * there to take it (`encodeSpillableFilter`): `too-large` — over what the side topic takes;
 * `pointer-too-long` — not even a pointer fits the brokers' offset.metadata.max.bytes;
 * `unwritable-ids` — ids that cannot be written whole (keys carried over from a hashed filter read
 * at assignment, an id that is not well-formed UTF-16).
 */
export type SpillFallbackReason = 'too-large' | 'pointer-too-long' | 'unwritable-ids';

/** How a commit's replay filter is written: in the metadata, or spilled to a side record. */
export type ReplayFilterWrite =
  /** the metadata itself (`encodeReplayMetadata`'s answer); `hashed`: why it is hashed, not spilled, when a side topic was given */
  | { readonly metadata: string; readonly spill?: undefined; readonly tooLarge?: number; readonly hashed?: SpillFallbackReason }
  /** the value of the side record (`ac1` of any length); the metadata is `encodeSpillPointer` once its offset is known */
  | { readonly spill: string; readonly metadata?: undefined; readonly tooLarge?: undefined; readonly hashed?: undefined };

/**
 * The replay filter of a commit when a side topic can take it (`spillMaxBytes` defined): the
 * metadata as `encodeReplayMetadata` writes it while the ids fit whole (the same text: no change for
 * small fleets), else — as soon as they do not, where that encoder turns to hashes that name
 * committed traces too — the whole-id filter of any length, to spill. Hashes were only ever a way to
 * fit; the switch point is where exactness ends. Falls back to `encodeReplayMetadata` when the
 * whole-id text cannot be written (keys carried over from a hashed filter read at assignment, an
 * id that is not well-formed UTF-16), is over `spillMaxBytes` bytes (`tooLarge`: its length, for
 * the warning), or when not even a pointer fits `maxBytes` (brokers set far below Kafka's default);
 * `hashed` says which (for the job's fallback counter). `spillMaxBytes` undefined:
 * `encodeReplayMetadata`, nothing else.
 */
export function encodeSpillableFilter(
  processedNext: string,
  heldTraces: Iterable<string>,
  maxBytes: number | undefined,
  commitTag: string | undefined,
  heldFrom: ReadonlyMap<string, string> | undefined,
  spillMaxBytes: number | undefined,
): ReplayFilterWrite {
  const budget = maxBytes ?? DEFAULT_METADATA_MAX_BYTES;
  if (spillMaxBytes === undefined) return { metadata: encodeReplayMetadata(processedNext, heldTraces, budget, commitTag, heldFrom) };
  const unique = heldTraces instanceof Set ? (heldTraces as ReadonlySet<string>) : new Set(heldTraces);
  const tail = commitTag === undefined ? '' : `;${commitTag}`;
  const whole = wholeIdFilter(processedNext, unique, heldFrom);
  // the ids fit whole: the text encodeReplayMetadata writes for them (ac1), as before
  if (whole !== undefined && whole.length + tail.length <= budget) return { metadata: whole + tail };
  // the longest pointer (a 10-digit partition, a 19-digit offset) must fit too: brokers refusing it
  // would refuse every commit, and shortening the filter cannot shorten a pointer
  const pointerFits = SPILL_VERSION.length + 1 + processedNext.length + 1 + 10 + 1 + 19 + 1 + 16 + tail.length <= budget;
  if (whole !== undefined && pointerFits && Buffer.byteLength(whole) <= spillMaxBytes) return { spill: whole };
  const metadata = encodeReplayMetadata(processedNext, unique, budget, commitTag, heldFrom);
  if (whole === undefined) return { metadata, hashed: 'unwritable-ids' };
  return !pointerFits ? { metadata, hashed: 'pointer-too-long' } : { metadata, tooLarge: Buffer.byteLength(whole), hashed: 'too-large' };
}

/** `ac1;<processedNext>;<id>[@<offset>],...` of any length, without a tag — what `encodeReplayMetadata` writes while the ids fit, and what `encodeSpillableFilter` spills; undefined when it cannot be written (compact keys, an id that is not well-formed UTF-16). */
function wholeIdFilter(processedNext: string, ids: ReadonlySet<string>, heldFrom: ReadonlyMap<string, string> | undefined, revisions?: ReadonlyMap<string, number>): string | undefined {
  for (const id of ids) if (isCompactKey(id)) return undefined;
  try {
    const entries = [...ids].sort().map((id) => {
      const from = heldFrom?.get(id);
      const revision = revisions?.get(id);
      const named = revision === undefined ? escapeId(id) : `${escapeId(id)}#${revision}`;
      return from === undefined ? named : `${named}@${from}`;
    });
    return `${METADATA_VERSION};${processedNext};${entries.join(',')}`;
  } catch {
    // An id that is not well-formed UTF-16 (a lone surrogate, which a JSON conversation or response
    // id can carry) makes encodeURIComponent throw: that threw out of every commit of the partition
    // (an unhandled rejection, and no offset committed again).
    return undefined;
  }
}

/**
 * The replay filter of a commit that holds corrections back (`ReplayFilter.revisions`): the whole-id
 * `ac1` text, each correction's trace written `<id>#<revision>`, followed by `;<commitTag>` — only
 * while it fits `maxBytes` whole. Undefined else: the revisions cannot be carried by hashed keys (a
 * key names other traces too, which would be rebuilt at that revision) nor by a spilled record whose
 * write may fall back to hashes, so the caller commits as it did without them.
 */
export function encodeCorrectionFilter(
  processedNext: string,
  heldTraces: ReadonlySet<string>,
  revisions: ReadonlyMap<string, number>,
  maxBytes = DEFAULT_METADATA_MAX_BYTES,
  commitTag?: string,
  heldFrom?: ReadonlyMap<string, string>,
): string | undefined {
  if (commitTag !== undefined && !/^[\w.-]+$/.test(commitTag)) throw new Error(`commit tag ${JSON.stringify(commitTag)} must be word characters, '.' or '-'`);
  for (const [id, r] of revisions) if (!heldTraces.has(id) || !Number.isInteger(r) || r < 1 || r > 999_999_999) return undefined;
  const tail = commitTag === undefined ? '' : `;${commitTag}`;
  if (unescapedLength(processedNext, heldTraces, tail, heldFrom) > maxBytes) return undefined;
  const whole = wholeIdFilter(processedNext, heldTraces, heldFrom, revisions);
  return whole !== undefined && whole.length + tail.length <= maxBytes ? whole + tail : undefined;
}

/** The hash a pointer names its record's value by: the first 64 bits of its SHA-256, hex. */
export function spillHash(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** The metadata pointing at a spilled filter's record (`SPILL_VERSION`). */
export function encodeSpillPointer(pointer: SpillPointer, commitTag?: string): string {
  if (commitTag !== undefined && !/^[\w.-]+$/.test(commitTag)) throw new Error(`commit tag ${JSON.stringify(commitTag)} must be word characters, '.' or '-'`);
  if (!Number.isInteger(pointer.partition) || pointer.partition < 0 || !/^\d+$/.test(pointer.offset) || !/^[0-9a-f]{16}$/.test(pointer.hash)) throw new Error(`not a spill pointer: ${JSON.stringify(pointer)}`);
  return `${SPILL_VERSION};${pointer.processedNext};${pointer.partition}@${pointer.offset};${pointer.hash}${commitTag === undefined ? '' : `;${commitTag}`}`;
}

/** The pointer in metadata written by `encodeSpillPointer`; undefined for anything else. */
export function decodeSpillPointer(metadata: string | null | undefined): SpillPointer | undefined {
  if (!metadata?.startsWith(`${SPILL_VERSION};`)) return undefined;
  const parts = metadata.split(';');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  const at = /^(\d{1,10})@(\d{1,19})$/.exec(parts[2]!);
  if (!/^\d+$/.test(parts[1]!) || !at || !/^[0-9a-f]{16}$/.test(parts[3]!) || Number(at[1]) > 2_147_483_647) return undefined;
  return { processedNext: BigInt(parts[1]!).toString(), partition: Number(at[1]), offset: BigInt(at[2]!).toString(), hash: parts[3]! };
}

/**
 * The filter a spilled record's value holds, checked against its pointer: the value must hash to
 * the pointer's hash and be an `ac1` filter at the pointer's position. The reason it is not, else
 * (the caller replays everything and says why).
 */
export function decodeSpilledFilter(pointer: SpillPointer, value: string | Uint8Array): { filter: ReplayFilter } | { reason: string } {
  if (spillHash(value) !== pointer.hash) return { reason: `its value's hash is not ${pointer.hash} (not the record the commit wrote)` };
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  const filter = text.startsWith(`${METADATA_VERSION};`) ? decodeReplayMetadata(text) : undefined;
  if (filter === undefined || filter.heldTraces === undefined || filter.compact) return { reason: 'its value is not a whole-id filter' };
  if (filter.processedNext !== pointer.processedNext) return { reason: `it is a filter at ${filter.processedNext}, not at ${pointer.processedNext}` };
  return { filter };
}

/** How `filter` names `id` in its held set: the id, or its `compactKey` in a compact filter. */
export function replayKeyOf(filter: ReplayFilter | undefined, id: string): string {
  if (!filter?.compact) return id;
  return filter.keyBits === undefined ? compactKey(id) : keyAtBits(compactKey(id), filter.keyBits);
}

/** Whether a trace's data in the record at `offset` must be fed to the assembler on replay. */
export function replayKeeps(filter: ReplayFilter | undefined, offset: string, traceId: string | undefined): boolean {
  if (filter === undefined || filter.heldTraces === undefined) return true;
  if (compareOffsets(offset, filter.processedNext) >= 0) return true;
  if (traceId === undefined) return false;
  const key = replayKeyOf(filter, traceId);
  if (!filter.heldTraces.has(key)) return false;
  const from = filter.heldFrom?.get(key);
  return from === undefined || compareOffsets(offset, from) >= 0;
}

/**
 * Trace ids seen per partition (with the first offset they were seen at) and not yet handed on
 * in a closed episode: the ids an open episode holds on that partition, for the replay metadata.
 * Bounded: ids are released when their episode closes, dropped with their partition, and pruned
 * once the partition's commit offset passed their first offset (then nothing needs them any more,
 * e.g. an evaluation that expired waiting for its spans).
 */
export class HeldTraces {
  private readonly byPartition = new Map<string, Map<string, Seen>>();
  /**
   * Per partition: ids handed on in a closed episode, with the last offset they were seen at —
   * their records up to there fed that episode. Pruned once the commit offset passed it.
   */
  private readonly released = new Map<string, Map<string, string>>();
  /** Per partition: the commit offset of the last `prune` (nothing to prune while it stays). */
  private readonly prunedAt = new Map<string, string>();

  note(partitionKey: string, traceId: string, offset: string): void {
    let m = this.byPartition.get(partitionKey);
    if (!m) this.byPartition.set(partitionKey, (m = new Map()));
    const seen = m.get(traceId);
    if (seen === undefined) m.set(traceId, { first: offset, last: offset });
    else if (compareOffsets(offset, seen.first) < 0) seen.first = offset;
    else if (compareOffsets(offset, seen.last) > 0) seen.last = offset;
  }

  release(traceIds: readonly string[]): void {
    for (const key of this.byPartition.keys()) this.releaseOn(key, traceIds);
  }

  /** `release`, on one partition only: ids no longer held for what was read there (an evaluation that expired waiting for its spans). */
  releaseOn(partitionKey: string, traceIds: readonly string[]): void {
    const m = this.byPartition.get(partitionKey);
    if (!m) return;
    for (const t of traceIds) {
      const seen = m.get(t);
      if (seen === undefined) continue;
      m.delete(t);
      let r = this.released.get(partitionKey);
      if (!r) this.released.set(partitionKey, (r = new Map()));
      const last = r.get(t);
      if (last === undefined || compareOffsets(seen.last, last) > 0) r.set(t, seen.last);
    }
  }

  /** Forgets ids first seen below `commitOffset` on the partition, and released ids last seen below it. */
  prune(partitionKey: string, commitOffset: string): void {
    if (this.prunedAt.get(partitionKey) === commitOffset) return;
    this.prunedAt.set(partitionKey, commitOffset);
    const m = this.byPartition.get(partitionKey);
    if (m) for (const [t, seen] of m) if (compareOffsets(seen.first, commitOffset) < 0) m.delete(t);
    const r = this.released.get(partitionKey);
    if (r) for (const [t, last] of r) if (compareOffsets(last, commitOffset) < 0) r.delete(t);
  }

  dropPartition(partitionKey: string): void {
    this.byPartition.delete(partitionKey);
    this.released.delete(partitionKey);
    this.prunedAt.delete(partitionKey);
  }

  /**
   * Held ids first seen above `commitOffset` whose earlier records there were handed on in a
   * closed episode (a late span or evaluation that reopened it as a correction), each with the
   * offset it is held from: replaying its records below that would rebuild the earlier revision
   * (`ReplayFilter.heldFrom`).
   */
  seenAgain(partitionKey: string, commitOffset: string): Map<string, string> {
    const out = new Map<string, string>();
    const m = this.byPartition.get(partitionKey);
    const r = this.released.get(partitionKey);
    if (!m || !r || r.size === 0) return out;
    for (const [t, seen] of m) {
      if (compareOffsets(seen.first, commitOffset) <= 0) continue;
      const last = r.get(t);
      if (last !== undefined && compareOffsets(last, commitOffset) >= 0) out.set(t, seen.first);
    }
    return out;
  }

  /** The ids held on the partition: a fresh set, the caller's to extend. */
  get(partitionKey: string): Set<string> {
    return new Set(this.byPartition.get(partitionKey)?.keys() ?? []);
  }

  size(partitionKey: string): number {
    return this.byPartition.get(partitionKey)?.size ?? 0;
  }
}

/** Offsets a held id was first and last seen at on a partition (since its last release). */
interface Seen {
  first: string;
  last: string;
}

