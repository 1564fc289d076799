/**
 * The fast-paths report when kafkajs was loaded before them (review fix): `require('kafkajs')` loads
 * the Encoder and groupMessagesPerPartition but not the produce request, record batch, record or
 * CRC modules, so those still get the fast paths. The report must name what stays original instead
 * of claiming only the Encoder prototype patches apply. Runs in a child process: this worker's
 * module cache already has the fast paths (vitest setupFiles).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');

const child = `
import { createRequire } from 'node:module';
import path from 'node:path';
import { register } from 'tsx/esm/api';
register();
const require = createRequire(${JSON.stringify(path.join(repo, 'src/kafka/'))});
require('kafkajs');
const fp = await import(${JSON.stringify(pathToFileURL(path.join(repo, 'src/kafka/kafkajs-fast-paths.ts')).href)});
const report = fp.installKafkajsFastPaths(require, true);
const root = path.dirname(require.resolve('kafkajs/package.json'));
const crcIsFast = require(path.join(root, 'src/protocol/recordBatch/crc32C/index.js')) === fp.crc32c;
process.stdout.write(JSON.stringify({ report, crcIsFast }));
`;

describe('kafkajs fast paths report, kafkajs loaded first', () => {
  it('names the modules that keep the kafkajs originals, not the ones kafkajs loads later', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], { cwd: repo, encoding: 'utf8', env: { ...process.env, AGENT_CREDIT_KAFKAJS_FAST_PATHS: '' } });
    const { report, crcIsFast } = JSON.parse(out) as { report: { installed: boolean; reason?: string }; crcIsFast: boolean };
    expect(report.installed).toBe(false);
    expect(report.reason).toContain('src/protocol/encoder.js');
    expect(report.reason).toContain('src/producer/groupMessagesPerPartition.js');
    // loaded after the install, so the produce path gets the fast CRC and record encoder
    expect(crcIsFast).toBe(true);
    expect(report.reason).not.toContain('crc32C');
    expect(report.reason).not.toContain('record/v0');
  });
});
