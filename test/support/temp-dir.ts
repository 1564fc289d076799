/**
 * Temp directories that a test file makes and leaves behind for nobody: `tempDir(prefix)` makes one
 * under the OS temp dir and the setup file test/support/temp-dir-cleanup.ts removes every one of
 * them after the file's tests (and after the file's own `afterAll` hooks, which may still use them).
 * Without it each `npm test` left ~20 MB of replays, reports and generated fleets in /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/** A new empty directory `<tmpdir>/<prefix>XXXXXX`, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every directory `tempDir` made in this test file. */
export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
}
