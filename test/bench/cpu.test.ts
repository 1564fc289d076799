import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuSample, mainThreadCpuSeconds, procCpuSeconds } from '../../bench/lib/cpu.js';

describe('bench CPU accounting', () => {
  it('reads a process\'s CPU time from /proc as Node reports its own', () => {
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += Math.sqrt(i); // some CPU time to compare
    const own = process.cpuUsage();
    const fromProc = procCpuSeconds(process.pid);
    expect(x).toBeGreaterThan(0);
    expect(fromProc).toBeDefined();
    // /proc counts in clock ticks (10 ms); other threads of this process may run in between
    expect(Math.abs(fromProc! - (own.user + own.system) / 1e6)).toBeLessThan(0.1);
  });

  it('reports no broker CPU for a pid that does not exist, and differences of samples', () => {
    expect(procCpuSeconds(2 ** 22 + 12345)).toBeUndefined();
    const a = cpuSample(process.pid);
    let x = 0;
    for (let i = 0; i < 1e7; i++) x += Math.sqrt(i);
    const b = cpuSample(process.pid);
    const d = cpuBetween(a, b);
    expect(x).toBeGreaterThan(0);
    expect(d.processSeconds).toBeGreaterThan(0);
    expect(d.brokerSeconds).toBeGreaterThanOrEqual(0);
    expect(cpuBetween({ processSeconds: 1 }, { processSeconds: 3, brokerSeconds: 5 })).toEqual({ processSeconds: 2 });
  });

  it('counts the main thread alone: a busy worker thread does not raise it', () => {
    // in a process of its own: this file runs in one of vitest's worker threads, not a main thread
    const script = `
      import { Worker } from 'node:worker_threads';
      import { mainThreadCpuSeconds, procCpuSeconds } from ${JSON.stringify(new URL('../../bench/lib/cpu.ts', import.meta.url).href)};
      const main0 = mainThreadCpuSeconds(), all0 = procCpuSeconds(process.pid);
      // ~0.1–0.3 s of CPU in a worker while this thread waits for it
      const w = new Worker('let x = 0; for (let i = 0; i < 1e8; i++) x += Math.sqrt(i); if (x < 0) throw new Error();', { eval: true });
      await new Promise((r) => w.once('exit', r));
      const main1 = mainThreadCpuSeconds(), all1 = procCpuSeconds(process.pid);
      let x = 0;
      for (let i = 0; i < 5e7; i++) x += Math.sqrt(i);
      process.stdout.write(JSON.stringify({ waiting: main1 - main0, worker: all1 - all0 - (main1 - main0), busy: mainThreadCpuSeconds() - main1, x }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })) as { waiting: number; worker: number; busy: number };
    expect(out.worker).toBeGreaterThan(0.05);
    // /proc counts in clock ticks (10 ms); starting the worker takes a little of the main thread
    expect(out.waiting).toBeLessThan(out.worker / 2);
    expect(out.busy).toBeGreaterThan(0);
  });
});
