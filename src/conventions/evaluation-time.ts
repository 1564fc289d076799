/**
 * An evaluation's time given in the wrong unit. OTLP's `time_unix_nano` and the evaluation
 * records' `time_unix_nano` are nanoseconds since the epoch; a judge that sends `$(date +%s)`,
 * Python's `time.time()` or JavaScript's `Date.now()` gives seconds or milliseconds, which are
 * taken as nanoseconds without a word: the verdict is placed a second or so after 1970, before
 * every span of its run, and a later verdict of the same name reads as a correction of it.
 *
 * Such values are not refused — tests and some users time verdicts relative to 0 — but named:
 * every path that takes evaluations (OTLP log records over HTTP, gRPC and the Kafka logs topic,
 * evaluation records over POST /v1/evaluations and the evaluations topic, replay's files) asks
 * this one function, and says what it answers (a warning line, the HTTP answer's `warnings`).
 */
import type { Evaluation } from '../model/agents.js';

/** A unit an evaluation time looks like it was given in, instead of nanoseconds. */
interface SuspectUnit {
  readonly unit: 'seconds' | 'milliseconds' | 'microseconds';
  /** What to multiply a value in that unit by for nanoseconds, as written in the fix. */
  readonly factor: '1e9' | '1e6' | '1e3';
  /** The unit's values for the years 2001–2286, in nanoseconds read as given: [from, below). */
  readonly from: bigint;
  readonly below: bigint;
  /** How to get nanoseconds from a clock that gives this unit. */
  readonly example: string;
}

const SUSPECT_UNITS: readonly SuspectUnit[] = [
  { unit: 'seconds', factor: '1e9', from: 1_000_000_000n, below: 10_000_000_000n, example: 'time.time_ns() in Python, $(date +%s%N) in a shell' },
  { unit: 'milliseconds', factor: '1e6', from: 1_000_000_000_000n, below: 10_000_000_000_000n, example: 'BigInt(Date.now()) * 1_000_000n in JavaScript' },
  { unit: 'microseconds', factor: '1e3', from: 1_000_000_000_000_000n, below: 10_000_000_000_000_000n, example: 'time.time_ns() in Python' },
];

/** Where an evaluation's time was read, named as its sender wrote it; undefined for times agent-credit does not take from a sender's field as given. */
function timeField(source: Evaluation['source']): string | undefined {
  switch (source) {
    case 'evaluations-stream':
      return 'time_unix_nano';
    case 'log-event':
      // observed_time_unix_nano when time_unix_nano is 0 (evaluationsFromLogs): an SDK sets that one itself
      return "the log record's time_unix_nano (timeUnixNano in OTLP/JSON)";
    default:
      // span events and evaluator spans share their span's clock: a wrong unit there is the spans' own
      return undefined;
  }
}

export interface EvaluationTimeWarning {
  /** The field the time was read from, as the sender wrote it. */
  readonly field: string;
  /** The value as given (nanoseconds as read), decimal. */
  readonly value: string;
  readonly unit: SuspectUnit['unit'];
  /** One line: the field, the value, what it was read as, and the fix. */
  readonly message: string;
}

/**
 * Why an evaluation's time looks like seconds (≈ 1e9–1e10), milliseconds (≈ 1e12–1e13) or
 * microseconds (≈ 1e15–1e16) since the epoch rather than nanoseconds, or undefined. Only times
 * a sender gave are judged (`timeFromReceipt` ones are agent-credit's own clock). Pure.
 */
export function evaluationTimeWarning(ev: Pick<Evaluation, 'source' | 'timeUnixNano' | 'timeFromReceipt'>): EvaluationTimeWarning | undefined {
  if (ev.timeFromReceipt === true) return undefined;
  const field = timeField(ev.source);
  if (field === undefined) return undefined;
  const t = ev.timeUnixNano;
  const suspect = SUSPECT_UNITS.find((u) => t >= u.from && t < u.below);
  if (suspect === undefined) return undefined;
  const value = t.toString();
  const readAs = new Date(Number(t / 1_000_000n)).toISOString();
  const asMeant = new Date(Number(t) * (suspect.unit === 'seconds' ? 1000 : suspect.unit === 'milliseconds' ? 1 : 0.001)).toISOString().slice(0, 10);
  return {
    field,
    value,
    unit: suspect.unit,
    message:
      `evaluation time ${field} = ${value} looks like ${suspect.unit} since the epoch (${asMeant}), not nanoseconds: it is taken as given, ${readAs}, ` +
      `before every span of its run — a later verdict of the same name then reads as a correction of it. ` +
      `Send nanoseconds since the epoch: multiply ${suspect.unit} by ${suspect.factor} (e.g. ${suspect.example}); a small time relative to 0 on purpose can stay`,
  };
}
