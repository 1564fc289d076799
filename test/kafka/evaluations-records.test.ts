/**
 * Records of an evaluations topic (source.kafka.evaluationsTopic): JSON evaluation records as a
 * judge service writes them, one per record, as an array, or as JSON lines. Valid entries become
 * evaluations (source `evaluations-stream`); invalid ones send the record to the dead-letter
 * topic with a reason that says what is wrong and what is expected.
 */
import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../src/kafka/client.js';
import { decodeRecord } from '../../src/sources/kafka/index.js';

const trace = 'ab'.repeat(16);
function record(value: string | null, timestampMs = 1_700_000_000_123): ConsumedRecord {
  return { topic: 'evals', partition: 0, offset: '7', key: null, value: value === null ? null : new TextEncoder().encode(value), headers: {}, timestampMs };
}

describe('evaluations topic records', () => {
  it('decodes one record, taking the Kafka timestamp when the record has none', () => {
    const d = decodeRecord(record(JSON.stringify({ trace_id: trace.toUpperCase(), name: 'task_success', score: 0.75, explanation: 'ok' })), 'evaluations', 'auto');
    expect(d).toEqual({
      ok: true,
      signal: 'evaluations',
      evaluations: [{ name: 'task_success', score: 0.75, explanation: 'ok', traceId: trace, source: 'evaluations-stream', timeUnixNano: 1_700_000_000_123_000_000n, timeFromReceipt: true }],
    });
  });

  it('decodes arrays and JSON lines; a label-only record is scored by the label table', () => {
    const lines = [JSON.stringify({ conversation_id: 'c-1', name: 'judge', label: 'pass', time_unix_nano: '5' }), JSON.stringify({ trace_id: trace, span_id: 'cd'.repeat(8), name: 'judge', score: 0 })].join('\n');
    const d = decodeRecord(record(lines), 'evaluations', 'auto');
    expect(d.ok && d.signal === 'evaluations' && d.partialReason === undefined).toBe(true);
    if (!d.ok || d.signal !== 'evaluations') return;
    expect(d.evaluations.map((e) => [e.conversationId, e.traceId, e.spanId, e.score, e.label, e.timeUnixNano])).toEqual([
      ['c-1', undefined, undefined, 1, 'pass', 5n],
      [undefined, trace, 'cd'.repeat(8), 0, undefined, 1_700_000_000_123_000_000n],
    ]);
    const arr = decodeRecord(record(`[${lines.split('\n').join(',')}]`), 'evaluations', 'auto');
    expect(arr.ok && arr.signal === 'evaluations' && arr.evaluations.length).toBe(2);
  });

  it('uses the valid entries of a partly invalid payload and names the invalid ones for the DLQ', () => {
    const d = decodeRecord(record(JSON.stringify([{ trace_id: trace, name: 'ok', score: 1 }, { name: 'no id', score: 1 }, { trace_id: trace, name: 'no score' }])), 'evaluations', 'auto');
    expect(d.ok).toBe(true);
    if (!d.ok || d.signal !== 'evaluations') return;
    expect(d.evaluations.map((e) => e.name)).toEqual(['ok']);
    expect(d.partialReason).toMatch(/^1 valid evaluation\(s\) used; evaluation records invalid \(#1: trace_id: needs trace_id, conversation_id or response_id.*; #2: score: needs score or label\)/);
    expect(d.partialReason).toContain('schemas/evaluation-record.schema.json');
  });

  it('rejects a record with no valid entry, an empty value, or text that is not JSON', () => {
    for (const [value, reason] of [
      [JSON.stringify({ trace_id: 'xyz', name: 'n', score: 1 }), /#0: trace_id: 32 hex chars/],
      [null, /empty record value/],
      ['', /empty record value/],
      ['not json at all', /#0: not JSON/],
    ] as const) {
      const d = decodeRecord(record(value), 'evaluations', 'auto');
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.reason).toMatch(reason);
    }
  });

  it('the expected form names response_id beside trace_id and conversation_id (it said "trace_id or conversation_id", so a judge joining by response id was told its id was the problem)', () => {
    const d = decodeRecord(record(JSON.stringify({ response_id: 'chatcmpl-1', name: 'judge' })), 'evaluations', 'auto');
    expect(!d.ok && d.reason).toMatch(/^evaluation record invalid \(#0: score: needs score or label\); expected JSON objects \{ trace_id, conversation_id or response_id, name, score or label, \.\.\. \}/);
    expect(decodeRecord(record(JSON.stringify({ response_id: 'chatcmpl-1', name: 'judge', label: 'pass' })), 'evaluations', 'auto').ok).toBe(true);
  });

  it('lists at most five invalid entries', () => {
    const bad = Array.from({ length: 9 }, () => ({ name: 'x' }));
    const d = decodeRecord(record(JSON.stringify(bad)), 'evaluations', 'auto');
    expect(!d.ok && d.reason).toMatch(/#4: .*; and 4 more\)/);
  });
});
