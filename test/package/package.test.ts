/**
 * agent-credit as a dependency of someone else's app: the compiled package (`dist/`, built by
 * `npm run build`, which `prepare` runs on install) loaded through its `exports` by plain `node`
 * — no tsx, no TypeScript sources — and its declarations checked by `tsc` from outside.
 *
 * The package is a copy of what this checkout packs and builds from (PKG), built there: the build
 * in place removed this checkout's dist/ for the ~30 s tsc takes, and the tests running beside this
 * file that start bin/agent-credit.js (test/support/cli.ts) could load a module of it as it went.
 * The app lives in a temporary directory whose node_modules holds `agent-credit` (a link to that
 * copy, as `npm install <path>` makes) and links to this checkout's other packages.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTS_SDK_FIXTURES } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] };

let app = '';
/** The package under test: this checkout's packed files and build set-up, copied and built (beforeAll). */
let PKG = '';

/** Runs a module of the app with plain node (no loader flags, NODE_OPTIONS cleared: vitest's would add its own). */
async function node(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [file], { cwd: app, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
  return stdout;
}

/** Stands for the output of a source file since deleted or renamed: the build must not leave it in dist/ (and so in the tarball). */
const STALE = 'dist/episodes/removed-module.js';

/** `npm pack --dry-run` of PKG: the paths the tarball holds (packed once for the file's tests). */
let packedList: Promise<Set<string>> | undefined;
const packedFiles = () =>
  (packedList ??= run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, timeout: 60_000 }).then(
    ({ stdout }) => new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)),
  ));
/** The tarball `npm pack` makes of PKG (packed once; each test unpacks it into a directory of its own). */
let packed: Promise<string> | undefined;
const tarball = () =>
  (packed ??= (async () => {
    const dir = tempDir('agent-credit-tarball-');
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: PKG, timeout: 60_000 });
    return path.join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  })());

beforeAll(async () => {
  // what is packed (package.json `files`, with this checkout's dist/ as a long-lived checkout has
  // it), and what `npm run build` needs besides
  PKG = tempDir('agent-credit-pkg-');
  for (const f of [...pkg.files, 'package.json', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'scripts/finish-build.mjs']) {
    if (!existsSync(path.join(ROOT, f))) continue;
    mkdirSync(path.dirname(path.join(PKG, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(PKG, f), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(PKG, 'node_modules'), 'dir');
  mkdirSync(path.join(PKG, 'dist/episodes'), { recursive: true });
  writeFileSync(path.join(PKG, STALE), 'export const removed = 1;\n');
  // what `prepare` runs, so the test sees dist/ as it is built from these sources
  await run('npm', ['run', 'build', '--silent'], { cwd: PKG, timeout: 170_000 });
  app = mkdtempSync(path.join(tmpdir(), 'agent-credit-app-'));
  const modules = path.join(app, 'node_modules');
  mkdirSync(modules);
  symlinkSync(PKG, path.join(modules, 'agent-credit'), 'dir');
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir');
  }
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'some-agent-app', private: true, type: 'module' }));
}, 180_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the package from outside (compiled, through its exports)', () => {
  it('the in-process example app, compiled to JavaScript, runs with plain node and gets credit for both agents', async () => {
    const source = readFileSync(path.join(ROOT, 'examples/inprocess-app/app.ts'), 'utf8');
    expect(source).toContain("from 'agent-credit/inprocess'");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(path.join(app, 'app.mjs'), js);
    const out = await node('app.mjs');
    const episode = /^episode \S+: R=0\.9 agents researcher=(-?[\d.]+) writer=(-?[\d.]+)$/m.exec(out);
    expect(episode, out).not.toBeNull();
    // efficiency: the agents' credit adds up to R − baseline (0.9 − 0); each printed to 3 decimals
    expect(Number(episode![1]) + Number(episode![2])).toBeCloseTo(0.9, 2);
    expect(out).toMatch(/episodesCredited: 1\b/);
    expect(out).toMatch(/^ {2}writer +chat demo-model +r=/m);
  }, 90_000);

  it('the example app type-checks against the published declarations (module NodeNext, strict)', async () => {
    writeFileSync(path.join(app, 'app.ts'), readFileSync(path.join(ROOT, 'examples/inprocess-app/app.ts')));
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['app.ts'] }),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, timeout: 120_000 }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect(r.stdout).toBe('');
    // and a wrong use is caught by those declarations, not waved through as `any`
    writeFileSync(path.join(app, 'wrong.ts'), "import { createCreditSpanProcessor } from 'agent-credit/inprocess';\nawait createCreditSpanProcessor({ onCredit: 42 });\n");
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['wrong.ts'] }));
    const wrong = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, timeout: 120_000 }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(wrong).toMatch(/wrong\.ts\(2,\d+\): error TS2322: .*number.*not assignable/);
  }, 120_000);

  it('older TypeScript set-ups (moduleResolution node10, which ignores `exports`) find every typed entry point through typesVersions', async () => {
    const typed = Object.entries(pkg.exports).filter(([k, t]) => k !== '.' && typeof t === 'object');
    const versions = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { typesVersions?: Record<string, Record<string, string[]>> }).typesVersions?.['*'] ?? {};
    // one source of truth: typesVersions maps exactly the typed subpaths of exports, to the same files
    expect(Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, v[0]]))).toEqual(Object.fromEntries(typed.map(([k, t]) => [k.slice(2), (t as { types: string }).types])));
    const imports = typed.map(([k], i) => `import * as m${i} from 'agent-credit/${k.slice(2)}';\nexport const n${i}: number = Object.keys(m${i}).length;`).join('\n');
    writeFileSync(path.join(app, 'node10.ts'), `${imports}\nimport { createCreditSpanProcessor } from 'agent-credit/inprocess';\nexport const f: typeof createCreditSpanProcessor = createCreditSpanProcessor;\n`);
    const config = { compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'node', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], ignoreDeprecations: '5.0' }, files: ['node10.ts'] };
    writeFileSync(path.join(app, 'tsconfig.node10.json'), JSON.stringify(config));
    const out = await run(process.execPath, [TSC, '-p', 'tsconfig.node10.json'], { cwd: app, timeout: 120_000 }).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(out).toBe('');
  }, 120_000);

  it('every entry point loads; the root entry credits an episode, and a credit worker runs the compiled worker module with the same result', async () => {
    const entries = Object.keys(pkg.exports).filter((k) => !k.includes('*') && k !== './package.json');
    writeFileSync(
      path.join(app, 'entries.mjs'),
      `for (const e of ${JSON.stringify(entries.map((k) => (k === '.' ? 'agent-credit' : `agent-credit/${k.slice(2)}`)))}) { const m = await import(e); console.log(e, Object.keys(m).length); }`,
    );
    const listed = (await node('entries.mjs')).trim().split('\n');
    expect(listed.map((l) => l.split(' ')[0])).toEqual(entries.map((k) => (k === '.' ? 'agent-credit' : `agent-credit/${k.slice(2)}`)));
    for (const l of listed) expect(Number(l.split(' ')[1])).toBeGreaterThan(0);

    writeFileSync(
      path.join(app, 'credit.mjs'),
      `import { EpisodeAssembler, decodeLogs, decodeTraces, evaluationsFromLogs, processEpisode } from 'agent-credit';
import { loadConfig } from 'agent-credit/config';
import { CreditWorkerPool } from 'agent-credit/runtime';
import { generateScenario } from 'agent-credit/scenarios';
const run = await generateScenario({ kind: 'saboteur', convention: 'openinference', seed: 11 });
const asm = new EpisodeAssembler({});
asm.addSpans(decodeTraces(run.tracesProto, 'otlp_proto'));
asm.addEvaluations(evaluationsFromLogs(decodeLogs(run.logsProto, 'otlp_proto')));
const [episode] = asm.flush('shutdown');
const pool = await CreditWorkerPool.start({ size: 1, config: loadConfig({ env: {} }).config, taskTimeoutMs: 30000 });
const pooled = await pool.process(episode);
await pool.close();
const inThread = await processEpisode(episode);
const strip = (events) => JSON.stringify(events, (k, v) => (k === 'emitted_at_ms' ? 0 : v));
console.log(JSON.stringify({ events: inThread.length, types: [...new Set(inThread.map((e) => e.event_type))], same: strip(pooled) === strip(inThread) }));
`,
    );
    const result = JSON.parse(await node('credit.mjs')) as { events: number; types: string[]; same: boolean };
    expect(result.events).toBeGreaterThan(3);
    expect(result.types).toContain('episode_credit');
    expect(result.types).toContain('message_reward');
    expect(result.same).toBe(true);
  }, 90_000);

  it('CommonJS code loads every entry point with require() (Node ≥ 20.19), as README says — ES modules only', async () => {
    const entries = Object.keys(pkg.exports).filter((k) => !k.includes('*') && k !== './package.json').map((k) => (k === '.' ? 'agent-credit' : `agent-credit/${k.slice(2)}`));
    writeFileSync(path.join(app, 'entries.cjs'), `for (const e of ${JSON.stringify(entries)}) console.log(e, Object.keys(require(e)).length);\n`);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major > 20 || minor >= 19) {
      const listed = (await node('entries.cjs')).trim().split('\n');
      expect(listed.map((l) => l.split(' ')[0])).toEqual(entries);
      for (const l of listed) expect(Number(l.split(' ')[1])).toBeGreaterThan(0);
    }
    // README did not say the package is ES modules only, nor what a CommonJS caller does on older Node 20
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/ES modules only[\s\S]{0,200}require\('agent-credit\/…'\)` on Node ≥ 20\.19[\s\S]{0,300}ERR_REQUIRE_ESM/);
  }, 60_000);

  it('the packed tarball holds the compiled entry points, their declarations and the schemas, and no tests', async () => {
    const files = await packedFiles();
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // patterns (schemas/*, src/*) and package.json
      const t = target as { types: string; default: string };
      expect(files.has(t.default.slice(2)), `${key} → ${t.default}`).toBe(true);
      expect(files.has(t.types.slice(2)), `${key} → ${t.types}`).toBe(true);
    }
    expect(files.has('schemas/message-reward.schema.json')).toBe(true);
    expect(files.has('dist/runtime/credit-workers/worker.js')).toBe(true);
    expect([...files].filter((f) => f.startsWith('test/'))).toEqual([]);
    // only what the current sources compile to: a dist/ built before a source was deleted or
    // renamed kept the old module (dist/episodes/pending-evaluations.js in a long-lived checkout)
    expect(files.has(STALE)).toBe(false);
    // what bin/agent-credit.js needs to run the build once installed
    for (const f of ['dist/.build-stamp', 'bin/launch-target.js']) expect(files.has(f), f).toBe(true);
    const orphans = [...files].filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !files.has(`src/${f.slice(5, -3)}.ts`));
    expect(orphans).toEqual([]);
  }, 60_000);

  it("the packed package, unpacked, survives its own `prepare` (npm install in it, or npm install <its path>), without devDependencies", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agent-credit-unpacked-'));
    try {
      await run('tar', ['-xzf', await tarball(), '-C', dir]);
      const unpacked = path.join(dir, 'package');
      // no tsc anywhere: vitest's PATH has this checkout's node_modules/.bin
      const PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes('node_modules')).join(path.delimiter);
      const r = await run('npm', ['run', 'prepare'], { cwd: unpacked, env: { ...process.env, PATH, NODE_OPTIONS: '' }, timeout: 60_000 }).then(
        (o) => ({ ok: true, out: o.stdout + o.stderr }),
        (e: { stdout: string; stderr: string }) => ({ ok: false, out: e.stdout + e.stderr }),
      );
      expect(r.ok, r.out).toBe(true);
      // its build is still there
      for (const f of ['dist/.build-stamp', 'dist/index.js', 'dist/inprocess/index.d.ts']) expect(readdirSync(path.join(unpacked, path.dirname(f))), f).toContain(path.basename(f));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it("the files the CLI's help and config errors send a user to are packed (deploy/agent-credit.yaml: every option and its default)", async () => {
    const files = await packedFiles();
    const bin = path.join(PKG, 'bin/agent-credit.js');
    const env = { ...process.env, NODE_OPTIONS: '' };
    const help = (await run(process.execPath, [bin, 'run', '--help'], { cwd: ROOT, env, timeout: 60_000 })).stdout;
    const unreadable = await run(process.execPath, [bin, 'check', '--config', path.join(tmpdir(), 'agent-credit-no-such-config.yaml')], { cwd: ROOT, env, timeout: 60_000 }).then(
      (o) => o.stdout + o.stderr,
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
    const named = [...`${help}\n${unreadable}`.matchAll(/\b((?:deploy|docs|schemas|examples)\/[\w./-]+\.(?:ya?ml|json|md))\b/g)].map((m) => m[1]!);
    expect(named).toContain('deploy/agent-credit.yaml');
    expect(named.filter((f) => !files.has(f))).toEqual([]);
  }, 90_000);

  it('every link of the packed READMEs into the library and event reference (docs/, src/, schemas/) names a packed file', async () => {
    const files = await packedFiles();
    const readmes = [...files].filter((f) => f.endsWith('.md'));
    const links: string[] = [];
    for (const md of readmes) {
      for (const m of readFileSync(path.join(ROOT, md), 'utf8').matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        // http:, mailto:, and bracketed maths that reads like a link (docs/credit.md: [i∈T](n−t))
        if (/^[a-z]+:/i.test(m[1]!) || !/^[\w./-]+$/.test(m[1]!)) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(md), m[1]!)).replace(/\/$/, '');
        if (/^(docs|src|schemas)(\/|$)/.test(target)) links.push(`${md} → ${target}`);
      }
    }
    expect(links.length).toBeGreaterThan(10);
    // a directory link (schemas/) counts when a file under it is packed
    const dead = links.filter((l) => {
      const target = l.split(' → ')[1]!;
      return !files.has(target) && ![...files].some((f) => f.startsWith(`${target}/`));
    });
    expect(dead).toEqual([]);
  }, 60_000);
});

describe('bin/agent-credit.js after the build', () => {
  const cli = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [path.join(PKG, 'bin/agent-credit.js'), ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 120_000, maxBuffer: 64 << 20 });

  it('picks the compiled CLI when the build is up to date, the sources when one is newer or AGENT_CREDIT_FROM_SOURCES=1', async () => {
    const { launchTarget, sourcesDigest } = (await import(pathToFileURL(path.join(PKG, 'bin/launch-target.js')).href)) as {
      launchTarget(root: URL, env: object): { target: string; reason: string };
      sourcesDigest(src: URL): string;
    };
    expect(launchTarget(pathToFileURL(`${PKG}/`), {}).target).toBe('dist');
    expect(launchTarget(pathToFileURL(`${PKG}/`), { AGENT_CREDIT_FROM_SOURCES: '1' }).target).toBe('sources');
    const fake = mkdtempSync(path.join(tmpdir(), 'agent-credit-launch-'));
    try {
      mkdirSync(path.join(fake, 'src/cli'), { recursive: true });
      writeFileSync(path.join(fake, 'src/cli/main.ts'), '');
      const root = pathToFileURL(`${fake}/`);
      expect(launchTarget(root, {})).toEqual({ target: 'sources', reason: expect.stringMatching(/no complete build/) });
      mkdirSync(path.join(fake, 'dist'));
      writeFileSync(path.join(fake, 'dist/.build-stamp'), '');
      const t = Date.now() / 1000;
      utimesSync(path.join(fake, 'src/cli/main.ts'), t - 60, t - 60);
      expect(launchTarget(root, {}).target).toBe('dist');
      utimesSync(path.join(fake, 'src/cli/main.ts'), t + 60, t + 60); // edited after the build
      expect(launchTarget(root, {})).toEqual({ target: 'sources', reason: expect.stringMatching(/newer than the build/) });
      // a stamp naming the sources' digest (what scripts/finish-build.mjs writes): a newer file with
      // the same content is the build's (npm installs every file with its extraction time) …
      writeFileSync(path.join(fake, 'dist/.build-stamp'), `2026-01-01T00:00:00.000Z\nsources sha256:${sourcesDigest(new URL('src/', root))}\n`);
      utimesSync(path.join(fake, 'dist/.build-stamp'), t - 60, t - 60);
      expect(launchTarget(root, {}).target).toBe('dist');
      // … an edited one is not
      writeFileSync(path.join(fake, 'src/cli/main.ts'), 'export {};\n');
      expect(launchTarget(root, {})).toEqual({ target: 'sources', reason: expect.stringMatching(/newer than the build/) });
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });

  it('installed from the packed tarball (npm gives every file its extraction time: src/ after dist/), the bin runs the build', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agent-credit-installed-'));
    try {
      const modules = path.join(dir, 'node_modules');
      mkdirSync(modules);
      // as npm (pacote) extracts a package: in archive order, mtimes not restored (tar -m)
      await run('tar', ['-xzf', await tarball(), '-m', '-C', modules]);
      const installed = path.join(modules, 'agent-credit');
      renameSync(path.join(modules, 'package'), installed);
      for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
        if (!name.startsWith('.')) symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir');
      }
      // npm's order: the stamp (dist/) extracted before the sources; make it certain, as a slow disk would
      const t = Date.now() / 1000;
      utimesSync(path.join(installed, 'dist/.build-stamp'), t - 5, t - 5);
      const { launchTarget } = (await import(pathToFileURL(path.join(installed, 'bin/launch-target.js')).href)) as { launchTarget(root: URL, env: object): { target: string; reason: string } };
      expect(launchTarget(pathToFileURL(`${installed}/`), {})).toEqual({ target: 'dist', reason: 'the build is up to date' });
      const version = await run(process.execPath, [path.join(installed, 'bin/agent-credit.js'), '--version'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
      expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('the compiled CLI replays the recorded fixtures with the same events as the sources', async () => {
    const args = ['replay', path.join(AGENTS_SDK_FIXTURES, 'genai'), path.join(AGENTS_SDK_FIXTURES, 'openinference'), '-o', '-'];
    const [compiled, sources] = await Promise.all([cli(args), cli(args, { AGENT_CREDIT_FROM_SOURCES: '1' })]);
    expect(compiled.stdout.split('\n').filter((l) => l.includes('"event_type":"episode_credit"')).length).toBeGreaterThan(1);
    // the same bytes but the wall-clock field
    const timeless = (out: string) => out.replace(/"emitted_at_ms":\d+,/g, '');
    expect(timeless(compiled.stdout)).toBe(timeless(sources.stdout));
  }, 130_000);

  it.each([
    ['an ES-module package ("type": "module")', true],
    ['a folder without package.json (loaded as CommonJS)', false],
  ])('the compiled CLI runs a TypeScript value function from %s, in a credit worker and on the main thread', async (_what, esm) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agent-credit-ts-module-'));
    try {
      if (esm) writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        path.join(dir, 'value.ts'),
        "const CHECKLIST: readonly string[] = ['Plan:', 'tests passed', 'LGTM'];\n" +
          'export function value(coalition: readonly string[], episode: { steps: { rewardable: boolean; agentId: string; outputText?: string }[] }): number {\n' +
          '  const kept = new Set(coalition);\n' +
          "  const texts = episode.steps.filter((s) => s.rewardable && kept.has(s.agentId)).map((s) => s.outputText ?? '');\n" +
          '  return CHECKLIST.filter((item) => texts.some((t) => t.includes(item))).length / CHECKLIST.length;\n}\n',
      );
      for (const workers of [1, 0]) {
        writeFileSync(path.join(dir, 'config.yaml'), `credit:\n  game: module\n  module:\n    path: ${path.join(dir, 'value.ts')}\nruntime:\n  creditWorkers: ${workers}\n`);
        const { stdout } = await cli(['replay', path.join(AGENTS_SDK_FIXTURES, 'genai'), '--config', path.join(dir, 'config.yaml'), '-o', '-']);
        const credits = stdout.split('\n').filter((l) => l.includes('"event_type":"episode_credit"')).map((l) => JSON.parse(l) as { game: { kind: string } });
        expect(credits.length, `creditWorkers ${workers}`).toBeGreaterThan(0);
        expect(credits.every((e) => e.game.kind === 'module')).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
