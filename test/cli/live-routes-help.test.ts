/**
 * What `run --live-port`'s help and deploy/agent-credit.yaml say the live page serves is what it
 * serves: both listed /, /events, /metrics, /healthz and /readyz, without /api/recent (the
 * buffered events as JSON) and /api/agents (the fleet's standings) — the routes a script reads.
 * The routes are taken from the live page's own "not found" answer, each checked to be served.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiveSink } from '../../src/sinks/live/index.js';
import { SelfTelemetry } from '../../src/telemetry/index.js';
import { BIN, CLI_ENV } from '../support/cli.js';

const root = join(import.meta.dirname, '../..');

function head(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The routes the live page serves: those its 404 names, each answering something else than 404. */
async function liveRoutes(): Promise<string[]> {
  const telemetry = new SelfTelemetry();
  const live = new LiveSink({ host: '127.0.0.1', port: 0, bufferEvents: 10, maxClients: 4, telemetry });
  await live.start();
  try {
    const res = await fetch(`${live.address().url}/no-such-route`);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: string };
    const routes = /^not found: (.*)$/.exec(error)![1]!.split(', ');
    for (const r of routes) expect(await head(`${live.address().url}${r}`), r).not.toBe(404);
    return routes;
  } finally {
    await live.close();
    await telemetry.shutdown();
  }
}

describe('the live page routes the docs list', () => {
  it('run --help (--live-port) and deploy/agent-credit.yaml (sinks.live) name every route the live page serves', async () => {
    const routes = await liveRoutes();
    expect(routes).toEqual(expect.arrayContaining(['/api/recent', '/api/agents']));
    const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { cwd: root, env: { ...process.env, ...CLI_ENV }, encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    // the option's text, wrapped over lines by commander
    const livePort = /--live-port <port>\s+([^]*?)\n\s+--/.exec(help.stdout)![1]!.replace(/\s+/g, ' ');
    const yaml = /^\s+enabled: true\s+# live page: (.*)$/m.exec(readFileSync(join(root, 'deploy/agent-credit.yaml'), 'utf8'))![1]!;
    for (const r of routes) {
      expect(livePort.split(/[\s,]+/), `--live-port help: ${livePort}`).toContain(r);
      expect(yaml.split(/[\s,]+/), `deploy/agent-credit.yaml: ${yaml}`).toContain(r);
    }
  }, 60_000);
});
