/**
 * KAFKA_CACHE_DIR (scripts/kafka.ts): Maven runs in another directory, so a relative cache dir
 * must be made absolute first — a relative one ended in "Maven finished but rel/4.1.1/libs has no
 * kafka_2.13 jar" (the jars went below scripts/kafka/); an empty one means the default.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaCacheDir } from '../../scripts/kafka.js';

const saved = process.env.KAFKA_CACHE_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.KAFKA_CACHE_DIR;
  else process.env.KAFKA_CACHE_DIR = saved;
});

describe('kafkaCacheDir', () => {
  it('makes a relative KAFKA_CACHE_DIR absolute against the working directory', () => {
    process.env.KAFKA_CACHE_DIR = 'rel-cache';
    expect(kafkaCacheDir()).toBe(resolve('rel-cache'));
    expect(isAbsolute(kafkaCacheDir())).toBe(true);
  });

  it('empty or unset: <repo>/.cache/kafka', () => {
    const repo = join(import.meta.dirname, '../..');
    process.env.KAFKA_CACHE_DIR = '';
    expect(kafkaCacheDir()).toBe(join(repo, '.cache', 'kafka'));
    delete process.env.KAFKA_CACHE_DIR;
    expect(kafkaCacheDir()).toBe(join(repo, '.cache', 'kafka'));
  });
});
