/**
 * Sums allocation profiles (.heapprofile from bench/pipeline/profile.ts with HEAP=1: sampled
 * allocations, those the GC collected included) into per-profile averages: bytes allocated by
 * source area and by allocating function. What the main thread allocates is what its garbage
 * collector then scans or copies; `(V8 API)` is what native code made, e.g. the objects a
 * worker's message is deserialized into.
 * Usage: node --import tsx bench/pipeline/heap-summary.ts [--top N] <files...>
 */
import { readFileSync } from 'node:fs';
import { area, fnName, summaryArgs, type CallFrame } from './profile-frames.js';

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const { top, files } = summaryArgs(process.argv.slice(2), 'usage: heap-summary.ts [--top N] <file.heapprofile ...>', 30);

const byArea = new Map<string, number>();
const self = new Map<string, number>();
const add = (m: Map<string, number>, k: string, bytes: number) => m.set(k, (m.get(k) ?? 0) + bytes);
let total = 0;
for (const file of files) {
  const stack: HeapNode[] = [(JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    total += node.selfSize;
    add(byArea, area(node.callFrame), node.selfSize);
    add(self, fnName(node.callFrame, true), node.selfSize);
    stack.push(...node.children);
  }
}
const n = files.length;
const table = (m: Map<string, number>, k: number) =>
  [...m]
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, bytes]) => `${(bytes / 1e6 / n).toFixed(1).padStart(8)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
process.stdout.write(`${n} profile(s), ${(total / 1e6 / n).toFixed(0)} MB allocated each on average\n\n-- allocated by area\n${table(byArea, 25)}\n\n-- allocated by function\n${table(self, top)}\n`);
