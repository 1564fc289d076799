/**
 * Closing the terminal that runs `npm start` / `agent-credit run` sends the job SIGHUP. It handled
 * SIGINT and SIGTERM only, and Node's default for SIGHUP is to die at once: the open episodes were
 * never closed with reason `shutdown`, credited or written. SIGHUP now stops it as they do.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { CreditEvent } from '../../src/events/schemas.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import { BIN, CLI_ENV } from '../support/cli.js';

const root = join(import.meta.dirname, '../..');

describe('agent-credit run and SIGHUP (the terminal closed)', () => {
  it('stops gracefully: the open episode is closed with reason shutdown, credited and written; exit 0', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
    // the episode stays open after its root and verdict arrived: only the stop closes it
    Object.assign(env, CLI_ENV, { AGENT_CREDIT_EPISODES_CLOSEONEVALUATION: 'false', AGENT_CREDIT_EPISODES_GRACEMS: '600000', AGENT_CREDIT_EPISODES_AWAITEVALUATIONMS: '0' });
    const proc = spawn(process.execPath, [BIN, 'run', '--port', '0', '--no-grpc', '--live-port', '0'], { cwd: root, env });
    try {
      const stderr: string[] = [];
      const events: CreditEvent[] = [];
      createInterface({ input: proc.stdout }).on('line', (line) => events.push(JSON.parse(line) as CreditEvent));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
      const receiver = await new Promise<string>((resolve, reject) => {
        createInterface({ input: proc.stderr }).on('line', (line) => {
          stderr.push(line);
          const m = /"receiver":"([^"]+)"/.exec(line);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`exited early: ${stderr.slice(-5).join('\n')}`)));
      });
      const run = await generateScenario({ kind: 'success', convention: 'genai', seed: 7 });
      await sendScenario(receiver, run);
      // the spans and the verdict are in (the receiver answered); nothing is closed yet
      await new Promise((r) => setTimeout(r, 500));
      expect(events.filter((e) => e.event_type === 'episode_credit')).toHaveLength(0);

      proc.kill('SIGHUP');
      const { code, signal } = await exited;
      expect({ code, signal }, stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
      expect(stderr.join('\n')).toContain('stopping: closing open episodes and flushing');
      const credit = events.find((e) => e.event_type === 'episode_credit');
      expect(credit?.event_type === 'episode_credit' && credit.close_reason).toBe('shutdown');
    } finally {
      proc.kill('SIGKILL');
    }
  }, 60_000);
});
