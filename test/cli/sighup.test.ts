/**
 * Closing the terminal that runs `npm start` / `agent-credit run` sends the job SIGHUP. It handled
 * SIGINT and SIGTERM only, and Node's default for SIGHUP is to die at once: the open episodes were
 * never closed with reason `shutdown`, credited or written. SIGHUP now stops it as they do.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { CreditEvent } from '../../src/events/schemas.js';
import { generateScenario, sendScenario } from '../../src/scenarios/index.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');

/**
 * `run` with one episode left open (its root and verdict in, closing only at the stop), sent SIGHUP;
 * `preload` (a --require module) runs first in the job.
 */
async function hangUp(preload?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: CreditEvent[]; stderr: string[] }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
  // the episode stays open after its root and verdict arrived: only the stop closes it
  Object.assign(env, CLI_ENV, { AGENT_CREDIT_EPISODES_CLOSEONEVALUATION: 'false', AGENT_CREDIT_EPISODES_GRACEMS: '600000', AGENT_CREDIT_EPISODES_AWAITEVALUATIONMS: '0' });
  const proc = spawn(process.execPath, [...(preload ? ['--require', preload] : []), BIN, 'run', '--port', '0', '--no-grpc', '--live-port', '0'], { cwd: root, env });
  try {
    const stderr: string[] = [];
    const stdout: CreditEvent[] = [];
    createInterface({ input: proc.stdout }).on('line', (line) => stdout.push(JSON.parse(line) as CreditEvent));
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
    expect(stdout.filter((e) => e.event_type === 'episode_credit')).toHaveLength(0);
    proc.kill('SIGHUP');
    return { ...(await exited), stdout, stderr };
  } finally {
    proc.kill('SIGKILL');
  }
}

describe('agent-credit run and SIGHUP (the terminal closed)', () => {
  it('stops gracefully: the open episode is closed with reason shutdown, credited and written; exit 0', async () => {
    const { code, signal, stdout, stderr } = await hangUp();
    expect({ code, signal }, stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
    expect(stderr.join('\n')).toContain('stopping: closing open episodes and flushing');
    const credit = stdout.find((e) => e.event_type === 'episode_credit');
    expect(credit?.event_type === 'episode_credit' && credit.close_reason).toBe('shutdown');
  }, 60_000);

  // Closing the terminal also makes every write to it fail with EIO. The logger threw that from the
  // stop's first line ("stopping: …", in the signal handler) and stdout's error handler rethrew it:
  // the job died before closing and crediting its open episodes, as without a SIGHUP handler.
  it('stops gracefully when its stdout and stderr were that terminal (writes to them fail with EIO from the SIGHUP on)', async () => {
    const dir = tempDir('agent-credit-sighup-');
    const attempted = join(dir, 'stdout-after-hangup');
    const preload = join(dir, 'hung-up-terminal.cjs');
    writeFileSync(attempted, '');
    writeFileSync(
      preload,
      `const fs = require('node:fs');
let hungUp = false;
process.prependListener('SIGHUP', () => { hungUp = true; });
const eio = () => Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO', errno: -5, syscall: 'write' });
const writeSync = fs.writeSync;
fs.writeSync = function (fd, ...rest) { if (hungUp && (fd === 1 || fd === 2)) throw eio(); return writeSync.call(this, fd, ...rest); };
const write = process.stdout._write;
process.stdout._write = function (chunk, encoding, cb) {
  if (!hungUp) return write.call(this, chunk, encoding, cb);
  fs.appendFileSync(${JSON.stringify(attempted)}, chunk);
  cb(eio());
};
`,
    );
    const { code, signal, stderr } = await hangUp(preload);
    expect({ code, signal }, stderr.slice(-5).join('\n')).toEqual({ code: 0, signal: null });
    // what the stop wrote towards the closed terminal: the episode, closed by the stop and credited
    const credit = readFileSync(attempted, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CreditEvent).find((e) => e.event_type === 'episode_credit');
    expect(credit?.event_type === 'episode_credit' && credit.close_reason).toBe('shutdown');
  }, 60_000);
});
