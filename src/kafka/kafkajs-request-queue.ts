/**
 * kafkajs 2.2.4's request queue stops re-arming a timer when nothing waits in it. Installed on its
 * `RequestQueue` class (`src/network/requestQueue/index.js`) by src/kafka/kafkajs-module.ts; the
 * patch is on the prototype, so connections made before the install get it too.
 *
 * Why: after every response (and every request timeout) kafkajs calls `checkPendingRequests`,
 * which ends in `scheduleCheckPendingRequests`. With no request pending and no throttle,
 * that computes `throttledUntil - Date.now()` = `-1 - Date.now()` and passes it to `setTimeout`.
 * Node runs a negative delay after 1 ms, and the timer calls `checkPendingRequests` again, which
 * schedules again: each broker connection wakes the process about every millisecond for as long
 * as it is open (kafkajs issue #1704), on every Node version. Node ≥ 23 also prints
 * `(node:…) TimeoutNegativeWarning: -17… is a negative number.` — three lines that are not JSON —
 * to stderr, among the job's log lines, the first time (kafkajs issue #1751; seen on Node 24 and
 * 26, not on 20 or 22).
 *
 * What changes: with no request pending, nothing is scheduled (there is nothing to send; a
 * request that is enqueued later schedules its own check in `push`, and one held by the in-flight
 * limit is sent when a response frees a slot). With requests pending, kafkajs's own rule applies
 * unchanged: at the end of the throttle, or after 10 ms. No delay passed to `setTimeout` is
 * negative. Not optional, like the read_committed fix: it removes a busy timer and a stray warning.
 */
import path from 'node:path';
import { kafkajsRoot } from './kafkajs-internals.js';

/** The kafkajs version whose request queue this patches; any other version is left alone. */
export const KAFKAJS_REQUEST_QUEUE_VERSION = '2.2.4';
const MODULE = 'src/network/requestQueue/index.js';
/** kafkajs's `CHECK_PENDING_REQUESTS_INTERVAL`. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const PATCHED: unique symbol = Symbol.for('agent-credit.kafkajs.request-queue-schedule');

/** The members of kafkajs's RequestQueue that the patched method reads and writes. */
export interface KafkajsRequestQueue {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** `scheduleCheckPendingRequests` as described above (`this`: a kafkajs RequestQueue). */
export function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

export type RequestQueueReport = { installed: true } | { installed: false; reason: string };
let report: RequestQueueReport | undefined;

/** Patches the RequestQueue of the kafkajs that `req` resolves. Idempotent. */
export function installKafkajsRequestQueueSchedule(req: NodeJS.Require): RequestQueueReport {
  const found = kafkajsRoot(req, KAFKAJS_REQUEST_QUEUE_VERSION);
  let result: RequestQueueReport;
  if ('reason' in found) result = { installed: false, reason: found.reason };
  else {
    const RequestQueue = req(path.join(found.root, MODULE)) as { prototype: KafkajsRequestQueue & { [PATCHED]?: true } };
    const proto = RequestQueue.prototype;
    if (typeof proto.scheduleCheckPendingRequests !== 'function' || typeof proto.checkPendingRequests !== 'function') {
      result = { installed: false, reason: `kafkajs ${KAFKAJS_REQUEST_QUEUE_VERSION}'s RequestQueue has no scheduleCheckPendingRequests; left alone` };
    } else {
      if (!proto[PATCHED]) {
        proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
        proto[PATCHED] = true;
      }
      result = { installed: true };
    }
  }
  report ??= result;
  return result;
}

/** What the first install (the product's own kafkajs) did; undefined before it. */
export function kafkajsRequestQueueReport(): RequestQueueReport | undefined {
  return report;
}
