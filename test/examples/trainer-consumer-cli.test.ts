/**
 * examples/trainer-consumer/consume.ts run as the examples README writes it: a bad flag value is
 * refused before any broker is reached, naming the flag. (The consumer itself is tested on the
 * broker in test/integration/trainer-consumer.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const consume = (...args: string[]) =>
  // no broker listens on port 1: a run that got past the flags would fail on connecting instead
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'examples/trainer-consumer/consume.ts'), '--brokers', '127.0.0.1:1', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('examples/trainer-consumer/consume.ts flags', () => {
  it('--final-after-ms that is not whole milliseconds (1h, as `view --since` takes) exits 2 naming the flag — it failed inside the ledger with a stack trace ("finalAfterMs must be ≥ 0 ms, got NaN")', () => {
    for (const value of ['1h', '-5', '']) {
      const run = consume(`--final-after-ms=${value}`);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`--final-after-ms: expected milliseconds, a whole number ≥ 0`);
      expect(run.stderr).toContain(`got "${value}"`);
      expect(run.stderr).not.toContain('RangeError');
    }
  });
});
