/**
 * The file source (replay): OTLP request bodies stored as files, in a deterministic order.
 *
 * Accepted inputs (files or directories, searched recursively):
 * - OTLP/HTTP bodies: `*.pb` / `*.bin` (protobuf) or `*.json` (OTLP/JSON), one request per file;
 *   the encoding is sniffed (src/otlp `detectEncoding`), so the extension is only a hint.
 * - OTLP/JSON lines `*.jsonl` (one request per line, as the collector's file exporter writes).
 * - The collector's kafka records dumped one per file: `<topic>/<partition>-<offset>.bin` (the
 *   `.key` files beside them are ignored).
 *
 * Signal, per request: OTLP/JSON says it (`resourceSpans` or `resourceLogs`), so a JSON body — also
 * each line of a `.jsonl` file, which may mix both — is read as what it is. A protobuf body does
 * not (both messages open with a repeated field 1), so the name is the hint: `logs` when the file's
 * name, or the directory holding it (kafka dumps: `otlp_logs/0-12.bin`), names logs (`logs`,
 * `otlp_logs`), else `traces`; a body that does not decode as the hinted signal is tried as the
 * other before it is refused. Directories further up do not count (`/var/log/…` holds traces too).
 * Order: by path with numeric parts compared as numbers (`0002-…` before `0010-…`), and
 * kafka dumps by partition then offset, i.e. arrival order within a partition.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LogRecord, Span } from '../../model/telemetry.js';
import { decodeLogs, decodeTraces, detectEncoding } from '../../otlp/index.js';

export type FileSignal = 'traces' | 'logs';

export interface OtlpFile {
  path: string;
  signal: FileSignal;
}

export type FileBatch =
  | { path: string; signal: 'traces'; spans: Span[] }
  | { path: string; signal: 'logs'; logs: LogRecord[] };

const DATA_EXT = /\.(pb|bin|json|jsonl|protobuf)$/i;

const collator = new Intl.Collator('en', { numeric: true });

const NAMES_LOGS = /(^|[^a-z])logs?([^a-z]|$)/i;

/** The signal a file's name (or the directory holding it) suggests: see the module comment. */
export function signalOf(path: string): FileSignal {
  const parts = path.replace(/\\/g, '/').split('/').filter((p) => p !== '');
  return parts.slice(-2).some((p) => NAMES_LOGS.test(p)) ? 'logs' : 'traces';
}

/** What an OTLP/JSON request holds, from its top-level key; undefined when it names neither. */
function jsonSignal(body: Uint8Array): FileSignal | undefined {
  const head = Buffer.from(body.subarray(0, 64)).toString('utf8');
  const m = /^\s*\{\s*"resource(Spans|Logs)"/.exec(head);
  if (m) return m[1] === 'Spans' ? 'traces' : 'logs';
  try {
    const keys = Object.keys(JSON.parse(Buffer.from(body).toString('utf8')) as object);
    if (keys.includes('resourceSpans')) return 'traces';
    if (keys.includes('resourceLogs')) return 'logs';
  } catch {
    // not JSON after all: the decoder's error says so
  }
  return undefined;
}

function decodeAs(path: string, signal: FileSignal, body: Uint8Array, encoding: ReturnType<typeof detectEncoding>): FileBatch {
  return signal === 'traces' ? { path, signal, spans: decodeTraces(body, encoding) } : { path, signal, logs: decodeLogs(body, encoding) };
}

/** Expands files and directories into the ordered list of OTLP files to read. */
export function listOtlpFiles(inputs: readonly string[]): OtlpFile[] {
  const out: string[] = [];
  const visit = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`replay: ${p} does not exist — give OTLP files or directories`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort(collator.compare)) visit(join(p, name), false);
    } else if (explicit || DATA_EXT.test(basename(p))) {
      out.push(p);
    }
  };
  for (const i of inputs) visit(i, true);
  // Stable, deterministic: each input keeps its own order, directories sorted numerically.
  return out.map((path) => ({ path, signal: signalOf(path) }));
}

/** Decodes one file into one or more batches (JSON lines give one batch per line). */
export function readOtlpFile(file: OtlpFile): FileBatch[] {
  const data = new Uint8Array(readFileSync(file.path));
  const bodies: Uint8Array[] = file.path.toLowerCase().endsWith('.jsonl')
    ? Buffer.from(data)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => Buffer.from(l))
    : [data];
  return bodies.map((body) => {
    const encoding = detectEncoding(body);
    const stated = encoding === 'otlp_json' ? jsonSignal(body) : undefined;
    const first = stated ?? file.signal;
    // A file named .json that is not JSON was read as protobuf: its decode error alone misled.
    const named = /\.jsonl?$/i.test(file.path) && encoding !== 'otlp_json' ? ' (named .json but does not start with "{": not JSON, so read as protobuf)' : '';
    try {
      return decodeAs(file.path, first, body, encoding);
    } catch (err) {
      if (stated === undefined) {
        // protobuf (or JSON naming neither): the name was only a hint
        const other: FileSignal = first === 'traces' ? 'logs' : 'traces';
        try {
          return decodeAs(file.path, other, body, encoding);
        } catch {
          throw new Error(`replay: ${file.path}: cannot decode as OTLP ${first} (${encoding}), nor as ${other}: ${(err as Error).message}${named}`, { cause: err });
        }
      }
      throw new Error(`replay: ${file.path}: cannot decode as OTLP ${first} (${encoding}): ${(err as Error).message}${named}`, { cause: err });
    }
  });
}
