/**
 * The warning line for evaluation times that look like seconds, milliseconds or microseconds
 * (src/conventions/evaluation-time.ts), as the jobs log it: at most once per `everyMs` (a minute)
 * per source — a judge sending `$(date +%s)` sends it on every verdict, and a line each would
 * flood the log —, with how many such evaluations came from that source since its last line.
 */
import { evaluationTimeWarning } from '../conventions/evaluation-time.js';
import type { Evaluation } from '../model/agents.js';
import { throttledCount } from './expired-evaluations.js';

/**
 * `(evaluations, source)`: warns about those of `evaluations` whose time looks like another unit
 * than nanoseconds. `source` names where they came from (an input topic, `POST /v1/evaluations`,
 * OTLP log records) and is the throttle's key: one source's flood does not hide another's first line.
 */
export function evaluationTimeReporter(
  logger: { warn(obj: object, msg: string): void } | undefined,
  everyMs = 60_000,
  // read at each call, not bound at construction: a clock replaced later (tests' fake Date) is the one asked
  now: () => number = () => Date.now(),
): (evaluations: readonly Evaluation[], source: string) => void {
  const dueBySource = new Map<string, (n: number) => number | undefined>();
  return (evaluations, source) => {
    if (logger === undefined) return;
    let first: ReturnType<typeof evaluationTimeWarning>;
    let n = 0;
    for (const e of evaluations) {
      const w = evaluationTimeWarning(e);
      if (w === undefined) continue;
      first ??= w;
      n++;
    }
    if (first === undefined) return;
    let due = dueBySource.get(source);
    if (due === undefined) dueBySource.set(source, (due = throttledCount(everyMs, now)));
    const count = due(n);
    if (count === undefined) return;
    logger.warn({ source, field: first.field, value: first.value, unit: first.unit, evaluations: count }, `${source}: ${first.message} (${count} such evaluation(s) from this source since the last line; at most one line every ${Math.round(everyMs / 1000)} s per source)`);
  };
}
