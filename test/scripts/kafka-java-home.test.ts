/**
 * Which java scripts/kafka.ts runs: `$JAVA_HOME/bin/java` when JAVA_HOME is set (as Kafka's own
 * scripts and Maven do), else `java` from PATH. It always took PATH's: on macOS, with a JDK known
 * only through JAVA_HOME, that is a stub ("Unable to locate a Java Runtime"); with several JDKs
 * an older java than the one Maven used, and Kafka 4 (Java 17+) did not start.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { javaTool, startKafka } from '../../scripts/kafka.js';
import { tempDir } from '../support/temp-dir.js';

const saved = process.env.JAVA_HOME;
afterEach(() => {
  if (saved === undefined) delete process.env.JAVA_HOME;
  else process.env.JAVA_HOME = saved;
});

describe('javaTool', () => {
  it('is $JAVA_HOME/bin/<tool> when JAVA_HOME is set, else the bare name (PATH)', () => {
    expect(javaTool('java', { JAVA_HOME: '/opt/jdk-17' })).toBe(join('/opt/jdk-17', 'bin', 'java'));
    expect(javaTool('keytool', { JAVA_HOME: '/opt/jdk-17' })).toBe(join('/opt/jdk-17', 'bin', 'keytool'));
    expect(javaTool('java', {})).toBe('java');
    expect(javaTool('java', { JAVA_HOME: '' })).toBe('java');
  });

  it.skipIf(process.platform === 'win32')('startKafka runs the JAVA_HOME java, and its error says where java was taken from', async () => {
    const home = tempDir('ac-java-home-');
    mkdirSync(join(home, 'bin'));
    const java = join(home, 'bin', 'java');
    writeFileSync(java, '#!/bin/sh\necho "java of JAVA_HOME ran" >&2\nexit 3\n');
    chmodSync(java, 0o755);
    // a cache that counts as resolved: no Maven run
    const cacheDir = tempDir('ac-java-home-cache-');
    mkdirSync(join(cacheDir, '4.1.1', 'libs'), { recursive: true });
    writeFileSync(join(cacheDir, '4.1.1', '.complete'), 'test');
    process.env.JAVA_HOME = home;
    const err = await startKafka({ version: '4.1.1', cacheDir }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('java of JAVA_HOME ran');
    expect(err?.message).toContain(`java is run as ${java} (JAVA_HOME)`);
  });
});
