/**
 * An evaluation time in seconds, milliseconds or microseconds since the epoch, where nanoseconds
 * are meant (`$(date +%s)`, `Date.now()`): taken as given — small relative times are used on
 * purpose — but named, by the one function every path asks (evaluation-time.ts).
 */
import { describe, expect, it } from 'vitest';
import { evaluationTimeWarning } from '../../src/conventions/evaluation-time.js';
import { parseEvaluationRecords } from '../../src/conventions/index.js';

const record = (t: bigint) => ({ source: 'evaluations-stream' as const, timeUnixNano: t });
const trace = 'ab'.repeat(16);

describe('evaluationTimeWarning', () => {
  it.each([
    ['seconds', 1_733_580_000n, '1e9'],
    ['milliseconds', 1_733_580_000_123n, '1e6'],
    ['microseconds', 1_733_580_000_123_456n, '1e3'],
  ] as const)('names a time in %s: the field, the value and the fix', (unit, t, factor) => {
    const w = evaluationTimeWarning(record(t));
    expect(w).toMatchObject({ field: 'time_unix_nano', value: String(t), unit });
    expect(w!.message).toContain(`time_unix_nano = ${t} looks like ${unit} since the epoch (2024-12-07)`);
    expect(w!.message).toContain('taken as given, 1970-01-');
    expect(w!.message).toContain(`Send nanoseconds since the epoch: multiply ${unit} by ${factor}`);
  });

  it('says nothing of nanoseconds since the epoch, of small relative times, or of a time agent-credit filled in', () => {
    expect(evaluationTimeWarning(record(1_733_580_000_123_456_789n))).toBeUndefined();
    expect(evaluationTimeWarning(record(0n))).toBeUndefined();
    expect(evaluationTimeWarning(record(5_000_000n))).toBeUndefined(); // 5 ms after 0
    expect(evaluationTimeWarning(record(99_000_000_000n))).toBeUndefined(); // between the units' ranges
    expect(evaluationTimeWarning({ ...record(1_733_580_000n), timeFromReceipt: true })).toBeUndefined();
  });

  it("names an OTLP log record's field as OTLP spells it; span events keep their span's clock and are not judged", () => {
    expect(evaluationTimeWarning({ source: 'log-event', timeUnixNano: 1_733_580_000n })?.field).toBe("the log record's time_unix_nano (timeUnixNano in OTLP/JSON)");
    expect(evaluationTimeWarning({ source: 'span-event', timeUnixNano: 1_733_580_000n })).toBeUndefined();
  });
});

describe('parseEvaluationRecords: warnings', () => {
  it('takes a record timed in seconds (a JSON number or a string) and says why it doubts it, by index', () => {
    const body = [
      { trace_id: trace, name: 'task_success', score: 1, time_unix_nano: 1_733_580_000 },
      { trace_id: trace, name: 'task_success', score: 1, time_unix_nano: '1733580000123456789' },
      { trace_id: trace, name: 'task_success', score: 1, time_unix_nano: '1733580000123' },
    ];
    const parsed = parseEvaluationRecords(JSON.stringify(body), { receivedAtUnixNano: 0n });
    expect(parsed.errors).toEqual([]);
    expect(parsed.evaluations.map((e) => e.timeUnixNano)).toEqual([1_733_580_000n, 1_733_580_000_123_456_789n, 1_733_580_000_123n]);
    expect(parsed.warnings.map((w) => w.index)).toEqual([0, 2]);
    expect(parsed.warnings[0]!.message).toMatch(/^evaluation time time_unix_nano = 1733580000 looks like seconds/);
    expect(parsed.warnings[1]!.message).toMatch(/^evaluation time time_unix_nano = 1733580000123 looks like milliseconds/);
  });
});
