/**
 * Listing replay's inputs (src/sources/file/otlp-files.ts listOtlpFiles): a directory reached twice
 * through symbolic links is listed once, and a path that cannot be listed says why — every failure
 * read "does not exist" (soak review: a `loop -> .` link was followed until the path was too long).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listOtlpFiles } from '../../src/sources/file/index.js';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';

const SOURCE = join(AGENTS_SDK_FIXTURES, 'genai', 'otlp-http');
const CLI = fileURLToPath(new URL('../../bin/agent-credit.js', import.meta.url));

function corpus(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replay-paths-'));
  mkdirSync(join(dir, 'runs'));
  for (const f of readdirSync(SOURCE).filter((n) => n.endsWith('.pb')).slice(0, 2)) copyFileSync(join(SOURCE, f), join(dir, 'runs', f));
  return dir;
}

describe('replay inputs through symbolic links', () => {
  it('a link back up the tree (loop -> ..) and a second link to a listed directory add no file twice and end the walk', () => {
    const dir = corpus();
    try {
      const once = listOtlpFiles([dir]).map((f) => f.path);
      expect(once).toHaveLength(2);
      symlinkSync('..', join(dir, 'runs', 'loop'));
      symlinkSync(join(dir, 'runs'), join(dir, 'again'));
      // `again` sorts first: the files are listed through it, once each; `runs` and `runs/loop/runs` add none
      const linked = listOtlpFiles([dir]).map((f) => f.path);
      expect(linked).toEqual(once.map((p) => p.replace(join(dir, 'runs'), join(dir, 'again'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a link to itself says so, not "does not exist"', () => {
    const dir = corpus();
    try {
      symlinkSync('self', join(dir, 'self'));
      expect(() => listOtlpFiles([dir])).toThrow(/self is a symbolic link that leads back to itself \(ELOOP\) — fix or remove the link/);
      expect(() => listOtlpFiles([join(dir, 'missing')])).toThrow(/missing does not exist — give OTLP files or directories/);
      // given as the input itself: the same words from the command (the existence check before the
      // listing threw Node's bare "ELOOP: too many symbolic links encountered, stat …")
      const run = spawnSync(process.execPath, [CLI, 'replay', '--no-summary', join(dir, 'self')], { encoding: 'utf8' });
      expect(run.stderr).toMatch(/self is a symbolic link that leads back to itself \(ELOOP\)/);
      expect(run.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() === 0)('a directory this process may not read says permission denied', () => {
    const dir = corpus();
    try {
      chmodSync(join(dir, 'runs'), 0o000);
      expect(() => listOtlpFiles([dir])).toThrow(/runs cannot be read \(EACCES: permission denied\)/);
    } finally {
      chmodSync(join(dir, 'runs'), 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
