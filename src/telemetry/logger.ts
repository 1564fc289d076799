/**
 * Structured logs (pino) on stderr, so stdout carries only credit events: JSON lines (the
 * default, for log shippers), or `pretty` — one readable line each, for a terminal.
 */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

/** `telemetry.logFormat`: `json` (one JSON object per line) or `pretty` (time, level, message, fields). */
export type LogFormat = 'json' | 'pretty';

export function createLogger(level: string = 'info', name = 'agent-credit', format: LogFormat = 'json'): Logger {
  // Synchronous stderr: log lines are never lost when the process exits right after an error.
  const dest = destination({ dest: 2, sync: true });
  // A closed terminal (SIGHUP) fails every write to it with EIO, and the destination threw that
  // from the first log call after it — the graceful stop's own "stopping" line — so the job died
  // before closing and crediting its open episodes. Its log lines have nowhere to go: drop them.
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO') throw err;
  });
  // pretty: each JSON line pino writes is rewritten before it reaches the same synchronous stderr
  // (not pino-pretty's transport: a worker thread, whose last lines an exit right after an error can lose)
  const color = format === 'pretty' && logColor(process.stderr.isTTY === true, process.env);
  const out = format === 'pretty' ? { write: (line: string) => dest.write(prettyLogLine(line, color)) } : dest;
  return pino({ name, level, base: { pid: process.pid } }, out);
}

/**
 * Whether pretty lines color their level: only on a terminal, and not when `NO_COLOR` is set to a
 * non-empty value — no-color.org: an empty `NO_COLOR` (`NO_COLOR= cmd`, or an `export NO_COLOR=`
 * left by a script) does not turn colour off.
 */
export function logColor(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Readonly<Record<number, string>> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line carries, or that the line's head shows: not repeated after the message. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/**
 * One pino JSON line → `12:03:04.567 WARN  message key=value …` (local time; string values quoted
 * only when they hold spaces or quotes, others as JSON; an error's own fields as `err.code=…`,
 * its stack on the lines after; a message's further lines indented under its first, the fields
 * after its last; other control characters, in the message, fields and stacks, escaped as `\u001b`).
 * A line that is not a JSON object is passed on as it is.
 */
export function prettyLogLine(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return line;
  const t = typeof o.time === 'number' ? new Date(o.time) : new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  const levelNumber = typeof o.level === 'number' ? o.level : 30;
  const levelName = (LEVELS[levelNumber] ?? String(o.level)).padEnd(5);
  const level = color ? `\u001b[${COLORS[levelNumber] ?? '0'}m${levelName}\u001b[0m` : levelName;
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (HEAD.has(k) || v === undefined) continue;
    if (isSerializedError(v)) errorFields(escapeControls(k), v, fields, stacks);
    else fields.push(`${escapeControls(k)}=${fieldValue(v)}`);
  }
  // A message's own line breaks (a ZodError's message, a judge's multi-line answer) would start
  // lines a reader takes for new records: its further lines are indented under its first, and a
  // lone \r (which sends the terminal's cursor back over the time and level) counts as a break.
  const indent = `\n${' '.repeat(time.length + 1 + levelName.length + 1)}`;
  const msg = typeof o.msg === 'string' ? o.msg.split(LINE_BREAK).map(escapeControls).join(indent) : '';
  const stack = stacks.map((s) => `\n    ${s.split(LINE_BREAK).map(escapeControls).join('\n    ')}`).join('');
  return `${time} ${level} ${msg}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * C0 and C1 control characters (DEL too) but the line breaks, which the line's layout handles.
 * Written raw, an ANSI escape inside a logged text (a judge's error body, a broker's message)
 * recoloured the terminal, moved its cursor or cleared lines — the JSON format escapes C0 as
 * `\u001b`, and C1 (U+0080–U+009F: U+009B is a CSI of its own on some terminals) is escaped too.
 */
const CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** `text` with each control character (CONTROL) as its JSON escape, `\u001b`. */
function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

type SerializedError = { type?: unknown; message?: unknown; stack: string } & Record<string, unknown>;

/** pino's error serializer writes {type, message, stack, …the error's own fields}. */
function isSerializedError(v: unknown): v is SerializedError {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { stack?: unknown }).stack === 'string';
}

/**
 * An error under `key`: its message as the field, its stack below, and the fields it carries
 * beyond type/message/stack — a system error's `code`, `errno`, `syscall`, a Kafka error's
 * `retriable` — as `key.field=…`: they are often what tells the failures apart (ECONNREFUSED
 * from ENOTFOUND), and the JSON format keeps them. Errors inside it (an AggregateError's
 * `aggregateErrors`, an error-valued field) are written the same way, as `key.field[i]`.
 */
function errorFields(key: string, err: SerializedError, fields: string[], stacks: string[]): void {
  fields.push(`${key}=${fieldValue(err.message ?? err.stack.split('\n')[0])}`);
  stacks.push(err.stack);
  for (const [k, v] of Object.entries(err)) {
    if (k === 'type' || k === 'message' || k === 'stack' || v === undefined) continue;
    if (isSerializedError(v)) errorFields(`${key}.${k}`, v, fields, stacks);
    else if (Array.isArray(v) && v.length > 0 && v.every(isSerializedError)) v.forEach((e, i) => errorFields(`${key}.${k}[${i}]`, e, fields, stacks));
    else fields.push(`${key}.${k}=${fieldValue(v)}`);
  }
}

/** A field's value: a string as it is when that reads unambiguously, else as JSON; control characters escaped either way (JSON leaves C1 raw). */
function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\u0000-\u001f\u007f-\u009f]+$/.test(v) ? v : escapeControls(JSON.stringify(v));
  return escapeControls(JSON.stringify(v) ?? String(v));
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
