/**
 * resolveKafkaLibs (scripts/kafka.ts) called twice at once for a version not yet cached — two
 * integration files, run side by side on a fresh machine, that start brokers of the same version.
 * Maven wrote straight into the shared `libs` and each call first cleared it: the later call
 * removed the jars the earlier one had copied, which then failed ("no kafka_2.13 jar") or handed
 * its broker a directory still being filled. Each call now copies into its own directory, renamed
 * into place complete. `mvn` here is a stand-in on PATH that copies three jars slowly.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveKafkaLibs } from '../../scripts/kafka.js';
import { tempDir } from '../support/temp-dir.js';

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

/** A fake `mvn` that writes a.jar, the kafka jar and z.jar into -DoutputDirectory, 300 ms apart. */
function fakeMaven(): string {
  const bin = tempDir('ac-fake-mvn-');
  const mvn = join(bin, 'mvn');
  writeFileSync(
    mvn,
    [
      '#!/bin/sh',
      'for a in "$@"; do case "$a" in -DoutputDirectory=*) out="${a#-DoutputDirectory=}";; esac; done',
      'mkdir -p "$out"',
      'echo a > "$out/a.jar"; sleep 0.3',
      'echo k > "$out/kafka_2.13-9.9.9.jar"; sleep 0.3',
      'echo z > "$out/z.jar"',
      '',
    ].join('\n'),
  );
  chmodSync(mvn, 0o755);
  return bin;
}

describe.skipIf(process.platform === 'win32')('resolveKafkaLibs, two calls at once', () => {
  it('both return the same complete directory of jars', async () => {
    process.env.PATH = `${fakeMaven()}${delimiter}${savedPath}`;
    const cacheDir = tempDir('ac-resolve-');
    const first = resolveKafkaLibs('9.9.9', cacheDir);
    await new Promise((r) => setTimeout(r, 400)); // the first has copied a.jar and the kafka jar
    const second = resolveKafkaLibs('9.9.9', cacheDir);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(join(cacheDir, '9.9.9', 'libs'));
    expect(b).toBe(a);
    expect(readdirSync(a).filter((f) => f.endsWith('.jar')).sort()).toEqual(['a.jar', 'kafka_2.13-9.9.9.jar', 'z.jar']);
    // nothing left behind but the one directory
    expect(readdirSync(join(cacheDir, '9.9.9'))).toEqual(['libs']);
  });

  it('a libs directory left incomplete by an interrupted run is replaced; a complete one is reused without Maven', async () => {
    process.env.PATH = `${fakeMaven()}${delimiter}${savedPath}`;
    const cacheDir = tempDir('ac-resolve-');
    mkdirSync(join(cacheDir, '9.9.9', 'libs'), { recursive: true });
    writeFileSync(join(cacheDir, '9.9.9', 'libs', 'half.jar'), 'x');
    const libs = await resolveKafkaLibs('9.9.9', cacheDir);
    expect(readdirSync(libs).filter((f) => f.endsWith('.jar')).sort()).toEqual(['a.jar', 'kafka_2.13-9.9.9.jar', 'z.jar']);
    process.env.PATH = '/nonexistent'; // Maven cannot run now
    expect(await resolveKafkaLibs('9.9.9', cacheDir)).toBe(libs);
    expect(existsSync(join(libs, '.complete'))).toBe(true);
  });
});
