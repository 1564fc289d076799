import { createHash } from 'node:crypto';

/**
 * Deterministic event id: the same episode (and revision), method and subject always give the same
 * id, so downstream consumers de-duplicate replays and at-least-once re-deliveries on it.
 */
export function eventId(parts: readonly (string | number)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p));
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}
