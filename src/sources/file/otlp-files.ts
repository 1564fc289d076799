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
 * Signal: `logs` when the path names logs (`logs`, `otlp_logs`), else `traces` (spans).
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

export function signalOf(path: string): FileSignal {
  return /(^|[^a-z])logs?([^a-z]|$)/i.test(path.replace(/\\/g, '/')) ? 'logs' : 'traces';
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
    try {
      return file.signal === 'traces' ? { path: file.path, signal: 'traces' as const, spans: decodeTraces(body, encoding) } : { path: file.path, signal: 'logs' as const, logs: decodeLogs(body, encoding) };
    } catch (err) {
      throw new Error(`replay: ${file.path}: cannot decode as OTLP ${file.signal} (${encoding}): ${(err as Error).message}`, { cause: err });
    }
  });
}
