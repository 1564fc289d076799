/**
 * Calls into the app (its `onError`, `processOptions.onSkipped`) so that a failure there never
 * reaches the app's process. A throw goes to `failed` (default: dropped), and so does the
 * rejection of the promise an `async` callback returns: an async function type-checks as a
 * `(…) => void` callback, and an unhandled rejection ends a Node process (the default since
 * Node 15) — an `onError: async (err) => { await reporter.send(err) }` whose reporter was down
 * took the app with it.
 */
export function callApp(call: () => unknown, failed: (err: unknown) => void = ignore): void {
  let result: unknown;
  try {
    result = call();
  } catch (err) {
    failed(err);
    return;
  }
  if (typeof (result as PromiseLike<unknown> | null | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, failed);
}

function ignore(): void {
  // the app's error handler failed: there is nowhere left to report it
}
