/**
 * Structured logs (pino, JSON lines) on stderr, so stdout carries only credit events.
 */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info', name = 'agent-credit'): Logger {
  // Synchronous stderr: log lines are never lost when the process exits right after an error.
  const dest = destination({ dest: 2, sync: true });
  // A closed terminal (SIGHUP) fails every write to it with EIO, and the destination threw that
  // from the first log call after it — the graceful stop's own "stopping" line — so the job died
  // before closing and crediting its open episodes. Its log lines have nowhere to go: drop them.
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO') throw err;
  });
  return pino({ name, level, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
