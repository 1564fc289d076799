/**
 * telemetry.logFormat / --log-format pretty: the logs were JSON lines only, which a person at a
 * terminal reads with jq or not at all. `pretty` writes time, level, message and fields on one line.
 */
import { describe, expect, it } from 'vitest';
import { logColor, prettyLogLine } from '../../src/telemetry/logger.js';

describe('prettyLogLine', () => {
  const time = new Date(2026, 11, 7, 9, 5, 3, 42).getTime(); // local time, as the line shows it

  it('time, level, message, then the fields (not pid, hostname or name); strings quoted only when they need it', () => {
    const line = JSON.stringify({ level: 40, time, pid: 7, name: 'agent-credit', signal: 'traces', status: 405, brokers: ['a:9092'], msg: 'request rejected: POST /v1/traces reached the live page', reason: 'two words' });
    expect(prettyLogLine(line)).toBe('09:05:03.042 WARN  request rejected: POST /v1/traces reached the live page signal=traces status=405 brokers=["a:9092"] reason="two words"\n');
  });

  it("an error's message as its field and its stack below; color only when asked", () => {
    const line = JSON.stringify({ level: 50, time, msg: 'stop failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' } });
    expect(prettyLogLine(line)).toBe('09:05:03.042 ERROR stop failed err=boom\n    Error: boom\n        at f (x.js:1:1)\n');
    expect(prettyLogLine(JSON.stringify({ level: 30, time, msg: 'm' }), true)).toBe('09:05:03.042 \u001b[32mINFO \u001b[0m m\n');
  });

  it("an error's own fields (code, errno, …) after its message, as err.<field>; errors inside it the same way", () => {
    const line = JSON.stringify({ level: 50, time, msg: 'connect failed', err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9', stack: 'Error: connect ECONNREFUSED 127.0.0.1:9\n    at f (x.js:1:1)', code: 'ECONNREFUSED', errno: -111, syscall: 'connect', port: 9 }, topic: 't' });
    expect(prettyLogLine(line)).toBe('09:05:03.042 ERROR connect failed err="connect ECONNREFUSED 127.0.0.1:9" err.code=ECONNREFUSED err.errno=-111 err.syscall=connect err.port=9 topic=t\n    Error: connect ECONNREFUSED 127.0.0.1:9\n        at f (x.js:1:1)\n');
    const aggregate = JSON.stringify({ level: 50, time, msg: 'all failed', err: { type: 'AggregateError', message: 'two', stack: 'AggregateError: two', aggregateErrors: [{ type: 'Error', message: 'a', stack: 'Error: a' }, { type: 'Error', message: 'b', stack: 'Error: b', code: 'EB' }] } });
    expect(prettyLogLine(aggregate)).toBe('09:05:03.042 ERROR all failed err=two err.aggregateErrors[0]=a err.aggregateErrors[1]=b err.aggregateErrors[1].code=EB\n    AggregateError: two\n    Error: a\n    Error: b\n');
  });

  it("a message's further lines are indented under its first (a lone \\r too), the fields after its last", () => {
    const line = JSON.stringify({ level: 40, time, msg: 'config rejected:\n  credit.timeoutMs: too big\r\n  x: y\rz', file: 'a.yaml' });
    expect(prettyLogLine(line)).toBe(
      '09:05:03.042 WARN  config rejected:\n' +
        '                     credit.timeoutMs: too big\n' +
        '                     x: y\n' +
        '                   z file=a.yaml\n',
    );
  });

  // an ANSI escape in a message (a judge's error body, a broker's text) recoloured or rewrote the
  // terminal: pino's JSON keeps it as \u001b, and pretty wrote it raw
  it('writes the control characters of a message, a field and an error stack escaped (\\u001b), never raw', () => {
    const csi = '\u009b'; // C1 CSI: JSON.stringify leaves it raw
    const line = JSON.stringify({ level: 50, time, msg: `judge answered \u001b[31mred\u001b[0m\u0007 ${csi}2J`, body: '\u001b]0;title\u0007', err: { type: 'Error', message: `bad\u001b[2K${csi}K`, stack: `Error: bad\u001b[2K\n    at \u001b[1Af (x.js:1:1)\r    at g` } });
    const out = prettyLogLine(line);
    expect(out).toBe(
      '09:05:03.042 ERROR judge answered \\u001b[31mred\\u001b[0m\\u0007 \\u009b2J body="\\u001b]0;title\\u0007" err="bad\\u001b[2K\\u009bK"\n' +
        '    Error: bad\\u001b[2K\n' +
        '        at \\u001b[1Af (x.js:1:1)\n' +
        '        at g\n',
    );
    // nothing but the line breaks is left of C0 and C1 (tabs, DEL included)
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(prettyLogLine(JSON.stringify({ level: 30, time, msg: 'a\tb\u007fc', k: 'x\u0085y' }))).toBe('09:05:03.042 INFO  a\\u0009b\\u007fc k="x\\u0085y"\n');
  });

  it('passes on what is not a JSON object', () => {
    expect(prettyLogLine('not json\n')).toBe('not json\n');
  });
});

describe('logColor', () => {
  it('colors on a terminal unless NO_COLOR is set to a non-empty value (no-color.org: an empty one does not count)', () => {
    expect(logColor(true, {})).toBe(true);
    expect(logColor(true, { NO_COLOR: '' })).toBe(true);
    expect(logColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(logColor(true, { NO_COLOR: '0' })).toBe(false); // any non-empty value, even "0"
    expect(logColor(false, {})).toBe(false);
  });
});
