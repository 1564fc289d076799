/**
 * Sums CPU profiles (.cpuprofile, e.g. from bench/pipeline/profile.ts) into per-profile averages:
 * self time by source area (src/<dir>, a package, a V8 category such as the garbage collector),
 * self time by function, and inclusive time by function (a recursive function counted once per
 * sample). Usage: node --import tsx bench/pipeline/profile-summary.ts [--top N] <files...>
 */
import { readFileSync } from 'node:fs';
import { area, fnName, summaryArgs, type CallFrame } from './profile-frames.js';

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { top, files } = summaryArgs(process.argv.slice(2), 'usage: profile-summary.ts [--top N] <file.cpuprofile ...>', 40);

const byArea = new Map<string, number>();
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // timeDeltas[i] is the time before sample i; a sample stands for the time until the next one
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!)!;
    total += us;
    add(byArea, area(node.callFrame), us);
    add(self, fnName(node.callFrame, true), us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = fnName(byId.get(id)!.callFrame, false);
      if (!seen.has(k)) {
        seen.add(k);
        add(inclusive, k, us);
      }
    }
  }
}
const n = files.length;
const table = (m: Map<string, number>, k: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, us]) => `${(us / 1000 / n).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
process.stdout.write(
  `${n} profile(s), ${(total / 1000 / n).toFixed(0)} ms each on average\n\n` +
    `-- self time by area\n${table(byArea, 25)}\n\n-- self time by function\n${table(self, top)}\n\n-- inclusive time by function\n${table(inclusive, top * 2)}\n`,
);
