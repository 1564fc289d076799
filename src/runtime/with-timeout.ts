/**
 * Races `p` against a timer that rejects with `new Error(message)` after `ms`. The timer is
 * unref'd (it never keeps the process alive) and cleared when `p` settles; a non-Error rejection
 * is wrapped in an Error. `p` itself is not cancelled: callers treat the work as abandoned.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
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
