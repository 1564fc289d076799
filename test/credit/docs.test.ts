import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { workedExampleMarkdown } from './worked-example.js';

// The worked example appears in docs/credit.md and README.md; both must show what the code computes.
describe.each(['docs/credit.md', 'README.md'])('%s', (file) => {
  it('shows the worked example exactly as the code computes it', async () => {
    const doc = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    const m = /<!-- worked-example:begin -->\n([\s\S]*?)\n<!-- worked-example:end -->/.exec(doc);
    expect(m, `${file} must hold the worked-example block (regenerate: npx tsx test/credit/worked-example.ts)`).not.toBeNull();
    expect(m![1]).toBe(await workedExampleMarkdown());
  });
});

// The library example of docs/credit.md runs as written, against the sources its package imports
// name ('agent-credit' and 'agent-credit/credit' are mapped to src/ here), and prints what its
// comments say. (test/package/package.test.ts only checks that each package entry loads and exports
// something; the example was run against the packed tarball by hand in the packaging review.)
describe('docs/credit.md library example', () => {
  it('runs as written and gives what its comments say', async () => {
    const doc = readFileSync(new URL('../../docs/credit.md', import.meta.url), 'utf8');
    const m = /<!-- library-example:begin -->\n```ts\n([\s\S]*?)```\n<!-- library-example:end -->/.exec(doc);
    expect(m, 'docs/credit.md must hold the library-example block').not.toBeNull();
    const src = new URL('../../src/', import.meta.url).href;
    const code = m![1]!.replace(/from 'agent-credit'/g, `from '${src}index.ts'`).replace(/from 'agent-credit\/(\w+)'/g, (_, e: string) => `from '${src}${e}/index.ts'`);
    expect(code).not.toMatch(/from 'agent-credit/);
    const dir = mkdtempSync(path.join(fileURLToPath(new URL('.', import.meta.url)), '.docs-example-'));
    const file = path.join(dir, 'example.ts');
    writeFileSync(file, code);
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args));
    try {
      await import(file);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    const [auto, svarm, ...rest] = lines;
    expect(auto!.slice(0, 2)).toEqual(['exact', 'exact']);
    expect((auto![2] as number[])[0]).toBeCloseTo(0.233, 3);
    expect(auto![3]).toBe(32);
    expect(svarm![0]).toBe('approximate');
    expect(svarm![1]).toHaveLength(5);
    expect(svarm![2]).toBeUndefined();
    const last = rest.at(-1)!;
    expect(rest.length).toBeGreaterThan(1); // snapshots, then the continued result
    expect(last[0]).toBe('approximate');
    expect(last[1]).toBeCloseTo(1, 9);
  });
});
