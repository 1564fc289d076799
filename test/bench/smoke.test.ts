/**
 * `npm run bench -- --quick` end to end into a temp dir: every section produces a results block,
 * the headline numbers it reports are finite, plots are SVG, and the header names the machine.
 * The Python baseline runs only if bench/.venv already exists and the Kafka parts only with
 * KAFKA_BROKERS set (quick mode never installs or starts anything); the file must then say so.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, runBench, SECTIONS } from '../../bench/main.js';
import { tempDir } from '../support/temp-dir.js';

describe('bench --quick', () => {
  it('writes a well-formed RESULTS.md with finite headline numbers for every section', async () => {
    const out = tempDir('bench-smoke-');
    const report = await runBench(parseArgs(['--quick', '--out', out]), () => {});
    const md = readFileSync(report.file, 'utf8');
    expect(md).toMatch(/^# agent-credit benchmark results/);
    expect(md).toMatch(/\| CPU \| .+ \|/);
    expect(md).toMatch(/\| commit \| [0-9a-f]{40}/);
    expect(md).toContain('| seed | 20261125 |');
    for (const name of Object.keys(SECTIONS)) {
      const s = report.sections[name];
      expect(s, name).toBeDefined();
      expect(md).toContain(`. ${s!.title}`);
      for (const [key, value] of Object.entries(s!.headline)) {
        expect(Number.isFinite(value), `${name}.${key} = ${value}`).toBe(true);
      }
      // a section that did not fully run must say why in its text
      if (s!.status !== 'ran') expect(s!.markdown).toMatch(/not (run|measured|included)|missing|failed/i);
      expect(existsSync(join(out, 'raw', `${name}.json`))).toBe(true);
    }
    // the credit section compared at least our estimators or shapiq on real games
    const credit = report.sections.credit!;
    expect(credit.status).not.toBe('not-run');
    for (const f of readdirSync(join(out, 'plots'))) expect(readFileSync(join(out, 'plots', f), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    // decode throughput is always measurable in-process
    expect(report.sections.pipeline!.headline.decode_otlp_proto_spans_per_s).toBeGreaterThan(0);
    // With a broker (npm test's global setup exports KAFKA_BROKERS) the Kafka parts must run, not
    // just report why they did not: a pipeline that fails there is a regression, not a note.
    if (process.env.KAFKA_BROKERS) {
      expect(report.sections.pipeline!.headline.kafka_pipeline_spans_per_s, report.sections.pipeline!.markdown).toBeGreaterThan(0);
      expect(report.sections.latency!.headline.pipeline_p50_ms, report.sections.latency!.markdown).toBeGreaterThan(0);
      // the scale-out row: two instances in one group shared the input and closed every episode between them
      expect(report.sections.pipeline!.markdown).toMatch(/Pipeline counters \(2 instances in one group[^)]*\): [\d,]+ spans in, [\d,]+ evaluations, 40 episodes closed \(\d+ \+ \d+\)/);
    }
    expect(report.sections.memory!.headline.baseline_bytes_per_span).toBeGreaterThan(0);
  }, 120_000);

  it('rejects unknown sections and non-integer seeds with messages naming the option', () => {
    expect(() => parseArgs(['--only', 'credit,nope'])).toThrow(/--only: unknown section\(s\) nope/);
    expect(() => parseArgs(['--seed', 'x'])).toThrow(/--seed/);
  });
});
