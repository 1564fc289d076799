/**
 * Content digests and bounded text. Digests identify content without storing it (duplicate
 * detection, redundancy); texts are truncated so an episode's memory stays bounded.
 */
import { Buffer } from 'node:buffer';
import * as crypto from 'node:crypto';

/**
 * sha256 hex of the UTF-8 text. One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object that
 * `createHash` allocates per call; the fallback gives the same digest on older Node 20 releases.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** sha256 hex of the UTF-8 text, first 16 chars (64 bits: collisions irrelevant within an episode). */
export function digestOf(text: string): string {
  return sha256Hex(text).slice(0, 16);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** The ES2024 string methods of Node ≥ 20 (V8 11.3), outside the ES2022 lib the sources compile with. */
type WellFormedCheck = { isWellFormed(): boolean; toWellFormed(): string };

/**
 * `text` with each lone surrogate replaced by U+FFFD. They come in OTLP/JSON as `\ud83d` escapes:
 * a JS instrumentation — or the OTel JS SDK's own attributeValueLengthLimit — that cuts a string
 * by UTF-16 units through an emoji keeps its first half. Held as they are, JSON.stringify wrote
 * them into the events as `\ud83d` again, which jq refuses ("Invalid \uXXXX\uXXXX surrogate pair
 * escape": the line is lost) and Python reads but cannot write out as UTF-8. U+FFFD is what the
 * text's UTF-8 encoding — every digest and id hashed from it — already had in their place, and
 * what Go's JSON decoders (the Collector's OTLP/JSON) read such an escape as.
 */
export function wellFormed(text: string): string {
  // native: ~20 ns for a one-byte string whatever its length (V8 knows it holds no surrogate),
  // ~2 µs for 2 kB of two-byte text; a /\p{Cs}/u test took 24 µs there
  const t = text as unknown as WellFormedCheck;
  return t.isWellFormed() ? text : t.toWellFormed();
}

/**
 * The first `maxUnits` UTF-16 units of `text` (one fewer when the last would be the first half of
 * a pair), well-formed: a cut by `slice` through an emoji left its first half, which a JSON
 * record then carried as `\ud83d` (jq refuses it) and a Kafka header as U+FFFD.
 */
export function headUnits(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return wellFormed(text);
  const last = text.charCodeAt(maxUnits - 1);
  return wellFormed(text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxUnits - 1 : maxUnits));
}

/**
 * Keeps at most `maxBytes` UTF-8 bytes of `text`, cut at a code point boundary.
 * `keep: 'head'` keeps the start (outputs: the answer begins there); `'tail'` keeps the end
 * (inputs: the latest messages, which are what the step reacted to). The result is never longer
 * than `maxBytes` bytes; a cut is marked with `…` inside that budget when there is room. It is
 * well-formed, cut or not (`wellFormed`).
 */
export function truncateUtf8(text: string, maxBytes: number, keep: 'head' | 'tail' = 'head'): string {
  // Most texts fit: a UTF-16 code unit is at most 3 UTF-8 bytes, and byteLength counts without
  // allocating, so only texts that really need a cut are encoded.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return wellFormed(text);
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return wellFormed(text);
  const mark = '…'; // 3 bytes in UTF-8
  const budget = maxBytes >= 3 ? maxBytes - 3 : maxBytes;
  let cut: string;
  if (keep === 'head') {
    let end = budget;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not split a multi-byte sequence
    cut = decoder.decode(bytes.subarray(0, end));
    return maxBytes >= 3 ? cut + mark : cut;
  }
  let start = bytes.length - budget;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  cut = decoder.decode(bytes.subarray(start));
  return maxBytes >= 3 ? mark + cut : cut;
}

/**
 * Longest name or id a step carries (bytes): span, agent and tool names, call ids. They come from
 * the sender and go into every event, the live page's buffer and its `/api/recent`: uncut, 100
 * episodes with 1.5 MB step names made `/api/recent` throw "Invalid string length", and the
 * process exited (security review).
 */
export const MAX_NAME_BYTES = 256;

/**
 * Longest evaluator explanation an Evaluation holds (bytes), as episode_credit carries it
 * (src/events/build.ts EXPLANATION_MAX_BYTES): cut when decoded, so one waiting for its spans
 * does not hold megabytes (security review: 60 pending verdicts held 853 MB).
 */
export const MAX_EXPLANATION_BYTES = 2048;

/**
 * A conversation or response id as every part of agent-credit holds it: as sent up to
 * MAX_NAME_BYTES; a longer one as its head and the digest of the whole (`head…digest`, within
 * MAX_NAME_BYTES), so two long ids stay two while none is held whole. They are joined on (a verdict
 * to its conversation, to the span that recorded its response), remembered after their episodes
 * close (closed conversations, the response index, evaluations waiting for their spans), written
 * into every event (`conv:<id>` episode ids) and into commit metadata — an instrumentation that
 * wrote a whole session or response into the id (1 MB) kept it in each of those: 1,000 closed
 * conversations with 100 kB ids held 132 MB, 100,000 remembered ones 13 GB. Every place an id
 * enters (span attributes, log records, evaluation records, in-process evaluations) bounds it so.
 */
export function boundedId<T extends string | undefined>(v: T): T {
  if (v === undefined) return v;
  if (v.length * 3 <= MAX_NAME_BYTES || Buffer.byteLength(v, 'utf8') <= MAX_NAME_BYTES) return wellFormed(v) as T;
  return `${truncateUtf8(v, MAX_NAME_BYTES - 20)}${digestOf(v)}` as T;
}

/**
 * A name or id within MAX_NAME_BYTES, well-formed (undefined stays undefined): a longer one as its
 * head and the digest of the whole, as `boundedId` holds ids. Names are compared (an agent's name
 * is its id when it has none; a tool's, a hand-off target's): cut to their first 256 bytes, two
 * agents named after their tasks ("Research sub-agent for the task: …") that differ only past
 * them were one agent — one Shapley player, their credit summed.
 */
export function capName<T extends string | undefined>(v: T): T {
  return (v === undefined ? v : v.length * 3 <= MAX_NAME_BYTES ? wellFormed(v) : boundedId(v)) as T;
}
