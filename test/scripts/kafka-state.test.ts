/**
 * `npm run kafka:stop` / `kafka:start` and the broker recorded in .kafka/state.json. The file
 * outlives a reboot (or a broker that died on its own), and pids start low again after a boot: the
 * recorded pid was then often some other process of the same user. kafka:start said "Kafka already
 * running … npm run kafka:stop first", and kafka:stop sent that process SIGTERM, then SIGKILL.
 * The recorded broker counts as running only while its listener accepts connections too.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { brokerOfState, cli } from '../../scripts/kafka.js';
import { REFUSED_PORT } from '../support/ports.js';
import { tempDir } from '../support/temp-dir.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kafka:stop with a stale .kafka/state.json', () => {
  const children: number[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const pid of children.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('leaves a live process that is not the recorded broker alone (nothing answers at its address) and removes the state', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    children.push(other.pid!);
    const dir = tempDir('ac-kafka-state-');
    const stateFile = join(dir, 'state.json');
    const brokers = `127.0.0.1:${REFUSED_PORT}`; // nothing listens there
    writeFileSync(stateFile, JSON.stringify({ pid: other.pid, brokers, version: '4.1.1', workDir: join(dir, 'work') }));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await cli('stop', stateFile);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(other.pid!)).toBe(true);
    expect(existsSync(stateFile)).toBe(false);
    expect(log.mock.calls.flat().join('\n')).toContain(`Nothing answers at ${brokers}, so pid ${other.pid} is not the broker kafka:start recorded`);
  });

  it('takes the recorded broker as running when its pid is alive and its address accepts connections', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const brokers = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await brokerOfState({ pid: process.pid, brokers, workDir: '' })).toBe(true);
      expect(await brokerOfState({ pid: 2 ** 22 + 7, brokers, workDir: '' })).toBe(false);
    } finally {
      server.close();
    }
    expect(await brokerOfState({ pid: process.pid, brokers, workDir: '' })).toBe(false);
  });
});
