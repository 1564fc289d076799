/**
 * Structured logs (pino, JSON lines) on stderr, so stdout carries only credit events.
 */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info', name = 'agent-credit'): Logger {
  // Synchronous stderr: log lines are never lost when the process exits right after an error.
  return pino({ name, level, base: { pid: process.pid } }, destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
