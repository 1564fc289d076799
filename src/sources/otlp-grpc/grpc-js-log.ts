/**
 * grpc-js writes its own log lines to stderr through console.error, bare ("E No address added out
 * of total 1 resolved"), between the job's JSON lines. While a job with the OTLP/gRPC receiver runs
 * they go to its logger instead, as JSON lines with `grpcJs: true`, at the level grpc-js gives them
 * (error, info, debug: what GRPC_VERBOSITY lets through — ERROR by default — and GRPC_TRACE adds).
 * One exception: the bind failure grpc-js logs before the bind error it returns, which the job
 * reports itself naming the setting to change (source.grpc.port), is logged at debug.
 *
 * grpc-js has one logger per process: the most recently started job that is still running gets the
 * lines; with none, they go to stderr as grpc-js writes them.
 */
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';

type Level = 'error' | 'info' | 'debug';
type LevelLogger = Record<Level, (obj: object, msg: string) => void>;

/** grpc-js's lines that repeat an error the receiver's start() rejects with (reported by the job with its fix). */
const REPORTED_BY_THE_JOB = /^No address added out of total \d+ resolved$/;

const loggers: { log: LevelLogger }[] = [];
let installed = false;

function write(level: Level, args: unknown[]): void {
  const text = format(...args);
  const log = loggers.at(-1)?.log;
  if (!log) {
    // grpc-js's own format (its DEFAULT_LOGGER)
    process.stderr.write(`${level === 'error' ? 'E' : level === 'info' ? 'I' : 'D'} ${text}\n`);
    return;
  }
  log[level === 'error' && REPORTED_BY_THE_JOB.test(text) ? 'debug' : level]({ grpcJs: true }, `grpc-js: ${text}`);
}

/** Sends grpc-js's log lines to `log` until the returned function is called. */
export function routeGrpcJsLog(log: LevelLogger): () => void {
  if (!installed) {
    grpc.setLogger({
      error: (...args: unknown[]) => write('error', args),
      info: (...args: unknown[]) => write('info', args),
      debug: (...args: unknown[]) => write('debug', args),
    });
    installed = true;
  }
  const entry = { log };
  loggers.push(entry);
  return () => {
    const at = loggers.indexOf(entry);
    if (at >= 0) loggers.splice(at, 1);
  };
}
