/** Facts about the machine and checkout a benchmark ran on, for the header of RESULTS.md. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  node: string;
  python: string;
  date: string;
  commit: string;
  /** True when the work tree had uncommitted changes (results then describe commit + those). */
  dirty: boolean;
  kernel: string;
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo(repo: string, python: string | undefined): MachineInfo {
  const lscpu = run('lscpu', []);
  const model = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const status = run('git', ['status', '--porcelain', '--untracked-files=no'], repo);
  return {
    cpuModel: model,
    cores: cpus().length,
    ramBytes: totalmem(),
    node: process.version,
    python: python ? run(python, ['--version']) || 'not found' : 'not used',
    date: new Date().toISOString(),
    commit: run('git', ['rev-parse', 'HEAD'], repo) || 'unknown',
    // the benchmark's own outputs (written before this is read) do not count as changes
    dirty: status.split('\n').some((l) => l.trim() !== '' && !/^bench\/(RESULTS\.md|plots\/|out\/|raw\/)/.test(l.trim().split(/\s+/).pop() ?? '')),
    kernel: run('uname', ['-sr']),
  };
}
