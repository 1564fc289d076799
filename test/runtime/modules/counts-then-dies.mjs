// A value function that records each call it answers or starts (one byte appended to the file
// VALUE_CALLS_FILE names: the work actually done, whatever becomes of its worker), and ends its
// worker thread on the 3rd call of an episode whose id starts with the way to die:
// "exit" (process.exit: a native crash), "throw" (an error thrown out of a timer), "oom" (allocates
// without bound, kept) or "hang" (never returns: runtime.creditTimeoutMs stops it). Additive otherwise.
import { appendFileSync } from 'node:fs';

const callsFile = process.env.VALUE_CALLS_FILE;
if (!callsFile) throw new Error('counts-then-dies.mjs: set VALUE_CALLS_FILE');
const callsOf = new Map();
const kept = [];

export function value(coalition, episode) {
  appendFileSync(callsFile, '.');
  const n = (callsOf.get(episode.episodeId) ?? 0) + 1;
  callsOf.set(episode.episodeId, n);
  if (n === 3) {
    const id = episode.episodeId;
    if (id.startsWith('exit')) process.exit(7);
    if (id.startsWith('throw')) {
      return new Promise(() => {
        setTimeout(() => {
          throw new Error('value function threw out of a timer');
        }, 0);
      });
    }
    if (id.startsWith('oom')) for (;;) kept.push(new Array(1 << 16).fill(kept.length));
    if (id.startsWith('hang')) for (;;);
  }
  return coalition.length;
}
