import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuSample, procCpuSeconds } from '../../bench/lib/cpu.js';

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
});
