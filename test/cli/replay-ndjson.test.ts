/**
 * `.ndjson` is JSON lines under its other common name: replay (and compare) read it as they read
 * `.jsonl` — a directory's `.ndjson` files were left out without a word (a directory of them gave
 * "no OTLP files found"), and one given by name was read whole (its second line failed the JSON
 * parse). `agent-credit generate`'s expected.ndjson beside its runs is not telemetry and stays out.
 * When nothing is found, the message names the file names read and what was left out.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateFiles } from '../../src/cli/generate.js';
import { loadConfig } from '../../src/config/index.js';
import type { CreditEvent } from '../../src/events/schemas.js';
import { replayFiles } from '../../src/runtime/local-replay.js';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { CollectingSink } from '../support/collecting-sink.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const config = loadConfig({ env: {} }).config;
const CLI = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));
const KAFKA_JSON = join(AGENTS_SDK_FIXTURES, 'kafka', 'otlp_json');

/** The collector's OTLP/JSON records of one topic, one per line. */
const lines = (topic: string) =>
  readdirSync(join(KAFKA_JSON, topic))
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => readFileSync(join(KAFKA_JSON, topic, f), 'utf8').replace(/\n/g, ' '))
    .join('\n') + '\n';

async function replay(inputs: string[]) {
  const sink = new CollectingSink();
  const stats = await replayFiles(config, listOtlpFiles(inputs), { sinks: [sink] });
  return { stats, events: sink.events.map((e: CreditEvent) => JSON.stringify({ ...e, emitted_at_ms: 0 })) };
}

/** A directory with the spans and logs as two JSON-lines files named `*.<ext>`. */
function jsonLines(ext: string): string {
  const dir = tempDir(`replay-${ext}-`);
  writeFileSync(join(dir, `a-logs.${ext}`), lines('otlp_logs'));
  writeFileSync(join(dir, `b-traces.${ext}`), lines('otlp_spans'));
  return dir;
}

describe('replay of .ndjson files', () => {
  it('a directory of .ndjson files, or the files by name, replay as the same lines in .jsonl files do', async () => {
    const expected = await replay([jsonLines('jsonl')]);
    expect(expected.stats.undecodable).toEqual([]);
    expect(expected.events.length).toBeGreaterThan(0);
    const dir = jsonLines('ndjson');
    const fromDir = await replay([dir]);
    expect(fromDir.stats.undecodable).toEqual([]);
    expect(fromDir.events).toEqual(expected.events);
    // named, read a line at a time too (it was read whole: "cannot decode as OTLP logs (otlp_json)")
    const named = await replay([join(dir, 'a-logs.ndjson'), join(dir, 'b-traces.ndjson')]);
    expect(named.stats.undecodable).toEqual([]);
    expect(named.events).toEqual(expected.events);
  });

  it("generate's expected.ndjson in a corpus directory is left out: replay of the corpus skips nothing", async () => {
    const dir = tempDir('replay-corpus-');
    await generateFiles({ dir, episodes: 2, seed: 3, encoding: 'json' });
    const listed = listOtlpFiles([dir]).map((f) => f.path);
    expect(listed).toHaveLength(4);
    expect(listed.some((p) => p.endsWith('expected.ndjson'))).toBe(false);
    const { stats } = await replay([dir]);
    expect(stats.undecodable).toEqual([]);
  }, 60_000);

  it('nothing to read: the message names the file names read from directories and a file left out (it said only "no OTLP files found")', () => {
    const dir = tempDir('replay-none-');
    mkdirSync(join(dir, 'dump'));
    writeFileSync(join(dir, 'dump', 'spans.json.gz'), 'x');
    const problem = (command: string) => `${command}: no OTLP files found — directories are searched for *.pb, *.bin, *.protobuf, *.json, *.jsonl, *.ndjson (left out: 1 file(s) of other names, e.g. ${join(dir, 'dump', 'spans.json.gz')}); give such files or directories (or source.file.paths), or name a file itself (read whatever its name)`;
    for (const command of ['replay', 'compare']) {
      const run = spawnSync(process.execPath, [CLI, command, dir], { encoding: 'utf8' });
      expect(run.status).toBe(2);
      // the argument's problem: it was headed "invalid configuration:", as if a setting were wrong
      expect(run.stderr).toBe(`agent-credit: ${problem(command)}\n`);
      // the same directory from source.file.paths: a setting's, under the configuration's heading
      const fromConfig = spawnSync(process.execPath, [CLI, command], { encoding: 'utf8', env: { ...process.env, AGENT_CREDIT_SOURCE_FILE_PATHS: dir } });
      expect(fromConfig.status).toBe(2);
      expect(fromConfig.stderr).toBe(`agent-credit: invalid configuration:\n  ${problem(command)}\n`);
    }
  }, 60_000);
});
