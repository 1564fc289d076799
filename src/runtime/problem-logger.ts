/**
 * The throttled warning log of requests a job's listeners refuse or partly accept: the receivers'
 * (OTLP/HTTP, OTLP/gRPC) and the live page's (telemetry posted to it). Its own module: the Kafka
 * job and `view` log the live page's with it too, without loading the receivers.
 */
import { throttledCount } from './expired-evaluations.js';

/**
 * The receiver's rejected and partly accepted requests, logged at most once a second per status
 * with how many were not logged since, the message cut to 500 characters: a client sending bad
 * requests in a loop wrote 43.5 MB of log in 1.5 s, each line quoting its 15 KB path (security review).
 * The ones held back are logged `everyMs` later as a count even when no more come: a burst that
 * ended within the second left one line for hundreds of refused requests, the rest never in the log.
 */
export function problemLogger(log: { warn(obj: object, msg: string): void }, everyMs = 1_000, now: () => number = Date.now): (p: { signal?: string; status: number; message: string }) => void {
  const byStatus = new Map<number, { due: (n: number) => number | undefined; last?: { signal?: string; message: string }; timer?: NodeJS.Timeout }>();
  const cut = (message: string) => (message.length > 500 ? `${message.slice(0, 500)}…` : message);
  const what = (status: number) => (status < 300 ? 'request partly accepted' : 'request rejected');
  return (p) => {
    let s = byStatus.get(p.status);
    if (s === undefined) byStatus.set(p.status, (s = { due: throttledCount(everyMs, now) }));
    const state = s;
    const count = state.due(1);
    if (count === undefined) {
      state.last = { ...(p.signal !== undefined ? { signal: p.signal } : {}), message: p.message };
      state.timer ??= setTimeout(() => {
        state.timer = undefined;
        const held = state.due(0);
        if (held === undefined || state.last === undefined) return;
        log.warn({ signal: state.last.signal, status: p.status, notLoggedSince: held }, `${what(p.status)}: ${held} more not logged since the last line; the last one: ${cut(state.last.message)}`);
      }, everyMs);
      state.timer.unref?.();
      return;
    }
    const skipped = count - 1; // the ones held back since the last line, this one aside
    log.warn({ signal: p.signal, status: p.status, ...(skipped > 0 ? { notLoggedSince: skipped } : {}) }, `${what(p.status)}: ${cut(p.message)}`);
  };
}
