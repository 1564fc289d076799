/**
 * agent-credit bundled into an app (esbuild, webpack — platform teams bundle their Node services):
 * credit on the app's thread works, but a credit worker thread loads its module from the installed
 * package, a file the bundle does not carry. Every worker failed with "a credit worker failed to
 * start: Cannot find module '<bundle dir>/worker.js'", which named neither the cause nor the fix.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'agent-credit-bundle-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('agent-credit bundled into an app', () => {
  it('creditWorkers is refused at once, saying to keep agent-credit external or use creditWorkers: 0', async () => {
    const app = path.join(dir, 'app.mjs');
    writeFileSync(
      app,
      `import { createCreditSpanProcessor } from ${JSON.stringify(path.join(ROOT, 'src/inprocess/index.ts'))};
try {
  const credit = await createCreditSpanProcessor({ onCredit() {}, creditWorkers: 1 });
  await credit.shutdown();
  console.log('started');
} catch (err) {
  console.log(err.name + ': ' + err.message);
}
`,
    );
    const outfile = path.join(dir, 'out/app.mjs');
    await build({
      entryPoints: [app],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      logLevel: 'silent',
      // what a bundled ES-module service adds for the CommonJS dependencies inside it
      banner: { js: "import { createRequire as __agentCreditTestRequire } from 'node:module'; const require = __agentCreditTestRequire(import.meta.url);" },
    });
    const { stdout } = await run(process.execPath, [outfile], { env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 });
    expect(stdout.trim()).toMatch(
      /^CreditWorkerPoolError: creditWorkers: the credit worker module .*worker\.js is not there — agent-credit looks bundled into the app .* keep agent-credit external to the bundle \(esbuild --external:agent-credit, webpack externals\), or set creditWorkers: 0/,
    );
  }, 90_000);
});
