/**
 * SIGTERM (or Ctrl-C) while the Kafka job starts — checking topics, or joining the group, which
 * takes a whole session timeout after an unclean stop — met Node's default: exit 143 at once and
 * no line saying why (a rolling restart of a job still joining). Nothing has been read then, so
 * the job now exits 0 at once, saying so. `view` the same (it has nothing to lose at any time).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');

describe('agent-credit run and view on Kafka, stopped while starting', () => {
  it.each([['run', 'SIGTERM'], ['run', 'SIGINT'], ['view', 'SIGTERM']] as const)('%s, %s: exit 0 with a line saying nothing was read, not death by the signal', async (command, sig) => {
    const dir = tempDir('agent-credit-start-signal-');
    const config = join(dir, 'job.yaml');
    // port 1: nothing listens, so the start stays in kafkajs's connection retries (~10 s) while we signal
    // (view serves the live page: on a free port)
    const sinks = command === 'view' ? ['  live: { port: 0 }'] : ['  stdout: { enabled: false }', '  live: { enabled: false }', 'telemetry:', '  metricsPort: null'];
    writeFileSync(config, ['source:', '  kind: kafka', '  kafka:', '    brokers: ["127.0.0.1:1"]', 'sinks:', ...sinks, ''].join('\n'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
    Object.assign(env, CLI_ENV);
    const proc = spawn(process.execPath, [BIN, command, '--config', config], { cwd: root, env });
    try {
      const stderr: string[] = [];
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: proc.stderr }).on('line', (line) => {
          stderr.push(line);
          // kafkajs's failed connection, while it starts: run's topic checks (its "joining the
          // consumer group" comes only once they passed), view's first connection
          if (line.includes('Connection error')) resolve();
        });
        void exited.then(() => reject(new Error(`exited before joining: ${stderr.slice(-5).join('\n')}`)));
      });
      proc.kill(sig);
      const { code, signal } = await exited;
      expect({ code, signal }, stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
      expect(stderr.join('\n')).toContain('stopping while starting (checking topics or joining the consumer group): nothing has been read yet, so nothing is lost');
    } finally {
      proc.kill('SIGKILL');
    }
  }, 60_000);
});
