/**
 * Settings valid one by one that together turn a feature off or cut it short (src/config/advice.ts):
 * `run` warns at start and `check` shows them. From the slow-judge user-acceptance pass: an
 * `awaitEvaluationMs` at or below `graceMs` turned the wait for a slow verdict off without a word.
 */
import { describe, expect, it } from 'vitest';
import { renderCheckReport, runChecks } from '../../src/cli/check.js';
import { configAdvice, loadConfig } from '../../src/config/index.js';

const configWith = (episodes: Record<string, unknown>) =>
  loadConfig({ env: {}, overrides: { episodes, source: { kind: 'file' }, sinks: { live: { enabled: false } } } }).config;

describe('configAdvice', () => {
  it('the defaults draw no advice, and neither does awaitEvaluationMs 0 (the documented way to turn the wait off)', () => {
    expect(configAdvice(configWith({}))).toEqual([]);
    expect(configAdvice(configWith({ awaitEvaluationMs: 0 }))).toEqual([]);
  });

  it('awaitEvaluationMs at or below graceMs: the wait is off, said with both values and both fixes', () => {
    for (const awaitEvaluationMs of [1, 1500, 2000]) {
      const advice = configAdvice(configWith({ awaitEvaluationMs, graceMs: 2000 }));
      expect(advice.map((a) => a.key)).toEqual(['episodes.awaitEvaluationMs']);
      expect(advice[0]!.message).toContain(`episodes.awaitEvaluationMs ${awaitEvaluationMs} is not above episodes.graceMs 2000`);
      expect(advice[0]!.message).toMatch(/Raise awaitEvaluationMs above graceMs to wait .* or set it to 0/);
    }
    expect(configAdvice(configWith({ awaitEvaluationMs: 2001, graceMs: 2000 }))).toEqual([]);
  });

  it('a wait longer than idleMs or maxDurationMs is cut there: names the setting to raise and by how much', () => {
    const idle = configAdvice(configWith({ awaitEvaluationMs: 45_000 }));
    expect(idle.map((a) => a.key)).toEqual(['episodes.idleMs']);
    expect(idle[0]!.message).toContain('Raise idleMs to at least 45000');
    const both = configAdvice(configWith({ awaitEvaluationMs: 600_000, idleMs: 900_000 }));
    expect(both.map((a) => a.key)).toEqual(['episodes.maxDurationMs']);
    // a wait that is off does not warn about what would cut it
    expect(configAdvice(configWith({ awaitEvaluationMs: 1000, idleMs: 500 })).map((a) => a.key)).toEqual(['episodes.awaitEvaluationMs']);
  });

  it('check shows the advice as a warning and stays ready', async () => {
    const report = await runChecks(configWith({ awaitEvaluationMs: 1000 }));
    expect(report.ok).toBe(true);
    expect(renderCheckReport(report)).toMatch(/^! episodes\.awaitEvaluationMs 1000 is not above episodes\.graceMs 2000/m);
  });
});
