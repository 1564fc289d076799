/** fileInTheWay: the file that stands where a directory is needed, so errors name it rather than ENOTDIR. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileInTheWay } from '../../src/cli/output-path.js';
import { tempDir } from '../support/temp-dir.js';

describe('fileInTheWay', () => {
  it('names the path itself, or the nearest existing path above it, when that is a file', () => {
    const dir = tempDir('ac-output-path-');
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'x');
    expect(fileInTheWay(file)).toBe(file);
    expect(fileInTheWay(join(file, 'runs'))).toBe(file);
    expect(fileInTheWay(join(file, 'runs', 'a', 'b'))).toBe(file);
  });

  it('names the file for a path with a trailing slash too (`generate runs/`, as the README writes it): the path itself as given, or the file above it', () => {
    // stat("notes.txt/") fails with ENOTDIR, and dirname("notes.txt/") is "." — the file was
    // never looked at and the write failed as "cannot write notes.txt/ (ENOTDIR)"
    const dir = tempDir('ac-output-path-');
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'x');
    expect(fileInTheWay(`${file}/`)).toBe(`${file}/`);
    expect(fileInTheWay(`${file}//`)).toBe(`${file}//`);
    expect(fileInTheWay(`${join(file, 'runs')}/`)).toBe(file);
    mkdirSync(join(dir, 'runs'));
    expect(fileInTheWay(`${join(dir, 'runs')}/`)).toBeUndefined();
    expect(fileInTheWay('/')).toBeUndefined();
  });

  it('is undefined where a directory can be made: an existing directory, or paths under one', () => {
    const dir = tempDir('ac-output-path-');
    mkdirSync(join(dir, 'runs'));
    expect(fileInTheWay(dir)).toBeUndefined();
    expect(fileInTheWay(join(dir, 'runs'))).toBeUndefined();
    expect(fileInTheWay(join(dir, 'new', 'deeper'))).toBeUndefined();
    // relative: up to the working directory
    expect(fileInTheWay('no-such-dir-of-agent-credit/runs')).toBeUndefined();
  });
});
