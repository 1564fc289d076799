/** check's last line names the `AGENT_CREDIT_*` variables that set the configuration (src/cli/run-environment.ts). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { environmentAssignments } from '../../src/cli/run-environment.js';

/** The assignments for a configuration loaded as check loads it: `env`, and the flags as overrides. */
function assignments(env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}, flagNames: Record<string, string> = {}): string[] {
  const { origins } = loadConfig({ env, overrides: flags, flagNames });
  return environmentAssignments(origins, env);
}

describe('environmentAssignments', () => {
  it('names each variable that set a key, with its value as a shell word, sorted by name', () => {
    const env = { AGENT_CREDIT_SOURCE_KIND: 'kafka', AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'a:9092,b:9092', AGENT_CREDIT_SOURCE_KAFKA_GROUP_ID: "team's group", PATH: '/usr/bin' };
    expect(assignments(env)).toEqual(['AGENT_CREDIT_SOURCE_KAFKA_BROKERS=a:9092,b:9092', "AGENT_CREDIT_SOURCE_KAFKA_GROUP_ID='team'\\''s group'", 'AGENT_CREDIT_SOURCE_KIND=kafka']);
    expect(assignments({})).toEqual([]);
  });

  it('leaves out a variable whose key a flag set again (the flag is named, and wins in run too), and the process switches, which set no key', () => {
    const env = { AGENT_CREDIT_SOURCE_HTTP_PORT: '4400', AGENT_CREDIT_SINKS_LIVE_ENABLED: 'false', AGENT_CREDIT_FROM_SOURCES: '1' };
    expect(assignments(env, { 'source.http.port': '4500' }, { 'source.http.port': '--port' })).toEqual(['AGENT_CREDIT_SINKS_LIVE_ENABLED=false']);
  });

  it('never writes out a secret: a password, a token, a judge URL, or a mapping with secrets below is taken from the environment it is run in', () => {
    const env = {
      AGENT_CREDIT_SOURCE_KIND: 'kafka',
      AGENT_CREDIT_SOURCE_KAFKA_BROKERS: 'kafka:9093',
      AGENT_CREDIT_SOURCE_KAFKA_SSL: 'true',
      AGENT_CREDIT_SOURCE_KAFKA_SASL_MECHANISM: 'plain',
      AGENT_CREDIT_SOURCE_KAFKA_SASL_USERNAME: 'svc',
      AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD: 'hunter2',
      AGENT_CREDIT_SINKS_LIVE_AUTH: '{token: s3cr3t-token-of-32-characters-or-more}',
      AGENT_CREDIT_CREDIT_GAME: 'http',
      AGENT_CREDIT_CREDIT_JUDGE_URL: 'https://judge.example/score?api_key=k',
    };
    const out = assignments(env).join(' ');
    for (const secret of ['hunter2', 's3cr3t', 'api_key']) expect(out).not.toContain(secret);
    expect(out).toContain('AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD="$AGENT_CREDIT_SOURCE_KAFKA_SASL_PASSWORD"');
    expect(out).toContain('AGENT_CREDIT_SINKS_LIVE_AUTH="$AGENT_CREDIT_SINKS_LIVE_AUTH"');
    expect(out).toContain('AGENT_CREDIT_CREDIT_JUDGE_URL="$AGENT_CREDIT_CREDIT_JUDGE_URL"');
    expect(out).toContain('AGENT_CREDIT_SOURCE_KAFKA_SASL_USERNAME=svc');
  });
});
