/**
 * The code users run — the package (src/, bin/, scripts/), the deploy smoke test, examples and the
 * benchmark — uses no Node.js API newer than package.json `engines` (>= 20.6.0). The test suite
 * itself needs more (vitest 4 / vite 8: Node >= 20.19), so a run of it on Node 20.6 cannot find
 * such a call: this scan does. deploy/smoke-kafka.ts, which the README gives as a step, read
 * `import.meta.dirname` (Node 20.11) and stopped on Node 20.6–20.10 with
 * `The "paths[0]" argument must be of type string. Received undefined`.
 * An API with a fallback (crypto.hash, zlib.zstdCompress) is guarded by a typeof check and not listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Uses that need a Node.js newer than 20.6, with the release that brought them. */
const NEWER_THAN_FLOOR: readonly [RegExp, string][] = [
  [/\bimport\.meta\.(dirname|filename)\b/, 'Node 20.11'],
  [/\bimport\.meta\.main\b/, 'Node 24.2'],
  [/\bprocess\.getBuiltinModule\b/, 'Node 20.16'],
  [/\bprocess\.loadEnvFile\b/, 'Node 20.12'],
  [/\bstyleText\b/, 'Node 20.12'],
  [/\bPromise\.withResolvers\b/, 'Node 22'],
  [/\b(Object|Map)\.groupBy\b/, 'Node 21'],
  [/\bArray\.fromAsync\b/, 'Node 22'],
  [/\b(fs\.)?globSync\b|\bfs\.(promises\.)?glob\b/, 'Node 22'],
  [/\bregisterHooks\b/, 'Node 22.15'],
  [/\bRegExp\.escape\b/, 'Node 24'],
];

function* codeFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* codeFiles(path);
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

describe('engines floor (package.json engines.node)', () => {
  it('is >= 20.6.0, and nothing outside test/ calls an API newer than that', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.6.0');
    const found: string[] = [];
    for (const top of ['src', 'bin', 'scripts', 'deploy', 'examples', 'bench']) {
      for (const file of codeFiles(join(ROOT, top))) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            for (const [re, since] of NEWER_THAN_FLOOR) if (re.test(line)) found.push(`${relative(ROOT, file)}:${i + 1} (${since}): ${line.trim()}`);
          });
      }
    }
    expect(found).toEqual([]);
  });

  it("README names the Node 20 the test suite needs: the lowest that vitest's vite and rolldown accept (it said Node ≥ 20.6 and only warned about a benchmark row)", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const node20 = (pkg: string) => /\^20\.(\d+)\.\d+/.exec(lock.packages[`node_modules/${pkg}`]?.engines?.node ?? '')?.[1];
    const floors = ['vite', 'rolldown'].map((p) => Number(node20(p)));
    expect(floors.every(Number.isInteger)).toBe(true);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`**test suite needs Node ≥ 20.${Math.max(...floors)}**`);
  });
});
