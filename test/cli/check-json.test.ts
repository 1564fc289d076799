/**
 * `agent-credit check --format json` as CI pipelines, init containers and deployment scripts run
 * it: the CLI in a child process (test/support/cli.ts), stdout one JSON document valid against
 * schemas/check-report.schema.json, the exit code as the text report's. The report against the
 * real broker: test/integration/check-command.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_VERSION } from '../../src/config/schema.js';
import { BIN, CLI_ENV } from '../support/cli.js';
import { checkReportOf } from '../support/check-report.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
const cli = (args: string[], env: Record<string, string> = {}) => {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AGENT_CREDIT_') && !k.startsWith('OTEL_')) clean[k] = v;
  return spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: { ...clean, ...CLI_ENV, ...env }, encoding: 'utf8', timeout: 60_000 });
};
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('agent-credit check --format json', () => {
  it('a configuration that needs no broker: exit 0 and one document — ready, every check ok or skipped, the run command it vouches for', () => {
    const r = cli(['check', '--port', '0', '--no-grpc', '--no-live', '--metrics-port', '0', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = checkReportOf(r.stdout);
    expect(doc).toMatchObject({ report_version: '1.0.0', agent_credit_version: version, config_schema_version: CONFIG_SCHEMA_VERSION, status: 'ok', ready: true });
    // check's own --format is no flag of run's
    expect(doc.command).toBe('agent-credit run --port 0 --no-grpc --no-live --metrics-port 0');
    expect(doc.checks.map((c) => [c.name, c.setting, c.status])).toEqual([
      ['listener', 'source.http.port', 'ok'],
      ['listener', 'source.grpc.enabled', 'skipped'],
      ['listener', 'telemetry.metricsPort', 'ok'],
    ]);
    expect(doc.checks[0]!.detail).toBe('OTLP/HTTP receiver: any free port on 127.0.0.1 (source.http.port 0; http, no authentication)');
    expect(doc.checks.every((c) => c.advice === null)).toBe(true);
    // the text report is unchanged, and --format text is it
    const text = cli(['check', '--port', '0', '--no-grpc', '--no-live', '--metrics-port', '0']);
    expect(text.stdout).toMatch(/^✓ OTLP\/HTTP receiver: any free port on 127\.0\.0\.1/);
    expect(cli(['check', '--port', '0', '--no-grpc', '--no-live', '--metrics-port', '0', '--format', 'text']).stdout).toBe(text.stdout);
  });

  it('an unreachable broker: exit 1 as in text, a failed kafka.connection entry with its fix, and the check to run again; --log-level leaves nothing out of the document', () => {
    const kafka = { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: '127.0.0.1:1' };
    const r = cli(['check', '--port', '4400', '--no-live', '--log-level', 'silent', '--format', 'json'], kafka);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    const doc = checkReportOf(r.stdout);
    // with the variables that set the configuration, as the text's last line: the check needs them as run does
    expect(doc).toMatchObject({ status: 'fail', ready: false, command: 'AGENT_CREDIT_SOURCE_KAFKA_BROKERS=127.0.0.1:1 AGENT_CREDIT_SOURCE_KIND=kafka agent-credit check --port 4400 --no-live --log-level silent --format json' });
    const connection = doc.checks.find((c) => c.name === 'kafka.connection')!;
    expect(connection).toMatchObject({ setting: 'source.kafka.brokers', status: 'fail', advice: 'check source.kafka.brokers (host:port of a listener this client can reach), or start the brokers' });
    expect(connection.detail).toMatch(/^kafka: cannot connect to 127\.0\.0\.1:1 \(plaintext\): .*ECONNREFUSED/);
    // said at once by check's TCP preflight (kafkajs retried it ~14 s, as for a starting broker)
    expect(connection.detail).toBe('kafka: cannot connect to 127.0.0.1:1 (plaintext): no broker there accepts a connection — 127.0.0.1:1: connection refused (ECONNREFUSED: nothing listens on that port)');
    // warnings are in it too (text with --log-level silent: nothing at all)
    const flags = doc.checks.find((c) => c.name === 'flags')!;
    expect(flags.status).toBe('warn');
    expect(flags.advice).toBe('leave it out, or set source.kind: otlp-http to receive OTLP');
    expect(doc.checks.find((c) => c.name === 'config' && c.setting === 'telemetry.metricsPort')?.advice).toMatch(/^set telemetry\.metricsPort/);
  });

  it('a setting run refuses: exit 2 with its message on stderr as ever, and a document with a failed config entry naming the key', () => {
    const r = cli(['check', '--port', 'abc', '--format', 'json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('source.http.port: expected a number 0–65535, got "abc" (from --port)');
    const doc = checkReportOf(r.stdout);
    expect(doc).toMatchObject({ status: 'fail', ready: false, checks: [{ name: 'config', setting: 'source.http.port', status: 'fail', detail: 'source.http.port: expected a number 0–65535, got "abc" (from --port)' }] });
    expect(doc.checks[0]!.advice).toMatch(/0–65535/);
    // a flag given with its value names the flag (the setting was null for these)
    const missing = join(tmpdir(), `ac-no-config-${process.pid}.yaml`);
    expect(checkReportOf(cli(['check', '--config', missing, '--format', 'json']).stdout).checks[0]).toMatchObject({ name: 'config', setting: '--config', status: 'fail' });
    // a usage error is commander's, before any check: no document (exit 2, the choices on stderr)
    const usage = cli(['check', '--format', 'yaml']);
    expect(usage.status).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toContain("option '--format <format>' argument 'yaml' is invalid. Allowed choices are text, json.");
  });

  it('stdout carries the document only: what a module game prints when check loads it goes to stderr', () => {
    const dir = tempDir('ac-check-json-');
    writeFileSync(join(dir, 'game.mjs'), "console.log('game loaded'); process.stdout.write('raw write\\n');\nexport function value(coalition) { return coalition.length; }\n");
    const config = join(dir, 'agent-credit.yaml');
    writeFileSync(config, `credit:\n  game: module\n  module:\n    path: ${join(dir, 'game.mjs')}\nruntime:\n  creditWorkers: 1\nsinks:\n  live:\n    enabled: false\ntelemetry:\n  metricsPort: 0\nsource:\n  http:\n    port: 0\n  grpc:\n    enabled: false\n`);
    const r = cli(['check', '-c', config, '--log-level', 'debug', '--log-format', 'pretty', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('game loaded\nraw write\n');
    const doc = checkReportOf(r.stdout);
    expect(doc.checks.find((c) => c.name === 'value_function')).toMatchObject({ status: 'ok', setting: 'credit.module.path', detail: `module game: ${join(dir, 'game.mjs')} loads and exports value()` });
    // the text report, as before: the module's output where it writes it
    expect(cli(['check', '-c', config]).stdout).toMatch(/^game loaded\nraw write\n/);
  });
});
