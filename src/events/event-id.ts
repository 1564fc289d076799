import { sha256Hex } from '../conventions/text.js';

/**
 * Deterministic event id: the same episode (and revision), method and subject always give the same
 * id, so downstream consumers de-duplicate replays and at-least-once re-deliveries on it.
 * = the first 32 hex chars of sha256 over every part as text, each followed by a NUL.
 */
export function eventId(parts: readonly (string | number)[]): string {
  return eventIdOfText(eventIdText(parts));
}

/**
 * The text `eventId` hashes: every part followed by a NUL. It is a plain concatenation, so callers
 * that give many events the same leading parts build that prefix once and append the subject:
 * `eventIdOfText(eventIdText(head) + subject + '\u0000')` = `eventId([...head, subject])`.
 */
export function eventIdText(parts: readonly (string | number)[]): string {
  let text = '';
  for (const p of parts) text += `${p}\u0000`;
  return text;
}

/** Event id of an `eventIdText`: sha256 hex, first 32 chars. */
export function eventIdOfText(text: string): string {
  return sha256Hex(text).slice(0, 32);
}
