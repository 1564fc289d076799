/**
 * The shapiq baseline finds a Python ≥ 3.12 that pyenv installed even when PATH's shims refuse it
 * (a shim only runs versions `pyenv global` selects): without that, the bench fell back to 3.11,
 * got shapiq 1.4.1 (whose `__version__` is None) and dropped the whole comparison.
 */
import { mkdirSync} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pythonCandidates } from '../../bench/credit/baseline.js';
import { tempDir } from '../support/temp-dir.js';

describe('pythonCandidates', () => {
  const saved = process.env.PYENV_ROOT;
  afterEach(() => {
    if (saved === undefined) delete process.env.PYENV_ROOT;
    else process.env.PYENV_ROOT = saved;
  });

  it('tries PATH names, then pyenv-installed 3.12.x newest first, then 3.13.x, then python3', () => {
    const root = tempDir('pyenv-');
    for (const v of ['3.11.7', '3.12.1', '3.12.10', '3.13.0', '2.7.18']) mkdirSync(join(root, 'versions', v, 'bin'), { recursive: true });
    process.env.PYENV_ROOT = root;
    const bin = (v: string) => join(root, 'versions', v, 'bin', 'python3');
    expect(pythonCandidates()).toEqual(['python3.12', bin('3.12.10'), bin('3.12.1'), 'python3.13', bin('3.13.0'), 'python3']);
  });

  it('is just the PATH names without a pyenv directory', () => {
    process.env.PYENV_ROOT = join(tmpdir(), 'no-such-pyenv-root');
    expect(pythonCandidates()).toEqual(['python3.12', 'python3.13', 'python3']);
  });
});
