/**
 * The JSON text of an event, computed once. Credit worker threads (src/runtime/credit-workers)
 * serialize the events they build and send the text along, so the main thread — which consumes
 * and publishes — does not stringify every event again for Kafka, stdout and the live page.
 * Keyed by the event object (a WeakMap): an event changed after it was remembered would be stale,
 * and events are never changed after they are built.
 */
import type { JsonBytes } from './json-bytes.js';
import { messageRewardJson, writeMessageRewardJson } from './reward-json.js';
import type { CreditEvent } from './schemas.js';

const texts = new WeakMap<CreditEvent, string>();

/** Records `json` as the serialization of `event` (it must be `JSON.stringify(event)`). */
export function rememberEventJson(event: CreditEvent, json: string): void {
  texts.set(event, json);
}

/** `JSON.stringify(event)`, or the text remembered for it. */
export function eventJson(event: CreditEvent): string {
  return texts.get(event) ?? (event.event_type === 'message_reward' ? messageRewardJson(event) : undefined) ?? JSON.stringify(event);
}

/** `eventJson(event)` written into `w` as UTF-8; a reward's without its text being built (writeMessageRewardJson). */
export function writeEventJson(w: JsonBytes, event: CreditEvent): void {
  const remembered = texts.get(event);
  if (remembered === undefined && event.event_type === 'message_reward' && writeMessageRewardJson(w, event)) return;
  w.utf8(remembered ?? JSON.stringify(event));
}
