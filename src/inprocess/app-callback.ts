import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/**
 * Runs app code that agent-credit calls (`onCredit`, `onError`, `onSkipped`) with tracing
 * suppressed, as the OTel SDK runs its exporters. With the processor on the app's global provider
 * (NodeSDK), an instrumented call in there — the HTTP client pushing the events to a trainer, a
 * Kafka producer — started a trace of its own, which became an episode: it waited for a verdict,
 * was skipped, and its `onCredit` (given the empty list) made the next one, for ever; each credited
 * episode also made one such skipped episode.
 */
export function untraced<T>(call: () => T): T {
  return context.with(suppressTracing(context.active()), call);
}

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
    result = untraced(call);
  } catch (err) {
    failed(err);
    return;
  }
  if (typeof (result as PromiseLike<unknown> | null | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, failed);
}

function ignore(): void {
  // the app's error handler failed: there is nowhere left to report it
}
