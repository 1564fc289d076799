/**
 * The Python side of the credit-accuracy benchmark: a venv under bench/.venv with a pinned shapiq,
 * and a call of bench/credit/shapiq_runner.py on a job file. I/O lives here, nowhere else in bench/credit.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { GameSpec } from '../games/spec.js';

const execFileP = promisify(execFile);

/** shapiq 1.8.0 needs Python ≥ 3.12; on 3.10–3.11 the newest release that installs is 1.4.1. */
const SHAPIQ_PIN = { modern: '1.8.0', legacy: '1.4.1' } as const;

const ShapiqRowSchema = z.object({
  game: z.string(),
  approximator: z.string(),
  budget: z.number().int(),
  seed: z.number().int(),
  values: z.array(z.number()).optional(),
  evaluations: z.number().int(),
  seconds: z.number(),
  error: z.string().optional(),
});
export type ShapiqRow = z.infer<typeof ShapiqRowSchema>;

export const ShapiqOutputSchema = z.object({
  shapiq_version: z.string(),
  python: z.string(),
  numpy: z.string(),
  results: z.array(ShapiqRowSchema),
});
export type ShapiqOutput = z.infer<typeof ShapiqOutputSchema>;

export interface ShapiqJob {
  games: GameSpec[];
  budgets: Record<string, number[]>;
  /** The same seeds for every game, or per game id. */
  seeds: number[] | Record<string, number[]>;
  approximators?: string[];
}

export interface PythonEnv {
  python: string;
  shapiqVersion: string;
  /** What was done to get it (for the results file). */
  commands: string[];
}

async function pythonVersion(bin: string): Promise<[number, number] | undefined> {
  try {
    const { stdout } = await execFileP(bin, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])']);
    const [a, b] = stdout.trim().split(' ').map(Number);
    return a !== undefined && b !== undefined ? [a, b] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Candidate interpreters, best first: 3.12 (shapiq 1.8.0's reference), 3.13, then whatever `python3`
 * is. pyenv shims on PATH fail for versions not selected by `pyenv global`, so the interpreters
 * pyenv has installed are tried directly too.
 */
export function pythonCandidates(): string[] {
  const pyenvRoot = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  const installed = (minor: number): string[] => {
    const dir = join(pyenvRoot, 'versions');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((v) => v.startsWith(`3.${minor}.`))
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
      .map((v) => join(dir, v, 'bin', 'python3'));
  };
  return ['python3.12', ...installed(12), 'python3.13', ...installed(13), 'python3'];
}

/** The first candidate that runs and is ≥ 3.10. */
async function findPython(): Promise<{ bin: string; version: [number, number] } | undefined> {
  for (const bin of pythonCandidates()) {
    const v = await pythonVersion(bin);
    if (v && (v[0] > 3 || (v[0] === 3 && v[1] >= 10))) return { bin, version: v };
  }
  return undefined;
}

/** shapiq's version as pip installed it (shapiq 1.4.1's `__version__` is None, so ask the metadata). */
const SHAPIQ_VERSION_PY = 'import importlib.metadata as m; print(m.version("shapiq"))';

/**
 * Creates (or reuses) `venvDir` with the pinned shapiq. Throws an error that says what to install
 * when no suitable Python is found or pip fails (network to PyPI is needed on first use).
 */
export async function ensureShapiqVenv(venvDir: string): Promise<PythonEnv> {
  const python = join(venvDir, 'bin', 'python');
  const commands: string[] = [];
  const best = await findPython();
  if (existsSync(python)) {
    const v = await pythonVersion(python);
    const want = v && v[1] >= 12 ? SHAPIQ_PIN.modern : SHAPIQ_PIN.legacy;
    // A venv made from an older interpreter (legacy pin) is rebuilt once a 3.12+ one is found.
    const upgradable = want === SHAPIQ_PIN.legacy && best !== undefined && best.version[1] >= 12;
    if (upgradable) {
      rmSync(venvDir, { recursive: true, force: true });
      commands.push(`rm -rf ${venvDir} (Python ${v ? `3.${v[1]}` : 'unknown'} venv; ${best.bin} is 3.${best.version[1]})`);
    } else {
      try {
        const { stdout } = await execFileP(python, ['-c', SHAPIQ_VERSION_PY]);
        const have = stdout.trim();
        if (have === want) return { python, shapiqVersion: have, commands: [`(reused ${venvDir} with shapiq ${have})`] };
      } catch {
        // fall through: (re)install into the existing venv
      }
    }
  }
  if (!existsSync(python)) {
    if (!best) throw new Error('shapiq baseline: no python3 ≥ 3.10 found (PATH, pyenv); install 3.12+ (for shapiq 1.8.0) or run with --no-baseline');
    mkdirSync(dirname(venvDir), { recursive: true });
    await execFileP(best.bin, ['-m', 'venv', venvDir]);
    commands.push(`${best.bin} -m venv ${venvDir}`);
  }
  const v = (await pythonVersion(python)) ?? [3, 0];
  const pin = v[1] >= 12 ? SHAPIQ_PIN.modern : SHAPIQ_PIN.legacy;
  try {
    await execFileP(python, ['-m', 'pip', 'install', '--quiet', `shapiq==${pin}`], { maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  } catch (err) {
    throw new Error(`shapiq baseline: pip install shapiq==${pin} into ${venvDir} failed (${(err as Error).message.split('\n')[0]}); check access to PyPI or run with --no-baseline`);
  }
  commands.push(`${python} -m pip install shapiq==${pin}`);
  return { python, shapiqVersion: pin, commands };
}

/** Runs the shapiq runner on `job` (written to `workDir`), returns its validated output. */
export async function runShapiq(env: PythonEnv, job: ShapiqJob, workDir: string, label: string): Promise<ShapiqOutput> {
  mkdirSync(workDir, { recursive: true });
  const jobFile = join(workDir, `shapiq-job-${label}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  const runner = join(dirname(new URL(import.meta.url).pathname), 'shapiq_runner.py');
  const { stdout } = await execFileP(env.python, [runner, jobFile], {
    maxBuffer: 512 * 1024 * 1024,
    // one BLAS thread: the two runner processes share 2 cores, and timings stay comparable
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  return ShapiqOutputSchema.parse(JSON.parse(stdout));
}
