/**
 * `JSON.stringify` of a MessageReward (93 % of the published events), written member by member.
 *
 * Why: V8's JSON.stringify walks every object's properties generically and serializes the
 * members an episode's rewards share (the estimator object, episode id, revision, trace ids,
 * emission time) again for each reward. Written from the known members, with the shared members'
 * text reused while consecutive rewards share them, the 24,293 rewards of the 1,500-episode bench
 * fleet take about a fifth less CPU, flattening the text included.
 *
 * Byte for byte JSON.stringify's text, or none: `messageRewardJson` returns undefined (the caller
 * then uses JSON.stringify) unless the object is a plain one whose enumerable keys are
 * MessageRewardSchema's, in the schema's order (the order outcomeToEvents writes them), optional
 * ones possibly absent; the components' likewise; and every member has its schema type (strings,
 * numbers — finite or not —, arrays, objects). Events are never changed after they are built (as event-json.ts assumes), so a
 * shared estimator's text stays its text. test/events/reward-json.test.ts compares both on random
 * rewards, strings that need escaping, non-finite numbers and shapes that must fall back.
 */
import { JsonBytes } from './json-bytes.js';
import { type MessageReward, MessageRewardSchema, RewardComponentsSchema } from './schemas.js';

const REWARD_KEYS: readonly string[] = Object.keys(MessageRewardSchema.shape);
const COMPONENT_KEYS: readonly string[] = Object.keys(RewardComponentsSchema.shape);
// the key sets below are bit masks of 31 bits
if (REWARD_KEYS.length > 31 || COMPONENT_KEYS.length > 31) throw new Error('reward-json.ts: more than 31 members; widen its key masks');

/** Bit i: REWARD_KEYS[i] must be present. */
const REQUIRED_REWARD_KEYS = requiredMask(MessageRewardSchema.shape);
const ALL_COMPONENT_KEYS = requiredMask(RewardComponentsSchema.shape);

function requiredMask(shape: Record<string, { isOptional(): boolean }>): number {
  let mask = 0;
  Object.values(shape).forEach((s, i) => {
    if (!s.isOptional()) mask |= 1 << i;
  });
  return mask;
}

/**
 * Which of `keys` `o` has (bit i: keys[i]), when it is a plain object whose enumerable keys are
 * some of `keys` in that order; -1 when not. (for…in lists inherited keys too: only
 * Object.prototype's, none unless someone added one, which then fails the check.)
 */
function keysInOrder(o: object, keys: readonly string[]): number {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return -1;
  let i = 0;
  let mask = 0;
  for (const k in o) {
    while (i < keys.length && keys[i] !== k) i++;
    if (i === keys.length) return -1;
    mask |= 1 << i++;
  }
  return mask;
}

/** No character JSON.stringify escapes: control characters, `"`, `\`, and surrogates (lone ones are escaped). */
function plainString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** Thrown by the member writers below on a value without its schema type: messageRewardJson then has no text. */
const NOT_SCHEMA_TYPED = new Error('reward-json: a member without its schema type');

/** JSON.stringify(v) of a string member; ids and names (short, nothing to escape) without the call. */
function str(v: unknown): string {
  if (typeof v !== 'string') throw NOT_SCHEMA_TYPED;
  return v.length <= 64 && plainString(v) ? `"${v}"` : JSON.stringify(v);
}

/** JSON.stringify(v) of a number member: NaN and ±Infinity are null, -0 is 0 (as String gives it). */
function num(v: unknown): string {
  if (typeof v !== 'number') throw NOT_SCHEMA_TYPED;
  return Number.isFinite(v) ? String(v) : 'null';
}

/** JSON.stringify(v) of an array member; a list of strings (ids, as the schema has them) without the call. */
function list(v: unknown): string {
  if (!Array.isArray(v)) throw NOT_SCHEMA_TYPED;
  let j = '[';
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string') return JSON.stringify(v); // other values, holes
    j += i === 0 ? str(s) : `,${str(s)}`;
  }
  return `${j}]`;
}

/** JSON.stringify would call it (own or inherited) instead of reading the members. */
const hasToJson = (o: object): boolean => typeof (o as { toJSON?: unknown }).toJSON === 'function';

const bit = (key: keyof MessageReward): number => 1 << REWARD_KEYS.indexOf(key);
const PARENT_STEP_ID = bit('parent_step_id');
const CAUSAL_INPUTS = bit('causal_inputs');
const FAILURE_ROLE = bit('failure_role');
const REPAIRS_STEP_ID = bit('repairs_step_id');

/** The last estimator serialized and its text: an episode's rewards share one estimator object. */
let lastEstimator: unknown;
let lastEstimatorJson = '';

function estimatorJson(e: unknown): string {
  if (typeof e !== 'object' || e === null) throw NOT_SCHEMA_TYPED;
  if (e !== lastEstimator) {
    lastEstimatorJson = JSON.stringify(e);
    lastEstimator = e;
  }
  return lastEstimatorJson;
}

/** Where messageRewardJson has the byte writer write its text: one writer, so the text and the record bytes cannot differ. */
const textScratch = new JsonBytes(4 * 1024);

/** `JSON.stringify(r)`, or undefined when `r` is not shaped as outcomeToEvents builds rewards (see above). */
export function messageRewardJson(r: MessageReward): string | undefined {
  textScratch.reset();
  return writeMessageRewardJson(textScratch, r) ? textScratch.buf.toString('utf8', 0, textScratch.at) : undefined;
}

/** The last episode members serialized (episode_id … event_type), their values and text. */
let lastEpisode: { id: unknown; revision: unknown; traceIds: unknown; emittedAtMs: unknown; type: unknown; json: string } | undefined;

/**
 * The members from episode_id to event_type (after event_id): the same values for all rewards of
 * an episode revision, so their text is reused while consecutive rewards have those values.
 */
function episodeMembersJson(r: MessageReward): string {
  const e = lastEpisode;
  if (e !== undefined && r.episode_id === e.id && r.episode_revision === e.revision && r.trace_ids === e.traceIds && r.emitted_at_ms === e.emittedAtMs && r.event_type === e.type) return e.json;
  const json = `,"episode_id":${str(r.episode_id)},"episode_revision":${num(r.episode_revision)},"trace_ids":${list(r.trace_ids)},"emitted_at_ms":${num(r.emitted_at_ms)},"event_type":${str(r.event_type)}`;
  lastEpisode = { id: r.episode_id, revision: r.episode_revision, traceIds: r.trace_ids, emittedAtMs: r.emitted_at_ms, type: r.event_type, json };
  return json;
}

/**
 * The members rewardBytes writes, in their order. keysInOrder accepts any of the
 * schema's members, so a member added to the schema and not written here would be dropped
 * silently: loading this module fails instead, naming what to update.
 */
const WRITTEN_REWARD_KEYS = ['schema_version', 'event_id', 'episode_id', 'episode_revision', 'trace_ids', 'emitted_at_ms', 'event_type', 'step_id', 'trace_id', 'parent_step_id', 'causal_inputs', 'agent_id', 'agent_name', 'kind', 'name', 'start_time_unix_nano', 'reward', 'marginal_effect', 'components', 'agent_credit', 'outcome', 'failure_role', 'repairs_step_id', 'estimator'];
const WRITTEN_COMPONENT_KEYS = ['credit_share', 'marginal', 'redundancy', 'sabotage', 'blame', 'repair', 'shrink'];
if (WRITTEN_REWARD_KEYS.join() !== REWARD_KEYS.join() || WRITTEN_COMPONENT_KEYS.join() !== COMPONENT_KEYS.join()) {
  throw new Error(
    `src/events/reward-json.ts writes MessageReward members ${WRITTEN_REWARD_KEYS.join(', ')} (components: ${WRITTEN_COMPONENT_KEYS.join(', ')}) but MessageRewardSchema now has ${REWARD_KEYS.join(', ')} (components: ${COMPONENT_KEYS.join(', ')}): update rewardBytes and these lists`,
  );
}

/** The components object, checked: its members in RewardComponentsSchema's order, all present. */
function components(c: unknown): MessageReward['components'] {
  if (typeof c !== 'object' || c === null || keysInOrder(c, COMPONENT_KEYS) !== ALL_COMPONENT_KEYS || hasToJson(c)) throw NOT_SCHEMA_TYPED;
  return c as MessageReward['components'];
}

/**
 * `JSON.stringify(r)` written into `w` as UTF-8, byte for byte, without building the text: the
 * record's value is these bytes. False, with nothing written, when `r` is not shaped as
 * outcomeToEvents builds rewards (the caller then writes JSON.stringify's).
 */
export function writeMessageRewardJson(w: JsonBytes, r: MessageReward): boolean {
  const present = keysInOrder(r, REWARD_KEYS);
  if (present < 0 || (present & REQUIRED_REWARD_KEYS) !== REQUIRED_REWARD_KEYS || hasToJson(r)) return false;
  const start = w.at;
  try {
    rewardBytes(w, r, present);
    return true;
  } catch (err) {
    w.at = start;
    if (err === NOT_SCHEMA_TYPED) return false;
    throw err;
  }
}

/**
 * The members in MessageRewardSchema's order, written as bytes; `present`: which optional ones r
 * has. Written straight into the record's bytes: built as a string (joined from ~50 pieces) the
 * text was then measured and copied into the record once more (src/events/json-bytes.ts).
 */
function rewardBytes(w: JsonBytes, r: MessageReward, present: number): void {
  const c = components(r.components);
  w.ascii('{"schema_version":');
  strBytes(w, r.schema_version);
  w.ascii(',"event_id":');
  strBytes(w, r.event_id);
  w.bytes(episodeMembersBytes(r));
  w.ascii(',"step_id":');
  strBytes(w, r.step_id);
  w.ascii(',"trace_id":');
  strBytes(w, r.trace_id);
  if (present & PARENT_STEP_ID) {
    w.ascii(',"parent_step_id":');
    strBytes(w, r.parent_step_id);
  }
  if (present & CAUSAL_INPUTS) {
    w.ascii(',"causal_inputs":');
    listBytes(w, r.causal_inputs);
  }
  w.ascii(',"agent_id":');
  strBytes(w, r.agent_id);
  w.ascii(',"agent_name":');
  strBytes(w, r.agent_name);
  w.ascii(',"kind":');
  strBytes(w, r.kind);
  w.ascii(',"name":');
  strBytes(w, r.name);
  w.ascii(',"start_time_unix_nano":');
  strBytes(w, r.start_time_unix_nano);
  w.ascii(',"reward":');
  w.ascii(num(r.reward));
  w.ascii(',"marginal_effect":');
  w.ascii(num(r.marginal_effect));
  w.ascii(',"components":{"credit_share":');
  w.ascii(num(c.credit_share));
  w.ascii(',"marginal":');
  w.ascii(num(c.marginal));
  w.ascii(',"redundancy":');
  w.ascii(num(c.redundancy));
  w.ascii(',"sabotage":');
  w.ascii(num(c.sabotage));
  w.ascii(',"blame":');
  w.ascii(num(c.blame));
  w.ascii(',"repair":');
  w.ascii(num(c.repair));
  w.ascii(',"shrink":');
  w.ascii(num(c.shrink));
  w.ascii('},"agent_credit":');
  w.ascii(num(r.agent_credit));
  w.ascii(',"outcome":');
  strBytes(w, r.outcome);
  if (present & FAILURE_ROLE) {
    w.ascii(',"failure_role":');
    strBytes(w, r.failure_role);
  }
  if (present & REPAIRS_STEP_ID) {
    w.ascii(',"repairs_step_id":');
    strBytes(w, r.repairs_step_id);
  }
  w.ascii(',"estimator":');
  w.bytes(estimatorBytes(r.estimator));
  w.ascii('}');
}

/** str(v), written. */
function strBytes(w: JsonBytes, v: unknown): void {
  if (typeof v !== 'string') throw NOT_SCHEMA_TYPED;
  w.string(v);
}

/** list(v), written: ids one by one; a list with anything else as JSON.stringify writes it. */
function listBytes(w: JsonBytes, v: unknown): void {
  if (!Array.isArray(v)) throw NOT_SCHEMA_TYPED;
  const start = w.at;
  w.ascii('[');
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string') {
      // other values, holes
      w.at = start;
      w.utf8(JSON.stringify(v));
      return;
    }
    if (i > 0) w.ascii(',');
    w.string(s);
  }
  w.ascii(']');
}

/** The bytes of the last episode members' and estimator's texts (the same for all rewards of an episode revision). */
let lastMembersText = '';
let lastMembersBytes: Uint8Array = new Uint8Array(0);
let lastEstimatorText = '';
let lastEstimatorBytes: Uint8Array = new Uint8Array(0);

function episodeMembersBytes(r: MessageReward): Uint8Array {
  const text = episodeMembersJson(r);
  if (text !== lastMembersText) {
    lastMembersBytes = Buffer.from(text, 'utf8');
    lastMembersText = text;
  }
  return lastMembersBytes;
}

function estimatorBytes(e: unknown): Uint8Array {
  const text = estimatorJson(e);
  if (text !== lastEstimatorText) {
    lastEstimatorBytes = Buffer.from(text, 'utf8');
    lastEstimatorText = text;
  }
  return lastEstimatorBytes;
}
