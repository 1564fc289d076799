import { describe, expect, it } from 'vitest';
import { EvaluationSchema } from '../../src/model/agents.js';
import {
  episodeIdsOfEvaluation,
  evaluationMatchesEpisode,
  evaluationsFromLogs,
  parseEvaluationRecords,
} from '../../src/conventions/index.js';
import { fixtureLogs, runSpans } from './fixtures.js';
import { contextOf, recordLogs } from './sdk.js';
import { MAX_EVALUATION_RECORDS } from '../../src/conventions/evaluation-records.js';

const received = { receivedAtUnixNano: 1_795_575_754_000_000_000n };

describe('evaluation records stream', () => {
  it('parses one object, an array, and JSON lines; lowercases hex ids; label-only pass/fail → 1/0', () => {
    const one = parseEvaluationRecords(
      JSON.stringify({ trace_id: 'CA8891194BD518F6B7A57A2864B5B581', name: 'task_success', score: 0.5, explanation: 'partial' }),
      received,
    );
    expect(one.errors).toEqual([]);
    expect(one.evaluations).toEqual([
      {
        name: 'task_success',
        score: 0.5,
        explanation: 'partial',
        traceId: 'ca8891194bd518f6b7a57a2864b5b581',
        source: 'evaluations-stream',
        timeUnixNano: received.receivedAtUnixNano,
        timeFromReceipt: true, // no time_unix_nano: a re-delivery is still a duplicate
      },
    ]);
    const arr = parseEvaluationRecords(
      new TextEncoder().encode(JSON.stringify([{ conversation_id: 'conv-1', name: 'csat', label: 'PASS', time_unix_nano: '17' }, { conversation_id: 'conv-2', name: 'csat', label: 'fail' }])),
      received,
    );
    expect(arr.evaluations.map((e) => [e.conversationId, e.score, e.label, e.timeUnixNano, e.timeFromReceipt])).toEqual([
      ['conv-1', 1, 'PASS', 17n, undefined],
      ['conv-2', 0, 'fail', received.receivedAtUnixNano, true],
    ]);
    const lines = parseEvaluationRecords(
      '{"trace_id":"ca8891194bd518f6b7a57a2864b5b581","name":"a","score":1}\n\nnot json\n{"name":"b","score":1}\n{"trace_id":"xyz","name":"c","score":1}\n{"conversation_id":"k","name":"d"}\n',
      received,
    );
    expect(lines.evaluations.map((e) => e.name)).toEqual(['a']);
    expect(lines.errors.map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(lines.errors[1]!.message).toMatch(/trace_id, conversation_id or response_id/);
    expect(lines.errors[2]!.message).toMatch(/^trace_id: /);
    expect(lines.errors[3]!.message).toMatch(/score or label/);
    // a record naming only the evaluated model response (joined by the assembler to its LLM span)
    const byResponse = parseEvaluationRecords('{"response_id":"chatcmpl-abc","name":"helpfulness","score":0.4}', received);
    expect(byResponse.errors).toEqual([]);
    expect(byResponse.evaluations).toEqual([{ name: 'helpfulness', score: 0.4, responseId: 'chatcmpl-abc', source: 'evaluations-stream', timeUnixNano: received.receivedAtUnixNano, timeFromReceipt: true }]);
    for (const e of [...one.evaluations, ...arr.evaluations, ...lines.evaluations, ...byResponse.evaluations]) expect(EvaluationSchema.safeParse(e).success).toBe(true);
  });

  it('takes time_unix_nano as a JSON number of a real timestamp (Python time.time_ns()), to the nearest double; a string stays exact', () => {
    // JSON text as a Python judge writes it: the integer is above 2^53, JSON.parse rounds it
    const text = '[{"trace_id":"ca8891194bd518f6b7a57a2864b5b581","name":"task_success","score":1,"time_unix_nano":1764860000123456789},' +
      '{"trace_id":"ca8891194bd518f6b7a57a2864b5b581","name":"task_success","score":1,"time_unix_nano":"1764860000123456789"}]';
    const { evaluations, errors } = parseEvaluationRecords(text, received);
    expect(errors).toEqual([]);
    expect(evaluations[1]!.timeUnixNano).toBe(1764860000123456789n);
    const off = evaluations[0]!.timeUnixNano - 1764860000123456789n;
    expect(off >= -256n && off <= 256n, `off by ${off} ns`).toBe(true);
    expect(evaluations[0]!.timeFromReceipt).toBeUndefined();
    const bad = parseEvaluationRecords('{"trace_id":"ca8891194bd518f6b7a57a2864b5b581","name":"n","score":1,"time_unix_nano":-1}', received);
    expect(bad.errors[0]!.message).toMatch(/time_unix_nano/);
    // Python's time.time() (seconds, fractional) is refused, not taken as a 1970 timestamp
    const seconds = parseEvaluationRecords('{"trace_id":"ca8891194bd518f6b7a57a2864b5b581","name":"n","score":1,"time_unix_nano":1764860000.123}', received);
    expect(seconds.errors[0]!.message).toMatch(/time_unix_nano.*whole nanoseconds/);
  });

  it('refuses a record whose misspelt optional field would have been dropped (spanId made a step verdict the run verdict); other extra keys stay accepted', () => {
    const trace = 'ca8891194bd518f6b7a57a2864b5b581';
    const step = parseEvaluationRecords(JSON.stringify({ trace_id: trace, spanId: 'b7a57a2864b5b581', name: 'tool_ok', score: 0 }), received);
    expect(step.evaluations).toEqual([]);
    expect(step.errors[0]!.message).toContain('found spanId — did you mean span_id?');
    for (const [typo, value, field] of [['explaination', 'why', 'explanation'], ['time_unix_nanos', 5, 'time_unix_nano'], ['conversationid', 'c-1', 'conversation_id']] as const) {
      const r = parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'task_success', score: 1, [typo]: value }), received);
      expect(r.evaluations, typo).toEqual([]);
      expect(r.errors[0]!.message).toContain(`did you mean ${field}?`);
    }
    // metadata beside the fields, of another type than the field it resembles, or far from any: taken
    for (const extra of [{ labels: { env: 'prod' } }, { scores: [0.2, 0.9] }, { model: 'gpt-4o', run: 'nightly' }, { spanid: 'b7a57a2864b5b581', span_id: 'b7a57a2864b5b581' }]) {
      const r = parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'task_success', score: 1, ...extra }), received);
      expect(r.errors, JSON.stringify(extra)).toEqual([]);
      expect(r.evaluations).toHaveLength(1);
    }
  });

  // A judge's verdict as a gen_ai.evaluation.result log record was read with "0.8", "80%" or true;
  // the same verdict as a JSON record was refused (400 on POST /v1/evaluations, a dead letter on the
  // evaluations topic): "score: a JSON number, got the string …"
  it('takes a score in every form an OTLP verdict\'s score takes — a numeric string, a percent string, a boolean — read as the log record\'s is', () => {
    const trace = 'ca8891194bd518f6b7a57a2864b5b581';
    for (const value of [0.8, '0.8', ' 12.5 % ', '80%', true, false]) {
      const record = parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', score: value }), received);
      const logged = evaluationsFromLogs(
        recordLogs((logger) => logger.emit({ eventName: 'gen_ai.evaluation.result', context: contextOf(trace, 'b7a57a2864b5b581'), attributes: { 'gen_ai.evaluation.name': 'quality', 'gen_ai.evaluation.score.value': value } })),
      );
      expect(record.errors, JSON.stringify(value)).toEqual([]);
      const read = (e: { score?: number; scoreIsFraction?: boolean }) => [e.score, e.scoreIsFraction === true];
      expect(record.evaluations.map(read), JSON.stringify(value)).toEqual(logged.map(read));
    }
    expect(parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', score: '80%' }), received).evaluations[0]).toMatchObject({ score: 0.8, scoreIsFraction: true });
  });

  it('refuses a score that is none, saying the forms it takes', () => {
    const trace = 'ca8891194bd518f6b7a57a2864b5b581';
    const errorOf = (score: unknown) => parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', score }), received).errors[0]?.message;
    const forms = 'score: a number, a numeric string ("0.8"), a percent string ("80%") or a boolean, got';
    expect(errorOf('high')).toBe(`${forms} the string "high" — a verdict in words goes in label`);
    expect(errorOf(null)).toBe(`${forms} null`);
    expect(errorOf({ value: 1 })).toBe(`${forms} an object`);
    expect(parseEvaluationRecords(`{"trace_id":"${trace}","name":"quality","score":1e999}`, received).errors[0]?.message).toBe(`${forms} Infinity (a finite number is needed)`);
    // a number written as a string that no double holds is no verdict in words: label is the wrong fix
    expect(errorOf('1e999')).toBe(`${forms} the string "1e999", a number too large for a double (a finite number is needed)`);
    expect(errorOf('1e999%')).toBe(`${forms} the string "1e999%", a number too large for a double (a finite number is needed)`);
    // the judge's name beside a label is not a misspelt score
    expect(parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', label: 'pass', scorer: 'gpt-4o' }), received).evaluations).toHaveLength(1);
    // nor is a flag of the judge's own beside a label (the label is the pass/fail): `store` was read as `score`
    const flagged = parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', label: 'pass', store: true }), received);
    expect(flagged.errors).toEqual([]);
    expect(flagged.evaluations.map((e) => [e.label, e.score])).toEqual([['pass', 1]]);
    // without a label a boolean one edit from score still reads as a misspelt pass/fail
    expect(parseEvaluationRecords(JSON.stringify({ trace_id: trace, name: 'quality', socre: true }), received).errors[0]?.message).toContain('found socre — did you mean score?');
  });

  it('reports an empty payload instead of throwing', () => {
    expect(parseEvaluationRecords('  ', received)).toEqual({ evaluations: [], errors: [{ index: 0, message: 'empty payload' }], warnings: [] });
  });

  it('joins by trace id (trace-keyed episodes) or conv:<id> (conversation-keyed)', () => {
    const [trace1, trace2] = runSpans('genai').map((spans) => spans[0]!.traceId) as [string, string];
    const { evaluations } = parseEvaluationRecords(
      [
        JSON.stringify({ trace_id: trace1, name: 'task_success', score: 1 }),
        JSON.stringify({ conversation_id: 'conv-9', name: 'task_success', score: 0 }),
      ].join('\n'),
      received,
    );
    const [byTrace, byConv] = evaluations as [NonNullable<(typeof evaluations)[0]>, NonNullable<(typeof evaluations)[0]>];
    expect(episodeIdsOfEvaluation(byTrace)).toEqual([trace1]);
    expect(episodeIdsOfEvaluation(byConv)).toEqual(['conv:conv-9']);
    expect(evaluationMatchesEpisode(byTrace, { episodeId: trace1, traceIds: [trace1] })).toBe(true);
    expect(evaluationMatchesEpisode(byTrace, { episodeId: trace2, traceIds: [trace2] })).toBe(false);
    expect(evaluationMatchesEpisode(byTrace, { episodeId: 'conv:conv-9', traceIds: [trace2, trace1] })).toBe(true);
    expect(evaluationMatchesEpisode(byConv, { episodeId: 'conv:conv-9', traceIds: [] })).toBe(true);
    expect(evaluationMatchesEpisode(byConv, { episodeId: 'conv:conv-8', traceIds: [] })).toBe(false);
  });

  it('joins the fixture log evaluations to their runs the same way', () => {
    const runs = runSpans('openinference');
    const evals = evaluationsFromLogs(fixtureLogs('openinference'));
    for (const [i, spans] of runs.entries()) {
      const episode = { episodeId: spans[0]!.traceId, traceIds: [spans[0]!.traceId] };
      expect(evals.filter((e) => evaluationMatchesEpisode(e, episode)).map((e) => e.score)).toEqual([[1, 1, 0][i]]);
    }
  });
});

describe('records per payload', () => {
  it('takes exactly MAX_EVALUATION_RECORDS newline-terminated JSON lines, refuses one more', () => {
    const line = `${JSON.stringify({ trace_id: 'ab'.repeat(16), name: 'task_success', score: 1 })}\r\n`;
    const ok = parseEvaluationRecords(line.repeat(MAX_EVALUATION_RECORDS), { receivedAtUnixNano: 1n });
    expect(ok.tooMany).toBeUndefined();
    expect(ok.evaluations).toHaveLength(MAX_EVALUATION_RECORDS);
    expect(parseEvaluationRecords(line.repeat(MAX_EVALUATION_RECORDS + 1), { receivedAtUnixNano: 1n }).tooMany).toBe(true);
  });
});
