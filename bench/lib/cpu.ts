/**
 * CPU time spent between two moments, by this process (all its threads: main, workers, libuv)
 * and by the broker's JVM when its pid is known (Linux /proc). Used to say what the machine's
 * cores allow: a run that needs C CPU-seconds on N cores cannot take less than C / N seconds.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  processSeconds: number;
  /** Undefined when the broker is external or /proc is not readable. */
  brokerSeconds?: number;
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100; // Linux's USER_HZ on every mainstream architecture
    }
  }
  return clockTicks;
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15), in seconds. */
export function procCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of this process's main thread alone (/proc/self/task/<pid>/stat; its thread id is
 * the pid): what the consumer loop costs, without the credit workers' threads beside it.
 */
export function mainThreadCpuSeconds(): number | undefined {
  return statCpuSeconds(`/proc/self/task/${process.pid}/stat`);
}

/**
 * CPU seconds of each of this process's threads by thread id (/proc/self/task): the busiest thread
 * after the main one is the credit worker in a run with one (V8's helper threads use far less).
 */
export function threadCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const s = statCpuSeconds(`/proc/self/task/${tid}/stat`);
      if (s !== undefined) out.set(Number(tid), s);
    }
  } catch {
    // not Linux: no per-thread figures
  }
  return out;
}

/** CPU seconds of the busiest thread other than the main one between two `threadCpuSeconds` samples. */
export function busiestOtherThreadSeconds(before: Map<number, number>, after: Map<number, number>): number | undefined {
  let best: number | undefined;
  for (const [tid, s] of after) {
    if (tid === process.pid) continue;
    const d = s - (before.get(tid) ?? 0);
    if (best === undefined || d > best) best = d;
  }
  return best;
}

function statCpuSeconds(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / ticksPerSecond() : undefined;
  } catch {
    return undefined;
  }
}

export function cpuSample(brokerPid?: number): CpuSample {
  const u = process.cpuUsage();
  const broker = brokerPid === undefined ? undefined : procCpuSeconds(brokerPid);
  return { processSeconds: (u.user + u.system) / 1e6, ...(broker !== undefined ? { brokerSeconds: broker } : {}) };
}

/** CPU used from `a` to `b`. */
export function cpuBetween(a: CpuSample, b: CpuSample): CpuSample {
  return {
    processSeconds: b.processSeconds - a.processSeconds,
    ...(a.brokerSeconds !== undefined && b.brokerSeconds !== undefined ? { brokerSeconds: b.brokerSeconds - a.brokerSeconds } : {}),
  };
}
