/**
 * check's report as the JSON document (src/cli/check-report.ts, checkReportDocument in check.ts):
 * each line's fix split off its text, statuses as a script gates on them. The CLI's output is in
 * check-json.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkEntry, checkReportDocument, renderCheckReport, runChecks, type CheckLine } from '../../src/cli/check.js';
import { overallStatus, splitAdvice } from '../../src/cli/check-report.js';
import { configAdvice, loadConfig } from '../../src/config/index.js';
import { CONFIG_SCHEMA_VERSION } from '../../src/config/schema.js';
import { fetchBlockedPort } from '../../src/http/fetch-ports.js';
import { groupAclMissing } from '../../src/kafka/group-authorization.js';
import { sessionTimeoutOutsideRange } from '../../src/kafka/session-timeout.js';
import { unkeyedAdvice } from '../../src/sources/kafka/unkeyed.js';
import { expectCheckReport } from '../support/check-report.js';

/** The fix of a warning or failure, asserting the split loses nothing: detail, a separator, advice. */
function adviceOf(text: string): string | undefined {
  const { detail, advice } = splitAdvice(text);
  expect(text.startsWith(detail)).toBe(true);
  if (advice !== undefined) expect([' — ', ': ', '; ', '. ']).toContain(text.slice(detail.length, text.length - advice.length));
  return advice;
}

describe("check's lines split into what was found and the fix", () => {
  it("the Kafka helpers' messages: the fix after the dash, the colon or the semicolon that leads to it", () => {
    expect(adviceOf(groupAclMissing('grp'))).toMatch(/^grant this principal Read on the Group resource "grp"/);
    expect(adviceOf(sessionTimeoutOutsideRange(3000, { min: 6000, max: 1_800_000 }))).toMatch(/^set source\.kafka\.sessionTimeoutMs within it \(e\.g\. 30000/);
    // the dash after the fix goes on explaining: not the fix
    expect(adviceOf(`source.kafka.spansTopic: ${unkeyedAdvice('spans', false, '', 'ca8891194bd518f6b7a57a2864b5b581')}`)).toMatch(/^set `partition_traces_by_id: true` in the collector's kafka exporter — without it/);
    // a judge on a port fetch refuses: the fix is to serve it elsewhere (its advice was null)
    expect(adviceOf(`credit.judge.url: ${fetchBlockedPort('http://127.0.0.1:9/judge')}`)).toMatch(/^serve it on another port, e\.g\. 8000$/);
  });

  it('configuration advice: a dash that explains (— no events, a dead letter —) is passed over for the sentence that says what to set', () => {
    const config = loadConfig({ env: {}, overrides: { source: { kind: 'kafka', kafka: { brokers: ['fake:9092'] } }, credit: { game: 'http', judge: { url: 'http://127.0.0.1:8000/judge' }, timeoutMs: 40_000 }, runtime: { creditTimeoutMs: 30_000 }, episodes: { awaitEvaluationMs: 1000, graceMs: 2000 } } }).config;
    const advice = new Map(configAdvice(config).map((a) => [a.key, adviceOf(a.message)]));
    expect(advice.get('credit.timeoutMs')).toMatch(/^Set credit\.timeoutMs well below runtime\.creditTimeoutMs/);
    expect(advice.get('episodes.awaitEvaluationMs')).toMatch(/^Raise awaitEvaluationMs above graceMs to wait/);
  });

  it('failures found by the checks name their fix; an ok line has none; info is ok and skipped stays skipped in the document', async () => {
    const lines: CheckLine[] = [];
    const otlp = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides: { sinks: { live: { enabled: false } }, ...overrides } as never }).config;
    lines.push(...(await runChecks(otlp({ source: { kind: 'file' } }))).lines);
    lines.push(...(await runChecks(otlp({ source: { http: { host: '192.0.2.1', port: 0 }, grpc: { enabled: false } } }))).lines);
    lines.push(...(await runChecks(otlp({ source: { http: { port: 0 }, grpc: { enabled: false } }, credit: { game: 'module', module: { path: './no/such/game.mjs' } } }))).lines);
    const entries = lines.map(checkEntry);
    const by = (name: string, setting?: string) => entries.find((e) => e.name === name && (setting === undefined || e.setting === setting));
    expect(by('source.kind')).toMatchObject({ status: 'fail', setting: 'source.kind', advice: 'set source.kind to otlp-http or kafka to run' });
    expect(by('listener', 'source.http.host')).toMatchObject({ status: 'fail', detail: 'OTLP/HTTP receiver: cannot listen on 192.0.2.1:0 (EADDRNOTAVAIL)' });
    expect(by('listener', 'source.http.host')!.advice).toMatch(/^set source\.http\.host to an address of this machine/);
    expect(by('value_function')).toMatchObject({ status: 'fail', setting: 'credit.module.path' });
    expect(by('value_function')!.advice).toMatch(/^set credit\.module\.path/);
    expect(by('listener', 'source.grpc.enabled')).toMatchObject({ status: 'skipped', advice: null });
    expect(by('listener', 'source.http.port')).toMatchObject({ status: 'ok', advice: null });
    for (const e of entries.filter((x) => x.status === 'fail')) expect(e.advice, e.detail).not.toBeNull();
    expect(checkEntry({ name: 'kafka.delivery', status: 'info', text: 'delivery at-least-once; compression none' })).toEqual({ name: 'kafka.delivery', setting: null, status: 'ok', detail: 'delivery at-least-once; compression none', advice: null });
  });
});

describe('the document', () => {
  const line = (status: CheckLine['status'], text = 'x — set y'): CheckLine => ({ name: 'config', status, text });

  it('overall status: fail over warn over ok; skipped and info count as ok', () => {
    expect(overallStatus([{ status: 'ok' }, { status: 'skipped' }])).toBe('ok');
    expect(overallStatus([{ status: 'ok' }, { status: 'warn' }])).toBe('warn');
    expect(overallStatus([{ status: 'warn' }, { status: 'fail' }, { status: 'ok' }])).toBe('fail');
  });

  it('ready names the run command of the flags given, not ready the check to run again; every line whatever --log-level says', () => {
    const flags = { runFlags: ['--port', '4400'], checkFlags: ['--port', '4400', '--format', 'json'], level: 'silent', agentCreditVersion: '9.9.9' };
    const ready = expectCheckReport(checkReportDocument({ ok: true, lines: [line('ok', 'fine'), line('warn'), line('info', 'a fact')] }, flags));
    expect(ready).toMatchObject({ report_version: '1.0.0', agent_credit_version: '9.9.9', config_schema_version: CONFIG_SCHEMA_VERSION, status: 'warn', ready: true, command: 'agent-credit run --port 4400' });
    expect(ready.checks.map((c) => c.status)).toEqual(['ok', 'warn', 'ok']);
    const failed = expectCheckReport(checkReportDocument({ ok: false, lines: [line('fail')] }, flags));
    expect(failed).toMatchObject({ status: 'fail', ready: false, command: 'agent-credit check --port 4400 --format json', checks: [{ status: 'fail', detail: 'x', advice: 'set y' }] });
    // the variables that set the configuration come first in both, as in the text's last line
    const environment = ['AGENT_CREDIT_SOURCE_KIND=kafka'];
    expect(checkReportDocument({ ok: true, lines: [] }, { ...flags, environment }).command).toBe('AGENT_CREDIT_SOURCE_KIND=kafka agent-credit run --port 4400');
    expect(checkReportDocument({ ok: false, lines: [line('fail')] }, { ...flags, environment }).command).toBe('AGENT_CREDIT_SOURCE_KIND=kafka agent-credit check --port 4400 --format json');
    expect(renderCheckReport({ ok: true, lines: [] }, { ...flags, level: 'info', environment })).toBe('ready: `AGENT_CREDIT_SOURCE_KIND=kafka agent-credit run --port 4400` with this configuration should start');
  });
});
