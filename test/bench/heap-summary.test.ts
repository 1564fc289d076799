import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
const node = (cf: ReturnType<typeof frame>, selfSize: number, children: unknown[] = []) => ({ callFrame: cf, selfSize, children });

describe('bench heap-summary (allocation profiles of bench/pipeline/profile.ts HEAP=1)', () => {
  it('averages allocations over the profiles, by area and by function, nested calls included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heap-summary-'));
    try {
      const profile = (scale: number) => ({
        head: node(frame('(root)', ''), 0, [
          node(frame('runCredit', 'file:///repo/src/runtime/kafka-pipeline.ts'), 1e6 * scale, [node(frame('decodeSpan', 'file:///repo/src/otlp/proto/traces.ts'), 3e6 * scale)]),
          node(frame('(V8 API)', ''), 4e6 * scale),
        ]),
      });
      writeFileSync(join(dir, 'a.heapprofile'), JSON.stringify(profile(1)));
      writeFileSync(join(dir, 'b.heapprofile'), JSON.stringify(profile(3)));
      const script = new URL('../../bench/pipeline/heap-summary.ts', import.meta.url).pathname;
      const out = execFileSync(process.execPath, ['--import', 'tsx', script, join(dir, 'a.heapprofile'), join(dir, 'b.heapprofile')], { encoding: 'utf8' });
      // 8 and 24 MB in all: 16 on average
      expect(out).toContain('2 profile(s), 16 MB allocated each on average');
      expect(out).toMatch(/ 8\.0 MB +50\.0 % +\(V8 API\)\n/);
      expect(out).toMatch(/ 6\.0 MB +37\.5 % +src\/otlp\n/);
      expect(out).toMatch(/ 2\.0 MB +12\.5 % +src\/runtime\n/);
      expect(out).toMatch(/ 6\.0 MB +37\.5 % +decodeSpan proto\/traces\.ts:1\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
