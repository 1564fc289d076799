/**
 * A second `run` on a host where one already runs (README's next steps: two instances): it failed
 * on the live page's port; started again on another, on the receiver's; again, on the gRPC
 * receiver's — three failed starts, each naming one port. The first error now names every port of
 * the job that is taken.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_ENV } from '../support/cli.js';

const listening = async (): Promise<Server> => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
};
const portOf = (s: Server) => (s.address() as AddressInfo).port;

describe('run beside another instance', () => {
  let live: Server;
  let receiver: Server;
  beforeAll(async () => {
    live = await listening();
    receiver = await listening();
  });
  afterAll(async () => {
    for (const s of [live, receiver]) await new Promise<void>((r) => s.close(() => r()));
  });

  it('the first bind error names the other ports in use too, with their settings and flags', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_')) env[k] = v;
    const r = spawnSync(process.execPath, [BIN, 'run', '--live-port', String(portOf(live)), '--port', String(portOf(receiver)), '--grpc-port', '0', '--no-stdout', '--log-level', 'error'], {
      env: { ...env, ...CLI_ENV },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`address already in use 127.0.0.1:${portOf(live)} — choose another port with sinks.live.port (--live-port) (0 = any free port)`);
    expect(r.stderr).toContain(`. 127.0.0.1:${portOf(receiver)} (source.http.port, --port) is in use too — another agent-credit running? Each instance needs ports of its own`);
  });
});
