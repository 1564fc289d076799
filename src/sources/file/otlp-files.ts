/**
 * The file source (replay): OTLP request bodies stored as files, in a deterministic order.
 *
 * Accepted inputs (files or directories, searched recursively):
 * - OTLP/HTTP bodies: `*.pb` / `*.bin` (protobuf) or `*.json` (OTLP/JSON), one request per file;
 *   the encoding is sniffed (src/otlp `detectEncoding`), so the extension is only a hint.
 * - OTLP/JSON lines `*.jsonl` or `*.ndjson` (one request per line, as the collector's file
 *   exporter writes).
 * - The collector's kafka records dumped one per file: `<topic>/<partition>-<offset>.bin` (the
 *   `.key` files beside them are ignored).
 * Files of other names in a directory are left out (`DATA_EXTENSIONS`; a file given by name is read
 * whatever its name), and so is `expected.ndjson`, what `agent-credit generate` says its runs show.
 * - JSON evaluation records (src/conventions/evaluation-records.ts), as the Kafka job reads them
 *   from `source.kafka.evaluationsTopic` and the receiver from `POST /v1/evaluations`: one record,
 *   a JSON array of them, or JSON lines — a dump of that topic, or the bodies posted. Recognised by
 *   content (a JSON array, or objects with `name` and a record's keys, and no `resourceSpans` /
 *   `resourceLogs`), and any JSON but OTLP's under a file or directory named `evaluations`
 *   (`evaluations/`, `evaluations.jsonl`), where a record that is not valid is reported, not taken
 *   for an undecodable OTLP request. Each valid record is its own request (keyed by its own time,
 *   `evaluationTimes` in src/runtime/local-replay.ts), held from the first pass: they are small.
 *
 * Signal, per request: OTLP/JSON says it (`resourceSpans` or `resourceLogs`), so a JSON body — also
 * each line of a `.jsonl` file, which may mix both — is read as what it is. A protobuf body does
 * not (both messages open with a repeated field 1), so the name is the hint: `logs` when the file's
 * name, or the directory holding it (kafka dumps: `otlp_logs/0-12.bin`), names logs (`logs`,
 * `otlp_logs`), else `traces`; a body that does not decode as the hinted signal is tried as the
 * other before it is refused. Directories further up do not count (`/var/log/…` holds traces too).
 * Listing order: by path with numeric parts compared as numbers (`0002-…` before `0010-…`), and
 * kafka dumps by partition then offset, i.e. arrival order within a partition; the inputs
 * themselves sorted the same way, whatever order they are given in. The replay does not
 * feed requests in this order but by event time (src/runtime/local-replay.ts): this order only
 * breaks ties.
 *
 * A request that does not decode is reported (`scanOtlpFile`), not thrown: the replay skips it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseEvaluationRecords } from '../../conventions/evaluation-records.js';
import type { Evaluation } from '../../model/agents.js';
import type { LogRecord, Span } from '../../model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../otlp/index.js';

export type FileSignal = 'traces' | 'logs' | 'evaluations';

export interface OtlpFile {
  path: string;
  signal: FileSignal;
}

export type FileBatch =
  | { path: string; signal: 'traces'; spans: Span[] }
  | { path: string; signal: 'logs'; logs: LogRecord[] }
  /** Evaluation records: the valid ones (untimed ones timed at 0 until fed), and why the others are not. */
  | { path: string; signal: 'evaluations'; evaluations: Evaluation[]; errors: { index: number; message: string }[] };

/** The names of the files read from a directory (the messages list them). */
export const DATA_EXTENSIONS = ['.pb', '.bin', '.protobuf', '.json', '.jsonl', '.ndjson'] as const;

const DATA_EXT = /\.(pb|bin|protobuf|json|jsonl|ndjson)$/i;

/**
 * JSON lines, one request per line: `.ndjson` is the same format under its other common name (a
 * directory's `.ndjson` files were left out without a word, and one given by name was read whole —
 * its second line failed the JSON parse).
 */
const JSON_LINES = /\.(jsonl|ndjson)$/i;

/**
 * `agent-credit generate`'s description of its corpus (src/cli/generate.ts), written beside the
 * runs: not telemetry, so `replay <corpus>` leaves it out (read, each line was "not an OTLP request").
 */
const CORPUS_EXPECTED = 'expected.ndjson';

const collator = new Intl.Collator('en', { numeric: true });

const NAMES_LOGS = /(^|[^a-z])logs?([^a-z]|$)/i;

const NAMES_EVALUATIONS = /(^|[^a-z])evaluations?([^a-z]|$)/i;

/** A collector Kafka record dumped as `<topic>/<partition>-<offset>.bin`. */
const KAFKA_RECORD = /(?:^|[\\/])([^\\/]+)[\\/](\d+)-(\d+)\.bin$/;

/**
 * The Kafka record a dumped file holds, as the Kafka job names a record's content events
 * (`topic/partition/offset`, src/conventions `contentSpansFromLogs` `source`); undefined for other
 * files. Read as an OTLP/HTTP request (no source), the second of two equal content records was
 * taken for a re-sent one and dropped, where the job reading the same records keeps both.
 */
export function kafkaRecordSource(path: string): string | undefined {
  const m = KAFKA_RECORD.exec(path);
  return m === null ? undefined : `${m[1]}/${m[2]}/${m[3]}`;
}

/** The signal a file's name (or the directory holding it) suggests: see the module comment. */
export function signalOf(path: string): FileSignal {
  const parts = path.replace(/\\/g, '/').split('/').filter((p) => p !== '');
  if (parts.slice(-2).some((p) => NAMES_EVALUATIONS.test(p))) return 'evaluations';
  return parts.slice(-2).some((p) => NAMES_LOGS.test(p)) ? 'logs' : 'traces';
}

/**
 * What an OTLP/JSON request holds, from its top-level key; undefined when it names neither.
 * Throws when it is a JSON object with fields but neither key: not an OTLP request at all (it
 * "decoded" as an empty request, and the file was reported only as "empty?").
 */
function jsonSignal(path: string, body: Uint8Array): 'traces' | 'logs' | undefined {
  const head = Buffer.from(body.subarray(0, 64)).toString('utf8');
  const m = /^\s*\{\s*"resource(Spans|Logs)"/.exec(head);
  if (m) return m[1] === 'Spans' ? 'traces' : 'logs';
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined; // not JSON after all: the decoder's error says so
  }
  const keys = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  if (keys.includes('resourceSpans') || keys.includes('resource_spans')) return 'traces';
  if (keys.includes('resourceLogs') || keys.includes('resource_logs')) return 'logs';
  if (keys.length === 0) return undefined;
  const listed = keys.length > 6 ? `${keys.slice(0, 6).join(', ')}, …` : keys.join(', ');
  const what = keys.includes('event_type') && keys.includes('schema_version')
    ? "agent-credit's own output (credit events, e.g. a previous replay's events.jsonl), not telemetry: leave it out of the inputs"
    : keys.includes('resourceMetrics') || keys.includes('resource_metrics')
      ? 'an OTLP metrics request: replay reads traces and logs'
      : 'give OTLP/JSON export requests, as the collector\'s file exporter writes them';
  throw new Error(`replay: ${path}: not an OTLP traces or logs request — a JSON object without resourceSpans or resourceLogs (its fields: ${listed}): ${what}`);
}

/** Keys of an evaluation record (and their camelCase misspellings, which its parser names). */
const RECORD_KEYS = new Set(['trace_id', 'conversation_id', 'response_id', 'span_id', 'score', 'label', 'time_unix_nano', 'traceId', 'conversationId', 'responseId', 'spanId']);

/**
 * Whether a body holds JSON evaluation records rather than an OTLP request: a JSON array (an OTLP
 * request never is one), or objects (one, or the first of JSON lines) with `name` and a record's
 * key — or, under a name that says evaluations (`hint`), any JSON object but an OTLP request, so
 * that its invalid records are named as such. Read as OTLP, a judge's records were refused as
 * "not an OTLP traces or logs request" and the replay exited 1 with every verdict left out.
 */
function holdsEvaluationRecords(body: Uint8Array, hint: FileSignal): boolean {
  let start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (start < body.length && (body[start] === 0x20 || body[start] === 0x09 || body[start] === 0x0a || body[start] === 0x0d)) start++;
  if (body[start] !== 0x7b && body[start] !== 0x5b) return false;
  const text = Buffer.from(body.subarray(start)).toString('utf8');
  if (/^\{\s*"resource_?(Spans|Logs|Metrics|spans|logs|metrics)"/.test(text.slice(0, 64))) return false;
  let first: unknown;
  try {
    const whole = JSON.parse(text) as unknown;
    if (Array.isArray(whole)) return true;
    first = whole;
  } catch {
    const nl = text.indexOf('\n');
    try {
      first = JSON.parse(nl === -1 ? text : text.slice(0, nl)) as unknown;
    } catch {
      return hint === 'evaluations';
    }
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first)) return hint === 'evaluations';
  const keys = Object.keys(first);
  if (keys.some((k) => /^resource_?(spans|logs|metrics)$/i.test(k))) return false;
  // agent-credit's own events (a previous replay's output) are named as such by jsonSignal
  if (keys.includes('event_type') && keys.includes('schema_version')) return false;
  return hint === 'evaluations' || (keys.includes('name') && keys.some((k) => RECORD_KEYS.has(k)));
}

/**
 * A body of evaluation records, parsed as the live paths parse them (no cap on records: a file is
 * a dump, not one request). Records without `time_unix_nano` are timed at 0 here; the replay times
 * them as received when it feeds them.
 */
function evaluationsBatch(path: string, body: Uint8Array): FileBatch {
  const { evaluations, errors } = parseEvaluationRecords(body, { receivedAtUnixNano: 0n, maxRecords: Number.MAX_SAFE_INTEGER });
  return { path, signal: 'evaluations', evaluations, errors };
}

function decodeAs(path: string, signal: 'traces' | 'logs', body: Uint8Array, encoding: ReturnType<typeof detectEncoding>): FileBatch {
  return signal === 'traces' ? { path, signal, spans: decodeTraces(body, encoding) } : { path, signal, logs: decodeLogs(body, encoding) };
}

/**
 * Expands files and directories into the ordered list of OTLP files to read. The files of the
 * directories that are not read (other names) are added to `leftOut`, for a message to name.
 */
export function listOtlpFiles(inputs: readonly string[], leftOut: string[] = []): OtlpFile[] {
  const out: string[] = [];
  // Directories already listed (device and inode): a symbolic link back up the tree (`loop -> .`)
  // was followed until the path was too long and then reported as "does not exist"; a second link
  // to a listed directory read its files twice.
  const listed = new Set<string>();
  const visit = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      throw new Error(`replay: ${p} ${unreadablePath(err)}`);
    }
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (listed.has(id)) return;
      listed.add(id);
      let names: string[];
      try {
        names = readdirSync(p);
      } catch (err) {
        throw new Error(`replay: ${p} ${unreadablePath(err)}`);
      }
      for (const name of names.sort(collator.compare)) visit(join(p, name), false);
    } else if (explicit || (DATA_EXT.test(basename(p)) && basename(p) !== CORPUS_EXPECTED)) {
      out.push(p);
    } else {
      leftOut.push(p);
    }
  };
  // The inputs sorted as directory entries are: in the order given, two requests of one time in
  // two inputs (verdicts logged in the same nanosecond) swapped places with the inputs, and so did
  // their episodes in the output — README promises the same events in the same order either way.
  for (const i of [...inputs].sort(collator.compare)) visit(i, true);
  return out.map((path) => ({ path, signal: signalOf(path) }));
}

/** Why a path cannot be listed, by its error code: every failure read "does not exist" (a symbolic-link loop, a directory without read permission). */
function unreadablePath(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist — give OTLP files or directories';
    case 'ELOOP':
      return 'is a symbolic link that leads back to itself (ELOOP) — fix or remove the link';
    case 'EACCES':
    case 'EPERM':
      return `cannot be read (${code}: permission denied) — give this process read access, or leave it out`;
    case 'ENOTDIR':
      return 'does not exist (a part of its path is a file, not a directory) — give OTLP files or directories';
    default:
      return `cannot be read (${code ?? (err as Error).message}) — give OTLP files or directories`;
  }
}

/** One request body of a file: the whole file, or one line of a `.jsonl` file (byte range). */
interface Body {
  /** 1-based line of a `.jsonl` file; undefined for a whole-file body. */
  line: number | undefined;
  offset: number;
  bytes: Uint8Array;
}

/** A file's request bodies: the whole file, or each non-blank line of a `.jsonl` file with its byte offset. */
function bodiesOf(path: string, data: Uint8Array): Body[] {
  // a compressed .jsonl has no lines to split: whole, its error names the compression (decodeBody),
  // where its "lines" each failed with "not JSON"
  // nor a UTF-16 one, whose line feeds are two bytes (one error naming the encoding, not one per "line")
  if (!JSON_LINES.test(path) || compression(data) !== undefined || utf16(data) !== undefined) return [{ line: undefined, offset: 0, bytes: data }];
  const out: Body[] = [];
  let start = 0;
  let line = 1;
  while (start <= data.length) {
    let end = data.indexOf(0x0a, start);
    if (end === -1) end = data.length;
    const bytes = data.subarray(start, end);
    if (Buffer.from(bytes).toString('utf8').trim() !== '') out.push({ line, offset: start, bytes });
    start = end + 1;
    line++;
  }
  return out;
}

/** The compression a body starts with (its magic bytes): replay reads uncompressed OTLP only. */
function compression(body: Uint8Array): { name: string; tool: string } | undefined {
  if (body[0] === 0x1f && body[1] === 0x8b) return { name: 'gzip', tool: 'gunzip' };
  if (body[0] === 0x28 && body[1] === 0xb5 && body[2] === 0x2f && body[3] === 0xfd) return { name: 'zstd', tool: 'zstd -d' };
  return undefined;
}

/**
 * The UTF-16 a body is written in, if it is: a byte order mark, or `{` beside a NUL byte. Windows
 * PowerShell 5's `>` and Out-File write UTF-16LE with a mark; OTLP/JSON is UTF-8 (RFC 8259). Such a
 * file was read as protobuf and failed with "unexpected wire type 7 at byte 3 … (named .json but
 * does not start with "{")" — while an editor shows it starting with `{`.
 */
function utf16(body: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | undefined {
  if ((body[0] === 0xff && body[1] === 0xfe) || (body[0] === 0x7b && body[1] === 0x00)) return 'UTF-16LE';
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0x00 && body[1] === 0x7b)) return 'UTF-16BE';
  return undefined;
}

/** Decodes one body as the signal it states (JSON) or its name hints, else the other; throws an Error saying why not. */
function decodeBody(path: string, hint: FileSignal, body: Uint8Array, jsonLine = false): FileBatch {
  if (holdsEvaluationRecords(body, hint)) return evaluationsBatch(path, body);
  const encoding = detectEncoding(body);
  // a line of a .jsonl file is one OTLP/JSON request: never protobuf (its decode error misled)
  if (jsonLine && encoding !== 'otlp_json') {
    const start = Buffer.from(body.subarray(0, 40)).toString('utf8');
    throw new Error(`replay: ${path}: not JSON (starts ${JSON.stringify(start)}): each line of a .jsonl file must be one OTLP/JSON request, {"resourceSpans": …} or {"resourceLogs": …}`);
  }
  const stated = encoding === 'otlp_json' ? jsonSignal(path, body) : undefined;
  // not evaluation records under an evaluations name: OTLP, and evaluations come as log records
  const first = stated ?? (hint === 'evaluations' ? 'logs' : hint);
  // A file named .json that is not JSON was read as protobuf: its decode error alone misled.
  let named = /\.jsonl?$/i.test(path) && encoding !== 'otlp_json' ? ' (named .json but does not start with "{": not JSON, so read as protobuf)' : '';
  // A compressed file read as protobuf failed with "unexpected wire type 7 at byte 1", which does not say why.
  const compressed = compression(body);
  if (compressed !== undefined) named += ` (the file is ${compressed.name}-compressed: decompress it first, e.g. ${compressed.tool})`;
  const wide = utf16(body);
  if (wide !== undefined) named = ` (the file is ${wide} text: OTLP/JSON is UTF-8 — convert it first, e.g. iconv -f ${wide} -t UTF-8, or in PowerShell Out-File -Encoding utf8)`;
  try {
    return decodeAs(path, first, body, encoding);
  } catch (err) {
    if (stated === undefined) {
      // protobuf (or JSON naming neither): the name was only a hint
      const other = first === 'traces' ? 'logs' : 'traces';
      try {
        return decodeAs(path, other, body, encoding);
      } catch {
        throw new Error(`replay: ${path}: cannot decode as OTLP ${first} (${encoding}), nor as ${other}: ${(err as Error).message}${named}`, { cause: err });
      }
    }
    throw new Error(`replay: ${path}: cannot decode as OTLP ${first} (${encoding}): ${(err as Error).message}${named}`, { cause: err });
  }
}

/** Decodes one file into one or more batches (JSON lines give one batch per line); throws on the first undecodable body. */
export function readOtlpFile(file: OtlpFile): FileBatch[] {
  const data = new Uint8Array(readFileSync(file.path));
  return bodiesOf(file.path, data).map((b) => (b.line === undefined ? decodeBody(file.path, file.signal, b.bytes) : decodeBody(`${file.path}:${b.line}`, file.signal, b.bytes, true)));
}

const nsToMs = (ns: bigint) => Number(ns / 1_000_000n);

/** The replay clock value a request sets: its latest span end or log time (ms), 0 when it holds none. */
function requestTimeMs(batch: FileBatch): number {
  let latest = 0;
  if (batch.signal === 'traces') for (const s of batch.spans) latest = Math.max(latest, nsToMs(s.endTimeUnixNano));
  else if (batch.signal === 'logs') for (const l of batch.logs) latest = Math.max(latest, nsToMs(l.timeUnixNano || l.observedTimeUnixNano));
  else for (const e of batch.evaluations) if (e.timeFromReceipt !== true) latest = Math.max(latest, nsToMs(e.timeUnixNano));
  return latest;
}

/** Where one decodable request is, what it is and when it happened: enough to read it again later. */
export interface OtlpRequestRef {
  /** The file, `:line` appended for a `.jsonl` line. */
  name: string;
  path: string;
  offset: number;
  length: number;
  /** The signal it decoded as. */
  signal: FileSignal;
  /** `requestTimeMs` of the request: the replay feeds requests in this order. */
  timeMs: number;
  /** Spans or log records in it. */
  items: number;
  /**
   * An evaluation record (signal `evaluations`): one per request, held from the first pass. Without
   * `time_unix_nano` (`timeFromReceipt`) its `timeMs` is NaN until the replay places it.
   */
  evaluation?: Evaluation;
}

/** A request (a file, or a line of a `.jsonl` file) that could not be read or decoded. */
export interface UndecodableRequest {
  name: string;
  reason: string;
}

export interface ScannedFile {
  requests: OtlpRequestRef[];
  undecodable: UndecodableRequest[];
  /** Evaluation records that are not valid (`name`: the file or line, and `record #i` as the receiver numbers them). */
  invalidEvaluations: UndecodableRequest[];
  /** Latest span end (ms) of each trace in the file: where a record without time_unix_nano falls. */
  traceEnds: Map<string, number>;
}

/**
 * First pass of a replay over one file: decodes each request once to learn its signal and time,
 * keeps only that (not the spans), and reports the requests that do not decode instead of throwing.
 */
export function scanOtlpFile(file: OtlpFile, limits: JsonLinesLimits = {}): ScannedFile {
  if (JSON_LINES.test(file.path)) {
    const lines = scanJsonLines(file, limits);
    if (lines !== undefined) return lines;
  }
  let data: Uint8Array;
  try {
    data = new Uint8Array(readFileSync(file.path));
  } catch (err) {
    return cannotRead(file, err);
  }
  const out: ScannedFile = { requests: [], undecodable: [], invalidEvaluations: [], traceEnds: new Map() };
  for (const b of bodiesOf(file.path, data)) scanBody(out, file, b.line === undefined ? file.path : `${file.path}:${b.line}`, b.offset, b.bytes, b.line !== undefined);
  return out;
}

function cannotRead(file: OtlpFile, err: unknown): ScannedFile {
  return { requests: [], undecodable: [{ name: file.path, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], invalidEvaluations: [], traceEnds: new Map() };
}

/**
 * Decodes one body of `file` (at `offset`) to note its signal and time in `out`, or why it does not
 * decode. A `.jsonl` line (`jsonLine`) is read as readOtlpFile reads it: JSON only (read as
 * protobuf, its error misled).
 */
function scanBody(out: ScannedFile, file: OtlpFile, name: string, offset: number, bytes: Uint8Array, jsonLine: boolean): void {
  try {
    const batch = decodeBody(name, file.signal, bytes, jsonLine);
    if (batch.signal === 'evaluations') {
      for (const e of batch.errors) out.invalidEvaluations.push({ name: `${name} record #${e.index}`, reason: e.message });
      for (const evaluation of batch.evaluations) {
        out.requests.push({ name, path: file.path, offset, length: bytes.length, signal: 'evaluations', timeMs: evaluation.timeFromReceipt === true ? NaN : nsToMs(evaluation.timeUnixNano), items: 1, evaluation });
      }
      return;
    }
    if (batch.signal === 'traces') {
      for (const s of batch.spans) out.traceEnds.set(s.traceId, Math.max(out.traceEnds.get(s.traceId) ?? 0, nsToMs(s.endTimeUnixNano)));
    }
    out.requests.push({ name, path: file.path, offset, length: bytes.length, signal: batch.signal, timeMs: requestTimeMs(batch), items: batch.signal === 'traces' ? batch.spans.length : batch.logs.length });
  } catch (err) {
    out.undecodable.push({ name, reason: (err as Error).message.replace(/^replay: /, '') });
  }
}

/** How a `.jsonl` file is scanned (tests lower them). */
export interface JsonLinesLimits {
  /** Bytes read at a time. Default 16 MiB. */
  chunkBytes?: number;
  /** A longer line is reported and not held. Default 512 MiB: about V8's longest string, so no JSON parser could read it anyway. */
  maxLineBytes?: number;
}

/**
 * `scanOtlpFile` of a `.jsonl` file, a chunk at a time: only the line being read is held. Read
 * whole, the collector's file exporter output — one file, days of telemetry — was held whole
 * during the scan, and past 2 GiB not read at all (ERR_FS_FILE_TOO_LARGE: every line skipped).
 * Undefined for a compressed or UTF-16 file, read whole as before (its error names the compression
 * or the encoding).
 */
function scanJsonLines(file: OtlpFile, limits: JsonLinesLimits): ScannedFile | undefined {
  const chunkBytes = limits.chunkBytes ?? 16 * 1024 * 1024;
  const maxLineBytes = limits.maxLineBytes ?? 512 * 1024 * 1024;
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (err) {
    return cannotRead(file, err);
  }
  const out: ScannedFile = { requests: [], undecodable: [], invalidEvaluations: [], traceEnds: new Map() };
  try {
    const head = Buffer.alloc(4);
    const start = head.subarray(0, readSync(fd, head, 0, 4, 0));
    if (compression(start) !== undefined || utf16(start) !== undefined) return undefined;
    const chunk = Buffer.alloc(chunkBytes);
    /** The current line: its bytes read so far (copies), their length, its offset and number. */
    let parts: Buffer[] = [];
    let held = 0;
    let tooLong = false;
    let lineStart = 0;
    let line = 1;
    const take = (from: number, to: number) => {
      if (tooLong || to === from) return;
      if (held + (to - from) > maxLineBytes) {
        tooLong = true;
        parts = [];
        return;
      }
      parts.push(Buffer.from(chunk.subarray(from, to)));
      held += to - from;
    };
    const lineEnds = (at: number) => {
      const name = `${file.path}:${line}`;
      if (tooLong) out.undecodable.push({ name, reason: `${name}: a line of more than ${maxLineBytes} bytes, not read: each line of a .jsonl file is one OTLP/JSON request` });
      else {
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
        if (bytes.toString('utf8').trim() !== '') scanBody(out, file, name, lineStart, bytes, true);
      }
      parts = [];
      held = 0;
      tooLong = false;
      lineStart = at + 1;
      line++;
    };
    let pos = 0;
    for (let got; (got = readSync(fd, chunk, 0, chunkBytes, pos)) > 0; pos += got) {
      const read = chunk.subarray(0, got);
      let from = 0;
      for (let nl = read.indexOf(0x0a); nl !== -1; nl = read.indexOf(0x0a, from)) {
        take(from, nl);
        lineEnds(pos + nl);
        from = nl + 1;
      }
      take(from, got);
    }
    lineEnds(pos); // the last line, with or without a newline after it
  } catch (err) {
    return cannotRead(file, err);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Second pass: reads and decodes one request found by `scanOtlpFile` (only its bytes). Throws when the file changed meanwhile. */
export function readOtlpRequest(ref: OtlpRequestRef): FileBatch {
  if (ref.evaluation !== undefined) return { path: ref.name, signal: 'evaluations', evaluations: [ref.evaluation], errors: [] };
  const bytes = new Uint8Array(ref.length);
  const fd = openSync(ref.path, 'r');
  try {
    let read = 0;
    while (read < ref.length) {
      const n = readSync(fd, bytes, read, ref.length - read, ref.offset + read);
      if (n === 0) throw new Error(`replay: ${ref.name}: file shorter than when it was scanned (changed during the replay?)`);
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  return decodeBody(ref.name, ref.signal, bytes);
}
