/**
 * The in-process profiles of the stage loops (process-loop.ts, assemble-loop.ts), through
 * node:inspector so set-up stays out of them: PROFILE=<file> a .cpuprofile (./profile-summary.ts),
 * HEAP=<file> a .heapprofile of the allocations, collected ones included (./heap-summary.ts).
 * `start` before the passes to profile, `write` after them.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export interface LoopProfiles {
  start(): Promise<void>;
  write(): Promise<void>;
}

export function loopProfiles(env: NodeJS.ProcessEnv = process.env): LoopProfiles {
  const { PROFILE: cpuFile, HEAP: heapFile } = env;
  let session: Session | undefined;
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session!.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  return {
    async start() {
      if (!cpuFile && !heapFile) return;
      session = new Session();
      session.connect();
      if (heapFile) {
        await post('HeapProfiler.enable');
        await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      }
      if (cpuFile) {
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 100 });
        await post('Profiler.start');
      }
    },
    async write() {
      if (session === undefined) return;
      if (cpuFile) writeFileSync(cpuFile, JSON.stringify((await post('Profiler.stop')).profile));
      if (heapFile) writeFileSync(heapFile, JSON.stringify((await post('HeapProfiler.stopSampling')).profile));
      session.disconnect();
    },
  };
}
