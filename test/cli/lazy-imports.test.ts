import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');

// main.ts imported every command's modules up front (the OTel Node SDK and exporters of self-tracing
// and the demo fleet, pino, the OTLP decoders…): `--help`, a usage error, a bad setting or `schema`
// took ~0.5 s, of which they used nothing, in each of the ~150 CLI processes of the tests. Each
// command now imports them when it runs. Packages loaded through require (CommonJS, which those
// are) are in require.cache; a preloaded module lists them at exit.
describe('the CLI loads what a command needs when it runs', () => {
  const dir = tempDir('agent-credit-lazy-');
  const preload = join(dir, 'loaded.cjs');
  writeFileSync(
    preload,
    "process.on('exit', () => { const pkgs = new Set(Object.keys(require.cache).map((p) => /node_modules[\\\\/]((@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(p)?.[1]).filter(Boolean)); process.stderr.write('\\nLOADED ' + JSON.stringify([...pkgs].map((p) => p.replace('\\\\', '/'))) + '\\n'); });\n",
  );
  const loaded = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--require', preload, BIN, ...args], { cwd: root, env: { ...process.env, ...CLI_ENV }, encoding: 'utf8', timeout: 60_000 });
    const line = /^LOADED (.*)$/m.exec(r.stderr)?.[1];
    expect(line, r.stderr).toBeDefined();
    return { status: r.status, packages: JSON.parse(line!) as string[] };
  };
  const heavy = ['@opentelemetry/sdk-node', '@opentelemetry/sdk-trace-base', 'pino', 'protobufjs', 'kafkajs'];

  it.each([
    ['--help', ['--help'], 0],
    ['a command’s --help', ['run', '--help'], 0],
    ['a usage error', ['replay', '--log-level', 'loud'], 2],
    ['a bad setting', ['run', '--port', 'abc'], 2],
    ['schema', ['schema', '--dir', join(dir, 'schemas')], 0],
  ] as const)('%s loads none of the OTel SDK, pino, protobufjs or kafkajs', (_name, args, status) => {
    const r = loaded([...args]);
    expect(r.status).toBe(status);
    expect(r.packages.filter((p) => heavy.includes(p))).toEqual([]);
  });

  // The config loader too (yaml, the config schema): only a command that loads a configuration needs it.
  it.each([
    ['--help', ['--help'], 0],
    ['a usage error', ['replay', '--log-level', 'loud'], 2],
  ] as const)('%s does not load the config loader (yaml)', (_name, args, status) => {
    const r = loaded([...args]);
    expect(r.status).toBe(status);
    expect(r.packages).not.toContain('yaml');
    expect(r.packages).toContain('commander');
  });

  it('replay still loads what it uses (the preload sees them)', () => {
    const r = loaded(['replay', join(root, 'test/fixtures/agents-sdk/genai'), '--no-summary']);
    expect(r.status).toBe(0);
    expect(r.packages).toEqual(expect.arrayContaining(['pino', 'protobufjs']));
  });
});
