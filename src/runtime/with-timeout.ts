import { MAX_TIMER_MS } from '../config/defaults.js';

/**
 * Races `p` against a timer that rejects with `new Error(message)` after `ms`. The timer is
 * unref'd (it never keeps the process alive) and cleared when `p` settles; a non-Error rejection
 * is wrapped in an Error. `p` itself is not cancelled: callers treat the work as abandoned.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // at most MAX_TIMER_MS: a longer delay fires after 1 ms in Node. A limit computed from a
    // valid setting can pass it (with credit workers, runtime.creditTimeoutMs × the episodes a
    // worker may hold), and waiting 24.8 days is as good as waiting longer.
    const t = setTimeout(() => reject(new Error(message)), Math.min(ms, MAX_TIMER_MS));
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
