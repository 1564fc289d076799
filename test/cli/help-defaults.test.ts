/**
 * The defaults a command's --help shows come from the configuration the command line would load
 * (`-c` file, AGENT_CREDIT_* variables) when it sets them: the help showed the built-in ones
 * alone, so `run -c prod.yaml --help` listed port 4318 for a job that listens on 4400 (platform trial).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_ENV } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/** The CLI's help text with only these AGENT_CREDIT_* variables set, white space collapsed (commander wraps and aligns them). */
function help(args: string[], vars: Record<string, string> = {}): string {
  const env: NodeJS.ProcessEnv = { ...CLI_ENV, ...vars };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_') && v !== undefined) env[k] = v;
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.replace(/\s+/g, ' ');
}

describe('--help shows the defaults in effect', () => {
  const dir = tempDir('ac-help-defaults-');
  const file = join(dir, 'prod.yaml');
  writeFileSync(file, 'source:\n  http:\n    port: 4400\nsinks:\n  live:\n    enabled: false\ncredit:\n  budget: 999\n');

  it('a config file given with -c (before or after --help) or --config=: its values, saying so and naming the built-in one', () => {
    for (const args of [['run', '-c', file, '--help'], ['run', '--help', '--config', file], ['run', `--config=${file}`, '--help']]) {
      const text = help(args);
      expect(text).toContain('--port <port> OTLP/HTTP receiver port, 0 = any free (default: 4400, from the configuration; built-in 4318)');
      expect(text).toContain('--no-live disable the live page server (default: off, from the configuration; built-in enabled)');
      // what the file leaves alone stays as built in
      expect(text).toContain('--grpc-port <port> OTLP/gRPC receiver port (on source.grpc.host), 0 = any free (default: 4317)');
    }
    expect(help(['replay', '-c', file, '--help'])).toContain('(default: 999, from the configuration; built-in 2000)');
  });

  it('view: its live page\'s port and interface (it listed the built-in ones whatever -c or AGENT_CREDIT_* set)', () => {
    const job = join(dir, 'job.yaml');
    writeFileSync(job, 'sinks:\n  live:\n    port: 9400\n');
    const text = help(['view', '-c', job, '--help'], { AGENT_CREDIT_SINKS_LIVE_HOST: '0.0.0.0' });
    expect(text).toContain('--live-port <port> sinks.live.port (default: 9400, from the configuration; built-in 8080)');
    expect(text).toContain('--live-host <host> sinks.live.host (default: 0.0.0.0, from the configuration; built-in 127.0.0.1)');
    expect(help(['view', '--help'])).toContain('--live-port <port> sinks.live.port (default: 8080)');
  });

  it('AGENT_CREDIT_* variables count as they do for the command; without any, or with a file that does not load, the built-in defaults', () => {
    expect(help(['run', '--help'], { AGENT_CREDIT_SOURCE_GRPC_PORT: '4400' })).toContain('(default: 4400, from the configuration; built-in 4317)');
    const plain = help(['run', '--help']);
    expect(plain).toContain('--port <port> OTLP/HTTP receiver port, 0 = any free (default: 4318)');
    expect(plain).not.toContain('from the configuration');
    // the help is no place to fail: running the command says what is wrong with the file
    expect(help(['run', '-c', join(dir, 'missing.yaml'), '--help'])).toContain('(default: 4318)');
  });
});
